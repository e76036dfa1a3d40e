"""Wijkbudget applications: the draft and the submitted file, its budget lines, attachments and
endorsements (draagvlak). The state column is written only by ``applications.workflow``."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.districts.models import District
from portal.extensions import db
from portal.rulesets.models import Ruleset
from portal.timeutil import UTCDateTime, utcnow


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    INFO_REQUESTED = "info_requested"
    IN_REVIEW = "in_review"
    AWAITING_ADVICE = "awaiting_advice"
    ADVISED = "advised"
    NOT_CONSIDERED = "not_considered"
    GRANTED = "granted"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    SETTLED = "settled"
    CLOSED = "closed"


STATE_VALUES = tuple(s.value for s in State)


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Application(db.Model):
    __tablename__ = "applications"
    __table_args__ = (
        CheckConstraint(
            "state IN (" + ", ".join(f"'{s}'" for s in STATE_VALUES) + ")", name="state_known"
        ),
        CheckConstraint("other_funding_cents >= 0", name="other_funding_not_negative"),
        UniqueConstraint("applicant_id", "creation_key"),
        Index("ix_applications_applicant_state", "applicant_id", "state"),
        Index("ix_applications_district_state", "district_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    state: Mapped[str] = mapped_column(String(20), default=State.DRAFT.value)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"))
    ruleset_id: Mapped[int | None] = mapped_column(ForeignKey("rulesets.id"))
    # One "new application" click, however often it is posted, makes one draft.
    creation_key: Mapped[str] = mapped_column(String(64))

    # On behalf of an organisation based in the district
    for_organisation: Mapped[bool] = mapped_column(Boolean, default=False)
    organisation_name: Mapped[str | None] = mapped_column(String(200))
    kvk_number: Mapped[str | None] = mapped_column(String(8))
    organisation_postcode: Mapped[str | None] = mapped_column(String(6))
    applicant_role: Mapped[str | None] = mapped_column(String(120))

    # The activity
    title: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    kaders: Mapped[list[str]] = mapped_column(JSON, default=list)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    location: Mapped[str | None] = mapped_column(String(300))
    expected_participants: Mapped[int | None] = mapped_column(Integer)
    volunteers: Mapped[int | None] = mapped_column(Integer)
    own_contribution: Mapped[str | None] = mapped_column(Text)

    # The budget: totals are recomputed by the server from the lines on every save
    other_funding_cents: Mapped[int] = mapped_column(Integer, default=0)
    other_funding_description: Mapped[str | None] = mapped_column(Text)
    total_cents: Mapped[int] = mapped_column(Integer, default=0)
    requested_cents: Mapped[int] = mapped_column(Integer, default=0)

    # Payment
    iban: Mapped[str | None] = mapped_column(String(34))
    account_holder: Mapped[str | None] = mapped_column(String(120))

    declaration: Mapped[bool] = mapped_column(Boolean, default=False)

    endorsement_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_deadline: Mapped[date | None] = mapped_column(Date)
    # The decision period: counted from submission, stopped while information is asked for
    # (Awb 4:15), extended at most once (Awb 4:14). ``decision_deadline`` is derived from these by
    # ``deadlines.decision_deadline`` whenever one changes; it is stored for sorting the queue.
    suspended_days: Mapped[int] = mapped_column(Integer, default=0)
    extension_weeks: Mapped[int] = mapped_column(Integer, default=0)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # A PDF summary made by the worker on request
    pdf_storage_key: Mapped[str | None] = mapped_column(String(80))
    pdf_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pdf_generated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    applicant: Mapped[User] = relationship()
    district: Mapped[District] = relationship()
    ruleset: Mapped[Ruleset | None] = relationship()
    lines: Mapped[list[BudgetLine]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="BudgetLine.position"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="Attachment.id"
    )
    endorsements: Mapped[list[Endorsement]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="Endorsement.id"
    )
    info_requests: Mapped[list[InfoRequest]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="InfoRequest.id"
    )

    @property
    def is_draft(self) -> bool:
        return self.state == State.DRAFT

    @property
    def open_info_request(self) -> InfoRequest | None:
        return next((r for r in self.info_requests if r.outcome is None), None)

    def __repr__(self) -> str:
        return f"<Application {self.id} {self.reference or 'concept'} {self.state}>"


class BudgetLine(db.Model):
    __tablename__ = "budget_lines"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("unit_price_cents >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(40), default="")
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_price_cents: Mapped[int] = mapped_column(Integer, default=0)

    application: Mapped[Application] = relationship(back_populates="lines")

    @property
    def total_cents(self) -> int:
        return self.quantity * self.unit_price_cents


class Attachment(db.Model):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), default="other")
    storage_key: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(160))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Sent with an answer to a request for information (aanvulling), not with the draft.
    info_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("info_requests.id", ondelete="CASCADE"), index=True
    )

    application: Mapped[Application] = relationship(back_populates="attachments")


class InfoRequest(db.Model):
    """The case officer asks for missing information (aanvulling, Awb 4:5); the decision clock
    stops from the request until the answer (Awb 4:15)."""

    __tablename__ = "info_requests"
    __table_args__ = (
        CheckConstraint(
            "outcome IS NULL OR outcome IN ('answered', 'not_considered', 'withdrawn')",
            name="known_outcome",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    questions: Mapped[str] = mapped_column(Text)
    requested_on: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    application: Mapped[Application] = relationship(back_populates="info_requests")
    requested_by: Mapped[User] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(order_by="Attachment.id", viewonly=True)


class Endorsement(db.Model):
    """A neighbour backs the plan. It counts once confirmed, from the same district, one per
    household, never the applicant's own household."""

    __tablename__ = "endorsements"
    __table_args__ = (UniqueConstraint("application_id", "household"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    postcode: Mapped[str] = mapped_column(String(6))
    house_number: Mapped[str] = mapped_column(String(10))
    # postcode + house number, upper-case: one endorsement per household
    household: Mapped[str] = mapped_column(String(20))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    confirm_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    application: Mapped[Application] = relationship(back_populates="endorsements")

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class ReferenceCounter(db.Model):
    """The last reference number handed out per year; its row is the lock that keeps
    references consecutive under concurrent submissions."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


def household_key(postcode: str, house_number: str) -> str:
    return f"{postcode.strip().upper().replace(' ', '')}-{house_number.strip().upper()}"
