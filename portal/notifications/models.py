"""Notifications: one row per message to one person, shown in the inbox and (usually) e-mailed.

The row is the outbox: it is written in the same transaction as the change that causes it, and
its ``email_state`` records delivery (waiting → sending → sent, or failed after the retries).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.extensions import db
from portal.timeutil import UTCDateTime, utcnow


class EmailState(StrEnum):
    WAITING = "waiting"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    NOT_EMAILED = "not_emailed"  # inbox only
    DIGEST = "digest"  # held for the recipient's daily digest
    IN_DIGEST = "in_digest"  # went out as part of the digest ``digest_id``


STATES_SQL = ", ".join(f"'{state.value}'" for state in EmailState)


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_created", "user_id", "id"),
        Index("ix_notifications_state_next", "email_state", "next_attempt_at"),
        Index("ix_notifications_state_id", "email_state", "id"),
        CheckConstraint(f"email_state IN ({STATES_SQL})", name="email_state_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Empty for mail to someone without an account (an invited or endorsing neighbour).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str | None] = mapped_column(String(60))
    object_id: Mapped[int | None] = mapped_column(Integer)
    locale: Mapped[str] = mapped_column(String(5), default="nl")
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # What the inbox shows: secrets such as verification links stay out of it.
    inbox_text: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    # Unique per message; also the e-mail's Message-ID, so a receiver can drop a duplicate.
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    # Optional unique key of the event, so a reminder computed twice is stored once.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    email_state: Mapped[str] = mapped_column(String(20), default=EmailState.WAITING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    smtp_response: Mapped[str | None] = mapped_column(Text)
    mandatory: Mapped[bool] = mapped_column(Boolean, default=False)
    # For a message held for the digest: the digest message it went out in.
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="SET NULL"), index=True
    )

    user: Mapped[User | None] = relationship()

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def text_without_footer(self) -> str:
        """The plain text without the footer every mail ends with (for the digest, which lists
        messages under one footer of its own)."""
        return self.body_text.split("\n\n--\n", 1)[0]


class NotificationPreference(db.Model):
    """How one user wants one kind of notification: immediately (the default, no row), in the
    daily digest, or only in the inbox. Legal notices ignore it (``kinds.is_mandatory``)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        CheckConstraint("delivery IN ('immediate', 'digest', 'inbox')", name="delivery_known"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(60), primary_key=True)
    delivery: Mapped[str] = mapped_column(String(10))
