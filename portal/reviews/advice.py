"""The wijkorgaan's advice: requested by the case officer, discussed by the members, given by
the chair or secretary. Not binding; without it in time the case officer may decide."""

from __future__ import annotations

from datetime import date

from portal.accounts.models import User
from portal.applications import permissions, workflow
from portal.applications.models import (
    ADVICE_OUTCOMES,
    AdviceComment,
    AdviceRequest,
    Application,
    ConflictDeclaration,
)
from portal.audit.services import record
from portal.deadlines import add_period
from portal.districts.models import Council
from portal.extensions import db
from portal.notifications.services import absolute_url, notify
from portal.reviews.services import ReviewRefused, officers_to_tell, ruleset_of
from portal.timeutil import local_today, utcnow


def default_advice_due(application: Application, today: date | None = None) -> date:
    return add_period(today or local_today(), days=ruleset_of(application).advice_period_days)


def advice_needed(application: Application) -> bool:
    """The district has a council, and the grant is not a small one the ruleset lets skip it."""
    if not application.district.councils:
        return False
    ruleset = ruleset_of(application)
    small = application.requested_cents <= ruleset.small_grant_limit_cents
    return not (small and ruleset.small_grants_skip_advice)


def may_decide(application: Application, today: date | None = None) -> tuple[bool, str | None]:
    """Whether the case officer may decide now, and what the record must say about the advice
    (None when the council advised). Returns (False, code) when advice is still due."""
    today = today or local_today()
    request = application.advice_request
    if request is not None and request.given:
        return True, None
    if request is not None:
        if today > request.due_date:
            return True, "advice_late"
        return False, "advice_pending"
    if not application.district.councils:
        return True, "no_council"
    if not advice_needed(application):
        return True, "small_grant"
    return False, "advice_needed"


def request_advice(
    application: Application, actor: User, council: Council, due_date: date, note: str | None
) -> AdviceRequest:
    if council not in application.district.councils:
        raise ReviewRefused("council_not_of_district")
    if due_date <= local_today():
        raise ReviewRefused("due_in_past")
    workflow.transition(application, "request_advice", actor, reason=note)
    request = AdviceRequest(
        application_id=application.id,
        council_id=council.id,
        requested_by_id=actor.id,
        requested_on=local_today(),
        due_date=due_date,
        note=note,
    )
    application.advice_requests.append(request)
    db.session.flush()
    # A conflict of interest concerns the application, not one request: a member who declared
    # one on an earlier request of it (say, before an objection) stays out of this one too.
    earlier = {
        conflict.user_id: conflict.reason
        for earlier_request in application.advice_requests
        if earlier_request.id != request.id
        for conflict in earlier_request.conflicts
    }
    for user_id, reason in earlier.items():
        db.session.add(
            ConflictDeclaration(advice_request_id=request.id, user_id=user_id, reason=reason)
        )
    db.session.flush()
    db.session.refresh(request, ["conflicts"])
    link = absolute_url("reviews.advice_request", request_id=request.id)
    for membership in council.memberships:
        if not membership.user.active or request.conflicted(membership.user_id):
            continue
        notify(
            membership.user,
            "advice_requested",
            link=link,
            object_type="advice_request",
            object_id=request.id,
            application=application,
            request=request,
            council=council,
        )
    return request


def add_comment(application: Application, actor: User, body: str) -> AdviceComment:
    request = application.advice_request
    if request is None or not permissions.takes_part_in_advice(actor, application):
        raise workflow.NotAllowed("comment")
    if request.given:
        raise ReviewRefused("advice_given")
    comment = AdviceComment(advice_request_id=request.id, author_id=actor.id, body=body)
    db.session.add(comment)
    db.session.flush()
    record(
        actor_id=actor.id,
        action="advice.commented",
        object_type="advice_request",
        object_id=request.id,
    )
    return comment


def declare_conflict(application: Application, actor: User, reason: str | None) -> None:
    """From now on the member does not see the discussion and cannot take part."""
    request = application.advice_request
    if request is None or not permissions.sees_advice_request(actor, application):
        raise workflow.NotAllowed("declare_conflict")
    if request.conflicted(actor.id):
        return
    db.session.add(
        ConflictDeclaration(advice_request_id=request.id, user_id=actor.id, reason=reason)
    )
    db.session.flush()
    db.session.refresh(request, ["conflicts"])
    record(
        actor_id=actor.id,
        action="advice.conflict_declared",
        object_type="advice_request",
        object_id=request.id,
        reason=reason,
    )


def give_advice(
    application: Application,
    actor: User,
    outcome: str,
    reasons: str,
    conditions: str | None,
    proposed_cents: int | None,
) -> None:
    request = application.advice_request
    if request is None:
        raise workflow.InvalidTransition("give_advice")
    if outcome not in ADVICE_OUTCOMES:
        raise ReviewRefused("unknown_outcome")
    if not (reasons or "").strip():
        raise ReviewRefused("reasons_required")
    if outcome == "conditional" and not (conditions or "").strip():
        raise ReviewRefused("conditions_required")
    workflow.transition(application, "give_advice", actor, reason=reasons)
    request.outcome = outcome
    request.reasons = reasons
    request.conditions = conditions if outcome == "conditional" else None
    request.proposed_cents = proposed_cents
    request.submitted_by_id = actor.id
    request.submitted_at = utcnow()
    db.session.flush()
    for officer in officers_to_tell(application, request.requested_by):
        notify(
            officer,
            "advice_given",
            link=absolute_url("reviews.case", application_id=application.id),
            object_type="application",
            object_id=application.id,
            application=application,
            request=request,
        )
