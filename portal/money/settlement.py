"""After the activity: the accounting (verantwoording), the settlement (vaststelling, Awb
4:42-4:47) and what follows from it: a last payment, or a recovery (terugvordering, Awb 4:57)
until the money is back. Every change of state goes through ``applications.workflow``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from portal.accounts.models import User
from portal.applications import workflow
from portal.applications.models import (
    AccountabilityReport,
    Application,
    ReportLine,
    Settlement,
    State,
)
from portal.deadlines import add_period
from portal.extensions import db
from portal.money import ledger
from portal.money.models import Payment
from portal.notifications.services import absolute_url, notify, notify_once
from portal.reviews.services import (
    AnswerFile,
    ReviewRefused,
    attach,
    officers_to_tell,
    ruleset_of,
)
from portal.timeutil import local_today, utcnow


def accounting_due(application: Application) -> date | None:
    if application.end_date is None:
        return None
    return add_period(application.end_date, weeks=ruleset_of(application).accounting_due_weeks)


def is_small(application: Application) -> bool:
    granted = application.granted_cents or 0
    return granted <= ruleset_of(application).small_grant_limit_cents


@dataclass
class ReportInput:
    what_happened: str
    participants: int | None
    went_well: str | None
    do_differently: str | None
    would_recommend: bool | None
    # (description, planned cents, actual cents) per budget line
    lines: list[tuple[str, int, int]]
    files: list[AnswerFile]


def submit_report(
    application: Application, actor: User, given: ReportInput
) -> AccountabilityReport:
    if not given.what_happened.strip():
        raise ReviewRefused("report_text_required")
    kinds = {f.kind for f in given.files}
    if is_small(application):
        if "photo" not in kinds:
            raise ReviewRefused("photos_required")
    elif "receipt" not in kinds:
        raise ReviewRefused("receipts_required")
    workflow.transition(application, "submit_report", actor)
    report = AccountabilityReport(
        application_id=application.id,
        what_happened=given.what_happened,
        participants=given.participants,
        went_well=given.went_well,
        do_differently=given.do_differently,
        would_recommend=given.would_recommend,
        actual_total_cents=sum(actual for _d, _p, actual in given.lines),
        submitted_by_id=actor.id,
    )
    for position, (description, planned, actual) in enumerate(given.lines):
        report.lines.append(
            ReportLine(
                position=position,
                description=description[:200],
                planned_cents=planned,
                actual_cents=actual,
            )
        )
    db.session.add(report)
    db.session.flush()
    attach(application, actor, given.files, report_id=report.id)
    db.session.flush()
    decision = application.decision
    if decision is not None:
        for officer in officers_to_tell(application, decision.decided_by):
            notify(
                officer,
                "report_submitted",
                link=absolute_url("reviews.case", application_id=application.id),
                object_type="application",
                object_id=application.id,
                application=application,
            )
    return report


def open_settlement(application: Application) -> Settlement | None:
    return next((s for s in application.settlements if s.status == "intended"), None)


def intend_lower(
    application: Application, officer: User, final_cents: int, reasons: str
) -> Settlement:
    """Before setting a lower amount the applicant may give a view (Awb 4:8)."""
    granted = application.granted_cents or 0
    if not 0 <= final_cents < granted:
        raise ReviewRefused("settle_lower_amount")
    if not reasons.strip():
        raise ReviewRefused("reasons_required")
    if open_settlement(application) is not None:
        raise workflow.InvalidTransition("intend_settlement")
    workflow.transition(application, "intend_settlement", officer, reason=reasons)
    settlement = Settlement(
        application_id=application.id,
        status="intended",
        kind="lower",
        final_cents=final_cents,
        reasons=reasons,
        decided_by_id=officer.id,
        view_due=add_period(local_today(), days=ruleset_of(application).view_period_days),
    )
    application.settlements.append(settlement)
    db.session.flush()
    notify(
        application.applicant,
        "settlement_intended",
        link=absolute_url("applications.settlement_view", application_id=application.id),
        object_type="application",
        object_id=application.id,
        mandatory=True,
        application=application,
        settlement=settlement,
    )
    return settlement


def give_view(application: Application, actor: User, view: str) -> None:
    settlement = open_settlement(application)
    if settlement is None or settlement.view is not None:
        raise workflow.InvalidTransition("give_settlement_view")
    if settlement.view_due and local_today() > settlement.view_due:
        raise ReviewRefused("view_late")
    workflow.transition(application, "give_settlement_view", actor)
    settlement.view = view
    settlement.view_on = local_today()
    db.session.flush()


def paid_cents(application: Application) -> int:
    return sum(
        db.session.scalars(
            select(Payment.amount_cents).where(
                Payment.application_id == application.id, Payment.status == "paid"
            )
        )
    )


def settle(
    application: Application,
    officer: User,
    final_cents: int,
    reasons: str | None,
    *,
    ex_officio: bool = False,
) -> Settlement:
    """Set the final amount. Lower than granted only after the intent and the view (or its
    period); without an accounting only once it is overdue (ex officio, Awb 4:47)."""
    granted = application.granted_cents or 0
    today = local_today()
    if not 0 <= final_cents <= granted:
        raise ReviewRefused("settle_amount")
    if application.state == State.GRANTED:
        due = accounting_due(application)
        if not ex_officio or due is None or today <= due:
            raise ReviewRefused("report_first")
        if not (reasons or "").strip():
            raise ReviewRefused("reasons_required")
    intended = open_settlement(application)
    if final_cents < granted and not ex_officio:
        if intended is None:
            raise ReviewRefused("settlement_intent_first")
        if intended.view is None and intended.view_due and today <= intended.view_due:
            raise ReviewRefused("view_period_running")
        if not (reasons or "").strip():
            raise ReviewRefused("reasons_required")
    pending = db.session.scalar(
        select(Payment.id).where(
            Payment.application_id == application.id, Payment.status == "batched"
        )
    )
    if pending is not None:
        raise ReviewRefused("payment_pending")
    # A payment not yet in a batch is no longer needed: the settlement decides what is paid.
    for payment in db.session.scalars(
        select(Payment).where(Payment.application_id == application.id, Payment.status == "due")
    ):
        payment.status = "cancelled"
    paid = paid_cents(application)
    year = (
        application.decision.sent_on.year
        if application.decision and application.decision.sent_on
        else today.year
    )
    still_committed = granted - paid
    remainder = final_cents - paid
    keep = max(remainder, 0)
    if still_committed - keep > 0:
        ledger.release(
            application,
            still_committed - keep,
            year,
            officer,
            f"Vaststelling {application.reference}",
        )
    settlement = intended or Settlement(application_id=application.id, decided_by_id=officer.id)
    settlement.status = "final"
    settlement.kind = (
        "ex_officio" if ex_officio else ("lower" if final_cents < granted else "equal")
    )
    settlement.final_cents = final_cents
    settlement.reasons = reasons
    settlement.decided_by_id = officer.id
    settlement.decided_at = utcnow()
    if remainder < 0:
        settlement.recovery_cents = -remainder
        settlement.recovery_reference = f"{application.reference}-T"
        settlement.recovery_due = add_period(today, weeks=6)
        settlement.recovery_status = "open"
    if intended is None:
        application.settlements.append(settlement)
    workflow.transition(application, "settle", officer, reason=reasons)
    db.session.flush()
    if remainder > 0:
        count = db.session.scalar(
            select(db.func.count(Payment.id)).where(Payment.application_id == application.id)
        )
        db.session.add(
            Payment(
                application_id=application.id,
                decision_id=application.decision.id if application.decision else None,
                kind="remainder",
                amount_cents=remainder,
                iban=(application.iban or "").replace(" ", "").upper(),
                account_holder=application.account_holder or application.applicant.name,
                reference=f"{application.reference}-{(count or 0) + 1}",
            )
        )
    elif remainder == 0:
        workflow.transition(application, "close", officer, closed_at=utcnow())
    db.session.flush()
    notify(
        application.applicant,
        "settled",
        link=absolute_url("applications.detail", application_id=application.id),
        object_type="application",
        object_id=application.id,
        mandatory=True,
        application=application,
        settlement=settlement,
        paid_cents=paid,
        remainder_cents=max(remainder, 0),
        debtor_iban=current_app.config["PORTAL_DEBTOR_IBAN"],
        debtor_name=current_app.config["PORTAL_DEBTOR_NAME"],
    )
    return settlement


def receive_recovery(application: Application, staff: User) -> None:
    """The money came back: the ledger counts it as recovered, and the file closes."""
    settlement = next((s for s in application.settlements if s.recovery_status == "open"), None)
    if settlement is None:
        raise workflow.InvalidTransition("receive_recovery")
    year = (
        application.decision.sent_on.year
        if application.decision and application.decision.sent_on
        else local_today().year
    )
    ledger.recover(
        application,
        settlement.recovery_cents,
        year,
        staff,
        f"Terugbetaling {settlement.recovery_reference}",
    )
    settlement.recovery_status = "received"
    settlement.recovery_received_at = utcnow()
    workflow.transition(application, "close", staff, closed_at=utcnow())


def close_after_last_payment(application: Application, actor: Any) -> None:
    """The remainder after the settlement was paid: nothing is left to do."""
    if application.state == State.SETTLED:
        workflow.transition(application, "close", actor, closed_at=utcnow())


def send_accounting_reminders(today: date | None = None) -> int:
    """Remind applicants two weeks before the accounting is due, and the day after it was due.
    Each reminder goes out once (its dedupe key); safe to run as often as you like."""
    today = today or local_today()
    sent = 0
    waiting = db.session.scalars(
        select(Application).where(
            Application.state == State.GRANTED, Application.end_date.is_not(None)
        )
    ).all()
    for application in waiting:
        due = accounting_due(application)
        if due is None:
            continue
        if due - timedelta(days=14) <= today <= due:
            kind = "accounting_reminder"
        elif today > due:
            kind = "accounting_overdue"
        else:
            continue
        sent += notify_once(
            application.applicant,
            kind,
            f"{kind}-{application.id}",
            link=absolute_url("applications.report", application_id=application.id),
            object_type="application",
            object_id=application.id,
            application=application,
            due=due,
        )
    return sent
