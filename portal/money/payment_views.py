"""Pages of the payouts: due payments and batches for case officers, approval, the SEPA file
and "paid" for finance."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from portal.applications.models import Application, Decision, Settlement
from portal.extensions import db
from portal.money import payments
from portal.money.models import Payment, PaymentBatch
from portal.money.views import bp
from portal.web import redirect_after_post, render, roles_required

STAFF = ("case_officer", "finance")

REFUSALS = {
    "nothing_chosen": lambda: _("Kies minstens één betaling."),
    "not_due": lambda: _(
        "Een van de gekozen betalingen staat al in een andere batch of is niet meer te betalen. "
        "Kies opnieuw."
    ),
    "batch_closed": lambda: _("Deze batch is goedgekeurd en verandert niet meer."),
    "empty": lambda: _("Een lege batch kunt u niet goedkeuren."),
    "own_decision": lambda: _(
        "U heeft een van de subsidies in deze batch zelf toegekend. Een andere financieel "
        "medewerker moet de batch goedkeuren."
    ),
    "own_batch": lambda: _("U heeft deze batch zelf samengesteld. Iemand anders keurt hem goed."),
    "wrong_state": lambda: _("Dat kan niet (meer) in deze stand van de batch."),
    "not_approved": lambda: _("Het betaalbestand is er pas als de batch is goedgekeurd."),
}


class BatchForm(FlaskForm):
    """CSRF only; the chosen payments come as a list of ids."""


class ConfirmForm(FlaskForm):
    """CSRF only: approving or marking paid is the click."""


def batches_page(page_number: int) -> Any:
    counts = (
        select(
            Payment.batch_id,
            func.count(Payment.id).label("count"),
            func.sum(Payment.amount_cents).label("total"),
        )
        .group_by(Payment.batch_id)
        .subquery()
    )
    query = (
        select(PaymentBatch, counts.c.count, counts.c.total)
        .outerjoin(counts, counts.c.batch_id == PaymentBatch.id)
        .options(joinedload(PaymentBatch.created_by), joinedload(PaymentBatch.approved_by))
        .order_by(
            (PaymentBatch.status == "paid").asc(), PaymentBatch.created_at.desc(), PaymentBatch.id
        )
    )
    total = db.session.scalar(select(func.count(PaymentBatch.id)))
    per_page = 25
    rows = db.session.execute(query.limit(per_page).offset((page_number - 1) * per_page)).all()
    return rows, total, per_page


def open_recoveries() -> list[Settlement]:
    """Money paid too much that has not come back yet, oldest first."""
    return list(
        db.session.scalars(
            select(Settlement)
            .where(Settlement.recovery_status == "open")
            .options(joinedload(Settlement.application).joinedload(Application.applicant))
            .order_by(Settlement.recovery_due, Settlement.id)
            .limit(200)
        )
    )


def due_for_officer() -> list[Payment]:
    if not current_user.has_role("case_officer"):
        return []
    borough_ids = [b.id for b in current_user.handled_boroughs]
    return list(
        db.session.scalars(
            payments.due_payments_query(borough_ids)
            .options(joinedload(Payment.application).joinedload(Application.applicant))
            .limit(200)
        )
    )


@bp.route("/betalingen/batches", methods=["POST"])
@roles_required("case_officer")
def create_batch() -> Response:
    form = BatchForm()
    if form.validate_on_submit():
        ids = [int(i) for i in request.form.getlist("payment") if i.isdigit()]
        try:
            batch = payments.create_batch(current_user, ids)
        except payments.PaymentRefused as error:
            db.session.rollback()
            flash(REFUSALS[error.code](), "error")
            return redirect_after_post(url_for("money.payments"))
        db.session.commit()
        flash(
            _("Batch %(number)s is klaargezet. Financiën keurt hem goed.", number=batch.id),
            "success",
        )
        return redirect_after_post(url_for("money.batch", batch_id=batch.id))
    abort(400)


def load_batch(batch_id: int) -> PaymentBatch:
    batch = db.session.scalar(
        select(PaymentBatch)
        .where(PaymentBatch.id == batch_id)
        .options(
            joinedload(PaymentBatch.created_by),
            joinedload(PaymentBatch.approved_by),
            selectinload(PaymentBatch.payments).options(
                joinedload(Payment.application).joinedload(Application.applicant),
                joinedload(Payment.decision).options(
                    joinedload(Decision.decided_by), joinedload(Decision.approved_by)
                ),
            ),
        )
    )
    if batch is None:
        abort(404)
    return batch


@bp.route("/betalingen/batches/<int:batch_id>")
@roles_required(*STAFF)
def batch(batch_id: int) -> Response:
    found = load_batch(batch_id)
    return render(
        "money/batch.html",
        batch=found,
        form=ConfirmForm(formdata=None),
        may_approve=current_user.has_role("finance")
        and found.status == "open"
        and current_user.id not in payments.deciders(found)
        and current_user.id != found.created_by_id,
        is_decider=current_user.id in payments.deciders(found),
    )


def batch_action(batch_id: int, perform: Any, success: str) -> Response:
    found = load_batch(batch_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        perform(found)
    except payments.PaymentRefused as error:
        db.session.rollback()
        flash(REFUSALS[error.code](), "error")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect_after_post(url_for("money.batch", batch_id=batch_id))


@bp.route("/betalingen/batches/<int:batch_id>/goedkeuren", methods=["POST"])
@roles_required("finance")
def approve_batch(batch_id: int) -> Response:
    return batch_action(
        batch_id,
        lambda found: payments.approve(found, current_user),
        _("De batch is goedgekeurd. Download het betaalbestand voor de bank."),
    )


@bp.route("/betalingen/batches/<int:batch_id>/betaald", methods=["GET", "POST"])
@roles_required("finance")
def mark_paid(batch_id: int) -> Response:
    """After a confirmation: the bank has carried out the transfer."""
    if request.method == "POST":
        return batch_action(
            batch_id,
            lambda found: payments.mark_paid(found, current_user),
            _("De batch is betaald. De aanvragers krijgen bericht."),
        )
    found = load_batch(batch_id)
    if found.status != "approved":
        abort(404)
    return render("money/confirm_paid.html", batch=found, form=ConfirmForm(formdata=None))


@bp.route("/betalingen/batches/<int:batch_id>/verwijderen/<int:payment_id>", methods=["POST"])
@roles_required("case_officer")
def remove_payment(batch_id: int, payment_id: int) -> Response:
    return batch_action(
        batch_id,
        lambda found: payments.remove_from_batch(found, payment_id, current_user),
        _("De betaling is uit de batch gehaald en staat weer klaar."),
    )


@bp.route("/betalingen/batches/<int:batch_id>/pain001.xml")
@roles_required("finance")
def sepa_file(batch_id: int) -> Response:
    found = load_batch(batch_id)
    try:
        document = payments.sepa_file(found)
    except payments.PaymentRefused:
        abort(404)
    db.session.commit()
    response = Response(document, mimetype="application/xml")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="wijkbudget-batch-{found.id}-pain001.xml"'
    )
    return response


@bp.route("/betalingen/terugvorderingen/<int:application_id>/ontvangen", methods=["POST"])
@roles_required(*STAFF)
def recovery_received(application_id: int) -> Response:
    """Staff mark a recovery as received: the ledger counts it, and the file closes."""
    from portal.applications import workflow
    from portal.money import settlement

    application = db.session.get(Application, application_id)
    if application is None or not ConfirmForm().validate_on_submit():
        abort(404)
    try:
        settlement.receive_recovery(application, current_user)
    except workflow.WorkflowError:
        db.session.rollback()
        flash(_("Hier staat geen terugbetaling open, of u mag die niet afhandelen."), "error")
    else:
        db.session.commit()
        flash(_("De terugbetaling is ontvangen. Het dossier is gesloten."), "success")
    if current_user.has_role("case_officer"):
        return redirect_after_post(url_for("reviews.case", application_id=application_id))
    return redirect_after_post(url_for("money.payments"))
