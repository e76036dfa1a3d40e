"""Every initiative state x every action x every kind of actor: the workflow table allows exactly
what this independent table says, changes nothing when it refuses, and audits what it allows."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from portal.applications import workflow
from portal.audit.models import AuditRecord
from portal.districts.models import District
from portal.extensions import db
from portal.initiatives import services
from portal.initiatives.models import Initiative, InitiativeDistrict, InitiativeState

S = InitiativeState
AFTER = {S.PUBLISHED, S.IN_CONVERSATION, S.RUNNING}
# action: (states it may start from, who may take it)
EXPECTED: dict[str, tuple[set[str], set[str]]] = {
    "submit": ({S.DRAFT, S.CHANGES_REQUESTED}, {"initiator"}),
    "publish": ({S.SUBMITTED}, {"officer", "guide"}),
    "request_changes": ({S.SUBMITTED}, {"officer", "guide"}),
    "assign_guide": ({S.SUBMITTED, *AFTER}, {"officer", "guide"}),
    "start_conversation": ({S.PUBLISHED}, {"initiator", "officer", "guide"}),
    "start_running": ({S.PUBLISHED, S.IN_CONVERSATION}, {"initiator", "officer", "guide"}),
    "realise": ({S.RUNNING}, {"initiator", "officer", "guide"}),
    "stop": (AFTER, {"initiator", "officer", "guide"}),
}
ACTORS = ["initiator", "officer", "guide", "officer_elsewhere", "other_resident", "admin"]


def test_the_table_is_the_one_we_expect() -> None:
    assert set(workflow.INITIATIVE_TRANSITIONS) == set(EXPECTED)


def state_of(initiative: Initiative) -> str:
    return db.session.scalar(select(Initiative.state).where(Initiative.id == initiative.id))


@pytest.fixture
def people(factory) -> dict[str, Any]:
    return {
        "initiator": factory.user(postcode="7533AB"),
        "officer": factory.user(roles=("case_officer",), boroughs=("Oost",)),
        # A case officer of another borough, assigned as this initiative's guide.
        "guide": factory.user(roles=("case_officer",), boroughs=("West",)),
        "officer_elsewhere": factory.user(roles=("case_officer",), boroughs=("West",)),
        "other_resident": factory.user(postcode="7511AB"),
        "admin": factory.user(roles=("admin",)),
    }


@pytest.mark.parametrize("state", [s.value for s in InitiativeState])
@pytest.mark.parametrize("action", sorted(EXPECTED))
@pytest.mark.parametrize("actor", ACTORS)
def test_every_state_action_and_actor(people, state: str, action: str, actor: str) -> None:
    initiative = services.create_draft(people["initiator"], "workflow")
    glanerbrug = db.session.scalar(select(District).where(District.name == "Glanerbrug"))
    initiative.district_links.clear()
    db.session.flush()
    initiative.district_links.append(
        InitiativeDistrict(initiative_id=initiative.id, district_id=glanerbrug.id)
    )
    db.session.execute(
        update(Initiative)
        .where(Initiative.id == initiative.id)
        .values(state=state, guide_id=people["guide"].id)
    )
    db.session.flush()
    db.session.refresh(initiative)
    sources, who = EXPECTED[action]
    allowed = state in sources and actor in who
    before = db.session.scalar(select(db.func.count(AuditRecord.id)))
    if allowed:
        workflow.transition_initiative(initiative, action, people[actor])
        target = workflow.INITIATIVE_TRANSITIONS[action].target or state
        assert state_of(initiative) == target
        assert db.session.scalar(select(db.func.count(AuditRecord.id))) == before + 1
    else:
        with pytest.raises((workflow.NotAllowed, workflow.InvalidTransition)):
            workflow.transition_initiative(initiative, action, people[actor])
        assert state_of(initiative) == state
        assert db.session.scalar(select(db.func.count(AuditRecord.id))) == before
