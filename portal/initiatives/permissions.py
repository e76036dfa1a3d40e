"""Who may do what with an initiative. Pure functions of the user and the initiative."""

from __future__ import annotations

from typing import Any

from portal.initiatives.models import Initiative, InitiativeState

EDITABLE = frozenset({InitiativeState.DRAFT, InitiativeState.CHANGES_REQUESTED})


def signed_in(user: Any) -> bool:
    return bool(user and user.is_authenticated)


def is_initiator(user: Any, initiative: Initiative) -> bool:
    return signed_in(user) and user.id == initiative.initiator_id


def handles(user: Any, initiative: Initiative) -> bool:
    """A case officer of a borough the initiative is in (any case officer for a city-wide one,
    or one without districts), and the guide assigned to it."""
    if not signed_in(user) or not user.has_role("case_officer"):
        return False
    if initiative.guide_id == user.id:
        return True
    districts = initiative.districts
    if initiative.citywide or not districts:
        return True
    handled = {borough.id for borough in user.handled_boroughs}
    return any(district.borough_id in handled for district in districts)


def is_staff_viewer(user: Any, initiative: Initiative) -> bool:
    return handles(user, initiative) or (signed_in(user) and user.has_role("admin"))


def can_view(user: Any, initiative: Initiative) -> bool:
    """Published ones: everyone. Before publication: the initiator (not a discarded draft of
    someone else) and the staff who check it."""
    if initiative.is_public:
        return True
    if is_initiator(user, initiative):
        return True
    return initiative.state != InitiativeState.DRAFT and is_staff_viewer(user, initiative)


def can_edit(user: Any, initiative: Initiative) -> bool:
    return is_initiator(user, initiative) and initiative.state in EDITABLE


def can_post_update(user: Any, initiative: Initiative) -> bool:
    return is_initiator(user, initiative) and initiative.is_public


def can_change_status(user: Any, initiative: Initiative) -> bool:
    """After publication the initiator and the staff keep the status up to date."""
    return is_initiator(user, initiative) or handles(user, initiative)
