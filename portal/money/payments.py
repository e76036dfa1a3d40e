"""Payouts: a grant creates its payment; case officers gather due payments into a batch;
finance approves it (never someone who decided one of its grants), exports it as a SEPA credit
transfer (pain.001) and marks it paid. A payment is in one batch at most, and an approved batch
does not change: every change is a conditional UPDATE that only succeeds in the right state."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app
from sepaxml import SepaTransfer
from sqlalchemy import func, select, update

from portal.accounts.models import User
from portal.applications.models import Application, Decision
from portal.audit.services import record
from portal.deadlines import add_working_days
from portal.extensions import db
from portal.money import ledger
from portal.money.models import Payment, PaymentBatch
from portal.notifications.services import absolute_url, notify
from portal.timeutil import local_today, utcnow


class PaymentRefused(Exception):
    """``code`` names the rule that stands in the way."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def first_payment_cents(amount_cents: int, small_limit_cents: int, advance_percent: int) -> int:
    """100% for a small grant (direct settlement), otherwise the advance percentage, rounded up
    to the cent in the applicant's favour."""
    if amount_cents <= small_limit_cents:
        return amount_cents
    return -(-amount_cents * advance_percent // 100)


def create_for_grant(application: Application, decision: Decision, ruleset: Any) -> Payment:
    """The payment a final grant brings: the whole amount or the advance."""
    amount = first_payment_cents(
        decision.amount_cents, ruleset.small_grant_limit_cents, ruleset.advance_percent
    )
    count = db.session.scalar(
        select(func.count(Payment.id)).where(Payment.application_id == application.id)
    )
    payment = Payment(
        application_id=application.id,
        decision_id=decision.id,
        kind="full" if amount == decision.amount_cents else "advance",
        amount_cents=amount,
        iban=(application.iban or "").replace(" ", "").upper(),
        account_holder=application.account_holder or application.applicant.name,
        reference=f"{application.reference}-{(count or 0) + 1}",
    )
    db.session.add(payment)
    db.session.flush()
    return payment


def due_payments_query(borough_ids: list[int]) -> Any:
    from portal.districts.models import District

    return (
        select(Payment)
        .join(Application, Payment.application_id == Application.id)
        .join(District, Application.district_id == District.id)
        .where(Payment.status == "due", District.borough_id.in_(borough_ids))
        .order_by(Payment.created_at, Payment.id)
    )


def create_batch(officer: User, payment_ids: list[int]) -> PaymentBatch:
    """A new batch with these due payments of the officer's boroughs."""
    if not payment_ids:
        raise PaymentRefused("nothing_chosen")
    borough_ids = [b.id for b in officer.handled_boroughs]
    allowed = set(
        db.session.scalars(
            due_payments_query(borough_ids)
            .where(Payment.id.in_(payment_ids))
            .with_only_columns(Payment.id)
        )
    )
    if allowed != set(payment_ids):
        raise PaymentRefused("not_due")
    batch = PaymentBatch(created_by_id=officer.id)
    db.session.add(batch)
    db.session.flush()
    # Claim each payment only while it is still due and in no batch: two batches racing for the
    # same payment cannot both get it.
    claimed = db.session.execute(
        update(Payment)
        .where(Payment.id.in_(payment_ids), Payment.status == "due", Payment.batch_id.is_(None))
        .values(status="batched", batch_id=batch.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != len(payment_ids):
        raise PaymentRefused("not_due")
    record(
        actor_id=officer.id,
        action="payment_batch.created",
        object_type="payment_batch",
        object_id=batch.id,
        to_state="open",
        reason=", ".join(str(i) for i in sorted(payment_ids)),
    )
    db.session.expire_all()
    return batch


def remove_from_batch(batch: PaymentBatch, payment_id: int, officer: User) -> None:
    """Take a payment out of a batch that is still open."""
    removed = db.session.execute(
        update(Payment)
        .where(
            Payment.id == payment_id,
            Payment.batch_id == batch.id,
            Payment.batch_id.in_(
                select(PaymentBatch.id).where(
                    PaymentBatch.id == batch.id, PaymentBatch.status == "open"
                )
            ),
        )
        .values(status="due", batch_id=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if removed != 1:
        raise PaymentRefused("batch_closed")
    record(
        actor_id=officer.id,
        action="payment_batch.payment_removed",
        object_type="payment_batch",
        object_id=batch.id,
        reason=str(payment_id),
    )
    db.session.expire_all()


def deciders(batch: PaymentBatch) -> set[int]:
    """Everyone who decided (or co-signed) a grant this batch pays."""
    ids: set[int] = set()
    for payment in batch.payments:
        if payment.decision is not None:
            ids.add(payment.decision.decided_by_id)
            if payment.decision.approved_by_id:
                ids.add(payment.decision.approved_by_id)
    return ids


def move(batch: PaymentBatch, source: str, target: str, **values: Any) -> None:
    changed = db.session.execute(
        update(PaymentBatch)
        .where(PaymentBatch.id == batch.id, PaymentBatch.status == source)
        .values(status=target, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise PaymentRefused("wrong_state")
    db.session.expire(batch)


def approve(batch: PaymentBatch, finance: User) -> None:
    if not batch.payments:
        raise PaymentRefused("empty")
    if finance.id in deciders(batch):
        raise PaymentRefused("own_decision")
    if finance.id == batch.created_by_id:
        raise PaymentRefused("own_batch")
    move(
        batch,
        "open",
        "approved",
        approved_by_id=finance.id,
        approved_at=utcnow(),
        execution_date=add_working_days(local_today(), 1),
    )
    record(
        actor_id=finance.id,
        action="payment_batch.approved",
        object_type="payment_batch",
        object_id=batch.id,
        from_state="open",
        to_state="approved",
    )


def sepa_file(batch: PaymentBatch) -> bytes:
    """The batch as a pain.001.001.03 credit transfer, validated against the schema."""
    if batch.status not in ("approved", "paid"):
        raise PaymentRefused("not_approved")
    config = current_app.config
    transfer = SepaTransfer(
        {
            "name": config["PORTAL_DEBTOR_NAME"],
            "IBAN": config["PORTAL_DEBTOR_IBAN"],
            "BIC": config["PORTAL_DEBTOR_BIC"],
            "batch": True,
            "currency": "EUR",
        },
        clean=True,
    )
    execution = batch.execution_date or add_working_days(local_today(), 1)
    for payment in batch.payments:
        transfer.add_payment(
            {
                "name": payment.account_holder,
                "IBAN": payment.iban,
                "amount": payment.amount_cents,
                "execution_date": execution,
                "description": f"Wijkbudget {payment.reference}",
                "endtoend_id": payment.reference,
            }
        )
    document: bytes = transfer.export(validate=True)
    found = re.search(rb"<MsgId>([^<]+)</MsgId>", document)
    db.session.execute(
        update(PaymentBatch)
        .where(PaymentBatch.id == batch.id)
        .values(message_id=found.group(1).decode()[:35] if found else None, exported_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return document


def mark_paid(batch: PaymentBatch, finance: User) -> None:
    """The bank carried out the transfer: every payment is paid, the ledger moves the money
    from committed to paid, and each applicant is told."""
    payments = list(batch.payments)
    move(batch, "approved", "paid", paid_by_id=finance.id, paid_at=utcnow())
    today = local_today()
    for payment in payments:
        payment.status = "paid"
        payment.paid_at = utcnow()
        year = (
            payment.decision.sent_on.year
            if payment.decision is not None and payment.decision.sent_on
            else today.year
        )
        ledger.pay(
            payment.application,
            payment.amount_cents,
            year,
            finance,
            f"Betaling {payment.reference}",
        )
        if payment.kind == "remainder":
            from portal.money.settlement import close_after_last_payment

            close_after_last_payment(payment.application, finance)
        notify(
            payment.application.applicant,
            "payment_sent",
            link=absolute_url("applications.detail", application_id=payment.application_id),
            object_type="application",
            object_id=payment.application_id,
            application=payment.application,
            payment=payment,
        )
    record(
        actor_id=finance.id,
        action="payment_batch.paid",
        object_type="payment_batch",
        object_id=batch.id,
        from_state="approved",
        to_state="paid",
    )
