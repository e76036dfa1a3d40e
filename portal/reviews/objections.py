"""Objection (bezwaar) against a decision: lodged online within the period (Awb 6:7), heard,
and decided; well-founded leads to a new decision through the same path."""

from __future__ import annotations

from datetime import date

from portal.accounts.models import User
from portal.applications import workflow
from portal.applications.models import Application, Objection, State
from portal.deadlines import add_period
from portal.extensions import db
from portal.money import ledger
from portal.notifications.services import absolute_url, notify
from portal.reviews.services import AnswerFile, ReviewRefused, attach, ruleset_of
from portal.timeutil import local_today, to_local


def objection_deadline(application: Application) -> date | None:
    """The last day to object to the decision in force (or to being put aside)."""
    if application.state in (State.GRANTED, State.REFUSED) and application.decision:
        return application.decision.objection_due
    if application.state == State.NOT_CONSIDERED and application.closed_at:
        return add_period(
            to_local(application.closed_at).date(),
            weeks=ruleset_of(application).objection_period_weeks,
        )
    return None


def lodge(
    application: Application, actor: User, reasons: str, files: list[AnswerFile]
) -> Objection:
    deadline = objection_deadline(application)
    if deadline is None or application.open_objection is not None:
        raise workflow.InvalidTransition("lodge_objection")
    if local_today() > deadline:
        raise ReviewRefused("objection_late")
    if not reasons.strip():
        raise ReviewRefused("reasons_required")
    workflow.transition(application, "lodge_objection", actor, reason=reasons)
    objection = Objection(
        application_id=application.id,
        decision_id=application.decision.id if application.decision else None,
        lodged_by_id=actor.id,
        reasons=reasons,
        lodged_on=local_today(),
    )
    application.objections.append(objection)
    db.session.flush()
    attach(application, actor, files, objection_id=objection.id)
    db.session.flush()
    notify(
        application.applicant,
        "objection_received",
        link=absolute_url("applications.detail", application_id=application.id),
        object_type="application",
        object_id=application.id,
        mandatory=True,
        application=application,
        objection=objection,
    )
    return objection


def record_hearing(application: Application, actor: User, held_on: date, notes: str) -> None:
    objection = application.open_objection
    if objection is None:
        raise workflow.InvalidTransition("record_hearing")
    if held_on > local_today():
        raise ReviewRefused("hearing_in_future")
    workflow.transition(application, "record_hearing", actor, reason=notes)
    objection.hearing_on = held_on
    objection.hearing_notes = notes
    db.session.flush()


def decide(application: Application, actor: User, outcome: str, reasons: str) -> Objection:
    objection = application.open_objection
    if objection is None:
        raise workflow.InvalidTransition("decide_objection")
    if outcome not in ("well_founded", "unfounded", "inadmissible"):
        raise ReviewRefused("unknown_outcome")
    if not reasons.strip():
        raise ReviewRefused("reasons_required")
    if outcome == "well_founded":
        ruleset = ruleset_of(application)
        decision = application.decision
        if decision is not None and decision.outcome == "granted" and decision.sent_on:
            # The grant is taken back for the new decision: its money returns to the budget.
            ledger.release(
                application,
                decision.amount_cents,
                decision.sent_on.year,
                actor,
                f"Bezwaar gegrond: nieuw besluit over {application.reference}",
            )
        workflow.transition(
            application,
            "uphold_objection",
            actor,
            reason=reasons,
            closed_at=None,
            decision_deadline=add_period(local_today(), weeks=ruleset.decision_period_weeks),
            granted_cents=None,
        )
    else:
        workflow.transition(application, "reject_objection", actor, reason=reasons)
    objection.outcome = outcome
    objection.outcome_reasons = reasons
    objection.decided_by_id = actor.id
    objection.decided_on = local_today()
    db.session.flush()
    notify(
        application.applicant,
        "objection_decided",
        link=absolute_url("applications.detail", application_id=application.id),
        object_type="application",
        object_id=application.id,
        mandatory=True,
        application=application,
        objection=objection,
    )
    return objection
