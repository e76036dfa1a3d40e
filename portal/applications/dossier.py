"""The resident's dossier: "Mijn aanvragen", the application page with its timeline, the
attachments, the PDF summary, and withdrawing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Response, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import and_, func, select
from sqlalchemy.orm import joinedload, selectinload

from portal import uploads
from portal.applications import bp, jobs, permissions, services, workflow
from portal.applications.editing import (
    forget_stored,
    load_application,
    load_application_row,
    store_chosen,
)
from portal.applications.forms import NewApplicationForm, WithdrawForm
from portal.applications.labels import (
    ATTACHMENT_KIND_LABELS,
    CATEGORY_LABELS,
    KADER_LABELS,
    NEXT_STEP_LABELS,
    REFUSAL_GROUND_LABELS,
    STATE_LABELS,
    TIMELINE_LABELS,
)
from portal.applications.models import Application, Decision, State
from portal.audit.models import AuditRecord
from portal.districts.models import District, DistrictBudget
from portal.extensions import db, login_manager
from portal.money.models import Payment
from portal.money.settlement import accounting_due
from portal.page_cache import cached_for_user, fresh_key
from portal.reviews import decisions as review_decisions
from portal.reviews import objections as review_objections
from portal.reviews import services as review_services
from portal.reviews.forms import AnswerForm, ObjectionForm, ViewForm
from portal.reviews.letters import letter_context
from portal.rulesets.services import ruleset_in_force
from portal.timeutil import local_today, utcnow
from portal.web import redirect_after_post, render, roles_required

# Applications a page on "Mijn aanvragen".
PER_PAGE = 20


class CountedPagination(Pagination):
    """A page of a select whose rows also carry the total (``count(*) OVER ()``): the items and
    the number of pages in one query. Only a page past the end counts on its own."""

    def _query_items(self) -> list[Any]:
        query = self._query_args["select"]
        rows = db.session.execute(
            query.add_columns(func.count().over()).limit(self.per_page).offset(self._query_offset)
        ).all()
        self._counted = rows[0][-1] if rows else None
        return [row[0] for row in rows]

    def _query_count(self) -> int:
        if self._counted is not None:
            return int(self._counted)
        if self.page == 1:
            return 0
        query = self._query_args["select"].order_by(None).subquery()
        return int(db.session.scalar(select(func.count()).select_from(query)) or 0)


@bp.route("/mijn-aanvragen")
@cached_for_user
@roles_required("resident")
def mine() -> Response:
    """Mijn aanvragen: drafts and applications with status, next step and deadline."""
    page = CountedPagination(
        select=select(Application)
        .where(Application.applicant_id == current_user.id)
        .order_by(Application.updated_at.desc(), Application.id.desc()),
        page=request.args.get("page", 1, type=int),
        per_page=PER_PAGE,
        max_per_page=None,
        error_out=False,
    )
    district = None
    budget = None
    if current_user.district_id:
        # The district with its borough and councils, and this year's budget: one query.
        row = (
            db.session.execute(
                select(District, DistrictBudget)
                .outerjoin(
                    DistrictBudget,
                    and_(
                        DistrictBudget.district_id == District.id,
                        DistrictBudget.year == local_today().year,
                    ),
                )
                .where(District.id == current_user.district_id)
                .options(joinedload(District.borough), joinedload(District.councils))
            )
            .unique()
            .first()
        )
        if row is not None:
            district, budget = row
    return render(
        "applications/mine.html",
        page=page,
        district=district,
        budget=budget,
        ruleset=ruleset_in_force(),
        new_form=NewApplicationForm(creation_key=fresh_key()),
        state_labels=STATE_LABELS,
        next_step_labels=NEXT_STEP_LABELS,
    )


def viewable(application_id: int) -> Application:
    application = load_application(application_id)
    if not permissions.can_view(current_user, application):
        abort(404)
    return application


def timeline(application: Application) -> list[dict[str, object]]:
    """Each step with its date; the open step with its deadline."""
    records = db.session.scalars(
        select(AuditRecord)
        .where(
            AuditRecord.object_type == "application",
            AuditRecord.object_id == application.id,
            AuditRecord.action.in_(list(TIMELINE_LABELS)),
        )
        .order_by(AuditRecord.id)
    ).all()
    steps: list[dict[str, object]] = [
        {"label": TIMELINE_LABELS[r.action], "date": r.created_at, "done": True, "reason": r.reason}
        for r in records
    ]
    info = application.open_info_request
    if info is not None:
        steps.append({"label": _("Uw aanvulling"), "deadline": info.due_date, "done": False})
        steps.append(
            {
                "label": _("Besluit van de gemeente"),
                "paused": True,
                "done": False,
            }
        )
    elif application.state in permissions.BEFORE_DECISION and application.decision_deadline:
        request = application.advice_request
        if application.state == State.AWAITING_ADVICE and request is not None:
            steps.append(
                {
                    "label": _("Advies van %(council)s", council=request.council.name),
                    "deadline": request.due_date,
                    "done": False,
                }
            )
        intent = application.open_intent
        if intent is not None and intent.view is None and intent.view_due >= local_today():
            steps.append(
                {
                    "label": _("Uw reactie op het voornemen"),
                    "deadline": intent.view_due,
                    "done": False,
                }
            )
        steps.append(
            {
                "label": _("Besluit van de gemeente"),
                "deadline": application.decision_deadline,
                "done": False,
            }
        )
    objection = application.open_objection
    if objection is not None:
        steps.append({"label": _("Besluit op uw bezwaar"), "pending": True, "done": False})
    return steps


# What the application page shows, in three queries: the application with what it has one of
# (district, ruleset, accounting) and the steps of its procedure (a few rows each: requests for
# information and advice, intents, decisions, objections, settlements) joined, then the budget
# lines and the attachments, which can be many. The endorsements are only counted. The council
# asked for advice is found among the district's councils (quicker for PostgreSQL to plan than
# joining the council to the request).
DETAIL_OPTIONS: tuple[Any, ...] = (
    joinedload(Application.district).joinedload(District.councils),
    joinedload(Application.ruleset),
    joinedload(Application.report),
    joinedload(Application.info_requests),
    joinedload(Application.advice_requests),
    joinedload(Application.intents),
    joinedload(Application.decisions),
    joinedload(Application.objections),
    joinedload(Application.settlements),
    selectinload(Application.lines),
    selectinload(Application.attachments),
)


@bp.route("/aanvragen/<int:application_id>")
@cached_for_user
def detail(application_id: int) -> Response:
    """The whole application, read-only once submitted, with its timeline and attachments."""
    if not current_user.is_authenticated:
        from portal.extensions import login_manager

        return login_manager.unauthorized()  # type: ignore[no-any-return]
    application, counted = load_application_row(
        application_id, DETAIL_OPTIONS, services.counted_endorsements_column()
    )
    if not permissions.can_view(current_user, application):
        abort(404)
    if application.is_draft:
        return redirect_after_post(
            url_for("applications.edit", application_id=application.id, section="activiteit")
        )
    return render(
        "applications/detail.html",
        application=application,
        steps=timeline(application),
        state_labels=STATE_LABELS,
        next_step_labels=NEXT_STEP_LABELS,
        kader_labels=KADER_LABELS,
        category_labels=CATEGORY_LABELS,
        kind_labels=ATTACHMENT_KIND_LABELS,
        counted=counted,
        can_withdraw=permissions.can_withdraw(current_user, application),
        is_applicant=permissions.is_applicant(current_user, application),
        can_handle=permissions.handles_borough(current_user, application)
        or current_user.has_role("admin"),
        objection_deadline=review_objections.objection_deadline(application),
        today=local_today(),
        accounting_due=accounting_due(application),
        payments=db.session.scalars(
            select(Payment).where(Payment.application_id == application.id).order_by(Payment.id)
        ).all(),
    )


@bp.route("/aanvragen/<int:application_id>/bijlagen/<int:attachment_id>")
def attachment(application_id: int, attachment_id: int) -> Response:
    """Download an attachment: only for who may see the application, always as a download
    (photos inline), with the sanitised name."""
    if not current_user.is_authenticated:
        abort(404)
    application = viewable(application_id)
    found = next((a for a in application.attachments if a.id == attachment_id), None)
    if found is None:
        abort(404)
    return uploads.send_stored(
        found.storage_key,
        found.display_name,
        found.content_type,
        root=Path(current_app.config["PORTAL_UPLOAD_DIR"]),
        as_attachment=found.content_type == "application/pdf",
    )


@bp.route("/aanvragen/<int:application_id>/intrekken", methods=["GET", "POST"])
@roles_required("resident")
def withdraw(application_id: int) -> Response:
    """Withdraw the application before a decision, after a confirmation step."""
    application = viewable(application_id)
    if not permissions.can_withdraw(current_user, application):
        abort(404 if not permissions.is_applicant(current_user, application) else 403)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            services.withdraw(application, current_user, form.reason.data or None)
        except workflow.WorkflowError:
            db.session.rollback()
            flash(_("Deze aanvraag kan niet meer worden ingetrokken."), "error")
        else:
            db.session.commit()
            flash(_("Uw aanvraag is ingetrokken."), "success")
        return redirect_after_post(url_for("applications.detail", application_id=application.id))
    return render("applications/confirm_withdraw.html", application=application, form=form)


@bp.route("/aanvragen/<int:application_id>/aanvulling", methods=["GET", "POST"])
@roles_required("resident")
def answer_info(application_id: int) -> Response:
    """The applicant answers the municipality's questions, with text and files."""
    application = viewable(application_id)
    if not permissions.is_applicant(current_user, application):
        abort(404)
    info = application.open_info_request
    if info is None:
        flash(_("De gemeente wacht niet (meer) op een aanvulling van u."), "info")
        return redirect_after_post(url_for("applications.detail", application_id=application.id))
    form = AnswerForm()
    if form.validate_on_submit():
        stored = store_chosen(form.files)
        if stored is not None:
            try:
                review_services.supply_info(
                    application,
                    current_user,
                    form.answer.data,
                    [review_services.AnswerFile(s, form.kind.data) for s in stored],
                )
            except workflow.WorkflowError:
                db.session.rollback()
                forget_stored(stored)
                flash(_("De gemeente wacht niet (meer) op een aanvulling van u."), "error")
            else:
                db.session.commit()
                flash(
                    _(
                        "Dank u wel. Uw aanvulling is verstuurd. De gemeente gaat verder met uw "
                        "aanvraag."
                    ),
                    "success",
                )
            return redirect_after_post(
                url_for("applications.detail", application_id=application.id)
            )
    return render(
        "applications/answer_info.html",
        status=422 if form.errors else 200,
        application=application,
        info=info,
        form=form,
    )


@bp.route("/aanvragen/<int:application_id>/reactie", methods=["GET", "POST"])
@roles_required("resident")
def give_view(application_id: int) -> Response:
    """The applicant's view on the municipality's intent to refuse or grant less (Awb 4:8)."""
    application = viewable(application_id)
    if not permissions.is_applicant(current_user, application):
        abort(404)
    intent = application.open_intent
    if intent is None or intent.view is not None:
        flash(_("De gemeente wacht niet (meer) op een reactie van u."), "info")
        return redirect_after_post(url_for("applications.detail", application_id=application.id))
    form = ViewForm()
    if form.validate_on_submit():
        try:
            review_decisions.give_view(application, current_user, form.view.data)
        except review_services.ReviewRefused:
            db.session.rollback()
            flash(
                _("De termijn om te reageren is voorbij. De gemeente neemt nu een besluit."),
                "error",
            )
        except workflow.WorkflowError:
            db.session.rollback()
            flash(_("De gemeente wacht niet (meer) op een reactie van u."), "error")
        else:
            db.session.commit()
            flash(_("Dank u wel. De gemeente leest uw reactie voordat zij besluit."), "success")
        return redirect_after_post(url_for("applications.detail", application_id=application.id))
    return render(
        "applications/give_view.html",
        status=422 if form.errors else 200,
        application=application,
        intent=intent,
        form=form,
        ground_labels=REFUSAL_GROUND_LABELS,
    )


def decision_of(application: Application, decision_id: int | None) -> Decision:
    final = [d for d in application.decisions if d.status == "final"]
    if decision_id is not None:
        final = [d for d in final if d.id == decision_id]
    if not final:
        abort(404)
    return final[-1]


@bp.route("/aanvragen/<int:application_id>/besluit")
@bp.route("/aanvragen/<int:application_id>/besluit/<int:decision_id>")
def decision_letter(application_id: int, decision_id: int | None = None) -> Response:
    """The decision letter (beschikking) as a page, with the PDF once the worker made it."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()  # type: ignore[no-any-return]
    application = viewable(application_id)
    decision = decision_of(application, decision_id)
    return render(
        "applications/decision.html",
        **letter_context(decision),
        objection_deadline=review_objections.objection_deadline(application),
        is_applicant=permissions.is_applicant(current_user, application),
        today=local_today(),
    )


@bp.route("/aanvragen/<int:application_id>/besluit/<int:decision_id>/pdf")
def decision_letter_pdf(application_id: int, decision_id: int) -> Response:
    if not current_user.is_authenticated:
        abort(404)
    application = viewable(application_id)
    decision = decision_of(application, decision_id)
    if not decision.letter_storage_key:
        abort(404)
    return uploads.send_stored(
        decision.letter_storage_key,
        f"besluit-{application.reference}.pdf",
        "application/pdf",
        root=Path(current_app.config["PORTAL_UPLOAD_DIR"]),
        as_attachment=True,
    )


@bp.route("/aanvragen/<int:application_id>/bezwaar", methods=["GET", "POST"])
@roles_required("resident")
def objection(application_id: int) -> Response:
    """Object to the decision online, within the objection period (Awb 6:7)."""
    application = viewable(application_id)
    if not permissions.is_applicant(current_user, application):
        abort(404)
    deadline = review_objections.objection_deadline(application)
    if deadline is None or application.open_objection is not None:
        flash(_("Er is nu geen besluit waartegen u bezwaar kunt maken."), "info")
        return redirect_after_post(url_for("applications.detail", application_id=application.id))
    late = local_today() > deadline
    form = ObjectionForm()
    if not late and form.validate_on_submit():
        stored = store_chosen(form.files)
        if stored is not None:
            try:
                review_objections.lodge(
                    application,
                    current_user,
                    form.reasons.data,
                    [review_services.AnswerFile(s, form.kind.data) for s in stored],
                )
            except workflow.WorkflowError:
                db.session.rollback()
                forget_stored(stored)
                flash(_("Uw bezwaar kon niet worden ontvangen. Probeer het opnieuw."), "error")
            else:
                db.session.commit()
                flash(_("Uw bezwaar is ontvangen. U krijgt een bevestiging per e-mail."), "success")
            return redirect_after_post(
                url_for("applications.detail", application_id=application.id)
            )
    return render(
        "applications/objection.html",
        status=422 if form.errors else 200,
        application=application,
        deadline=deadline,
        late=late,
        form=form,
    )


@bp.route("/aanvragen/<int:application_id>/pdf", methods=["GET", "POST"])
def pdf(application_id: int) -> Response:
    """Ask the worker for a PDF summary (POST), then download it (GET) once it is ready."""
    if not current_user.is_authenticated:
        from portal.extensions import login_manager

        return login_manager.unauthorized()  # type: ignore[no-any-return]
    application = viewable(application_id)
    if application.is_draft:
        abort(404)
    if request.method == "POST":
        application.pdf_requested_at = utcnow()
        application.pdf_generated_at = None
        jobs.request_pdf(application.id)
        db.session.commit()
        return redirect_after_post(url_for("applications.pdf", application_id=application.id))
    return render(
        "applications/pdf_status.html",
        "applications/_pdf_status.html",
        application=application,
    )


@bp.route("/aanvragen/<int:application_id>/pdf/download")
def pdf_download(application_id: int) -> Response:
    """The PDF summary made by the worker."""
    if not current_user.is_authenticated:
        abort(404)
    application = viewable(application_id)
    if not (application.pdf_generated_at and application.pdf_storage_key):
        abort(404)
    return uploads.send_stored(
        application.pdf_storage_key,
        f"aanvraag-{application.reference}.pdf",
        "application/pdf",
        root=Path(current_app.config["PORTAL_UPLOAD_DIR"]),
        as_attachment=True,
    )
