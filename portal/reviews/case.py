"""The case officer's page of one application: the file, its timeline and audit trail, and the
intake actions (complete, ask for information, put aside, extend the decision period)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from portal.applications import permissions, workflow
from portal.applications.labels import (
    ATTACHMENT_KIND_LABELS,
    AUDIT_LABELS,
    CATEGORY_LABELS,
    KADER_LABELS,
    STATE_LABELS,
)
from portal.applications.models import Application, InfoRequest, State
from portal.applications.services import counted_endorsements
from portal.audit.models import AuditRecord
from portal.districts.models import District
from portal.extensions import db
from portal.reviews import services
from portal.reviews.forms import AcceptForm, ExtendForm, InfoRequestForm, PutAsideForm
from portal.reviews.views import bp
from portal.timeutil import local_today
from portal.web import redirect_after_post, render, roles_required

REFUSALS = {
    "due_in_past": lambda: _("Kies een datum na vandaag."),
    "period_running": lambda: _(
        "De termijn voor de aanvulling loopt nog. Pas daarna kunt u de aanvraag buiten "
        "behandeling stellen."
    ),
    "already_extended": lambda: _(
        "De beslistermijn is al een keer verlengd. Dat kan maar één keer."
    ),
    "extension_too_long": lambda: _("U kunt met hoogstens %(weeks)s weken verlengen."),
    "period_ended": lambda: _(
        "De beslistermijn is al voorbij. Verlengen moet voordat de termijn afloopt."
    ),
}


def load_case(application_id: int) -> Application:
    """The application, for a case officer of its borough (or an admin, to read); else 404."""
    application = db.session.scalar(
        select(Application)
        .where(Application.id == application_id)
        .options(
            joinedload(Application.applicant),
            joinedload(Application.district).joinedload(District.borough),
            joinedload(Application.district).selectinload(District.councils),
            selectinload(Application.lines),
            selectinload(Application.attachments),
            selectinload(Application.endorsements),
            selectinload(Application.info_requests).joinedload(InfoRequest.requested_by),
        )
    )
    if application is None or application.state == State.DRAFT:
        abort(404)
    if not (
        permissions.handles_borough(current_user, application) or current_user.has_role("admin")
    ):
        abort(404)
    return application


def case_context(application: Application, **forms: Any) -> dict[str, Any]:
    ruleset = services.ruleset_of(application)
    today = local_today()
    actions = set(workflow.allowed_actions(current_user, application))
    info = application.open_info_request
    trail = db.session.scalars(
        select(AuditRecord)
        .where(AuditRecord.object_type == "application", AuditRecord.object_id == application.id)
        .options(joinedload(AuditRecord.actor))
        .order_by(AuditRecord.id)
    ).all()
    info_form = forms.get("info_form") or InfoRequestForm(
        formdata=None, due_date=services.default_info_due(application, today)
    )
    return {
        "application": application,
        "ruleset": ruleset,
        "today": today,
        "actions": actions,
        "intake_actions": actions & {"accept", "request_info", "not_considered", "extend_deadline"},
        "info": info,
        "info_overdue": bool(info and today > info.due_date),
        "trail": trail,
        "counted": counted_endorsements(application),
        "accept_form": AcceptForm(formdata=None),
        "info_form": info_form,
        "aside_form": forms.get("aside_form") or PutAsideForm(formdata=None),
        "extend_form": forms.get("extend_form") or ExtendForm(formdata=None),
        "state_labels": STATE_LABELS,
        "audit_labels": AUDIT_LABELS,
        "kader_labels": KADER_LABELS,
        "category_labels": CATEGORY_LABELS,
        "kind_labels": ATTACHMENT_KIND_LABELS,
    }


def case_url(application: Application) -> str:
    return url_for("reviews.case", application_id=application.id)


def refused(application: Application, error: workflow.WorkflowError, **forms: Any) -> Response:
    db.session.rollback()
    if isinstance(error, services.IntakeRefused):
        message = REFUSALS[error.code]() % {
            "weeks": services.ruleset_of(application).max_extension_weeks
        }
    else:
        message = _("Dit kan niet (meer) in de huidige stand van de aanvraag.")
    flash(message, "error")
    if forms:
        return render("reviews/case.html", status=422, **case_context(application, **forms))
    return redirect_after_post(case_url(application))


@bp.route("/behandeling/<int:application_id>")
@roles_required("case_officer", "admin")
def case(application_id: int) -> Response:
    """One application as the case officer sees it."""
    return render("reviews/case.html", **case_context(load_case(application_id)))


@bp.route("/behandeling/<int:application_id>/compleet", methods=["POST"])
@roles_required("case_officer")
def accept(application_id: int) -> Response:
    application = load_case(application_id)
    if AcceptForm().validate_on_submit():
        try:
            services.accept(application, current_user)
        except workflow.WorkflowError as error:
            return refused(application, error)
        db.session.commit()
        flash(_("De aanvraag is compleet en in behandeling."), "success")
    return redirect_after_post(case_url(application))


@bp.route("/behandeling/<int:application_id>/aanvulling", methods=["POST"])
@roles_required("case_officer")
def request_info(application_id: int) -> Response:
    application = load_case(application_id)
    form = InfoRequestForm()
    if not form.validate_on_submit():
        return render("reviews/case.html", status=422, **case_context(application, info_form=form))
    try:
        services.request_info(application, current_user, form.questions.data, form.due_date.data)
    except workflow.WorkflowError as error:
        return refused(application, error, info_form=form)
    db.session.commit()
    flash(_("De vraag om aanvulling is verstuurd. De beslistermijn staat stil."), "success")
    return redirect_after_post(case_url(application))


@bp.route("/behandeling/<int:application_id>/buiten-behandeling", methods=["GET", "POST"])
@roles_required("case_officer")
def put_aside(application_id: int) -> Response:
    """Not considered after the period for the answer passed: a confirmation page first."""
    application = load_case(application_id)
    if "not_considered" not in workflow.allowed_actions(current_user, application):
        abort(404)
    form = PutAsideForm()
    if form.validate_on_submit():
        try:
            services.put_aside(application, current_user, form.reasons.data)
        except workflow.WorkflowError as error:
            return refused(application, error)
        db.session.commit()
        flash(
            _("De aanvraag is buiten behandeling gesteld. De aanvrager krijgt een brief."),
            "success",
        )
        return redirect_after_post(case_url(application))
    return render(
        "reviews/confirm_put_aside.html",
        status=422 if form.errors else 200,
        application=application,
        info=application.open_info_request,
        form=form,
    )


@bp.route("/behandeling/<int:application_id>/verlengen", methods=["POST"])
@roles_required("case_officer")
def extend(application_id: int) -> Response:
    application = load_case(application_id)
    form = ExtendForm()
    if not form.validate_on_submit():
        return render(
            "reviews/case.html", status=422, **case_context(application, extend_form=form)
        )
    try:
        services.extend_deadline(application, current_user, form.weeks.data, form.reason.data)
    except workflow.WorkflowError as error:
        return refused(application, error, extend_form=form)
    db.session.commit()
    flash(_("De beslistermijn is verlengd. De aanvrager krijgt bericht."), "success")
    return redirect_after_post(case_url(application))
