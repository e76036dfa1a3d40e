"""The workflow table: every action in every state, by every kind of actor. Allowed ones change
the state and leave one audit record; all others are refused and change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.applications import services, workflow
from portal.applications.models import Application, State
from portal.audit.models import AuditRecord
from portal.extensions import db

# Who may take each action (in the states the table allows).
WHO = {
    "submit": {"applicant"},
    "withdraw": {"applicant"},
    "supply_info": {"applicant"},
    "accept": {"case_officer"},
    "request_info": {"case_officer"},
    "not_considered": {"case_officer"},
    "extend_deadline": {"case_officer"},
}
ACTORS = [
    "applicant",
    "other_resident",
    "council_member",
    "case_officer",
    "other_case_officer",
    "finance",
    "admin",
]


def test_the_table_names_who_may_do_every_action() -> None:
    assert set(WHO) == set(workflow.TRANSITIONS)


@pytest.mark.parametrize("action", sorted(workflow.TRANSITIONS))
@pytest.mark.parametrize("state", [s.value for s in State])
@pytest.mark.parametrize("actor_kind", ACTORS)
def test_every_action_in_every_state(factory, action, state, actor_kind) -> None:
    applicant = factory.user(postcode="7533AB")
    actors = {
        "applicant": lambda: applicant,
        "other_resident": lambda: factory.user(postcode="7533AB"),
        "council_member": lambda: factory.user(council=("Dorpsraad Glanerbrug", "chair")),
        "case_officer": lambda: factory.user(roles=("case_officer",), boroughs=("Oost",)),
        "other_case_officer": lambda: factory.user(roles=("case_officer",), boroughs=("Zuid",)),
        "finance": lambda: factory.user(roles=("finance",)),
        "admin": lambda: factory.user(roles=("admin",)),
    }
    actor = actors[actor_kind]()
    application = services.create_draft(applicant, f"wf-{state}-{action}-{actor_kind}")
    db.session.execute(
        Application.__table__.update().where(Application.id == application.id).values(state=state)
    )
    db.session.refresh(application)
    rule = workflow.TRANSITIONS[action]
    should_work = state in rule.sources and actor_kind in WHO[action]
    audit_before = db.session.scalar(select(func.count(AuditRecord.id)))
    if should_work:
        workflow.transition(application, action, actor)
        db.session.refresh(application)
        assert application.state == (rule.target or state)
        assert db.session.scalar(select(func.count(AuditRecord.id))) == audit_before + 1
    else:
        with pytest.raises(workflow.WorkflowError):
            workflow.transition(application, action, actor)
        db.session.refresh(application)
        assert application.state == state
        assert db.session.scalar(select(func.count(AuditRecord.id))) == audit_before
