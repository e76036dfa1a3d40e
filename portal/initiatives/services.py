"""The core verbs of initiatives, shared by the initiator's, the staff's and the public pages:
drafts and slugs, status changes with their public timeline entry and messages, and the
milestones of a wijkbudget application made from an initiative. Services flush, audit and
record notifications; they never commit."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import select

from portal.accounts.models import CaseOfficerBorough, Role, User, UserRole
from portal.applications import workflow
from portal.audit.services import record
from portal.extensions import db
from portal.initiatives.models import (
    Initiative,
    InitiativeState,
    InitiativeUpdate,
    Support,
)
from portal.notifications.services import absolute_url, notify

SLUG_LENGTH = 60


class InitiativeRefused(Exception):
    """A refusal the views turn into a Dutch message; ``code`` says which."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def slugify(title: str) -> str:
    """ "Moestuin aan de Oldenzaalsestraat!" -> "moestuin-aan-de-oldenzaalsestraat". Letters and
    digits only (accents dropped, so "café" -> "cafe"); everything else becomes one hyphen."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:SLUG_LENGTH].rstrip("-")


def create_draft(initiator: User, creation_key: str) -> Initiative:
    """A new draft; the same key (one click, posted twice) returns the same draft. The initiator's
    own district is chosen to start with."""
    existing = db.session.scalar(
        select(Initiative).where(
            Initiative.initiator_id == initiator.id, Initiative.creation_key == creation_key
        )
    )
    if existing is not None:
        return existing
    initiative = Initiative(initiator_id=initiator.id, creation_key=creation_key, slug="")
    db.session.add(initiative)
    db.session.flush()
    if initiator.district_id is not None:
        from portal.initiatives.models import InitiativeDistrict

        initiative.district_links.append(
            InitiativeDistrict(initiative_id=initiative.id, district_id=initiator.district_id)
        )
        db.session.flush()
    record(
        actor_id=initiator.id,
        action="initiative.created",
        object_type="initiative",
        object_id=initiative.id,
        to_state=InitiativeState.DRAFT,
    )
    return initiative


def public_url(initiative: Initiative) -> str:
    return absolute_url("initiatives.detail", key=initiative.path_key)


def add_timeline(
    initiative: Initiative,
    kind: str,
    *,
    code: str | None = None,
    body: str = "",
    author: User | None = None,
) -> InitiativeUpdate:
    entry = InitiativeUpdate(
        initiative_id=initiative.id,
        kind=kind,
        code=code,
        body=body,
        author_id=author.id if author is not None else None,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def case_officers_for(initiative: Initiative) -> list[User]:
    """Active case officers of the boroughs the initiative is in (every active case officer for a
    city-wide one, or one without districts)."""
    query = (
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.CASE_OFFICER, User.active.is_(True))
        .order_by(User.id)
    )
    boroughs = {district.borough_id for district in initiative.districts}
    if boroughs and not initiative.citywide:
        query = query.where(
            User.id.in_(
                select(CaseOfficerBorough.user_id).where(
                    CaseOfficerBorough.borough_id.in_(boroughs)
                )
            )
        )
    return list(db.session.scalars(query))


# Status changes that appear on the public timeline and are told to the initiator and the
# people who support the initiative.
PUBLIC_STATUS_ACTIONS = frozenset(
    {"publish", "start_conversation", "start_running", "realise", "stop"}
)


def change_status(
    initiative: Initiative, action: str, actor: User, *, note: str = "", **values: Any
) -> None:
    """A status change through the workflow table, on the public timeline with an optional note,
    told to the initiator (unless it is them) and to everyone who supports it."""
    workflow.transition_initiative(initiative, action, actor, reason=note or None, **values)
    if action not in PUBLIC_STATUS_ACTIONS:
        return
    add_timeline(initiative, "status", code=initiative.state, body=note, author=actor)
    link = public_url(initiative)
    if action == "publish":
        notify(
            initiative.initiator,
            "initiative_published",
            link=link,
            object_type="initiative",
            object_id=initiative.id,
            initiative=initiative,
        )
        return
    supporters = db.session.scalars(
        select(User)
        .join(Support, Support.user_id == User.id)
        .where(Support.initiative_id == initiative.id, User.active.is_(True))
        .order_by(User.id)
    ).all()
    told = {actor.id}
    for person in [initiative.initiator, *supporters]:
        if person.id in told:
            continue
        told.add(person.id)
        notify(
            person,
            "initiative_status_changed",
            link=link,
            object_type="initiative",
            object_id=initiative.id,
            initiative=initiative,
            note=note,
        )


def record_milestone(initiative_id: int | None, code: str) -> None:
    """A public milestone of a wijkbudget application made from an initiative ("submitted",
    "granted"): on the initiative's timeline, without any private detail."""
    if initiative_id is None:
        return
    initiative = db.session.get(Initiative, initiative_id)
    if initiative is None:
        return
    add_timeline(initiative, "milestone", code=code)
