"""Advice, refusal intent and view, decision with four eyes, letter, objection: the services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from portal.applications import services, workflow
from portal.applications.models import Application, Decision, State
from portal.districts.models import Council
from portal.extensions import db
from portal.reviews import advice, decisions, objections
from portal.reviews import services as intake
from portal.reviews.services import ReviewRefused
from portal.timeutil import local_today
from tests.test_applications import make_complete_draft


@pytest.fixture
def people(factory) -> dict[str, Any]:
    return {
        "applicant": factory.user(postcode="7533AB", name="Anna Aanvrager"),
        "officer": factory.user(roles=("case_officer",), boroughs=("Oost",), name="Bram"),
        "second": factory.user(roles=("case_officer",), boroughs=("Oost",), name="Cees"),
        "chair": factory.user(postcode="7533AD", council=("Dorpsraad Glanerbrug", "chair")),
        "member": factory.user(postcode="7533AE", council=("Dorpsraad Glanerbrug", "member")),
        "outsider": factory.user(postcode="7545AB", council=("Wijkraad Stadsveld", "chair")),
        "neighbours": [factory.user(postcode="7533AC") for _ in range(5)],
    }


def in_review(people: dict[str, Any], cents: int = 150_000) -> Application:
    """Above the small-grant limit (1,000 euro), so the council's advice is needed."""
    application = make_complete_draft(people["applicant"], people["neighbours"])
    services.set_lines(
        application,
        [
            {
                "description": "Podium",
                "category": "huur_spullen",
                "quantity": 1,
                "unit_price_cents": cents,
            }
        ],
    )
    services.submit(application, people["applicant"])
    intake.accept(application, people["officer"])
    db.session.flush()
    return application


def glanerbrug() -> Council:
    return db.session.scalar(select(Council).where(Council.name == "Dorpsraad Glanerbrug"))


def ask_advice(application: Application, people: dict[str, Any]) -> None:
    advice.request_advice(
        application, people["officer"], glanerbrug(), local_today() + timedelta(21), None
    )
    db.session.flush()


def test_advice_is_needed_before_deciding_when_the_district_has_a_council(people) -> None:
    application = in_review(people)
    assert advice.may_decide(application) == (False, "advice_needed")
    with pytest.raises(ReviewRefused, match="advice_needed"):
        decisions.decide(
            application,
            people["officer"],
            decisions.Proposal(grant=True, amount_cents=application.requested_cents, reasons="Ok"),
        )
    ask_advice(application, people)
    assert application.state == State.AWAITING_ADVICE
    assert advice.may_decide(application) == (False, "advice_pending")
    # Only the chair or secretary gives it; a member, an outsider and the officer cannot.
    for who in ("member", "outsider", "officer", "applicant"):
        with pytest.raises(workflow.NotAllowed):
            advice.give_advice(application, people[who], "positive", "Goed plan", None, None)
    advice.add_comment(application, people["member"], "Ik ken de organisatoren, prima mensen.")
    advice.declare_conflict(application, people["member"], "Mijn zus organiseert het.")
    with pytest.raises(workflow.NotAllowed):
        advice.add_comment(application, people["member"], "Nog iets")
    with pytest.raises(ReviewRefused, match="conditions_required"):
        advice.give_advice(application, people["chair"], "conditional", "Goed plan", "", None)
    advice.give_advice(
        application, people["chair"], "conditional", "Goed plan", "Ruim zelf op.", 30_000
    )
    assert application.state == State.ADVISED
    assert advice.may_decide(application) == (True, None)


def test_late_advice_lets_the_officer_decide_and_the_record_says_so(people) -> None:
    application = in_review(people)
    ask_advice(application, people)
    application.advice_request.due_date = local_today() - timedelta(days=1)
    assert advice.may_decide(application) == (True, "advice_late")
    proposal = decisions.Proposal(
        grant=True, amount_cents=application.requested_cents, reasons="Ok"
    )
    with pytest.raises(ReviewRefused, match="without_advice_reason"):
        decisions.decide(application, people["officer"], proposal)
    proposal.without_advice = "Het wijkorgaan gaf geen advies binnen drie weken."
    decision = decisions.decide(application, people["officer"], proposal)
    assert decision.status == "final" and application.state == State.GRANTED
    assert application.advice_request.passed_over_reason == proposal.without_advice
    assert decision.without_advice == proposal.without_advice


def test_small_grants_skip_the_advice_when_the_ruleset_says_so(people) -> None:
    application = in_review(people, cents=39_000)
    assert advice.may_decide(application) == (True, "small_grant")
    decision = decisions.decide(
        application,
        people["officer"],
        decisions.Proposal(grant=True, amount_cents=39_000, reasons="Ok"),
    )
    assert "Kleine subsidie" in decision.without_advice


def test_without_a_council_the_record_says_so(people, factory) -> None:
    people["applicant"] = factory.user(postcode="7531AB")  # Velve-Lindenhof: no council
    people["neighbours"] = [factory.user(postcode="7531AC") for _ in range(5)]
    application = in_review(people)
    decision = decisions.decide(
        application,
        people["officer"],
        decisions.Proposal(grant=True, amount_cents=application.requested_cents, reasons="Ok"),
    )
    assert "geen wijkorgaan" in decision.without_advice


def test_refusal_needs_an_intent_and_answers_the_view(people) -> None:
    application = in_review(people)
    ask_advice(application, people)
    advice.give_advice(application, people["chair"], "negative", "Te duur", None, None)
    refusal = decisions.Proposal(grant=False, grounds=["rules"], reasons="Te duur.")
    with pytest.raises(ReviewRefused, match="intent_first"):
        decisions.decide(application, people["officer"], refusal)
    intent = decisions.send_intent(
        application,
        people["officer"],
        refuse=True,
        proposed_cents=None,
        grounds=["rules"],
        reasons="De kosten zijn te hoog voor wat het de buurt brengt.",
    )
    assert application.state == State.INTENT_SENT
    with pytest.raises(ReviewRefused, match="view_period_running"):
        decisions.decide(application, people["officer"], refusal)
    decisions.give_view(application, people["applicant"], "Het is wel de moeite waard.")
    assert intent.view_on == local_today()
    with pytest.raises(ReviewRefused, match="view_answer_required"):
        decisions.decide(application, people["officer"], refusal)
    refusal.view_answer = "Wij begrijpen dat, maar de kosten blijven te hoog."
    decision = decisions.decide(application, people["officer"], refusal)
    assert application.state == State.REFUSED and decision.outcome == "refused"
    assert decision.objection_due > local_today() and intent.closed


def test_departing_from_the_advice_must_say_why(people) -> None:
    application = in_review(people)
    ask_advice(application, people)
    advice.give_advice(application, people["chair"], "negative", "Te duur", None, None)
    grant = decisions.Proposal(grant=True, amount_cents=application.requested_cents, reasons="Ok")
    with pytest.raises(ReviewRefused, match="advice_answer_required"):
        decisions.decide(application, people["officer"], grant)
    grant.advice_answer = "De buurt heeft dit hard nodig."
    assert decisions.decide(application, people["officer"], grant).status == "final"


def test_four_eyes_above_the_limit_never_the_same_person(people) -> None:
    application = in_review(people)  # 390 euro: below the limit of 2,500
    lines = [
        {
            "description": "Podium",
            "category": "huur_spullen",
            "quantity": 1,
            "unit_price_cents": 300_000,
        }
    ]
    application = make_complete_draft(people["applicant"], people["neighbours"])
    services.set_lines(application, lines)
    services.submit(application, people["applicant"])
    intake.accept(application, people["officer"])
    ask_advice(application, people)
    advice.give_advice(application, people["chair"], "positive", "Mooi plan", None, None)
    decision = decisions.decide(
        application,
        people["officer"],
        decisions.Proposal(grant=True, amount_cents=300_000, reasons="Voldoet aan de regels."),
    )
    assert decision.status == "awaiting_approval"
    assert application.state == State.AWAITING_APPROVAL
    with pytest.raises(workflow.NotAllowed):
        decisions.approve(application, people["officer"])
    decisions.approve(application, people["second"])
    assert application.state == State.GRANTED and decision.approved_by_id == people["second"].id
    assert application.granted_cents == 300_000


def test_objection_within_the_period_and_a_new_decision(people) -> None:
    application = in_review(people)
    ask_advice(application, people)
    advice.give_advice(application, people["chair"], "positive", "Mooi", None, None)
    decisions.send_intent(
        application,
        people["officer"],
        refuse=True,
        proposed_cents=None,
        grounds=["awb_4_25"],
        reasons="Het budget is op.",
    )
    application.open_intent.view_due = local_today() - timedelta(days=1)
    decisions.decide(
        application,
        people["officer"],
        decisions.Proposal(
            grant=False, grounds=["awb_4_25"], reasons="Budget op.", advice_answer="Budget op."
        ),
    )
    objection = objections.lodge(application, people["applicant"], "Er is nog wel budget.", [])
    with pytest.raises(workflow.InvalidTransition):
        objections.lodge(application, people["applicant"], "Nog een", [])
    objections.record_hearing(application, people["officer"], local_today(), "Gehoord.")
    objections.decide(application, people["officer"], "well_founded", "Er was wel budget.")
    assert objection.outcome == "well_founded" and application.state == State.IN_REVIEW
    decision = decisions.decide(
        application,
        people["officer"],
        decisions.Proposal(
            grant=True,
            amount_cents=application.requested_cents,
            reasons="Na bezwaar toegekend.",
        ),
    )
    old = db.session.scalars(
        select(Decision).where(Decision.application_id == application.id).order_by(Decision.id)
    ).all()
    assert decision.supersedes_id == old[0].id and application.state == State.GRANTED


def test_an_objection_after_the_period_is_refused(people) -> None:
    application = in_review(people)
    ask_advice(application, people)
    advice.give_advice(application, people["chair"], "positive", "Mooi", None, None)
    decision = decisions.decide(
        application,
        people["officer"],
        decisions.Proposal(grant=True, amount_cents=application.requested_cents, reasons="Ok"),
    )
    decision.objection_due = local_today() - timedelta(days=1)
    with pytest.raises(ReviewRefused, match="objection_late"):
        objections.lodge(application, people["applicant"], "Te laat", [])
