"""The wijkorgaan's side of advice: the requests of the member's councils, one request with the
plan and the internal discussion, a declared conflict of interest, and the advice itself.

Council membership is not a role string, so these views check it themselves: anonymous visitors
go to the login page, everyone who is not a member of the council asked gets 404.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import aliased, contains_eager, joinedload, load_only, selectinload

from portal.applications import permissions, workflow
from portal.applications.labels import (
    ADVICE_LABELS,
    CATEGORY_LABELS,
    KADER_LABELS,
    STATE_LABELS,
)
from portal.applications.models import (
    AdviceComment,
    AdviceRequest,
    Application,
    ConflictDeclaration,
    State,
)
from portal.applications.services import counted_endorsements
from portal.extensions import db, login_manager
from portal.reviews import advice
from portal.reviews.council_forms import AdviceForm, CommentForm, ConflictForm
from portal.reviews.services import ReviewRefused
from portal.reviews.views import bp
from portal.timeutil import local_today
from portal.web import ListPage, redirect_after_post, render

PER_PAGE = 25


def is_open(request: AdviceRequest) -> bool:
    """Still waiting for this council: not given, and the application still waits for it (not
    decided without it, withdrawn, or asked again later)."""
    return (
        not request.given
        and request.application.state == State.AWAITING_ADVICE
        and request.application.advice_request is request
    )


def membership_for(request: AdviceRequest) -> Any:
    """The current user's membership of the council asked, or None."""
    return next((m for m in current_user.memberships if m.council_id == request.council_id), None)


def load_request(request_id: int) -> AdviceRequest:
    """The request, for a member of the council asked who declared no conflict; else 404."""
    request = db.session.scalar(
        select(AdviceRequest)
        .where(AdviceRequest.id == request_id)
        .options(
            joinedload(AdviceRequest.council),
            joinedload(AdviceRequest.requested_by),
            joinedload(AdviceRequest.submitted_by),
            joinedload(AdviceRequest.application).joinedload(Application.district),
            joinedload(AdviceRequest.application).joinedload(Application.applicant),
            joinedload(AdviceRequest.application).selectinload(Application.lines),
            joinedload(AdviceRequest.application).selectinload(Application.advice_requests),
            selectinload(AdviceRequest.comments).joinedload(AdviceComment.author),
            selectinload(AdviceRequest.conflicts),
        )
    )
    # A member who declared a conflict of interest no longer sees anything of the application.
    if request is None or membership_for(request) is None or request.conflicted(current_user.id):
        abort(404)
    return request


def takes_part(request: AdviceRequest) -> bool:
    """A member without a conflict, on the request that is still open."""
    return is_open(request) and permissions.takes_part_in_advice(current_user, request.application)


def gives_advice(request: AdviceRequest) -> bool:
    return is_open(request) and permissions.gives_advice(current_user, request.application)


def page_context(request: AdviceRequest, **forms: Any) -> dict[str, Any]:
    application = request.application
    conflicted = request.conflicted(current_user.id)
    may_give = gives_advice(request)
    form = forms.get("advice_form")
    if form is None and may_give:
        form = AdviceForm(formdata=None, requested_cents=application.requested_cents)
    today = local_today()
    return {
        "request": request,
        "application": application,
        "membership": membership_for(request),
        "conflicted": conflicted,
        "declaration": next((c for c in request.conflicts if c.user_id == current_user.id), None),
        "open": is_open(request),
        "takes_part": takes_part(request),
        "gives_advice": may_give,
        "comment_form": forms.get("comment_form") or CommentForm(formdata=None),
        "advice_form": form,
        "counted": counted_endorsements(application),
        "today": today,
        "overdue": is_open(request) and request.due_date < today,
        "advice_labels": ADVICE_LABELS,
        "kader_labels": KADER_LABELS,
        "category_labels": CATEGORY_LABELS,
        "state_labels": STATE_LABELS,
    }


def request_url(request: AdviceRequest, anchor: str | None = None) -> str:
    return url_for("reviews.advice_request", request_id=request.id, _anchor=anchor)


def closed(request: AdviceRequest) -> Response:
    """Someone acted on a page that was open for a while: the advice came in meanwhile."""
    db.session.rollback()
    if request.given:
        flash(_("Het advies is al gegeven. Er kan niets meer bij."), "info")
    else:
        flash(_("Dit adviesverzoek is gesloten. Er kan niets meer bij."), "info")
    return redirect_after_post(request_url(request))


@bp.route("/wijkorgaan/verzoeken/<int:request_id>")
def advice_request(request_id: int) -> Response:
    """One request for advice: the plan, the budget and the endorsements (never the applicant's
    contact or bank details), the internal discussion and, for the chair or secretary, the
    advice form."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()  # type: ignore[no-any-return]
    return render("reviews/advice_request.html", **page_context(load_request(request_id)))


@bp.route("/wijkorgaan/verzoeken/<int:request_id>/reacties", methods=["POST"])
def council_comment(request_id: int) -> Response:
    """A member without a conflict adds to the internal discussion."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()  # type: ignore[no-any-return]
    request = load_request(request_id)
    if request.conflicted(current_user.id):
        abort(403)
    if not is_open(request):
        return closed(request)
    form = CommentForm()
    if not form.validate_on_submit():
        return render(
            "reviews/advice_request.html", status=422, **page_context(request, comment_form=form)
        )
    try:
        advice.add_comment(request.application, current_user, form.body.data)
    except ReviewRefused:
        return closed(request)
    except workflow.NotAllowed:
        db.session.rollback()
        abort(403)
    db.session.commit()
    flash(_("Uw reactie staat bij de bespreking."), "success")
    return redirect_after_post(request_url(request, "bespreking"))


@bp.route("/wijkorgaan/verzoeken/<int:request_id>/belang", methods=["GET", "POST"])
def council_conflict(request_id: int) -> Response:
    """Declare a conflict of interest, after a confirmation page: from then on the member does
    not see the discussion and cannot take part."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()  # type: ignore[no-any-return]
    request = load_request(request_id)
    if not is_open(request):
        return closed(request)
    form = ConflictForm()
    if form.validate_on_submit():
        try:
            advice.declare_conflict(request.application, current_user, form.reason.data or None)
        except workflow.NotAllowed:
            db.session.rollback()
            abort(403)
        db.session.commit()
        flash(
            _(
                "U heeft gemeld dat u een belang heeft. U ziet deze aanvraag niet meer en doet "
                "niet mee aan de bespreking en het advies."
            ),
            "success",
        )
        return redirect_after_post(url_for("reviews.council_requests"))
    return render(
        "reviews/confirm_conflict.html",
        status=422 if form.errors else 200,
        request=request,
        application=request.application,
        form=form,
    )


@bp.route("/wijkorgaan/verzoeken/<int:request_id>/advies", methods=["POST"])
def council_advice(request_id: int) -> Response:
    """The chair or secretary sends the council's advice to the case officer."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()  # type: ignore[no-any-return]
    request = load_request(request_id)
    application = request.application
    if request.conflicted(current_user.id) or not membership_for(request).may_submit_advice:
        abort(403)
    if not is_open(request):
        return closed(request)
    form = AdviceForm(requested_cents=application.requested_cents)
    if not form.validate_on_submit():
        return render(
            "reviews/advice_request.html", status=422, **page_context(request, advice_form=form)
        )
    try:
        advice.give_advice(
            application,
            current_user,
            form.outcome.data,
            form.reasons.data,
            form.conditions.data or None,
            form.proposed_cents,
        )
    except workflow.NotAllowed:
        db.session.rollback()
        abort(403)
    except (workflow.InvalidTransition, ReviewRefused) as error:
        # The form checks what give_advice checks; what is left is a race with a second sender.
        if isinstance(error, ReviewRefused) and error.code in FIELD_OF_REFUSAL:
            db.session.rollback()
            getattr(form, FIELD_OF_REFUSAL[error.code]).errors.append(REFUSALS[error.code]())
            return render(
                "reviews/advice_request.html",
                status=422,
                **page_context(request, advice_form=form),
            )
        return closed(request)
    db.session.commit()
    flash(
        _(
            "Het advies is verstuurd naar de gemeente. %(name)s krijgt er bericht van.",
            name=request.requested_by.name,
        ),
        "success",
    )
    return redirect_after_post(request_url(request))


FIELD_OF_REFUSAL = {
    "unknown_outcome": "outcome",
    "reasons_required": "reasons",
    "conditions_required": "conditions",
}
REFUSALS = {
    "unknown_outcome": lambda: _("Kies een advies."),
    "reasons_required": lambda: _("Schrijf op waarom het wijkorgaan dit advies geeft."),
    "conditions_required": lambda: _("Schrijf op onder welke voorwaarden het advies positief is."),
}


# Built once: a new alias per request costs more Python time than the page's SQL.
NEWER = aliased(AdviceRequest, name="newer")
OTHER = aliased(AdviceRequest, name="other")


def open_requests(council_ids: list[int]) -> Select[Any]:
    """The ids of the councils' open requests, earliest due date first: not answered
    (ix_advice_requests_unanswered), the application waiting for advice, and no later request
    for it (as ``is_open``)."""
    newer = NEWER
    return (
        select(AdviceRequest.id)
        .join(Application, Application.id == AdviceRequest.application_id)
        .where(
            AdviceRequest.council_id.in_(council_ids),
            AdviceRequest.outcome.is_(None),
            Application.state == State.AWAITING_ADVICE.value,
            ~exists().where(
                newer.application_id == AdviceRequest.application_id,
                newer.id > AdviceRequest.id,
            ),
        )
        .order_by(AdviceRequest.due_date, AdviceRequest.id.desc())
    )


def council_requests_page(page_number: int) -> dict[str, Any]:
    """The requests of the member's councils: open ones first (earliest due date on top), then
    the rest (latest first). A fixed number of queries, whatever the page holds: the open ones'
    ids, the total, and the page's requests with their applications."""
    council_ids = [m.council_id for m in current_user.memberships]
    opened = open_requests(council_ids)
    open_ids = list(db.session.scalars(opened))
    total = db.session.scalar(select(func.count()).where(AdviceRequest.council_id.in_(council_ids)))
    offset = (page_number - 1) * PER_PAGE
    first_open = open_ids[offset : offset + PER_PAGE]
    wanted = [AdviceRequest.id.in_(first_open)] if first_open else []
    rest = PER_PAGE - len(first_open)
    if rest > 0 and offset + len(first_open) < total:
        closed = (
            select(OTHER.id)
            .where(
                OTHER.council_id.in_(council_ids),
                OTHER.id.not_in(opened.order_by(None)),
            )
            .order_by(OTHER.id.desc())
            .offset(max(offset - len(open_ids), 0))
            .limit(rest)
            .subquery()
        )
        wanted.append(AdviceRequest.id.in_(select(closed.c.id)))
    requests: list[AdviceRequest] = []
    conflicted: set[int] = set()
    if wanted:
        mine = (
            exists()
            .where(
                ConflictDeclaration.advice_request_id == AdviceRequest.id,
                ConflictDeclaration.user_id == current_user.id,
            )
            .label("conflicted")
        )
        rows = db.session.execute(
            select(AdviceRequest, mine)
            .join(AdviceRequest.application)
            .where(or_(*wanted))
            .options(
                load_only(AdviceRequest.due_date, AdviceRequest.outcome),
                contains_eager(AdviceRequest.application)
                .load_only(Application.title, Application.requested_cents, Application.district_id)
                .joinedload(Application.district),
            )
        ).all()
        conflicted = {r.id for r, mine_too in rows if mine_too}
        position = {request_id: n for n, request_id in enumerate(first_open)}
        requests = sorted(
            (r for r, _mine in rows),
            key=lambda r: (0, position[r.id]) if r.id in position else (1, -r.id),
        )
    page = ListPage(requests, page_number, PER_PAGE, total or 0)
    open_now = set(first_open)
    return {
        "page": page,
        "today": local_today(),
        "is_open": lambda r: r.id in open_now,
        "conflicted": conflicted,
        "advice_labels": ADVICE_LABELS,
    }
