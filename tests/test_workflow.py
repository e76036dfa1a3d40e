"""The workflow table: every action in every state, by every kind of actor. Allowed ones change
the state and leave one audit record; all others are refused and change nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.applications import services, workflow
from portal.applications.models import AdviceRequest, Application, Decision, State
from portal.audit.models import AuditRecord
from portal.districts.models import Council
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
    "request_advice": {"case_officer"},
    "give_advice": {"council_member"},
    "send_intent": {"case_officer"},
    "give_view": {"applicant"},
    "grant": {"case_officer"},
    "refuse": {"case_officer"},
    "propose_grant": {"case_officer"},
    # The second case officer: never the one who proposed (``proposer`` below).
    "approve_grant": {"case_officer"},
    "return_grant": {"case_officer"},
    "lodge_objection": {"applicant"},
    "record_hearing": {"case_officer"},
    "reject_objection": {"case_officer"},
    "uphold_objection": {"case_officer"},
    "submit_report": {"applicant"},
    "intend_settlement": {"case_officer"},
    "give_settlement_view": {"applicant"},
    "settle": {"case_officer"},
    # Closing follows the money: a case officer of the borough, or finance.
    "close": {"case_officer", "finance"},
}
ACTORS = [
    "applicant",
    "proposer",
    "other_resident",
    "council_member",
    "case_officer",
    "other_case_officer",
    "finance",
    "admin",
]


# The proposer is a case officer of the borough too: everything a case officer may, except
# approving or returning their own proposal.
for _action, _who in WHO.items():
    if "case_officer" in _who and _action not in ("approve_grant", "return_grant"):
        _who.add("proposer")


def test_the_table_names_who_may_do_every_action() -> None:
    assert set(WHO) == set(workflow.TRANSITIONS)


@pytest.mark.parametrize("action", sorted(workflow.TRANSITIONS))
@pytest.mark.parametrize("state", [s.value for s in State])
@pytest.mark.parametrize("actor_kind", ACTORS)
def test_every_action_in_every_state(factory, action, state, actor_kind) -> None:
    applicant = factory.user(postcode="7533AB")
    proposer = factory.user(roles=("case_officer",), boroughs=("Oost",))
    actors = {
        "applicant": lambda: applicant,
        "other_resident": lambda: factory.user(postcode="7533AB"),
        "council_member": lambda: factory.user(council=("Dorpsraad Glanerbrug", "chair")),
        "case_officer": lambda: factory.user(roles=("case_officer",), boroughs=("Oost",)),
        "proposer": lambda: proposer,
        "other_case_officer": lambda: factory.user(roles=("case_officer",), boroughs=("Zuid",)),
        "finance": lambda: factory.user(roles=("finance",)),
        "admin": lambda: factory.user(roles=("admin",)),
    }
    actor = actors[actor_kind]()
    application = services.create_draft(applicant, f"wf-{state}-{action}-{actor_kind}")
    db.session.execute(
        Application.__table__.update().where(Application.id == application.id).values(state=state)
    )
    # The context some permissions look at: the council asked for advice (Dorpsraad
    # Glanerbrug, whose chair is ``council_member``) and a grant proposed by ``proposer``.
    council = db.session.scalar(select(Council).where(Council.name == "Dorpsraad Glanerbrug"))
    db.session.add_all(
        [
            AdviceRequest(
                application_id=application.id,
                council_id=council.id,
                requested_by_id=proposer.id,
                requested_on=date(2026, 1, 5),
                due_date=date(2026, 1, 26),
            ),
            Decision(
                application_id=application.id,
                outcome="granted",
                status="awaiting_approval",
                amount_cents=300_000,
                reasons="Voorstel",
                decided_by_id=proposer.id,
            ),
        ]
    )
    db.session.flush()
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
