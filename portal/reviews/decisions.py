"""The decision (beschikking): refusal intent and the applicant's view first when refusing or
granting less (Awb 4:8), reasons that answer the view and any departure from the advice, a
second case officer above the four-eyes limit, and the letter made by the worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portal.accounts.models import User
from portal.applications import workflow
from portal.applications.labels import REFUSAL_GROUND_LABELS
from portal.applications.models import Application, Decision, RefusalIntent
from portal.applications.services import district_remaining_cents
from portal.deadlines import add_period
from portal.extensions import db
from portal.money import ledger, payments
from portal.notifications.services import absolute_url, notify, run_after_commit
from portal.reviews import advice
from portal.reviews.services import ReviewRefused, officers_to_tell, ruleset_of
from portal.timeutil import local_today, utcnow


def applicant_link(application: Application) -> str:
    return absolute_url("applications.detail", application_id=application.id)


def check_grounds(grounds: list[str]) -> None:
    if not grounds:
        raise ReviewRefused("grounds_required")
    if any(g not in REFUSAL_GROUND_LABELS for g in grounds):
        raise ReviewRefused("unknown_ground")


def send_intent(
    application: Application,
    actor: User,
    *,
    refuse: bool,
    proposed_cents: int | None,
    grounds: list[str],
    reasons: str,
) -> RefusalIntent:
    """Tell the applicant what the municipality intends, and invite their view."""
    allowed, code = advice.may_decide(application)
    if not allowed:
        raise ReviewRefused(code or "advice_pending")
    check_grounds(grounds)
    if not reasons.strip():
        raise ReviewRefused("reasons_required")
    if not refuse and not (proposed_cents and 0 < proposed_cents < application.requested_cents):
        raise ReviewRefused("lower_amount")
    today = local_today()
    workflow.transition(application, "send_intent", actor, reason=reasons)
    intent = RefusalIntent(
        application_id=application.id,
        created_by_id=actor.id,
        kind="refuse" if refuse else "lower",
        proposed_cents=None if refuse else proposed_cents,
        grounds=grounds,
        reasons=reasons,
        sent_on=today,
        view_due=add_period(today, days=ruleset_of(application).view_period_days),
    )
    application.intents.append(intent)
    db.session.flush()
    notify(
        application.applicant,
        "intent_sent",
        link=absolute_url("applications.give_view", application_id=application.id),
        object_type="application",
        object_id=application.id,
        mandatory=True,
        application=application,
        intent=intent,
        grounds=[REFUSAL_GROUND_LABELS[g] for g in grounds],
    )
    return intent


def give_view(application: Application, actor: User, view: str) -> None:
    intent = application.open_intent
    if intent is None or intent.view is not None:
        raise workflow.InvalidTransition("give_view")
    if local_today() > intent.view_due:
        raise ReviewRefused("view_late")
    workflow.transition(application, "give_view", actor)
    intent.view = view
    intent.view_on = local_today()
    db.session.flush()
    for officer in officers_to_tell(application, intent.created_by):
        notify(
            officer,
            "view_given",
            link=absolute_url("reviews.case", application_id=application.id),
            object_type="application",
            object_id=application.id,
            application=application,
            intent=intent,
        )


@dataclass
class Proposal:
    """What the case officer decides; checked by :func:`decide`."""

    grant: bool
    amount_cents: int = 0
    conditions: str | None = None
    grounds: list[str] | None = None
    reasons: str = ""
    view_answer: str | None = None
    advice_answer: str | None = None
    without_advice: str | None = None


WITHOUT_ADVICE_RECORD = {
    "no_council": "Er is geen wijkorgaan in deze wijk; besloten zonder advies.",
    "small_grant": "Kleine subsidie: volgens de regeling zonder advies van het wijkorgaan.",
}


def departs_from_advice(application: Application, proposal: Proposal) -> bool:
    request = application.advice_request
    if request is None or not request.given:
        return False
    if request.outcome == "negative":
        return proposal.grant
    if not proposal.grant:
        return True
    return request.proposed_cents is not None and request.proposed_cents != proposal.amount_cents


def decide(application: Application, actor: User, proposal: Proposal) -> Decision:
    """Grant or refuse, after every check the law asks for. Above the four-eyes limit a grant
    waits for a second case officer."""
    ruleset = ruleset_of(application)
    allowed, code = advice.may_decide(application)
    if not allowed:
        raise ReviewRefused(code or "advice_pending")
    without_advice = None
    if code == "advice_late":
        if not (proposal.without_advice or "").strip():
            raise ReviewRefused("without_advice_reason")
        without_advice = proposal.without_advice
        application.advice_request.passed_over_reason = without_advice  # type: ignore[union-attr]
    elif code in WITHOUT_ADVICE_RECORD:
        without_advice = WITHOUT_ADVICE_RECORD[code]
    if not proposal.reasons.strip():
        raise ReviewRefused("reasons_required")
    if proposal.grant:
        if not 0 < proposal.amount_cents <= application.requested_cents:
            raise ReviewRefused("amount_out_of_range")
        remaining = district_remaining_cents(application, local_today().year)
        if remaining is None or proposal.amount_cents > remaining:
            raise ReviewRefused("budget_exhausted")
    else:
        check_grounds(proposal.grounds or [])
    adverse = not proposal.grant or proposal.amount_cents < application.requested_cents
    intent = application.open_intent
    if adverse:
        if intent is None:
            raise ReviewRefused("intent_first")
        if intent.view is None and local_today() <= intent.view_due:
            raise ReviewRefused("view_period_running")
        if intent.view is not None and not (proposal.view_answer or "").strip():
            raise ReviewRefused("view_answer_required")
    if departs_from_advice(application, proposal) and not (proposal.advice_answer or "").strip():
        raise ReviewRefused("advice_answer_required")
    four_eyes = proposal.grant and proposal.amount_cents > ruleset.four_eyes_limit_cents
    decision = Decision(
        application_id=application.id,
        outcome="granted" if proposal.grant else "refused",
        status="awaiting_approval" if four_eyes else "final",
        amount_cents=proposal.amount_cents if proposal.grant else 0,
        conditions=proposal.conditions if proposal.grant else None,
        grounds=[] if proposal.grant else list(proposal.grounds or []),
        reasons=proposal.reasons,
        view_answer=proposal.view_answer,
        advice_answer=proposal.advice_answer,
        without_advice=without_advice,
        decided_by_id=actor.id,
        supersedes_id=application.decision.id if application.decision else None,
    )
    if four_eyes:
        workflow.transition(application, "propose_grant", actor, reason=proposal.reasons)
        application.decisions.append(decision)
        db.session.flush()
        return decision
    if proposal.grant:
        commit(application, decision.amount_cents, actor)
    action = "grant" if proposal.grant else "refuse"
    workflow.transition(
        application,
        action,
        actor,
        reason=proposal.reasons,
        granted_cents=decision.amount_cents if proposal.grant else None,
        closed_at=None if proposal.grant else utcnow(),
    )
    application.decisions.append(decision)
    db.session.flush()
    send(application, decision)
    return decision


def approve(application: Application, actor: User) -> Decision:
    decision = application.pending_decision
    if decision is None:
        raise workflow.InvalidTransition("approve_grant")
    commit(application, decision.amount_cents, actor)
    workflow.transition(
        application,
        "approve_grant",
        actor,
        reason=decision.reasons,
        granted_cents=decision.amount_cents,
    )
    decision.status = "final"
    decision.approved_by_id = actor.id
    decision.approved_at = utcnow()
    db.session.flush()
    send(application, decision)
    return decision


def commit(application: Application, amount_cents: int, actor: User) -> None:
    """The grant's money, from the district's budget of this year: refused by the database when
    it no longer fits (Awb 4:25), before anything else changes."""
    try:
        ledger.commit_grant(application, amount_cents, local_today().year, actor)
    except ledger.BudgetExceeded as error:
        raise ReviewRefused("budget_exhausted") from error


def return_grant(application: Application, actor: User, reason: str) -> None:
    decision = application.pending_decision
    if decision is None:
        raise workflow.InvalidTransition("return_grant")
    if not reason.strip():
        raise ReviewRefused("reasons_required")
    workflow.transition(application, "return_grant", actor, reason=reason)
    decision.status = "returned"
    decision.returned_reason = reason
    db.session.flush()
    for officer in officers_to_tell(application, decision.decided_by):
        notify(
            officer,
            "grant_returned",
            link=absolute_url("reviews.case", application_id=application.id),
            object_type="application",
            object_id=application.id,
            application=application,
            reason=reason,
        )


def objection_due(sent_on: date, application: Application) -> date:
    return add_period(sent_on, weeks=ruleset_of(application).objection_period_weeks)


def send(application: Application, decision: Decision) -> None:
    """The decision is final: date it, close the intent, have the letter made, tell the
    applicant."""
    today = local_today()
    decision.sent_on = today
    decision.objection_due = objection_due(today, application)
    if application.open_intent is not None:
        application.open_intent.closed = True
    if decision.outcome == "granted":
        payments.create_for_grant(application, decision, ruleset_of(application))
        # Made from an initiative: a public milestone on its timeline (nothing private).
        from portal.initiatives.services import record_milestone

        record_milestone(application.initiative_id, "granted")
    db.session.flush()
    from portal.reviews import jobs

    run_after_commit(jobs.make_decision_letter, decision.id)
    notify(
        application.applicant,
        "decision_sent",
        link=absolute_url("applications.decision_letter", application_id=application.id),
        object_type="application",
        object_id=application.id,
        mandatory=True,
        application=application,
        decision=decision,
    )
