"""After the activity: accounting, settlement equal or lower (after a view), the last payment
or the recovery, and the ledger to the cent."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from portal import uploads
from portal.applications.models import State
from portal.districts.models import DistrictBudget
from portal.extensions import db
from portal.money import ledger, payments, settlement
from portal.money.models import Payment
from portal.notifications.models import Notification
from portal.reviews.services import AnswerFile, ReviewRefused
from portal.timeutil import local_today
from tests.conftest import TINY_PDF
from tests.test_payments import granted, people  # noqa: F401


def pay_all(who: dict[str, Any], application: Any) -> None:
    due = db.session.scalars(
        select(Payment).where(Payment.application_id == application.id, Payment.status == "due")
    ).all()
    batch = payments.create_batch(who["officer"], [p.id for p in due])
    payments.approve(batch, who["finance"])
    payments.mark_paid(batch, who["finance"])
    db.session.flush()


def report(application: Any, kinds: list[str], app: Any, actual: int) -> settlement.ReportInput:
    root = app.config["PORTAL_UPLOAD_DIR"]
    return settlement.ReportInput(
        what_happened="Een mooie middag met 80 buren.",
        participants=80,
        went_well="Iedereen hielp mee.",
        do_differently="Eerder beginnen met flyeren.",
        would_recommend=True,
        lines=[("Podium", application.granted_cents, actual)],
        files=[
            AnswerFile(uploads.store(io.BytesIO(TINY_PDF), f"{k}.pdf", root=root), k) for k in kinds
        ],
    )


def budget_of(application: Any) -> DistrictBudget:
    budget = db.session.scalar(
        select(DistrictBudget).where(
            DistrictBudget.district_id == application.district_id,
            DistrictBudget.year == local_today().year,
        )
    )
    db.session.refresh(budget)
    return budget


def test_lower_settlement_after_a_view_and_a_recovery(app, people) -> None:  # noqa: F811
    application = granted(people, 150_000)
    budget_before = budget_of(application).remaining_cents
    pay_all(people, application)  # the advance: 1,200 euro
    with pytest.raises(ReviewRefused, match="receipts_required"):
        settlement.submit_report(
            application, people["applicant"], report(application, ["photo"], app, 100_000)
        )
    settlement.submit_report(
        application, people["applicant"], report(application, ["receipt", "photo"], app, 100_000)
    )
    assert application.state == State.ACCOUNTED
    with pytest.raises(ReviewRefused, match="settlement_intent_first"):
        settlement.settle(application, people["officer"], 100_000, "Minder uitgegeven")
    settlement.intend_lower(application, people["officer"], 100_000, "U gaf 1.000 euro uit.")
    with pytest.raises(ReviewRefused, match="view_period_running"):
        settlement.settle(application, people["officer"], 100_000, "Minder uitgegeven")
    settlement.give_view(application, people["applicant"], "Dat klopt.")
    final = settlement.settle(application, people["officer"], 100_000, "Minder uitgegeven")
    assert application.state == State.SETTLED
    assert (final.kind, final.recovery_cents, final.recovery_status) == ("lower", 20_000, "open")
    settlement.receive_recovery(application, people["finance"])
    assert application.state == State.CLOSED
    budget = budget_of(application)
    assert budget.remaining_cents == budget_before + 150_000 - 100_000
    assert ledger.entries_total(budget) == {
        "allocated": budget.allocated_cents,
        "committed": budget.committed_cents,
        "paid": budget.paid_cents,
        "recovered": budget.recovered_cents,
    }


def test_equal_settlement_pays_the_rest_and_closes(app, people) -> None:  # noqa: F811
    application = granted(people, 150_000)
    pay_all(people, application)
    settlement.submit_report(
        application, people["applicant"], report(application, ["receipt"], app, 150_000)
    )
    settlement.settle(application, people["officer"], 150_000, None)
    assert application.state == State.SETTLED
    [rest] = db.session.scalars(
        select(Payment).where(Payment.application_id == application.id, Payment.kind == "remainder")
    ).all()
    assert rest.amount_cents == 30_000
    pay_all(people, application)
    assert application.state == State.CLOSED
    budget = budget_of(application)
    assert ledger.entries_total(budget)["committed"] == budget.committed_cents


def test_a_small_grant_needs_photos_and_closes_at_once(app, people) -> None:  # noqa: F811
    application = granted(people, 39_000)
    pay_all(people, application)
    with pytest.raises(ReviewRefused, match="photos_required"):
        settlement.submit_report(
            application, people["applicant"], report(application, [], app, 39_000)
        )
    settlement.submit_report(
        application, people["applicant"], report(application, ["photo"], app, 39_000)
    )
    settlement.settle(application, people["officer"], 39_000, None)
    assert application.state == State.CLOSED


def test_ex_officio_only_when_the_accounting_is_overdue(app, people) -> None:  # noqa: F811
    application = granted(people, 39_000)
    pay_all(people, application)
    with pytest.raises(ReviewRefused, match="report_first"):
        settlement.settle(application, people["officer"], 0, "Geen verantwoording", ex_officio=True)
    application.end_date = local_today() - timedelta(weeks=9)
    settlement.settle(application, people["officer"], 0, "Geen verantwoording", ex_officio=True)
    assert application.state == State.SETTLED
    assert application.settlements[-1].recovery_cents == 39_000


def test_the_money_path_through_the_pages(client, login_as, app, people, mailbox) -> None:  # noqa: F811
    """Advance paid; the resident accounts with a receipt; the case officer sets a lower amount
    after the resident's view; finance marks the recovery received."""
    application = granted(people, 150_000)
    pay_all(people, application)
    db.session.commit()
    login_as(people["applicant"])
    page = client.get(f"/aanvragen/{application.id}").get_data(as_text=True)
    assert "Verantwoording sturen" in page
    form = client.get(f"/aanvragen/{application.id}/verantwoording").get_data(as_text=True)
    assert 'value="1500,00"' in form  # the budget line, to change into what it really cost
    data = {
        "what_happened": "Een mooie middag.",
        "participants": "80",
        "actual-0": "veel",
        "kind": "receipt",
        "would_recommend": "ja",
    }
    response = client.post(f"/aanvragen/{application.id}/verantwoording", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Vul een bedrag in euro" in html and "Een mooie middag." in html
    response = client.post(
        f"/aanvragen/{application.id}/verantwoording",
        data={**data, "actual-0": "1.000,00"},
    )
    assert "Stuur de bonnen of facturen mee" in response.get_data(as_text=True)
    response = client.post(
        f"/aanvragen/{application.id}/verantwoording",
        data={**data, "actual-0": "1.000,00", "files": (io.BytesIO(TINY_PDF), "bon.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert application.state == State.ACCOUNTED
    assert application.report.actual_total_cents == 100_000
    client.post("/uitloggen")
    login_as(people["officer"])
    page = client.get(f"/behandeling/{application.id}").get_data(as_text=True)
    assert "Een mooie middag." in page and "bon.pdf" in page
    response = client.post(
        f"/behandeling/{application.id}/vaststellen",
        data={"vaststellen-amount": "1.000,00", "vaststellen-reasons": "Minder uitgegeven."},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert application.settlements[0].status == "intended"
    client.post("/uitloggen")
    login_as(people["applicant"])
    assert "lager bedrag vaststellen" in client.get(f"/aanvragen/{application.id}").get_data(
        as_text=True
    )
    response = client.post(
        f"/aanvragen/{application.id}/vaststelling", data={"view": "Klopt, de tent was goedkoper."}
    )
    assert response.status_code == 303
    client.post("/uitloggen")
    login_as(people["officer"])
    response = client.post(
        f"/behandeling/{application.id}/vaststellen",
        data={"vaststellen-amount": "1.000,00", "vaststellen-reasons": "Minder uitgegeven."},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert application.state == State.SETTLED
    [letter] = [m for m in mailbox.to(people["applicant"].email) if "vastgesteld" in m["Subject"]]
    assert "200,00" in mailbox.text(letter) and f"{application.reference}-T" in mailbox.text(letter)
    client.post("/uitloggen")
    login_as(people["finance"])
    page = client.get("/betalingen").get_data(as_text=True)
    assert f"{application.reference}-T" in page
    response = client.post(f"/betalingen/terugvorderingen/{application.id}/ontvangen")
    assert response.status_code == 303
    db.session.expire_all()
    assert application.state == State.CLOSED


def test_accounting_reminders_go_out_once(app, people) -> None:  # noqa: F811
    application = granted(people, 39_000)
    due = settlement.accounting_due(application)
    db.session.commit()
    assert settlement.send_accounting_reminders(due - timedelta(days=15)) == 0
    assert settlement.send_accounting_reminders(due - timedelta(days=14)) == 1
    assert settlement.send_accounting_reminders(due - timedelta(days=3)) == 0  # once
    assert settlement.send_accounting_reminders(due + timedelta(days=1)) == 1
    assert settlement.send_accounting_reminders(due + timedelta(days=9)) == 0
    subjects = db.session.scalars(
        select(Notification.subject).where(
            Notification.user_id == people["applicant"].id,
            Notification.kind.in_(["accounting_reminder", "accounting_overdue"]),
        )
    ).all()
    assert len(subjects) == 2
    assert any("Herinnering: uw verantwoording" in s for s in subjects)
    assert any("is te laat" in s for s in subjects)
