"""Taking part in someone else's initiative: support it (once), offer help, comment, report a
comment, send the initiator a message through the portal. Who may do what is decided by the
``can_*`` functions here (pure, used by views and templates alike); the verbs flush and record
notifications, they never commit."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.routing import BuildError

from portal.accounts.models import User
from portal.extensions import db
from portal.initiatives.labels import HELP_LABELS
from portal.initiatives.models import (
    HELP_KINDS,
    Comment,
    CommentBlock,
    CommentReport,
    HelpOffer,
    Initiative,
    InitiativeMessage,
    InitiativeState,
    Support,
)
from portal.initiatives.permissions import is_initiator, signed_in
from portal.initiatives.services import InitiativeRefused, case_officers_for, public_url
from portal.notifications.services import absolute_url, notify, notify_once
from portal.timeutil import utcnow

# While an initiative is under way people can support it and offer help; once it is realised
# or stopped it stays in the showcase, and people can still comment and write to the initiator.
ACTIVE_STATES = frozenset(
    {InitiativeState.PUBLISHED, InitiativeState.IN_CONVERSATION, InitiativeState.RUNNING}
)
# The staff's moderation page (initiatives' comments with open reports).
MODERATION_PATH = "/behandeling/initiatieven/reacties"


# --- who may ------------------------------------------------------------------------------------


def can_support(user: Any, initiative: Initiative) -> bool:
    """Someone signed in, not the initiator, while the initiative is under way."""
    return (
        signed_in(user) and initiative.state in ACTIVE_STATES and not is_initiator(user, initiative)
    )


def can_offer_help(user: Any, initiative: Initiative) -> bool:
    return can_support(user, initiative)


def can_comment(user: Any, initiative: Initiative) -> bool:
    return signed_in(user) and initiative.is_public


def can_contact(user: Any, initiative: Initiative) -> bool:
    return signed_in(user) and initiative.is_public and not is_initiator(user, initiative)


def can_report(user: Any, initiative: Initiative, comment: Comment) -> bool:
    """A visible comment of someone else."""
    return (
        signed_in(user)
        and initiative.is_public
        and comment.initiative_id == initiative.id
        and not comment.hidden
        and comment.author_id != user.id
    )


def help_kinds_for(initiative: Initiative) -> list[str]:
    """The kinds of help one can offer: those the initiator asked for, or any (in the order of
    ``HELP_KINDS``)."""
    wanted = set(initiative.help_wanted)
    return [kind for kind in HELP_KINDS if not wanted or kind in wanted]


def is_blocked(user: Any) -> bool:
    return signed_in(user) and db.session.get(CommentBlock, user.id) is not None


def supports(user: Any, initiative: Initiative) -> bool:
    if not signed_in(user):
        return False
    return bool(
        db.session.scalar(
            select(
                exists().where(Support.initiative_id == initiative.id, Support.user_id == user.id)
            )
        )
    )


# --- helpers ----------------------------------------------------------------------------------


def _insert_unless_present(model: type[Any], **values: Any) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on the primary key (PostgreSQL and SQLite both have it):
    True when this statement added the row. Two requests racing for the same key never both
    add it; on PostgreSQL the second waits for the first to commit, then adds nothing."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = (
        insert(model)
        .values(**values)
        .on_conflict_do_nothing()
        # SQLAlchemy only promises a rowcount for UPDATE and DELETE unless asked.
        .execution_options(preserve_rowcount=True)
    )
    return bool(db.session.execute(statement).rowcount == 1)


def _add_to_count(model: type[Any], row: Any, column: str, delta: int) -> None:
    """``column = column + delta`` in one statement (never read-modify-write), and the object
    in the session told the new value. The row's ``updated_at`` is left as it was: a count
    is not a change of the initiative's content (the Atom feed's "updated")."""
    table_column = getattr(model, column)
    values: dict[str, Any] = {column: table_column + delta}
    if hasattr(model, "updated_at"):
        values["updated_at"] = model.updated_at
    new_value = db.session.execute(
        update(model)
        .where(model.id == row.id)
        .values(**values)
        .returning(table_column)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    set_committed_value(row, column, new_value)


def initiator_link(initiative: Initiative) -> str:
    """Where the initiator reads offers and messages: their own page of the initiative."""
    if "initiatives.manage" in current_app.view_functions:
        try:
            return absolute_url("initiatives.manage", initiative_id=initiative.id)
        except BuildError:
            pass
    return f"{current_app.config['PORTAL_BASE_URL']}/mijn-initiatieven/{initiative.id}"


def moderation_link() -> str:
    return current_app.config["PORTAL_BASE_URL"] + MODERATION_PATH


# --- the verbs ----------------------------------------------------------------------------------


def support(initiative: Initiative, user: User) -> bool:
    """Support the initiative; True when this added the support (False: it was already
    there). The initiator is told once per supporter, however often they toggle."""
    if not can_support(user, initiative):
        raise InitiativeRefused("cannot_support")
    added = _insert_unless_present(
        Support, initiative_id=initiative.id, user_id=user.id, created_at=utcnow()
    )
    if not added:
        return False
    _add_to_count(Initiative, initiative, "support_count", +1)
    if not initiative.initiator.active:
        return True
    notify_once(
        initiative.initiator,
        "initiative_supported",
        f"initiative_supported:{initiative.id}:{user.id}",
        link=public_url(initiative),
        object_type="initiative",
        object_id=initiative.id,
        initiative=initiative,
        supporter=user,
    )
    return True


def unsupport(initiative: Initiative, user: User) -> bool:
    """Withdraw one's support; True when a support was removed. Allowed in any state (someone
    may change their mind after the initiative stopped too)."""
    if not signed_in(user):
        raise InitiativeRefused("cannot_support")
    removed = db.session.execute(
        delete(Support)
        .where(Support.initiative_id == initiative.id, Support.user_id == user.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if removed != 1:
        return False
    _add_to_count(Initiative, initiative, "support_count", -1)
    return True


def offer_help(
    initiative: Initiative, user: User, kind: str, what: str, time_available: str = ""
) -> HelpOffer:
    """An offer of help; the initiator is told and answers through the portal."""
    if not can_offer_help(user, initiative):
        raise InitiativeRefused("cannot_offer_help")
    if kind not in help_kinds_for(initiative):
        raise InitiativeRefused("help_kind")
    offer = HelpOffer(
        initiative_id=initiative.id,
        user_id=user.id,
        kind=kind,
        what=what,
        time_available=time_available,
    )
    db.session.add(offer)
    db.session.flush()
    if not initiative.initiator.active:
        return offer
    notify(
        initiative.initiator,
        "initiative_help_offered",
        link=initiator_link(initiative),
        object_type="initiative",
        object_id=initiative.id,
        initiative=initiative,
        offer=offer,
        helper=user,
        help_labels=HELP_LABELS,
    )
    return offer


def add_comment(initiative: Initiative, user: User, body: str) -> Comment:
    """A public comment; the initiator is told (not of their own)."""
    if not can_comment(user, initiative):
        raise InitiativeRefused("cannot_comment")
    if is_blocked(user):
        raise InitiativeRefused("blocked")
    comment = Comment(initiative_id=initiative.id, author_id=user.id, body=body)
    db.session.add(comment)
    db.session.flush()
    if not is_initiator(user, initiative) and initiative.initiator.active:
        notify(
            initiative.initiator,
            "initiative_commented",
            link=f"{public_url(initiative)}#reactie-{comment.id}",
            object_type="initiative",
            object_id=initiative.id,
            initiative=initiative,
            comment=comment,
            commenter=user,
        )
    return comment


def report_comment(initiative: Initiative, comment: Comment, user: User, reason: str = "") -> bool:
    """Report a comment to the staff; True when this is the person's first report of it. The
    case officers who handle the initiative are told when the comment had no open report yet
    (more reports of the same comment do not send more messages)."""
    if not can_report(user, initiative, comment):
        raise InitiativeRefused("cannot_report")
    open_before = db.session.scalar(
        select(func.count())
        .select_from(CommentReport)
        .where(CommentReport.comment_id == comment.id, CommentReport.handled_at.is_(None))
    )
    added = _insert_unless_present(
        CommentReport, comment_id=comment.id, user_id=user.id, reason=reason, created_at=utcnow()
    )
    if not added:
        return False
    _add_to_count(Comment, comment, "report_count", +1)
    if not open_before:
        for officer in case_officers_for(initiative):
            notify(
                officer,
                "initiative_comment_reported",
                link=moderation_link(),
                object_type="initiative_comment",
                object_id=comment.id,
                initiative=initiative,
                comment=comment,
                reason=reason,
            )
    return True


def send_message(initiative: Initiative, sender: User, body: str) -> InitiativeMessage:
    """A message to the initiator, relayed by the portal: neither sees the other's address."""
    if not can_contact(sender, initiative):
        raise InitiativeRefused("cannot_contact")
    message = InitiativeMessage(
        initiative_id=initiative.id,
        sender_id=sender.id,
        recipient_id=initiative.initiator_id,
        body=body,
    )
    db.session.add(message)
    db.session.flush()
    if not initiative.initiator.active:
        return message
    notify(
        initiative.initiator,
        "initiative_message",
        link=initiator_link(initiative),
        object_type="initiative",
        object_id=initiative.id,
        initiative=initiative,
        sender=sender,
        body=body,
    )
    return message
