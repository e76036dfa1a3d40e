"""The one owner of application state.

Every change of ``Application.state`` goes through ``transition``: it looks up the action in the
table of allowed transitions, checks the actor's permission, changes the state with a
conditional UPDATE (so two requests racing for the same change cannot both win), and writes the
audit record. Nothing else writes the state column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from portal.applications import permissions
from portal.applications.models import Application, State
from portal.audit.services import record
from portal.extensions import db


class WorkflowError(Exception):
    """Base for refusals the views turn into messages."""


class InvalidTransition(WorkflowError):
    """The action is not possible in the application's current state."""


class NotAllowed(WorkflowError):
    """This actor may not take this action on this application."""


@dataclass(frozen=True)
class Transition:
    """``target`` None: a step that keeps the state but must still happen in one of ``sources``
    and be audited (such as extending the decision period)."""

    action: str
    sources: frozenset[str]
    target: str | None
    allowed: Callable[[Any, Application], bool]
    audit_action: str


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition(
            "submit",
            frozenset({State.DRAFT}),
            State.SUBMITTED,
            permissions.is_applicant,
            "application.submitted",
        ),
        Transition(
            "withdraw",
            frozenset(permissions.BEFORE_DECISION),
            State.WITHDRAWN,
            permissions.is_applicant,
            "application.withdrawn",
        ),
        # Intake: complete, or ask for what is missing (the decision clock stops, Awb 4:15).
        Transition(
            "accept",
            frozenset({State.SUBMITTED}),
            State.IN_REVIEW,
            permissions.handles_borough,
            "application.accepted",
        ),
        Transition(
            "request_info",
            frozenset({State.SUBMITTED, State.IN_REVIEW}),
            State.INFO_REQUESTED,
            permissions.handles_borough,
            "application.info_requested",
        ),
        Transition(
            "supply_info",
            frozenset({State.INFO_REQUESTED}),
            State.SUBMITTED,
            permissions.is_applicant,
            "application.info_supplied",
        ),
        Transition(
            "not_considered",
            frozenset({State.INFO_REQUESTED}),
            State.NOT_CONSIDERED,
            permissions.handles_borough,
            "application.not_considered",
        ),
        # Once, before the period ends, with a reason sent to the applicant (Awb 4:14).
        Transition(
            "extend_deadline",
            frozenset(permissions.BEFORE_DECISION - {State.INFO_REQUESTED}),
            None,
            permissions.handles_borough,
            "application.deadline_extended",
        ),
        # Advice of the district's council (not binding).
        Transition(
            "request_advice",
            frozenset({State.IN_REVIEW}),
            State.AWAITING_ADVICE,
            permissions.handles_borough,
            "application.advice_requested",
        ),
        Transition(
            "give_advice",
            frozenset({State.AWAITING_ADVICE}),
            State.ADVISED,
            permissions.gives_advice,
            "application.advised",
        ),
        # Refusing, or granting less than asked: first the intent, and the applicant's view.
        Transition(
            "send_intent",
            frozenset(permissions.DECIDABLE - {State.INTENT_SENT}),
            State.INTENT_SENT,
            permissions.handles_borough,
            "application.intent_sent",
        ),
        Transition(
            "give_view",
            frozenset({State.INTENT_SENT}),
            None,
            permissions.is_applicant,
            "application.view_given",
        ),
        # The decision; a grant above the four-eyes limit waits for a second case officer.
        Transition(
            "grant",
            frozenset(permissions.DECIDABLE),
            State.GRANTED,
            permissions.handles_borough,
            "application.granted",
        ),
        Transition(
            "refuse",
            frozenset(permissions.DECIDABLE),
            State.REFUSED,
            permissions.handles_borough,
            "application.refused",
        ),
        Transition(
            "propose_grant",
            frozenset(permissions.DECIDABLE),
            State.AWAITING_APPROVAL,
            permissions.handles_borough,
            "application.grant_proposed",
        ),
        Transition(
            "approve_grant",
            frozenset({State.AWAITING_APPROVAL}),
            State.GRANTED,
            permissions.approves_grant,
            "application.granted",
        ),
        Transition(
            "return_grant",
            frozenset({State.AWAITING_APPROVAL}),
            State.IN_REVIEW,
            permissions.approves_grant,
            "application.grant_returned",
        ),
        # After the activity: the accounting, the settlement (lower only after a view), closing.
        Transition(
            "submit_report",
            frozenset({State.GRANTED}),
            State.ACCOUNTED,
            permissions.is_applicant,
            "application.accounted",
        ),
        Transition(
            "intend_settlement",
            frozenset({State.ACCOUNTED, State.GRANTED}),
            None,
            permissions.handles_borough,
            "application.settlement_intended",
        ),
        Transition(
            "give_settlement_view",
            frozenset({State.ACCOUNTED, State.GRANTED}),
            None,
            permissions.is_applicant,
            "application.settlement_view_given",
        ),
        Transition(
            "settle",
            frozenset({State.ACCOUNTED, State.GRANTED}),
            State.SETTLED,
            permissions.handles_borough,
            "application.settled",
        ),
        Transition(
            "close",
            frozenset({State.SETTLED}),
            State.CLOSED,
            permissions.handles_money,
            "application.closed",
        ),
        # Objection (bezwaar): a track of its own beside the decision.
        Transition(
            "lodge_objection",
            frozenset(permissions.DECIDED),
            None,
            permissions.is_applicant,
            "application.objection_lodged",
        ),
        Transition(
            "record_hearing",
            frozenset(permissions.DECIDED),
            None,
            permissions.handles_borough,
            "application.objection_heard",
        ),
        Transition(
            "reject_objection",
            frozenset(permissions.DECIDED),
            None,
            permissions.handles_borough,
            "application.objection_rejected",
        ),
        Transition(
            "uphold_objection",
            frozenset(permissions.DECIDED),
            State.IN_REVIEW,
            permissions.handles_borough,
            "application.objection_upheld",
        ),
    )
}


def allowed_actions(actor: Any, application: Application) -> list[str]:
    return [
        t.action
        for t in TRANSITIONS.values()
        if application.state in t.sources and t.allowed(actor, application)
    ]


def transition(
    application: Application,
    action: str,
    actor: Any,
    *,
    reason: str | None = None,
    **values: Any,
) -> None:
    """Move ``application`` along ``action``; raises NotAllowed or InvalidTransition."""
    _apply(TRANSITIONS, application, "application", action, actor, reason, values)


def _apply(
    table: dict[str, Transition],
    obj: Any,
    object_type: str,
    action: str,
    actor: Any,
    reason: str | None,
    values: dict[str, Any],
) -> str:
    """Look up ``action`` in ``table``, check the actor, change the state with a conditional
    UPDATE (two racing requests cannot both win), keep the loaded object in step and write the
    audit record. Returns the state it came from."""
    rule = table.get(action)
    if rule is None:
        raise InvalidTransition(action)
    if not rule.allowed(actor, obj):
        raise NotAllowed(action)
    previous = obj.state
    target = rule.target or previous
    model = type(obj)
    changed = db.session.execute(
        update(model)
        .where(model.id == obj.id, model.state.in_(rule.sources))
        .values(state=target, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise InvalidTransition(action)
    set_committed_value(obj, "state", target)
    for name, value in values.items():
        set_committed_value(obj, name, value)
    record(
        actor_id=getattr(actor, "id", None),
        action=rule.audit_action,
        object_type=object_type,
        object_id=obj.id,
        from_state=previous,
        to_state=target,
        reason=reason,
    )
    return previous


# --- initiatives (Kracht van de stad) -------------------------------------------------------------
# The same rules for the other thing that has a state: one table, checked permission, conditional
# UPDATE, audit record. ``initiatives.services`` adds the public timeline and the messages.

from portal.initiatives import permissions as initiative_permissions  # noqa: E402
from portal.initiatives.models import Initiative, InitiativeState  # noqa: E402

AFTER_PUBLICATION = frozenset(
    {InitiativeState.PUBLISHED, InitiativeState.IN_CONVERSATION, InitiativeState.RUNNING}
)

INITIATIVE_TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition(
            "submit",
            frozenset({InitiativeState.DRAFT, InitiativeState.CHANGES_REQUESTED}),
            InitiativeState.SUBMITTED,
            initiative_permissions.is_initiator,
            "initiative.submitted",
        ),
        Transition(
            "publish",
            frozenset({InitiativeState.SUBMITTED}),
            InitiativeState.PUBLISHED,
            initiative_permissions.handles,
            "initiative.published",
        ),
        Transition(
            "request_changes",
            frozenset({InitiativeState.SUBMITTED}),
            InitiativeState.CHANGES_REQUESTED,
            initiative_permissions.handles,
            "initiative.changes_requested",
        ),
        Transition(
            "assign_guide",
            frozenset({InitiativeState.SUBMITTED, *AFTER_PUBLICATION}),
            None,
            initiative_permissions.handles,
            "initiative.guide_assigned",
        ),
        Transition(
            "start_conversation",
            frozenset({InitiativeState.PUBLISHED}),
            InitiativeState.IN_CONVERSATION,
            initiative_permissions.can_change_status,
            "initiative.in_conversation",
        ),
        Transition(
            "start_running",
            frozenset({InitiativeState.PUBLISHED, InitiativeState.IN_CONVERSATION}),
            InitiativeState.RUNNING,
            initiative_permissions.can_change_status,
            "initiative.running",
        ),
        Transition(
            "realise",
            frozenset({InitiativeState.RUNNING}),
            InitiativeState.REALISED,
            initiative_permissions.can_change_status,
            "initiative.realised",
        ),
        Transition(
            "stop",
            AFTER_PUBLICATION,
            InitiativeState.STOPPED,
            initiative_permissions.can_change_status,
            "initiative.stopped",
        ),
    )
}


def allowed_initiative_actions(actor: Any, initiative: Initiative) -> list[str]:
    return [
        t.action
        for t in INITIATIVE_TRANSITIONS.values()
        if initiative.state in t.sources and t.allowed(actor, initiative)
    ]


def transition_initiative(
    initiative: Initiative,
    action: str,
    actor: Any,
    *,
    reason: str | None = None,
    **values: Any,
) -> str:
    """Move ``initiative`` along ``action``; returns the state it came from. Raises NotAllowed
    or InvalidTransition."""
    return _apply(INITIATIVE_TRANSITIONS, initiative, "initiative", action, actor, reason, values)
