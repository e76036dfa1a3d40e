"""Who may do what with an application. Pure functions: no queries beyond loaded attributes."""

from __future__ import annotations

from typing import Any

from portal.applications.models import Application, State

BEFORE_DECISION = frozenset(
    {State.SUBMITTED, State.INFO_REQUESTED, State.IN_REVIEW, State.AWAITING_ADVICE, State.ADVISED}
)


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
