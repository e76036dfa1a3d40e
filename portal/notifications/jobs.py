"""Delivering notifications: at least once, and never twice for one attempt.

A delivery first *claims* its row with a conditional UPDATE (waiting → sending). Only the one
process whose UPDATE changed the row sends; any other copy of the job finds nothing to claim.
A worker killed after the claim leaves the row in ``sending``; the relay gives it back to
``waiting`` once the claim is stale, so the mail still goes out (at most one duplicate, and the
Message-ID lets the receiving side drop it).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from portal.extensions import db, rq
from portal.notifications import mailer
from portal.notifications.models import EmailState, Notification
from portal.timeutil import utcnow

log = logging.getLogger(__name__)

# Waits before the 2nd, 3rd, 4th and 5th attempt; after the 5th failure the row is "failed".
BACKOFF_SECONDS = (60, 5 * 60, 30 * 60, 2 * 60 * 60)


def _stale_claim() -> timedelta:
    """A claim older than this belongs to a worker that died (PORTAL_MAIL_STALE_CLAIM_SECONDS)."""
    return timedelta(seconds=current_app.config["PORTAL_MAIL_STALE_CLAIM_SECONDS"])


def _relay_grace() -> timedelta:
    """A fresh row is handed to the queue right after its commit; the relay only takes rows that
    waited longer than this, so that it does not race the normal path."""
    return timedelta(seconds=current_app.config["PORTAL_MAIL_RELAY_GRACE_SECONDS"])


def deliver(notification_id: int) -> str:
    """Send one notification if it is due and nobody else is sending it."""
    now = utcnow()
    claimed = db.session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.email_state == EmailState.WAITING.value,
            or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
        )
        .values(
            email_state=EmailState.SENDING.value,
            claimed_at=now,
            attempts=Notification.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if not claimed:
        return "not due or already taken"

    notification = db.session.get(Notification, notification_id, populate_existing=True)
    assert notification is not None
    try:
        answer = mailer.send(notification)
    except mailer.DeliveryError as error:
        _record_failure(notification, now, str(error))
        db.session.commit()
        return f"failed: {error}"
    except Exception as error:
        log.exception("notification %s: unexpected error while sending", notification_id)
        db.session.rollback()
        notification = db.session.get(Notification, notification_id, populate_existing=True)
        assert notification is not None
        _record_failure(notification, now, f"{type(error).__name__}: {error}")
        db.session.commit()
        return f"failed: {error}"
    db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.claimed_at == now)
        .values(
            email_state=EmailState.SENT.value,
            sent_at=utcnow(),
            smtp_response=answer[:2000],
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return answer


def _record_failure(notification: Notification, claimed_at: object, error: str) -> None:
    attempts = notification.attempts
    if attempts <= len(BACKOFF_SECONDS):
        values = {
            "email_state": EmailState.WAITING.value,
            "next_attempt_at": utcnow() + timedelta(seconds=BACKOFF_SECONDS[attempts - 1]),
            "last_error": error[:2000],
        }
    else:
        values = {"email_state": EmailState.FAILED.value, "last_error": error[:2000]}
    db.session.execute(
        update(Notification)
        .where(Notification.id == notification.id, Notification.claimed_at == claimed_at)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    log.warning("notification %s attempt %s failed: %s", notification.id, attempts, error)


def due_notification_ids(limit: int = 500) -> list[int]:
    """Rows to hand (again) to the queue: stale claims back to waiting, then what is due."""
    now = utcnow()
    stale = (
        Notification.email_state == EmailState.SENDING.value,
        Notification.claimed_at < now - _stale_claim(),
    )
    # A claim whose worker died counts as an attempt: after the last one the row has failed.
    db.session.execute(
        update(Notification)
        .where(*stale, Notification.attempts > len(BACKOFF_SECONDS))
        .values(email_state=EmailState.FAILED.value, last_error="worker stopped while sending")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Notification)
        .where(*stale)
        .values(email_state=EmailState.WAITING.value, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    ids = list(
        db.session.scalars(
            select(Notification.id)
            .where(
                Notification.email_state == EmailState.WAITING.value,
                or_(
                    and_(
                        Notification.next_attempt_at.is_(None),
                        Notification.created_at <= now - _relay_grace(),
                    ),
                    Notification.next_attempt_at <= now,
                ),
            )
            .order_by(Notification.id)
            .limit(limit)
        )
    )
    db.session.commit()
    return ids


@rq.job
def deliver_notification(notification_id: int) -> str:
    """RQ job: takes an id only, reloads the row, checks its state (see ``deliver``)."""
    return deliver(notification_id)


def relay_outbox() -> int:
    """Hand every due notification to the queue (or deliver in-process without Redis)."""
    from portal.notifications.dispatch import hand_over

    ids = due_notification_ids()
    if ids:
        hand_over(ids)
    current_app.logger.debug("relayed %s notifications", len(ids))
    return len(ids)
