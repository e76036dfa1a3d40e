"""The resident after the activity: the accounting (verantwoording) and a view on a lower
settlement."""

from __future__ import annotations

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.applications import bp, permissions, workflow
from portal.applications.dossier import viewable
from portal.applications.editing import forget_stored, store_chosen
from portal.applications.forms import cents_to_input, parse_money
from portal.applications.models import Application, State
from portal.extensions import db
from portal.money import settlement
from portal.reviews.forms import ReportForm, ViewForm
from portal.reviews.services import AnswerFile, ReviewRefused
from portal.web import redirect_after_post, render, roles_required

REPORT_REFUSALS = {
    "receipts_required": lambda: _(
        "Stuur de bonnen of facturen mee (kies bij 'Wat voor bestanden' voor 'Bon of factuur')."
    ),
    "photos_required": lambda: _("Stuur minstens één foto van de activiteit mee."),
    "report_text_required": lambda: _("Vertel kort wat er is gebeurd."),
}


def own(application_id: int) -> Application:
    application = viewable(application_id)
    if not permissions.is_applicant(current_user, application):
        abort(404)
    return application


@bp.route("/aanvragen/<int:application_id>/verantwoording", methods=["GET", "POST"])
@roles_required("resident")
def report(application_id: int) -> Response:
    """What happened, what it cost per budget line (with receipts), and an evaluation."""
    application = own(application_id)
    if application.state != State.GRANTED:
        flash(_("Voor deze aanvraag hoeft u (nu) geen verantwoording te sturen."), "info")
        return redirect_after_post(url_for("applications.detail", application_id=application.id))
    form = ReportForm()
    typed = (
        {n: request.form.get(f"actual-{n}", "") for n in range(len(application.lines))}
        if request.method == "POST"
        else {}
    )
    line_errors: dict[int, str] = {}
    if form.validate_on_submit():
        actual = {n: parse_money(value) for n, value in typed.items()}
        line_errors = {
            n: _("Vul een bedrag in euro's in, bijvoorbeeld 125,50.")
            for n, cents in actual.items()
            if cents is None
        }
        stored = store_chosen(form.files) if not line_errors else None
        if stored is not None:
            try:
                settlement.submit_report(
                    application,
                    current_user,
                    settlement.ReportInput(
                        what_happened=form.what_happened.data,
                        participants=form.participants.data,
                        went_well=form.went_well.data or None,
                        do_differently=form.do_differently.data or None,
                        would_recommend={"ja": True, "nee": False}.get(
                            form.would_recommend.data or ""
                        ),
                        lines=[
                            (line.description, line.total_cents, actual[n] or 0)
                            for n, line in enumerate(application.lines)
                        ],
                        files=[AnswerFile(s, form.kind.data) for s in stored],
                    ),
                )
            except (ReviewRefused, workflow.WorkflowError) as error:
                db.session.rollback()
                forget_stored(stored)
                if isinstance(error, ReviewRefused):
                    refusal = REPORT_REFUSALS.get(error.code)
                    message = refusal() if refusal else _("Dit kan niet (meer).")
                else:
                    message = _("Dit kan niet (meer) voor deze aanvraag.")
                form.files.errors = [
                    message,
                    _("Wat u typte staat er nog. Kies de bestanden opnieuw."),
                ]
            else:
                db.session.commit()
                flash(_("Dank u wel. De gemeente bekijkt uw verantwoording."), "success")
                return redirect_after_post(
                    url_for("applications.detail", application_id=application.id)
                )
    status = 422 if (form.errors or line_errors) else 200
    return render(
        "applications/report.html",
        status=status,
        application=application,
        form=form,
        typed=typed,
        line_errors=line_errors,
        due=settlement.accounting_due(application),
        planned=[cents_to_input(line.total_cents) for line in application.lines],
        small=settlement.is_small(application),
    )


@bp.route("/aanvragen/<int:application_id>/vaststelling", methods=["GET", "POST"])
@roles_required("resident")
def settlement_view(application_id: int) -> Response:
    """The applicant's view on a lower settlement (Awb 4:8)."""
    application = own(application_id)
    intended = settlement.open_settlement(application)
    if intended is None or intended.view is not None:
        flash(_("De gemeente wacht niet (meer) op een reactie van u."), "info")
        return redirect_after_post(url_for("applications.detail", application_id=application.id))
    form = ViewForm()
    if form.validate_on_submit():
        try:
            settlement.give_view(application, current_user, form.view.data)
        except (ReviewRefused, workflow.WorkflowError):
            db.session.rollback()
            flash(_("De termijn om te reageren is voorbij."), "error")
        else:
            db.session.commit()
            flash(_("Dank u wel. De gemeente leest uw reactie voordat zij besluit."), "success")
        return redirect_after_post(url_for("applications.detail", application_id=application.id))
    return render(
        "applications/settlement_view.html",
        status=422 if form.errors else 200,
        application=application,
        settlement=intended,
        form=form,
    )
