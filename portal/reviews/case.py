"""The case officer's page of one application: the file, its timeline and audit trail, and the
intake actions (complete, ask for information, put aside, extend the decision period)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.accounts.models import User
from portal.applications import permissions, workflow
from portal.applications.labels import (
    ADVICE_LABELS,
    ATTACHMENT_KIND_LABELS,
    AUDIT_LABELS,
    CATEGORY_LABELS,
    KADER_LABELS,
    OBJECTION_OUTCOME_LABELS,
    REFUSAL_GROUND_LABELS,
    STATE_LABELS,
)
from portal.applications.models import (
    Application,
    State,
)
from portal.applications.services import counted_endorsements, counted_endorsements_column
from portal.audit.models import AuditRecord
from portal.districts.models import District
from portal.extensions import db
from portal.money import settlement
from portal.money.models import Payment
from portal.page_cache import cached_for_user
from portal.reviews import advice, decisions, objections, services
from portal.reviews.forms import (
    AcceptForm,
    AdviceRequestForm,
    ApproveForm,
    DecisionForm,
    ExtendForm,
    HearingForm,
    InfoRequestForm,
    IntentForm,
    ObjectionDecisionForm,
    PutAsideForm,
    ReturnForm,
    SettleForm,
)
from portal.reviews.views import RUNNING_STATES, bp
from portal.timeutil import local_today
from portal.web import format_money, redirect_after_post, render, roles_required

REFUSALS = {
    "due_in_past": lambda: _("Kies een datum na vandaag."),
    "council_not_of_district": lambda: _("Dit wijkorgaan hoort niet bij de wijk van de aanvraag."),
    "advice_needed": lambda: _(
        "Vraag eerst advies aan het wijkorgaan. Pas zonder wijkorgaan, bij een kleine subsidie "
        "of als het advies te laat is, kunt u zonder advies besluiten."
    ),
    "advice_pending": lambda: _(
        "Het wijkorgaan heeft nog tot %(due)s voor het advies. Wacht het advies af."
    ),
    "without_advice_reason": lambda: _(
        "Het advies is te laat. Schrijf op waarom u zonder advies besluit; dat komt in het dossier."
    ),
    "reasons_required": lambda: _("Schrijf de redenen op. Die komen in de brief."),
    "grounds_required": lambda: _("Kies minstens één grond."),
    "unknown_ground": lambda: _("Kies gronden uit de lijst."),
    "lower_amount": lambda: _("Vul een bedrag in dat lager is dan het gevraagde bedrag."),
    "amount_out_of_range": lambda: _(
        "Het bedrag moet meer dan € 0 zijn en mag niet hoger zijn dan het gevraagde bedrag."
    ),
    "budget_exhausted": lambda: _(
        "Er is niet genoeg wijkbudget over voor dit bedrag (subsidieplafond, Awb 4:25)."
    ),
    "intent_first": lambda: _(
        "Bij afwijzen of minder toekennen stuurt u eerst een voornemen. De aanvrager mag daarop "
        "reageren (Awb 4:8)."
    ),
    "view_period_running": lambda: _(
        "De aanvrager kan nog reageren op het voornemen. Wacht de reactie of het einde van de "
        "termijn af."
    ),
    "view_answer_required": lambda: _(
        "De aanvrager heeft gereageerd. Schrijf in het besluit wat u met die reactie doet."
    ),
    "advice_answer_required": lambda: _(
        "U wijkt af van het advies van het wijkorgaan. Schrijf op waarom."
    ),
    "hearing_in_future": lambda: _("De hoorzitting kan niet in de toekomst liggen."),
    "settle_amount": lambda: _("Het bedrag mag niet hoger zijn dan wat is toegekend."),
    "settle_lower_amount": lambda: _("Het bedrag mag niet hoger zijn dan wat is toegekend."),
    "settlement_intent_first": lambda: _(
        "Bij een lager bedrag krijgt de aanvrager eerst de kans om te reageren."
    ),
    "report_first": lambda: _(
        "Er is nog geen verantwoording. Ambtshalve vaststellen kan pas als die te laat is "
        "(Awb 4:47)."
    ),
    "payment_pending": lambda: _(
        "Er staat nog een betaling in een batch. Stel het bedrag vast als die is betaald."
    ),
    "unknown_outcome": lambda: _("Kies een uitkomst uit de lijst."),
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


# The case in two queries: the application with what it has one of (district with its borough
# and councils, ruleset, accounting) and the steps of its procedure (a few rows each: requests for
# information and advice, intents, decisions, objections, settlements); then the people the page
# names (the applicant, who asked, decided and approved) with the boroughs they handle, which also
# tells whether the signed-in officer handles this case. (Splitting the first query in two makes
# each quicker for PostgreSQL to plan, but costs as much in the extra round trip and in Python.)
# What the page shows only sometimes (the attachments of an answer, an objection or the
# accounting; the accounting's lines) is loaded when it is shown; the budget lines and the
# endorsements are not on this page.
CASE_OPTIONS: tuple[Any, ...] = (
    joinedload(Application.district).options(
        joinedload(District.borough), joinedload(District.councils)
    ),
    joinedload(Application.ruleset),
    joinedload(Application.report),
    joinedload(Application.info_requests),
    joinedload(Application.advice_requests),
    joinedload(Application.intents),
    joinedload(Application.decisions),
    joinedload(Application.objections),
    joinedload(Application.settlements),
)


def load_case_row(application_id: int, *columns: Any) -> Any:
    """The application (with ``columns`` read in the same query: the row (application,
    *columns)), for a case officer of its borough (or an admin, to read); else 404."""
    row = (
        db.session.execute(
            select(Application, *columns)
            .where(Application.id == application_id)
            .options(*CASE_OPTIONS)
        )
        .unique()
        .first()
    )
    application = row[0] if row is not None else None
    if application is None or application.state == State.DRAFT:
        abort(404)
    people = {application.applicant_id, current_user.id}
    people.update(r.requested_by_id for r in application.info_requests)
    for decision in application.decisions:
        people.update((decision.decided_by_id, decision.approved_by_id))
    people.discard(None)
    # Into the session: the relationships to them are then found without a query, and the
    # signed-in user's boroughs are loaded.
    db.session.execute(
        select(User).where(User.id.in_(people)).options(joinedload(User.handled_boroughs))
    ).unique().all()
    if not (
        permissions.handles_borough(current_user, application) or current_user.has_role("admin")
    ):
        abort(404)
    return row


def load_case(application_id: int) -> Application:
    """The application, for a case officer of its borough (or an admin, to read); else 404."""
    return load_case_row(application_id)[0]  # type: ignore[no-any-return]


def paid_cents_column() -> Any:
    """``settlement.paid_cents`` as a column of a query of applications."""
    return (
        select(func.coalesce(func.sum(Payment.amount_cents), 0))
        .where(Payment.application_id == Application.id, Payment.status == "paid")
        .correlate(Application)
        .scalar_subquery()
    )


def case_context(
    application: Application,
    *,
    counted: int | None = None,
    paid_cents: int | None = None,
    **forms: Any,
) -> dict[str, Any]:
    """What the case page shows; ``counted`` and ``paid_cents`` when read with the application
    already, and the forms of a failed post with what was typed."""
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
    advice_request = application.advice_request
    may_decide, advice_code = advice.may_decide(application, today)
    intent = application.open_intent
    open_settlement = settlement.open_settlement(application)
    settled = [s for s in application.settlements if s.status == "final"]

    def form(key: str, shown: bool, make: Any) -> Any:
        """The form of a failed post as typed; else a fresh one, only for a panel the page
        shows (None for the others)."""
        return forms.get(key) or (make() if shown else None)

    def make_advice_form() -> AdviceRequestForm:
        return AdviceRequestForm(
            formdata=None, due_date=advice.default_advice_due(application, today)
        )

    advice_form = form("advice_form", "request_advice" in actions, make_advice_form)
    if advice_form is not None:
        advice_form.council.choices = [(c.id, c.name) for c in application.district.councils]
    forms_shown = {
        "accept_form": form("accept_form", "accept" in actions, lambda: AcceptForm(formdata=None)),
        "info_form": form(
            "info_form",
            "request_info" in actions,
            lambda: InfoRequestForm(
                formdata=None, due_date=services.default_info_due(application, today)
            ),
        ),
        # Putting aside asks for its reasons on a page of its own.
        "aside_form": forms.get("aside_form"),
        "extend_form": form(
            "extend_form", "extend_deadline" in actions, lambda: ExtendForm(formdata=None)
        ),
        "advice_form": advice_form,
        "intent_form": form(
            "intent_form", "send_intent" in actions, lambda: IntentForm(formdata=None)
        ),
        "decision_form": form(
            "decision_form",
            "grant" in actions,
            lambda: DecisionForm(
                formdata=None,
                outcome="refuse" if intent and intent.kind == "refuse" else "grant",
                amount=(intent.proposed_cents if intent and intent.proposed_cents else None)
                or application.requested_cents,
                conditions=advice_request.conditions if advice_request else None,
                grounds=intent.grounds if intent else [],
                reasons=intent.reasons if intent else "",
            ),
        ),
        # Its token also goes with "repayment received".
        "approve_form": form(
            "approve_form",
            "approve_grant" in actions or any(s.recovery_status == "open" for s in settled),
            lambda: ApproveForm(formdata=None),
        ),
        "return_form": form(
            "return_form", "approve_grant" in actions, lambda: ReturnForm(formdata=None)
        ),
        "hearing_form": form(
            "hearing_form",
            "record_hearing" in actions,
            lambda: HearingForm(formdata=None, held_on=today),
        ),
        "objection_form": form(
            "objection_form",
            "record_hearing" in actions,
            lambda: ObjectionDecisionForm(formdata=None),
        ),
        "settle_form": form(
            "settle_form",
            "settle" in actions,
            lambda: SettleForm(
                formdata=None,
                amount=open_settlement.final_cents
                if open_settlement
                else application.granted_cents,
                reasons=open_settlement.reasons if open_settlement else None,
            ),
        ),
    }
    return {
        "application": application,
        "ruleset": ruleset,
        "today": today,
        "actions": actions,
        "running_states": RUNNING_STATES,
        "intake_actions": actions
        & {"accept", "request_info", "not_considered", "extend_deadline", "request_advice"},
        "info": info,
        "info_overdue": bool(info and today > info.due_date),
        "trail": trail,
        "counted": counted_endorsements(application) if counted is None else counted,
        **forms_shown,
        "advice_request": advice_request,
        "may_decide": may_decide,
        "advice_code": advice_code,
        "intent": intent,
        "pending": application.pending_decision,
        "objection": application.open_objection,
        "decision_actions": actions & {"send_intent", "grant", "refuse", "propose_grant"},
        "report": application.report,
        "settlement_intent": open_settlement,
        "settlements": settled,
        "accounting_due": settlement.accounting_due(application),
        "paid_cents": (
            (settlement.paid_cents(application) if paid_cents is None else paid_cents)
            if application.granted_cents
            else 0
        ),
        "ground_labels": REFUSAL_GROUND_LABELS,
        "advice_labels": ADVICE_LABELS,
        "objection_labels": OBJECTION_OUTCOME_LABELS,
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
        request = application.advice_request
        message = REFUSALS[error.code]() % {
            "weeks": services.ruleset_of(application).max_extension_weeks,
            "due": format_date(request.due_date, "long") if request else "",
        }
    elif isinstance(error, workflow.NotAllowed) and str(error) in ("approve_grant", "return_grant"):
        message = _("U kunt uw eigen voorstel niet goedkeuren of terugsturen.")
    else:
        message = _("Dit kan niet (meer) in de huidige stand van de aanvraag.")
    flash(message, "error")
    if forms:
        return render("reviews/case.html", status=422, **case_context(application, **forms))
    return redirect_after_post(case_url(application))


@bp.route("/behandeling/<int:application_id>")
@cached_for_user
@roles_required("case_officer", "admin")
def case(application_id: int) -> Response:
    """One application as the case officer sees it."""
    application, counted, paid = load_case_row(
        application_id, counted_endorsements_column(), paid_cents_column()
    )
    return render(
        "reviews/case.html", **case_context(application, counted=counted, paid_cents=paid)
    )


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


def form_action(
    application_id: int,
    form_class: Any,
    form_key: str,
    perform: Any,
    success: str,
) -> Response:
    """The common shape of a case action: validate, perform through the services, commit,
    flash; on errors the case page again (422) with what was typed."""
    application = load_case(application_id)
    form = form_class()
    if not form.validate_on_submit():
        return render(
            "reviews/case.html", status=422, **case_context(application, **{form_key: form})
        )
    try:
        perform(application, form)
    except workflow.WorkflowError as error:
        return refused(application, error, **{form_key: form})
    db.session.commit()
    flash(success, "success")
    return redirect_after_post(case_url(application))


@bp.route("/behandeling/<int:application_id>/advies-vragen", methods=["POST"])
@roles_required("case_officer")
def request_advice(application_id: int) -> Response:
    def perform(application: Application, form: AdviceRequestForm) -> None:
        council = next(
            (c for c in application.district.councils if c.id == form.council.data), None
        )
        if council is None:
            raise services.ReviewRefused("council_not_of_district")
        advice.request_advice(
            application, current_user, council, form.due_date.data, form.note.data or None
        )

    def make_form() -> AdviceRequestForm:
        form = AdviceRequestForm()
        application = load_case(application_id)
        form.council.choices = [(c.id, c.name) for c in application.district.councils]
        return form

    return form_action(
        application_id,
        make_form,
        "advice_form",
        perform,
        _("De adviesvraag is verstuurd naar het wijkorgaan."),
    )


@bp.route("/behandeling/<int:application_id>/voornemen", methods=["POST"])
@roles_required("case_officer")
def send_intent(application_id: int) -> Response:
    def perform(application: Application, form: IntentForm) -> None:
        decisions.send_intent(
            application,
            current_user,
            refuse=form.kind.data == "refuse",
            proposed_cents=form.amount.cents if form.kind.data == "lower" else None,
            grounds=form.grounds.data,
            reasons=form.reasons.data,
        )

    return form_action(
        application_id,
        IntentForm,
        "intent_form",
        perform,
        _("Het voornemen is verstuurd. De aanvrager kan nu reageren."),
    )


@bp.route("/behandeling/<int:application_id>/besluit", methods=["POST"])
@roles_required("case_officer")
def decide(application_id: int) -> Response:
    def perform(application: Application, form: DecisionForm) -> None:
        grant = form.outcome.data == "grant"
        decision = decisions.decide(
            application,
            current_user,
            decisions.Proposal(
                grant=grant,
                amount_cents=form.amount.cents or 0 if grant else 0,
                conditions=form.conditions.data or None,
                grounds=[] if grant else form.grounds.data,
                reasons=form.reasons.data,
                view_answer=form.view_answer.data or None,
                advice_answer=form.advice_answer.data or None,
                without_advice=form.without_advice.data or None,
            ),
        )
        if decision.status == "awaiting_approval":
            flash(
                _(
                    "Het bedrag is hoger dan %(limit)s. Een tweede behandelaar moet de "
                    "toekenning goedkeuren.",
                    limit=format_money(services.ruleset_of(application).four_eyes_limit_cents),
                ),
                "info",
            )

    return form_action(
        application_id, DecisionForm, "decision_form", perform, _("Het besluit is vastgelegd.")
    )


@bp.route("/behandeling/<int:application_id>/goedkeuren", methods=["POST"])
@roles_required("case_officer")
def approve(application_id: int) -> Response:
    return form_action(
        application_id,
        ApproveForm,
        "approve_form",
        lambda application, form: decisions.approve(application, current_user),
        _("U heeft de toekenning goedgekeurd. De aanvrager krijgt het besluit."),
    )


@bp.route("/behandeling/<int:application_id>/terugsturen", methods=["POST"])
@roles_required("case_officer")
def return_grant(application_id: int) -> Response:
    return form_action(
        application_id,
        ReturnForm,
        "return_form",
        lambda application, form: decisions.return_grant(
            application, current_user, form.reason.data
        ),
        _("Het voorstel is teruggestuurd."),
    )


@bp.route("/behandeling/<int:application_id>/hoorzitting", methods=["POST"])
@roles_required("case_officer")
def record_hearing(application_id: int) -> Response:
    return form_action(
        application_id,
        HearingForm,
        "hearing_form",
        lambda application, form: objections.record_hearing(
            application, current_user, form.held_on.data, form.notes.data
        ),
        _("Het verslag van de hoorzitting is vastgelegd."),
    )


@bp.route("/behandeling/<int:application_id>/bezwaar-besluit", methods=["POST"])
@roles_required("case_officer")
def decide_objection(application_id: int) -> Response:
    return form_action(
        application_id,
        ObjectionDecisionForm,
        "objection_form",
        lambda application, form: objections.decide(
            application, current_user, form.outcome.data, form.reasons.data
        ),
        _("Het besluit op bezwaar is vastgelegd. De aanvrager krijgt bericht."),
    )


@bp.route("/behandeling/<int:application_id>/vaststellen", methods=["POST"])
@roles_required("case_officer")
def settle(application_id: int) -> Response:
    """Set the final amount: equal at once; lower first as an intent the applicant may answer;
    without an accounting only once it is overdue (ex officio)."""

    def perform(application: Application, form: SettleForm) -> None:
        amount = form.amount.cents or 0
        reasons = form.reasons.data or None
        granted = application.granted_cents or 0
        if application.state == State.GRANTED:
            settlement.settle(application, current_user, amount, reasons, ex_officio=True)
        elif amount < granted and settlement.open_settlement(application) is None:
            settlement.intend_lower(application, current_user, amount, reasons or "")
        else:
            settlement.settle(application, current_user, amount, reasons)

    return form_action(
        application_id, SettleForm, "settle_form", perform, _("De vaststelling is vastgelegd.")
    )
