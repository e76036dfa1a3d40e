"""The ledger: district budgets that can never be overspent, totals derived from entries."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError, IntegrityError

from portal.applications.models import Application, State
from portal.districts.models import District, DistrictBudget
from portal.extensions import db
from portal.money import ledger
from portal.money.models import LedgerEntry
from portal.reviews import decisions
from portal.reviews.services import ReviewRefused
from portal.timeutil import local_today, utcnow

YEAR = 2031  # a year of its own: the demo budgets are for the current year
NUMBERS = itertools.count(1)


def fresh_budget(district_name: str, allocated: int) -> DistrictBudget:
    district = db.session.scalar(select(District).where(District.name == district_name))
    budget = DistrictBudget(district_id=district.id, year=YEAR, allocated_cents=0)
    db.session.add(budget)
    db.session.flush()
    ledger.allocate(budget, allocated, None, "Test")
    return budget


def application_in(district_name: str, applicant: Any, cents: int, key: str) -> Application:
    district = db.session.scalar(select(District).where(District.name == district_name))
    application = Application(
        applicant_id=applicant.id,
        district_id=district.id,
        creation_key=f"{key}-{next(NUMBERS)}",
        reference=f"WB-{YEAR}-{next(NUMBERS):05d}",
        state=State.IN_REVIEW.value,
        requested_cents=cents,
        total_cents=cents,
        submitted_at=utcnow(),
        kaders=[],
    )
    db.session.add(application)
    db.session.flush()
    return application


def totals(budget: DistrictBudget) -> dict[str, int]:
    db.session.refresh(budget)
    return {
        "allocated": budget.allocated_cents,
        "committed": budget.committed_cents,
        "paid": budget.paid_cents,
        "recovered": budget.recovered_cents,
    }


def test_the_database_refuses_to_overspend(factory) -> None:
    budget = fresh_budget("Dolphia", 100_000)
    applicant = factory.user(postcode="7534AB")
    application = application_in("Dolphia", applicant, 60_000, "db-refuses")
    ledger.commit_grant(application, 60_000, YEAR, None)
    with pytest.raises(ledger.BudgetExceeded):
        ledger.commit_grant(application, 40_001, YEAR, None)
    assert totals(budget)["committed"] == 60_000  # the refused entry left nothing behind
    # A direct statement that would overspend is rejected by the database itself.
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(
            text(
                "UPDATE district_budgets SET committed_cents = allocated_cents + 1 WHERE id = :id"
            ),
            {"id": budget.id},
        )
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(
            text(
                "INSERT INTO ledger_entries (budget_id, kind, allocated_delta, committed_delta,"
                " paid_delta, recovered_delta, description, created_at)"
                " VALUES (:id, 'commitment', 0, 50000, 0, 0, 'direct', CURRENT_TIMESTAMP)"
            ),
            {"id": budget.id},
        )
    # Entries are never changed or deleted.
    for statement in (
        "UPDATE ledger_entries SET committed_delta = 0",
        "DELETE FROM ledger_entries",
    ):
        with pytest.raises(DatabaseError), db.session.begin_nested():
            db.session.execute(text(statement))
    assert totals(budget) == ledger.entries_total(budget)


def test_a_grant_that_no_longer_fits_is_refused_and_changes_nothing(factory) -> None:
    officer = factory.user(roles=("case_officer",), boroughs=("Oost",))
    applicant = factory.user(postcode="7534AB")
    district = db.session.scalar(select(District).where(District.name == "Dolphia"))
    budget = db.session.scalar(
        select(DistrictBudget).where(
            DistrictBudget.district_id == district.id, DistrictBudget.year == local_today().year
        )
    )
    remaining = budget.remaining_cents
    big = application_in("Dolphia", applicant, 90_000, "too-big")
    ledger.commit_grant(big, remaining - 50_000, local_today().year, None)  # leave 500 euro
    application = application_in("Dolphia", applicant, 60_000, "does-not-fit")
    with pytest.raises(ReviewRefused, match="budget_exhausted"):
        decisions.decide(
            application,
            officer,
            decisions.Proposal(grant=True, amount_cents=60_000, reasons="Ok"),
        )
    db.session.refresh(application)
    assert application.state == State.IN_REVIEW and application.decisions == []
    fits = application_in("Dolphia", applicant, 50_000, "fits")
    decision = decisions.decide(
        fits, officer, decisions.Proposal(grant=True, amount_cents=50_000, reasons="Ok")
    )
    assert decision.status == "final"
    db.session.refresh(budget)
    assert budget.remaining_cents == 0
    assert totals(budget) == ledger.entries_total(budget)


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("grant"), st.integers(min_value=1, max_value=400_000)),
        st.tuples(st.just("pay"), st.integers(min_value=0, max_value=100)),
        st.tuples(st.just("settle_lower"), st.integers(min_value=0, max_value=100)),
        st.tuples(st.just("settle_equal"), st.just(0)),
        st.tuples(st.just("recover"), st.integers(min_value=0, max_value=100)),
        st.tuples(st.just("withdraw"), st.just(0)),
        st.tuples(st.just("allocate"), st.integers(min_value=0, max_value=2_000_000)),
    ),
    max_size=25,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS)
def test_no_sequence_of_movements_overspends(factory, operations) -> None:
    """Grant, pay, settle lower or equal, recover, withdraw and re-allocate in any order:
    ``committed + paid - recovered <= allocated`` always holds, every total equals the sum of
    its entries, and a refused movement changes nothing."""
    with db.session.begin_nested() as example:
        budget = fresh_budget("Esmarke", 1_000_000)
        applicant = factory.user(postcode="7536AB")
        # Per grant: what is still committed and what was paid (as the application knows it).
        grants: list[dict[str, Any]] = []
        for number, (operation, value) in enumerate(operations):
            before = totals(budget)
            try:
                if operation == "grant":
                    application = application_in("Esmarke", applicant, value, f"p{number}")
                    ledger.commit_grant(application, value, YEAR, None)
                    grants.append({"application": application, "committed": value, "paid": 0})
                elif operation == "allocate":
                    ledger.allocate(budget, value, None)
                elif grants:
                    grant = (
                        grants[value % len(grants)] if operation != "settle_equal" else grants[-1]
                    )
                    part = grant["committed"] * (value % 101) // 100
                    if operation == "pay":
                        ledger.pay(grant["application"], part, YEAR, None, "Voorschot")
                        grant["committed"] -= part
                        grant["paid"] += part
                    elif operation == "settle_lower" or operation == "withdraw":
                        left = part if operation == "settle_lower" else grant["committed"]
                        ledger.release(grant["application"], left, YEAR, None, operation)
                        grant["committed"] -= left
                    elif operation == "settle_equal":
                        ledger.pay(grant["application"], grant["committed"], YEAR, None, "Rest")
                        grant["paid"] += grant["committed"]
                        grant["committed"] = 0
                    elif operation == "recover":
                        back = grant["paid"] * (value % 101) // 100
                        ledger.recover(grant["application"], back, YEAR, None, "Terug")
                        grant["paid"] -= back
            except ledger.BudgetExceeded:
                assert totals(budget) == before, f"refused {operation} changed the budget"
            now = totals(budget)
            assert now["committed"] + now["paid"] - now["recovered"] <= now["allocated"]
            assert min(now.values()) >= 0
            assert now == ledger.entries_total(budget)
            assert now["committed"] == sum(g["committed"] for g in grants)
        example.rollback()


def test_entries_are_listed_per_budget(factory) -> None:
    budget = fresh_budget("Dolphia", 10_000)
    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.budget_id == budget.id))
    assert [e.kind for e in entries] == ["allocation"]
