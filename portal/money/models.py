"""The ledger: every movement of a district's budget, append-only."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.applications.models import Application, Decision
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
        # The budget page's counts and sums per kind, from the index alone (PostgreSQL).
        Index(
            "ix_ledger_entries_budget_kind",
            "budget_id",
            "kind",
            postgresql_include=[
                "allocated_delta",
                "committed_delta",
                "paid_delta",
                "recovered_delta",
            ],
        ),
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


PAYMENT_KINDS = ("full", "advance", "remainder")
PAYMENT_STATES = ("due", "batched", "paid", "cancelled")
BATCH_STATES = ("open", "approved", "paid")


class PaymentBatch(db.Model):
    """Payments gathered by a case officer, approved by finance (never by someone who decided
    one of its grants), exported as a SEPA credit transfer (pain.001), then marked paid. After
    approval nothing in it changes."""

    __tablename__ = "payment_batches"
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in BATCH_STATES) + ")", name="known_status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    execution_date: Mapped[date | None] = mapped_column(Date)
    message_id: Mapped[str | None] = mapped_column(String(35))
    exported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    payments: Mapped[list[Payment]] = relationship(back_populates="batch", order_by="Payment.id")

    @property
    def total_cents(self) -> int:
        return sum(p.amount_cents for p in self.payments)


class Payment(db.Model):
    """Money to pay out for a grant: the whole amount for a small grant, else the advance (the
    ruleset's percentage, rounded up to the cent in the applicant's favour) and later the rest."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in PAYMENT_KINDS) + ")", name="known_kind"
        ),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in PAYMENT_STATES) + ")",
            name="known_status",
        ),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        # Only a payment in a batch can be batched or paid.
        CheckConstraint(
            "(status IN ('batched', 'paid')) = (batch_id IS NOT NULL)", name="batched_in_batch"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))
    kind: Mapped[str] = mapped_column(String(20))
    amount_cents: Mapped[int] = mapped_column(Integer)
    iban: Mapped[str] = mapped_column(String(34))
    account_holder: Mapped[str] = mapped_column(String(120))
    reference: Mapped[str] = mapped_column(String(35), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="due")
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("payment_batches.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    batch: Mapped[PaymentBatch | None] = relationship(back_populates="payments")
    application: Mapped[Application] = relationship()
    decision: Mapped[Decision | None] = relationship()
