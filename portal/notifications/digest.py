"""The daily digest: one e-mail a day with every message a user chose to receive that way.

A held message is a normal notification row in state ``digest``: rendered exactly as the
immediate path would have sent it (same subject, text and link), shown in the inbox at once. The
digest lists those rows and marks them ``in_digest``; its dedupe key (user and local date) makes
sure two runs, or two workers at once, build one digest.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import User
from portal.extensions import db
from portal.notifications.models import EmailState, Notification
from portal.notifications.services import absolute_url, notify
from portal.timeutil import to_local, utcnow


def send_digests(now: datetime | None = None) -> int:
    """From the digest hour on (``PORTAL_DIGEST_HOUR``, local time), build each user's digest of
    the messages held until now. Returns the number of digests built."""
    now = now or utcnow()
    local = to_local(now)
    if local.hour < current_app.config["PORTAL_DIGEST_HOUR"]:
        return 0
    user_ids = list(
        db.session.scalars(
            select(Notification.user_id)
            .where(
                Notification.email_state == EmailState.DIGEST.value,
                Notification.created_at <= now,
            )
            .distinct()
        )
    )
    built = 0
    for user_id in sorted(uid for uid in user_ids if uid is not None):
        if build_digest(user_id, now, local.date().isoformat()):
            built += 1
        db.session.commit()
    return built


def build_digest(user_id: int, now: datetime, day: str) -> Notification | None:
    """One user's digest for ``day``, or None when there is nothing (left) to send."""
    user = db.session.get(User, user_id)
    items = list(
        db.session.scalars(
            select(Notification)
            .where(
                Notification.user_id == user_id,
                Notification.email_state == EmailState.DIGEST.value,
                Notification.created_at <= now,
            )
            .order_by(Notification.id)
        )
    )
    if user is None or not items:
        return None
    try:
        with db.session.begin_nested():
            digest = notify(
                user,
                "digest",
                link=absolute_url("notifications.inbox"),
                dedupe_key=f"digest-{user_id}-{day}",
                items=items,
            )
            digest.read_at = now  # the items are in the inbox already
            taken = db.session.execute(
                update(Notification)
                .where(
                    Notification.id.in_([item.id for item in items]),
                    Notification.email_state == EmailState.DIGEST.value,
                )
                .values(email_state=EmailState.IN_DIGEST.value, digest_id=digest.id)
                .execution_options(synchronize_session=False)
            ).rowcount
            if taken != len(items):
                # Another run took some of them meanwhile: let that run's digest stand.
                raise _Raced
    except (IntegrityError, _Raced):
        return None
    return digest


class _Raced(Exception):
    pass
