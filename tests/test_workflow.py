"""The workflow table: every action in every state, by the applicant and by someone else."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.applications import services, workflow
from portal.applications.models import Application, State
from portal.audit.models import AuditRecord
from portal.extensions import db


@pytest.mark.parametrize("action", sorted(workflow.TRANSITIONS))
@pytest.mark.parametrize("state", [s.value for s in State])
@pytest.mark.parametrize("actor_kind", ["applicant", "other_resident", "case_officer"])
def test_every_action_in_every_state(factory, action, state, actor_kind) -> None:
    applicant = factory.user(postcode="7533AB")
    actors = {
        "applicant": applicant,
        "other_resident": factory.user(postcode="7533AB"),
        "case_officer": factory.user(roles=("case_officer",), boroughs=("Oost",)),
    }
    actor = actors[actor_kind]
    application = services.create_draft(applicant, f"wf-{state}-{action}-{actor_kind}")
    db.session.execute(
        Application.__table__.update().where(Application.id == application.id).values(state=state)
    )
    db.session.refresh(application)
    rule = workflow.TRANSITIONS[action]
    should_work = state in rule.sources and actor_kind == "applicant"
    audit_before = db.session.scalar(select(func.count(AuditRecord.id)))
    if should_work:
        workflow.transition(application, action, actor)
        db.session.refresh(application)
        assert application.state == rule.target
        assert db.session.scalar(select(func.count(AuditRecord.id))) == audit_before + 1
        assert action in {"submit", "withdraw"}
    else:
        with pytest.raises(workflow.WorkflowError):
            workflow.transition(application, action, actor)
        db.session.refresh(application)
        assert application.state == state
        assert db.session.scalar(select(func.count(AuditRecord.id))) == audit_before
