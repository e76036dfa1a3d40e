"""Reminding the applicant that the period to supply missing information is about to end
(Awb 4:5: without an answer the application may be set aside). Each reminder goes out once."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.applications.models import Application, InfoRequest, State
from portal.extensions import db
from portal.notifications.services import absolute_url, notify_once
from portal.timeutil import local_today

REMIND_DAYS_BEFORE = 3


def send_info_request_reminders(today: date | None = None) -> int:
    """Open information requests due within three days (and not yet past): one reminder each."""
    today = today or local_today()
    requests = db.session.scalars(
        select(InfoRequest)
        .join(Application, InfoRequest.application_id == Application.id)
        .where(
            InfoRequest.outcome.is_(None),
            Application.state == State.INFO_REQUESTED,
            InfoRequest.due_date >= today,
            InfoRequest.due_date <= today + timedelta(days=REMIND_DAYS_BEFORE),
        )
        .options(joinedload(InfoRequest.application).joinedload(Application.applicant))
        .order_by(InfoRequest.id)
    ).all()
    sent = 0
    for info in requests:
        application = info.application
        sent += notify_once(
            application.applicant,
            "info_request_reminder",
            f"info_request_reminder-{info.id}",
            link=absolute_url("applications.detail", application_id=application.id),
            object_type="application",
            object_id=application.id,
            application=application,
            info=info,
        )
    return sent
