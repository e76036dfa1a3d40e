"""The staff side of initiatives: which ones a case officer sees, the check before publication
(publish, ask for changes, assign a guide), status changes after publication, and moderation of
comments (hide, restore, dismiss reports, block from commenting). Services flush, audit and record
notifications; they never commit."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Select, exists, false, func, or_, select, update
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from portal.accounts.models import CaseOfficerBorough, Role, User, UserRole
from portal.applications import workflow
from portal.audit.services import record
from portal.deadlines import add_working_days
from portal.districts.models import District
from portal.extensions import db
from portal.initiatives import services
from portal.initiatives.models import (
    Comment,
    CommentBlock,
    CommentReport,
    Initiative,
    InitiativeDistrict,
    InitiativeState,
)
from portal.notifications.services import absolute_url, notify
from portal.timeutil import to_local, utcnow

# The check before publication takes at most this many working days.
REVIEW_WORKING_DAYS = 2
# Status changes after publication, by the initiator or the staff.
STATUS_ACTIONS = ("start_conversation", "start_running", "realise", "stop")

ReviewRefused = services.InitiativeRefused


def review_due_for(submitted_at: datetime) -> date:
    """The day the check must be done: 2 working days after the (local) day of submission."""
    return add_working_days(to_local(submitted_at).date(), REVIEW_WORKING_DAYS)


# --- who sees what ----------------------------------------------------------------------------


def handled_by(user: Any) -> ColumnElement[bool]:
    """The SQL twin of ``permissions.handles``: initiatives in a borough the case officer
    handles, city-wide ones, ones without districts, and those they guide."""
    if not user.has_role(Role.CASE_OFFICER):
        return false()
    own_districts = (
        select(District.id)
        .join(CaseOfficerBorough, CaseOfficerBorough.borough_id == District.borough_id)
        .where(CaseOfficerBorough.user_id == user.id)
    )
    linked = InitiativeDistrict.initiative_id == Initiative.id
    return or_(
        Initiative.citywide.is_(True),
        ~exists().where(linked),
        exists().where(linked, InitiativeDistrict.district_id.in_(own_districts)),
        Initiative.guide_id == user.id,
    )


def visible_to_staff(user: Any) -> Select[Any]:
    """Every initiative past the draft that this staff member may read: all of them for an
    admin, those they handle for a case officer."""
    query = select(Initiative).where(Initiative.state != InitiativeState.DRAFT.value)
    if user.has_role(Role.ADMIN):
        return query
    return query.where(handled_by(user))


def queue_query(user: Any, search: str = "") -> Select[Any]:
    """The staff member's initiatives, searched by title or initiator's name, with what the
    queue shows loaded in a constant number of queries."""
    query = visible_to_staff(user).options(
        joinedload(Initiative.initiator),
        selectinload(Initiative.district_links).joinedload(InitiativeDistrict.district),
    )
    if search:
        pattern = f"%{search.replace('%', '').replace('_', '')}%"
        query = query.where(
            or_(
                Initiative.title.ilike(pattern),
                Initiative.initiator_id.in_(select(User.id).where(User.name.ilike(pattern))),
            )
        )
    return query


def queue_order(state: str) -> tuple[Any, ...]:
    """Waiting for the check (or for the initiator): oldest first. Otherwise: latest change."""
    if state in (InitiativeState.SUBMITTED, InitiativeState.CHANGES_REQUESTED):
        return (Initiative.submitted_at.asc().nulls_last(), Initiative.id)
    return (Initiative.updated_at.desc(), Initiative.id.desc())


def guide_candidates() -> list[User]:
    """Active users with the case officer role, by name."""
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.CASE_OFFICER, User.active.is_(True))
            .order_by(User.name, User.id)
        )
    )


def staff_link(endpoint: str, fallback: str, **values: Any) -> str:
    """A full link to ``endpoint``; to ``fallback`` (a path) while that page is not there."""
    if endpoint in current_app.view_functions:
        return absolute_url(endpoint, **values)
    return current_app.config["PORTAL_BASE_URL"] + fallback


def initiative_link(initiative: Initiative) -> str:
    return staff_link(
        "initiatives.detail", f"/initiatieven/{initiative.path_key}", key=initiative.path_key
    )


# --- the check before publication -------------------------------------------------------------


def publish(initiative: Initiative, officer: User) -> None:
    """Public from now on, on the timeline; the initiator is told."""
    services.change_status(initiative, "publish", officer, published_at=utcnow())


def request_changes(initiative: Initiative, officer: User, message: str) -> None:
    """Back to the initiator with what to change; they are told, with a link to edit it."""
    services.change_status(
        initiative, "request_changes", officer, note=message, changes_message=message
    )
    notify(
        initiative.initiator,
        "initiative_changes_requested",
        link=staff_link("initiatives.edit", "/mijn-initiatieven", initiative_id=initiative.id),
        object_type="initiative",
        object_id=initiative.id,
        initiative=initiative,
        message=message,
    )


def assign_guide(initiative: Initiative, officer: User, guide_id: int) -> User:
    """A case officer becomes the initiative's guide (begeleider); they are told, unless they
    chose themselves."""
    guide = db.session.get(User, guide_id)
    if guide is None or not guide.active or not guide.has_role(Role.CASE_OFFICER):
        raise ReviewRefused("guide_unknown")
    if initiative.guide_id == guide.id:
        raise ReviewRefused("guide_same")
    workflow.transition_initiative(
        initiative, "assign_guide", officer, reason=guide.name, guide_id=guide.id
    )
    set_committed_value(initiative, "guide", guide)
    if guide.id != officer.id:
        notify(
            guide,
            "initiative_guide_assigned",
            link=absolute_url("initiatives.review", initiative_id=initiative.id),
            object_type="initiative",
            object_id=initiative.id,
            initiative=initiative,
            officer=officer,
        )
    return guide


def change_status(initiative: Initiative, actor: User, action: str, note: str = "") -> None:
    """After publication: in conversation, running, realised or stopped (by the initiator or
    the staff who handle it), with an optional public note."""
    if action not in STATUS_ACTIONS:
        raise workflow.InvalidTransition(action)
    services.change_status(initiative, action, actor, note=note)


def status_actions(user: Any, initiative: Initiative) -> list[str]:
    """The status changes this user may make now, in the order of the table."""
    allowed = workflow.allowed_initiative_actions(user, initiative)
    return [action for action in allowed if action in STATUS_ACTIONS]


# --- moderation --------------------------------------------------------------------------------


def comment_scope(user: Any) -> ColumnElement[bool]:
    """Comments on initiatives this staff member reads (all of them for an admin)."""
    return Comment.initiative_id.in_(visible_to_staff(user).with_only_columns(Initiative.id))


def _open_reports() -> Any:
    return (
        select(
            CommentReport.comment_id.label("comment_id"),
            func.min(CommentReport.created_at).label("first_report"),
        )
        .where(CommentReport.handled_at.is_(None))
        .group_by(CommentReport.comment_id)
        .subquery()
    )


def moderation_counts(user: Any) -> dict[str, int]:
    scope = comment_scope(user)
    reports = _open_reports()
    return {
        "gemeld": db.session.scalar(
            select(func.count())
            .select_from(Comment)
            .join(reports, reports.c.comment_id == Comment.id)
            .where(scope, Comment.hidden_at.is_(None))
        )
        or 0,
        "verborgen": db.session.scalar(
            select(func.count()).select_from(Comment).where(scope, Comment.hidden_at.is_not(None))
        )
        or 0,
        "geblokkeerd": db.session.scalar(select(func.count()).select_from(CommentBlock)) or 0,
    }


def _users_by_id(ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def moderation_list(
    user: Any, listed: str, page_number: int, per_page: int
) -> tuple[Any, dict[str, Any]]:
    """One page of the moderation list ``listed`` ("gemeld": comments with open reports, the
    first reported first; "verborgen": hidden comments, latest first; "geblokkeerd": people
    blocked from commenting), with what the page shows beside it, in a constant number of
    queries: ``initiatives`` and ``users`` by id, open ``reports`` per comment, ``blocked``
    authors."""
    if listed == "geblokkeerd":
        page = db.paginate(
            select(CommentBlock).order_by(CommentBlock.created_at.desc(), CommentBlock.user_id),
            page=page_number,
            per_page=per_page,
            error_out=False,
        )
        people = {b.user_id for b in page.items} | {b.blocked_by_id for b in page.items}
        return page, {"users": _users_by_id(people)}

    query = select(Comment).where(comment_scope(user)).options(joinedload(Comment.author))
    if listed == "gemeld":
        reports = _open_reports()
        query = (
            query.join(reports, reports.c.comment_id == Comment.id)
            .where(Comment.hidden_at.is_(None))
            .order_by(reports.c.first_report, Comment.id)
        )
    else:
        query = query.where(Comment.hidden_at.is_not(None)).order_by(
            Comment.hidden_at.desc(), Comment.id.desc()
        )
    page = db.paginate(query, page=page_number, per_page=per_page, error_out=False)
    comments = page.items
    extra: dict[str, Any] = {"initiatives": {}, "reports": {}, "users": {}, "blocked": set()}
    if not comments:
        return page, extra
    extra["initiatives"] = {
        i.id: i
        for i in db.session.scalars(
            select(Initiative).where(Initiative.id.in_({c.initiative_id for c in comments}))
        )
    }
    if listed == "gemeld":
        for report in db.session.scalars(
            select(CommentReport)
            .where(
                CommentReport.comment_id.in_([c.id for c in comments]),
                CommentReport.handled_at.is_(None),
            )
            .order_by(CommentReport.created_at, CommentReport.user_id)
        ):
            extra["reports"].setdefault(report.comment_id, []).append(report)
    extra["users"] = _users_by_id({c.hidden_by_id for c in comments if c.hidden_by_id})
    extra["blocked"] = set(
        db.session.scalars(
            select(CommentBlock.user_id).where(
                CommentBlock.user_id.in_({c.author_id for c in comments})
            )
        )
    )
    return page, extra


def _audit_comment(comment: Comment, officer: User, action: str, reason: str | None) -> None:
    record(
        actor_id=officer.id,
        action=action,
        object_type="initiative_comment",
        object_id=comment.id,
        reason=reason,
    )


def _handle_reports(comment: Comment) -> int:
    return db.session.execute(
        update(CommentReport)
        .where(CommentReport.comment_id == comment.id, CommentReport.handled_at.is_(None))
        .values(handled_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount


def hide_comment(comment: Comment, initiative: Initiative, officer: User, reason: str) -> None:
    """Hidden from everyone, its open reports dealt with; the author is told why."""
    if comment.hidden:
        raise ReviewRefused("already_hidden")
    comment.hidden_at = utcnow()
    comment.hidden_by_id = officer.id
    comment.hidden_reason = reason
    _handle_reports(comment)
    db.session.flush()
    _audit_comment(comment, officer, "initiative.comment_hidden", reason)
    if comment.author.active:
        notify(
            comment.author,
            "initiative_comment_hidden",
            link=initiative_link(initiative),
            object_type="initiative",
            object_id=initiative.id,
            initiative=initiative,
            comment=comment,
            reason=reason,
        )


def restore_comment(comment: Comment, initiative: Initiative, officer: User, reason: str) -> None:
    """Visible again; the author is told."""
    if not comment.hidden:
        raise ReviewRefused("not_hidden")
    comment.hidden_at = None
    comment.hidden_by_id = None
    comment.hidden_reason = None
    db.session.flush()
    _audit_comment(comment, officer, "initiative.comment_restored", reason)
    if comment.author.active:
        notify(
            comment.author,
            "initiative_comment_restored",
            link=initiative_link(initiative),
            object_type="initiative",
            object_id=initiative.id,
            initiative=initiative,
            comment=comment,
            reason=reason,
        )


def dismiss_reports(comment: Comment, officer: User) -> None:
    """The comment stays; its open reports are dealt with."""
    if not _handle_reports(comment):
        raise ReviewRefused("no_reports")
    _audit_comment(comment, officer, "initiative.comment_reports_dismissed", None)


def block_user(user: User, officer: User, reason: str) -> CommentBlock:
    """``user`` may no longer comment on initiatives."""
    if user.id == officer.id:
        raise ReviewRefused("block_self")
    if user.is_staff:
        raise ReviewRefused("block_staff")
    if db.session.get(CommentBlock, user.id) is not None:
        raise ReviewRefused("already_blocked")
    block = CommentBlock(user_id=user.id, blocked_by_id=officer.id, reason=reason)
    db.session.add(block)
    db.session.flush()
    record(
        actor_id=officer.id,
        action="initiative.comment_block",
        object_type="user",
        object_id=user.id,
        reason=reason,
    )
    return block


def unblock_user(user: User, officer: User) -> None:
    block = db.session.get(CommentBlock, user.id)
    if block is None:
        raise ReviewRefused("not_blocked")
    db.session.delete(block)
    db.session.flush()
    record(
        actor_id=officer.id,
        action="initiative.comment_unblock",
        object_type="user",
        object_id=user.id,
    )
