"""Reminders of the review: the council three days before its advice is due; the case officers
of the borough when a decision is due within 7 days, and when it is overdue. Each goes out once
(its dedupe key); safe to run as often as you like."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.accounts.models import CaseOfficerBorough, Role, User, UserRole
from portal.applications.models import AdviceRequest, Application, State
from portal.districts.models import Council, CouncilMembership, District
from portal.extensions import db
from portal.notifications.services import absolute_url, notify_once
from portal.timeutil import local_today

RUNNING = [
    State.SUBMITTED,
    State.IN_REVIEW,
    State.AWAITING_ADVICE,
    State.ADVISED,
    State.INTENT_SENT,
    State.AWAITING_APPROVAL,
]


def send_review_reminders(today: date | None = None) -> int:
    today = today or local_today()
    sent = 0
    requests = db.session.scalars(
        select(AdviceRequest)
        .join(Application, AdviceRequest.application_id == Application.id)
        .where(
            AdviceRequest.outcome.is_(None),
            Application.state == State.AWAITING_ADVICE,
            AdviceRequest.due_date >= today,
            AdviceRequest.due_date <= today + timedelta(days=3),
        )
        .options(
            joinedload(AdviceRequest.application),
            joinedload(AdviceRequest.council)
            .selectinload(Council.memberships)
            .joinedload(CouncilMembership.user),
        )
    ).all()
    for request in requests:
        for membership in request.council.memberships:
            if not membership.user.active or request.conflicted(membership.user_id):
                continue
            sent += notify_once(
                membership.user,
                "advice_reminder",
                f"advice_reminder-{request.id}-{membership.user_id}",
                link=absolute_url("reviews.advice_request", request_id=request.id),
                object_type="advice_request",
                object_id=request.id,
                application=request.application,
                request=request,
            )
    # Only people who can open the case: active accounts that still hold the role.
    officers: dict[int, list[User]] = defaultdict(list)
    for link, user in db.session.execute(
        select(CaseOfficerBorough, User)
        .join(User, User.id == CaseOfficerBorough.user_id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.active.is_(True), UserRole.role == Role.CASE_OFFICER)
    ):
        officers[link.borough_id].append(user)
    deadlines = db.session.scalars(
        select(Application)
        .where(
            Application.state.in_(RUNNING),
            Application.decision_deadline.is_not(None),
            Application.decision_deadline <= today + timedelta(days=7),
        )
        .options(joinedload(Application.district).joinedload(District.borough))
    ).all()
    for application in deadlines:
        overdue = application.decision_deadline < today  # type: ignore[operator]
        kind = "decision_overdue" if overdue else "decision_due_soon"
        for officer in officers[application.district.borough_id]:
            sent += notify_once(
                officer,
                kind,
                f"{kind}-{application.id}-{application.decision_deadline}-{officer.id}",
                link=absolute_url("reviews.case", application_id=application.id),
                object_type="application",
                object_id=application.id,
                application=application,
            )
    return sent
