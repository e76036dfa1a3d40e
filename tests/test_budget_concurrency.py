"""Decisions racing for the last of a district's budget, on a real committed database: exactly
as many grants succeed as fit, the others get the Awb 4:25 refusal, and the ledger balances."""

from __future__ import annotations

import random
import threading
from typing import Any

from sqlalchemy import select

from portal.accounts.models import User
from portal.applications.models import Application, State
from portal.districts.models import District, DistrictBudget
from portal.extensions import db
from portal.money import ledger
from portal.reviews import decisions
from portal.reviews.case import REFUSALS
from portal.reviews.services import ReviewRefused
from portal.timeutil import local_today, utcnow
from tests.conftest import Factory
from tests.test_submission_concurrency import live_app  # noqa: F401  (the committed database)

AMOUNT = 10_000  # 100 euro each: a small grant, decided without the council's advice
RACERS = 50
ROUNDS = 20


def prepare(app: Any, round_number: int, fits: int) -> tuple[int, list[int]]:
    """50 applications in review in Dolphia, and a budget with room for exactly ``fits``."""
    with app.app_context():
        factory = Factory()
        officer = factory.user(roles=("case_officer",), boroughs=("Oost",))
        applicant = factory.user(postcode="7534AB")
        district = db.session.scalar(select(District).where(District.name == "Dolphia"))
        budget = db.session.scalar(
            select(DistrictBudget).where(
                DistrictBudget.district_id == district.id,
                DistrictBudget.year == local_today().year,
            )
        )
        used = budget.committed_cents + budget.paid_cents - budget.recovered_cents
        ledger.allocate(budget, used + fits * AMOUNT + AMOUNT // 2, officer, "Test")
        ids = []
        for n in range(RACERS):
            application = Application(
                applicant_id=applicant.id,
                district_id=district.id,
                creation_key=f"race-{round_number}-{n}",
                reference=f"WB-1970-{round_number:02d}{n:02d}",
                state=State.IN_REVIEW.value,
                requested_cents=AMOUNT,
                total_cents=AMOUNT,
                submitted_at=utcnow(),
                kaders=[],
            )
            db.session.add(application)
            db.session.flush()
            ids.append(application.id)
        db.session.commit()
        officer_id = officer.id
        db.session.remove()
    return officer_id, ids


def race(app: Any, officer_id: int, ids: list[int]) -> list[str]:
    barrier = threading.Barrier(len(ids))
    outcomes = [""] * len(ids)

    def grant(index: int) -> None:
        # Start together; on SQLite the first statement of a transaction takes the write lock,
        # so nothing is read before the barrier.
        barrier.wait(timeout=60)
        with app.app_context():
            try:
                officer = db.session.get(User, officer_id)
                application = db.session.get(Application, ids[index])
                decisions.decide(
                    application,
                    officer,
                    decisions.Proposal(grant=True, amount_cents=AMOUNT, reasons="Past."),
                )
                db.session.commit()
                outcomes[index] = "granted"
            except ReviewRefused as error:
                db.session.rollback()
                outcomes[index] = error.code
            finally:
                db.session.remove()

    threads = [threading.Thread(target=grant, args=(i,)) for i in range(len(ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_fifty_concurrent_grants_exactly_k_fit_twenty_times(live_app) -> None:  # noqa: F811
    randomly = random.Random(4_25)
    for round_number in range(ROUNDS):
        fits = randomly.randint(1, RACERS - 1)
        officer_id, ids = prepare(live_app, round_number, fits)
        outcomes = race(live_app, officer_id, ids)
        assert outcomes.count("granted") == fits, (round_number, fits, outcomes)
        assert outcomes.count("budget_exhausted") == RACERS - fits, (round_number, outcomes)
        with live_app.app_context():
            granted = db.session.scalars(select(Application).where(Application.id.in_(ids))).all()
            assert sum(a.state == State.GRANTED for a in granted) == fits
            assert all(a.state in (State.GRANTED, State.IN_REVIEW) for a in granted)
            budget = db.session.scalar(
                select(DistrictBudget).where(DistrictBudget.district_id == granted[0].district_id)
            )
            sums = ledger.entries_total(budget)
            assert sums == {
                "allocated": budget.allocated_cents,
                "committed": budget.committed_cents,
                "paid": budget.paid_cents,
                "recovered": budget.recovered_cents,
            }
            assert budget.remaining_cents == AMOUNT // 2  # to the cent
            db.session.remove()
    with live_app.test_request_context():
        assert "Awb 4:25" in REFUSALS["budget_exhausted"]()
