"""Who may do what with an application. Pure functions: no queries beyond loaded attributes."""

from __future__ import annotations

from typing import Any

from portal.applications.models import Application, State

BEFORE_DECISION = frozenset(
    {
        State.SUBMITTED,
        State.INFO_REQUESTED,
        State.IN_REVIEW,
        State.AWAITING_ADVICE,
        State.ADVISED,
        State.INTENT_SENT,
        State.AWAITING_APPROVAL,
    }
)
# A decision can be taken (or an intent sent) from these states.
DECIDABLE = frozenset({State.IN_REVIEW, State.AWAITING_ADVICE, State.ADVISED, State.INTENT_SENT})
# Decided: the applicant may object; staff handle the objection.
DECIDED = frozenset({State.GRANTED, State.REFUSED, State.NOT_CONSIDERED})
ADVISING_ROLES = frozenset({"chair", "secretary"})


def is_applicant(user: Any, application: Application) -> bool:
    return bool(user and user.is_authenticated and user.id == application.applicant_id)


def handles_borough(user: Any, application: Application) -> bool:
    if not (user and user.is_authenticated and user.has_role("case_officer")):
        return False
    return application.district.borough_id in {b.id for b in user.handled_boroughs}


def can_view(user: Any, application: Application) -> bool:
    """The applicant, and (once submitted) case officers of the borough and admins."""
    if is_applicant(user, application):
        return True
    if application.state == State.DRAFT:
        return False
    return handles_borough(user, application) or bool(
        user and user.is_authenticated and user.has_role("admin")
    )


def can_edit(user: Any, application: Application) -> bool:
    return is_applicant(user, application) and application.state == State.DRAFT


def can_withdraw(user: Any, application: Application) -> bool:
    return is_applicant(user, application) and application.state in BEFORE_DECISION


def can_discard(user: Any, application: Application) -> bool:
    return can_edit(user, application)


def council_membership(user: Any, application: Application) -> Any:
    """The user's membership of the council asked for advice on this application, if any."""
    request = application.advice_request
    if request is None or not (user and user.is_authenticated):
        return None
    return next((m for m in user.memberships if m.council_id == request.council_id), None)


def sees_advice_request(user: Any, application: Application) -> bool:
    """Members of the council asked for advice (conflicted ones too: they see the plan, not the
    discussion)."""
    return council_membership(user, application) is not None


def takes_part_in_advice(user: Any, application: Application) -> bool:
    request = application.advice_request
    return (
        sees_advice_request(user, application)
        and request is not None
        and not request.conflicted(user.id)
    )


def gives_advice(user: Any, application: Application) -> bool:
    """The chair or secretary of the council asked, without a conflict of interest."""
    membership = council_membership(user, application)
    return (
        membership is not None
        and membership.role in ADVISING_ROLES
        and takes_part_in_advice(user, application)
    )


def approves_grant(user: Any, application: Application) -> bool:
    """A second case officer of the borough: never the one who proposed the grant."""
    pending = application.pending_decision
    return (
        handles_borough(user, application)
        and pending is not None
        and pending.decided_by_id != user.id
    )


def handles_money(user: Any, application: Application) -> bool:
    """A case officer of the borough, or finance: who may close the file once the money is
    settled (a last payment made, a recovery received)."""
    return handles_borough(user, application) or bool(
        user and user.is_authenticated and user.has_role("finance")
    )
