"""The ledger: every movement of a district's budget, append-only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.districts.models import DistrictBudget
from portal.extensions import db
from portal.timeutil import UTCDateTime, utcnow

LEDGER_KINDS = ("allocation", "commitment", "release", "payment", "recovery")


class LedgerEntry(db.Model):
    """One movement. Each kind moves the budget's totals by its deltas (a database trigger
    applies them): an allocation changes ``allocated``; a commitment (a grant) adds to
    ``committed``; a release gives committed money back; a payment moves money from committed to
    paid; a recovery adds to ``recovered``. Entries are never changed or deleted."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in LEDGER_KINDS) + ")", name="known_kind"
        ),
        Index("ix_ledger_entries_budget_created", "budget_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("district_budgets.id"))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    allocated_delta: Mapped[int] = mapped_column(Integer, default=0)
    committed_delta: Mapped[int] = mapped_column(Integer, default=0)
    paid_delta: Mapped[int] = mapped_column(Integer, default=0)
    recovered_delta: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    budget: Mapped[DistrictBudget] = relationship()
    actor: Mapped[User | None] = relationship()
