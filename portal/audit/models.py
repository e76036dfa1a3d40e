"""The append-only audit log: who did what to which object, from which state to which, why.

The database refuses UPDATE and DELETE on this table (triggers in the migration), so the trail
cannot be rewritten, not even by a bug.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.extensions import db
from portal.timeutil import UTCDateTime, utcnow


class AuditRecord(db.Model):
    __tablename__ = "audit_records"
    __table_args__ = (Index("ix_audit_records_object", "object_type", "object_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(80))
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[int | None] = mapped_column(Integer)
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    # web (with the client address), cli, worker or system
    origin: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    actor: Mapped[User | None] = relationship()
