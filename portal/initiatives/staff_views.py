"""The staff side of initiatives: the case officer's queue, the review page with publish, ask for
changes and assign a guide, status changes after publication (also by the initiator), and the
moderation of comments."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal.accounts.models import User
from portal.applications import workflow
from portal.applications.labels import KADER_LABELS
from portal.audit.models import AuditRecord
from portal.districts.models import District
from portal.extensions import db
from portal.initiatives import bp, permissions, review
from portal.initiatives.labels import HELP_LABELS, MILESTONE_LABELS, STATE_LABELS
from portal.initiatives.models import (
    Comment,
    Initiative,
    InitiativeDistrict,
    InitiativeState,
    InitiativeUpdate,
)
from portal.initiatives.staff_forms import (
    AssignGuideForm,
    BlockUserForm,
    ConfirmForm,
    HideCommentForm,
    RequestChangesForm,
    RestoreCommentForm,
    StatusForm,
    safe_next,
)
from portal.timeutil import local_today
from portal.web import redirect_after_post, render, roles_required

PER_PAGE = 25

# The queue's tabs, in the order of the life of an initiative.
QUEUE_STATES = [
    InitiativeState.SUBMITTED.value,
    InitiativeState.CHANGES_REQUESTED.value,
    InitiativeState.PUBLISHED.value,
    InitiativeState.IN_CONVERSATION.value,
    InitiativeState.RUNNING.value,
    InitiativeState.REALISED.value,
    InitiativeState.STOPPED.value,
]
ALL_STATES = "alle"

# The staff audit trail names every step of an initiative and of the moderation of its comments.
AUDIT_LABELS = {
    "initiative.created": _l("Concept gemaakt"),
    "initiative.submitted": _l("Ingediend om te bekijken"),
    "initiative.published": _l("Gepubliceerd"),
    "initiative.changes_requested": _l("Aanpassing gevraagd"),
    "initiative.guide_assigned": _l("Begeleider gekozen"),
    "initiative.in_conversation": _l("Status: in gesprek"),
    "initiative.running": _l("Status: loopt"),
    "initiative.realised": _l("Status: gerealiseerd"),
    "initiative.stopped": _l("Status: gestopt"),
    "initiative.update_posted": _l("Nieuws geplaatst"),
    "initiative.application_started": _l("Wijkbudget-aanvraag gestart"),
    "initiative.discarded": _l("Concept weggegooid"),
    "initiative.comment_hidden": _l("Reactie verborgen"),
    "initiative.comment_restored": _l("Reactie teruggezet"),
    "initiative.comment_reports_dismissed": _l("Meldingen afgehandeld, reactie blijft staan"),
}

REFUSALS = {
    "guide_unknown": lambda: _("Kies een begeleider uit de lijst."),
    "guide_same": lambda: _("Deze persoon is al de begeleider van dit initiatief."),
    "already_hidden": lambda: _("Deze reactie is al verborgen."),
    "not_hidden": lambda: _("Deze reactie is niet verborgen."),
    "no_reports": lambda: _("Er zijn geen open meldingen over deze reactie."),
    "block_self": lambda: _("U kunt uzelf niet blokkeren."),
    "block_staff": lambda: _("Medewerkers van de gemeente kunt u hier niet blokkeren."),
    "already_blocked": lambda: _("Deze persoon is al geblokkeerd."),
    "not_blocked": lambda: _("Deze persoon is niet geblokkeerd."),
}


def refusal_message(error: Exception) -> str:
    if isinstance(error, review.ReviewRefused):
        return REFUSALS[error.code]()
    if isinstance(error, workflow.NotAllowed):
        return _("U mag dit niet doen bij dit initiatief.")
    return _("Dit kan niet (meer) in de huidige status van het initiatief.")


def refused(error: Exception, target: str) -> Response:
    """A refusal is a message on the page the person came from, never a 500."""
    db.session.rollback()
    flash(refusal_message(error), "error")
    return redirect_after_post(target)


# --- the queue ---------------------------------------------------------------------------------


@bp.route("/behandeling/initiatieven")
@roles_required("case_officer", "admin")
def queue() -> Response:
    """Initiatives of the boroughs the case officer handles (and city-wide ones): those waiting
    for the check first, oldest first; other states in tabs."""
    state = request.args.get("status", InitiativeState.SUBMITTED.value)
    if state not in QUEUE_STATES and state != ALL_STATES:
        state = InitiativeState.SUBMITTED.value
    search = (request.args.get("zoek", "") or "").strip()[:100]
    base = review.queue_query(current_user, search)
    counted = base.subquery()
    counts = dict(
        db.session.execute(select(counted.c.state, func.count()).group_by(counted.c.state)).all()
    )
    listed = base if state == ALL_STATES else base.where(Initiative.state == state)
    page = db.paginate(
        listed.order_by(*review.queue_order(state)),
        page=request.args.get("page", 1, type=int),
        per_page=PER_PAGE,
        error_out=False,
    )
    filter_args = {
        key: value
        for key, value in {
            "status": state if state != InitiativeState.SUBMITTED else "",
            "zoek": search,
        }.items()
        if value
    }
    return render(
        "initiatives/queue.html",
        "initiatives/_staff_queue_results.html",
        page=page,
        state=state,
        search=search,
        counts=counts,
        total=sum(counts.values()),
        queue_states=QUEUE_STATES,
        filter_args=filter_args,
        state_labels=STATE_LABELS,
        today=local_today(),
    )


# --- the review page ---------------------------------------------------------------------------


def load_for_staff(initiative_id: int) -> Initiative:
    """The initiative, for a case officer who handles it (or an admin, to read); else 404."""
    initiative = db.session.scalar(
        select(Initiative)
        .where(Initiative.id == initiative_id)
        .options(
            joinedload(Initiative.initiator),
            joinedload(Initiative.guide),
            selectinload(Initiative.district_links)
            .joinedload(InitiativeDistrict.district)
            .joinedload(District.borough),
            selectinload(Initiative.theme_links),
            selectinload(Initiative.help_links),
            selectinload(Initiative.photos),
        )
    )
    if initiative is None or initiative.state == InitiativeState.DRAFT:
        abort(404)
    if not permissions.is_staff_viewer(current_user, initiative):
        abort(404)
    return initiative


def review_url(initiative: Initiative) -> str:
    return url_for("initiatives.review", initiative_id=initiative.id)


def review_context(initiative: Initiative, **forms: Any) -> dict[str, Any]:
    actions = set(workflow.allowed_initiative_actions(current_user, initiative))
    timeline = db.session.scalars(
        select(InitiativeUpdate)
        .where(InitiativeUpdate.initiative_id == initiative.id)
        .options(joinedload(InitiativeUpdate.author), selectinload(InitiativeUpdate.photos))
        .order_by(InitiativeUpdate.id)
    ).all()
    comment_ids = select(Comment.id).where(Comment.initiative_id == initiative.id)
    trail = db.session.scalars(
        select(AuditRecord)
        .where(
            or_(
                (AuditRecord.object_type == "initiative")
                & (AuditRecord.object_id == initiative.id),
                (AuditRecord.object_type == "initiative_comment")
                & AuditRecord.object_id.in_(comment_ids),
            )
        )
        .options(joinedload(AuditRecord.actor))
        .order_by(AuditRecord.id)
    ).all()
    guide_form = forms.get("guide_form") or AssignGuideForm(
        formdata=None, guide=initiative.guide_id or 0
    )
    guide_form.set_choices(review.guide_candidates() if "assign_guide" in actions else [])
    return {
        "initiative": initiative,
        "actions": actions,
        "status_actions": review.status_actions(current_user, initiative),
        "status_form": forms.get("status_form"),
        "status_next": review_url(initiative),
        "timeline": timeline,
        "trail": trail,
        "today": local_today(),
        "publish_form": ConfirmForm(formdata=None),
        "changes_form": forms.get("changes_form") or RequestChangesForm(formdata=None),
        "guide_form": guide_form,
        "photo_endpoint": "initiatives.photo" in current_app.view_functions,
        "state_labels": STATE_LABELS,
        "help_labels": HELP_LABELS,
        "milestone_labels": MILESTONE_LABELS,
        "kader_labels": KADER_LABELS,
        "audit_labels": AUDIT_LABELS,
    }


# The endpoint is "initiatives.review"; the function has another name so that it does not hide
# the review services module.
@bp.route("/behandeling/initiatieven/<int:initiative_id>", endpoint="review")
@roles_required("case_officer", "admin")
def review_page(initiative_id: int) -> Response:
    """One initiative as the staff see it: everything the initiator wrote, its timeline and
    audit trail, and the actions the case officer may take now."""
    return render("initiatives/review.html", **review_context(load_for_staff(initiative_id)))


@bp.route("/behandeling/initiatieven/<int:initiative_id>/publiceren", methods=["POST"])
@roles_required("case_officer")
def publish(initiative_id: int) -> Response:
    """Put the initiative in the public showcase; the initiator is told."""
    initiative = load_for_staff(initiative_id)
    if ConfirmForm().validate_on_submit():
        try:
            review.publish(initiative, current_user)
        except workflow.WorkflowError as error:
            return refused(error, review_url(initiative))
        db.session.commit()
        flash(_("Het initiatief staat nu online. De initiatiefnemer krijgt bericht."), "success")
    return redirect_after_post(review_url(initiative))


@bp.route("/behandeling/initiatieven/<int:initiative_id>/aanpassing-vragen", methods=["POST"])
@roles_required("case_officer")
def request_changes(initiative_id: int) -> Response:
    """Send it back to the initiator with what to change."""
    initiative = load_for_staff(initiative_id)
    form = RequestChangesForm()
    if not form.validate_on_submit():
        return render(
            "initiatives/review.html", status=422, **review_context(initiative, changes_form=form)
        )
    try:
        review.request_changes(initiative, current_user, form.message.data)
    except workflow.WorkflowError as error:
        return refused(error, review_url(initiative))
    db.session.commit()
    flash(_("Uw vraag is verstuurd. De initiatiefnemer kan het initiatief aanpassen."), "success")
    return redirect_after_post(review_url(initiative))


@bp.route("/behandeling/initiatieven/<int:initiative_id>/begeleider", methods=["POST"])
@roles_required("case_officer")
def assign_guide(initiative_id: int) -> Response:
    """Choose a case officer as the initiative's guide (begeleider); they are told."""
    initiative = load_for_staff(initiative_id)
    form = AssignGuideForm()
    form.set_choices(review.guide_candidates())
    if not form.validate_on_submit():
        return render(
            "initiatives/review.html", status=422, **review_context(initiative, guide_form=form)
        )
    try:
        guide = review.assign_guide(initiative, current_user, form.guide.data)
    except (workflow.WorkflowError, review.ReviewRefused) as error:
        return refused(error, review_url(initiative))
    db.session.commit()
    flash(_("%(name)s is nu de begeleider van dit initiatief.", name=guide.name), "success")
    return redirect_after_post(review_url(initiative))


# --- status changes after publication (initiator and staff) -----------------------------------


def default_back(initiative: Initiative) -> str:
    if permissions.is_initiator(current_user, initiative):
        return f"/mijn-initiatieven/{initiative.id}"
    return review_url(initiative)


@bp.route("/initiatieven/<int:initiative_id>/status", methods=["POST"])
@login_required
def change_status(initiative_id: int) -> Response:
    """In conversation, running, realised or stopped, with an optional public note; back to
    the page the form was on."""
    initiative = db.session.scalar(
        select(Initiative)
        .where(Initiative.id == initiative_id)
        .options(
            joinedload(Initiative.initiator),
            selectinload(Initiative.district_links).joinedload(InitiativeDistrict.district),
        )
    )
    if initiative is None or not permissions.can_view(current_user, initiative):
        abort(404)
    if not permissions.can_change_status(current_user, initiative):
        abort(403)
    form = StatusForm()
    back = safe_next(form.next.data) or default_back(initiative)
    if not form.validate_on_submit():
        return render(
            "initiatives/review_status.html",
            status=422,
            initiative=initiative,
            status_actions=review.status_actions(current_user, initiative),
            status_form=form,
            status_next=back,
            back=back,
        )
    try:
        review.change_status(initiative, current_user, form.action.data, form.note.data or "")
    except workflow.WorkflowError as error:
        return refused(error, back)
    db.session.commit()
    flash(
        _("De status is nu: %(state)s.", state=STATE_LABELS[initiative.state]),
        "success",
    )
    return redirect_after_post(back)


# --- moderation of comments --------------------------------------------------------------------

MODERATION_LISTS = ("gemeld", "verborgen", "geblokkeerd")


def moderation_url(listed: str = "gemeld") -> str:
    return url_for("initiatives.moderation", lijst=listed if listed != "gemeld" else None)


@bp.route("/behandeling/initiatieven/reacties")
@roles_required("case_officer", "admin")
def moderation() -> Response:
    """Reported comments (grouped per comment, with the reasons), hidden comments and the people
    blocked from commenting, each list paginated."""
    listed = request.args.get("lijst", "gemeld")
    if listed not in MODERATION_LISTS:
        listed = "gemeld"
    page, context = review.moderation_list(
        current_user, listed, request.args.get("page", 1, type=int), PER_PAGE
    )
    return render(
        "initiatives/moderation.html",
        listed=listed,
        counts=review.moderation_counts(current_user),
        page=page,
        may_act=current_user.has_role("case_officer"),
        action_form=ConfirmForm(formdata=None),
        **context,
    )


def load_comment(comment_id: int) -> tuple[Comment, Initiative]:
    """A comment on an initiative the case officer handles; else 404."""
    comment = db.session.scalar(
        select(Comment).where(Comment.id == comment_id).options(joinedload(Comment.author))
    )
    if comment is None:
        abort(404)
    initiative = db.session.scalar(
        select(Initiative)
        .where(Initiative.id == comment.initiative_id)
        .options(selectinload(Initiative.district_links).joinedload(InitiativeDistrict.district))
    )
    if initiative is None or not permissions.handles(current_user, initiative):
        abort(404)
    return comment, initiative


def moderation_back(default: str) -> str:
    return safe_next(request.form.get("next")) or default


def moderation_step(
    comment_id: int,
    form_class: Any,
    step: str,
    perform: Any,
    success: str,
    back_list: str,
) -> Response:
    """Hide or restore: a page with the comment and the reason (GET), then the action (POST)."""
    comment, initiative = load_comment(comment_id)
    form = form_class()
    back = moderation_back(moderation_url(back_list))
    if form.validate_on_submit():
        try:
            perform(comment, initiative, current_user, form.reason.data)
        except review.ReviewRefused as error:
            return refused(error, back)
        db.session.commit()
        flash(success, "success")
        return redirect_after_post(back)
    return render(
        "initiatives/moderation_step.html",
        status=422 if form.errors else 200,
        step=step,
        comment=comment,
        initiative=initiative,
        form=form,
        back=back,
    )


@bp.route("/behandeling/initiatieven/reacties/<int:comment_id>/verbergen", methods=["GET", "POST"])
@roles_required("case_officer")
def hide_comment(comment_id: int) -> Response:
    """Hide a comment, with the reason the author is told; its reports are dealt with."""
    return moderation_step(
        comment_id,
        HideCommentForm,
        "hide",
        review.hide_comment,
        _("De reactie is verborgen. De schrijver krijgt bericht met uw reden."),
        "gemeld",
    )


@bp.route(
    "/behandeling/initiatieven/reacties/<int:comment_id>/terugzetten", methods=["GET", "POST"]
)
@roles_required("case_officer")
def restore_comment(comment_id: int) -> Response:
    """Show a hidden comment again; the author is told."""
    return moderation_step(
        comment_id,
        RestoreCommentForm,
        "restore",
        review.restore_comment,
        _("De reactie is weer zichtbaar. De schrijver krijgt bericht."),
        "verborgen",
    )


@bp.route("/behandeling/initiatieven/reacties/<int:comment_id>/afhandelen", methods=["POST"])
@roles_required("case_officer")
def dismiss_reports(comment_id: int) -> Response:
    """The reports are dealt with; the comment stays."""
    comment, _initiative = load_comment(comment_id)
    back = moderation_back(moderation_url())
    if ConfirmForm().validate_on_submit():
        try:
            review.dismiss_reports(comment, current_user)
        except review.ReviewRefused as error:
            return refused(error, back)
        db.session.commit()
        flash(_("De meldingen zijn afgehandeld. De reactie blijft staan."), "success")
    return redirect_after_post(back)


def load_person(user_id: int) -> User:
    person = db.session.get(User, user_id)
    if person is None:
        abort(404)
    return person


@bp.route("/behandeling/initiatieven/blokkeren/<int:user_id>", methods=["GET", "POST"])
@roles_required("case_officer")
def block_user(user_id: int) -> Response:
    """Stop someone from commenting on initiatives, with a reason (a page first, then the
    action)."""
    person = load_person(user_id)
    form = BlockUserForm()
    back = moderation_back(moderation_url("geblokkeerd"))
    if form.validate_on_submit():
        try:
            review.block_user(person, current_user, form.reason.data)
        except review.ReviewRefused as error:
            return refused(error, back)
        db.session.commit()
        flash(_("%(name)s kan niet meer reageren op initiatieven.", name=person.name), "success")
        return redirect_after_post(back)
    return render(
        "initiatives/moderation_step.html",
        status=422 if form.errors else 200,
        step="block",
        person=person,
        form=form,
        back=back,
    )


@bp.route("/behandeling/initiatieven/deblokkeren/<int:user_id>", methods=["POST"])
@roles_required("case_officer")
def unblock_user(user_id: int) -> Response:
    """Let someone comment again."""
    person = load_person(user_id)
    back = moderation_back(moderation_url("geblokkeerd"))
    if ConfirmForm().validate_on_submit():
        try:
            review.unblock_user(person, current_user)
        except review.ReviewRefused as error:
            return refused(error, back)
        db.session.commit()
        flash(_("%(name)s kan weer reageren op initiatieven.", name=person.name), "success")
    return redirect_after_post(back)
