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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.districts.models import Council, District
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
    INTENT_SENT = "intent_sent"
    AWAITING_APPROVAL = "awaiting_approval"
    NOT_CONSIDERED = "not_considered"
    GRANTED = "granted"
    ACCOUNTED = "accounted"
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
        # The work queue (reviews.views.queue): earliest decision deadline first, all of the
        # officer's districts, or one district, or one status. On PostgreSQL the filter columns
        # are included, so the page's ids come from the index alone (migration 0010).
        Index(
            "ix_applications_queue",
            "decision_deadline",
            "id",
            postgresql_include=["district_id", "state", "requested_cents"],
            postgresql_where=text("state <> 'draft'"),
            sqlite_where=text("state <> 'draft'"),
        ),
        Index(
            "ix_applications_queue_district",
            "district_id",
            "decision_deadline",
            "id",
            postgresql_include=["state", "requested_cents"],
            postgresql_where=text("state <> 'draft'"),
            sqlite_where=text("state <> 'draft'"),
        ),
        Index(
            "ix_applications_queue_state",
            "state",
            "decision_deadline",
            "id",
            postgresql_include=["district_id", "requested_cents"],
        ),
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
    # Started from an initiative (Kracht van de stad); the two pages link to each other.
    initiative_id: Mapped[int | None] = mapped_column(
        ForeignKey("initiatives.id", ondelete="SET NULL"), index=True
    )

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
    # What was granted, by the decision in force (None until a grant).
    granted_cents: Mapped[int | None] = mapped_column(Integer)
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
    advice_requests: Mapped[list[AdviceRequest]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="AdviceRequest.id"
    )
    intents: Mapped[list[RefusalIntent]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="RefusalIntent.id"
    )
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="application",
        cascade="all, delete-orphan",
        order_by="Decision.id",
        foreign_keys="Decision.application_id",
    )
    objections: Mapped[list[Objection]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="Objection.id"
    )
    report: Mapped[AccountabilityReport | None] = relationship(
        back_populates="application", cascade="all, delete-orphan", uselist=False
    )
    settlements: Mapped[list[Settlement]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="Settlement.id"
    )

    @property
    def is_draft(self) -> bool:
        return self.state == State.DRAFT

    @property
    def open_info_request(self) -> InfoRequest | None:
        return next((r for r in self.info_requests if r.outcome is None), None)

    @property
    def advice_request(self) -> AdviceRequest | None:
        """The latest request for advice (a new decision after an objection may ask again)."""
        return self.advice_requests[-1] if self.advice_requests else None

    @property
    def open_intent(self) -> RefusalIntent | None:
        return next((i for i in self.intents if not i.closed), None)

    @property
    def pending_decision(self) -> Decision | None:
        return next((d for d in self.decisions if d.status == "awaiting_approval"), None)

    @property
    def decision(self) -> Decision | None:
        """The decision in force: the latest final one."""
        final = [d for d in self.decisions if d.status == "final"]
        return final[-1] if final else None

    @property
    def open_objection(self) -> Objection | None:
        return next((o for o in self.objections if o.outcome is None), None)

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
    # Sent with an objection (bezwaar).
    objection_id: Mapped[int | None] = mapped_column(
        ForeignKey("objections.id", ondelete="CASCADE"), index=True
    )
    # Receipts and photos of the accounting (verantwoording).
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("accountability_reports.id", ondelete="CASCADE"), index=True
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


class ApplicationCount(db.Model):
    """How many applications a district has in a state. Kept by the database itself: triggers on
    ``applications`` (migration 0010) add and subtract on every insert, change of state or
    district, and delete, so the work queue's counts per status never count the applications."""

    __tablename__ = "application_counts"

    district_id: Mapped[int] = mapped_column(
        ForeignKey("districts.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(20), primary_key=True)
    total: Mapped[int] = mapped_column(Integer, default=0)


def household_key(postcode: str, house_number: str) -> str:
    return f"{postcode.strip().upper().replace(' ', '')}-{house_number.strip().upper()}"


ADVICE_OUTCOMES = ("positive", "negative", "conditional")


class AdviceRequest(db.Model):
    """The case officer asks the district's council for advice; the chair or secretary gives it.

    Advice is not binding; without it in time the case officer may decide (and the record says
    so). Members discuss in ``comments``; a member who declares a conflict of interest no longer
    sees the discussion or takes part.
    """

    __tablename__ = "advice_requests"
    __table_args__ = (
        CheckConstraint(
            "outcome IS NULL OR outcome IN ('positive', 'negative', 'conditional')",
            name="known_outcome",
        ),
        CheckConstraint(
            "proposed_cents IS NULL OR proposed_cents >= 0", name="amount_not_negative"
        ),
        # The council's list (reviews.council): its requests newest first, and the ones not
        # answered yet by due date, from which the open ones are picked (migration 0010).
        Index("ix_advice_requests_council", "council_id", "id"),
        Index(
            "ix_advice_requests_unanswered",
            "council_id",
            "due_date",
            "id",
            postgresql_include=["application_id"],
            postgresql_where=text("outcome IS NULL"),
            sqlite_where=text("outcome IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_on: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(20))
    reasons: Mapped[str | None] = mapped_column(Text)
    conditions: Mapped[str | None] = mapped_column(Text)
    proposed_cents: Mapped[int | None] = mapped_column(Integer)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Decided without waiting for the advice (period passed): why, as the record must say.
    passed_over_reason: Mapped[str | None] = mapped_column(Text)

    application: Mapped[Application] = relationship(back_populates="advice_requests")
    council: Mapped[Council] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    comments: Mapped[list[AdviceComment]] = relationship(
        back_populates="advice_request", cascade="all, delete-orphan", order_by="AdviceComment.id"
    )
    conflicts: Mapped[list[ConflictDeclaration]] = relationship(
        back_populates="advice_request",
        cascade="all, delete-orphan",
        order_by="ConflictDeclaration.id",
    )

    @property
    def given(self) -> bool:
        return self.outcome is not None

    def conflicted(self, user_id: int) -> bool:
        return any(c.user_id == user_id for c in self.conflicts)


class AdviceComment(db.Model):
    """Internal discussion of the council's members; never shown to the applicant."""

    __tablename__ = "advice_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    advice_request_id: Mapped[int] = mapped_column(
        ForeignKey("advice_requests.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    advice_request: Mapped[AdviceRequest] = relationship(back_populates="comments")
    author: Mapped[User] = relationship()


class ConflictDeclaration(db.Model):
    """A member declares a conflict of interest: from then on out of the discussion."""

    __tablename__ = "conflict_declarations"
    __table_args__ = (UniqueConstraint("advice_request_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    advice_request_id: Mapped[int] = mapped_column(
        ForeignKey("advice_requests.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    advice_request: Mapped[AdviceRequest] = relationship(back_populates="conflicts")


class RefusalIntent(db.Model):
    """Before refusing, or granting less than asked, the applicant may give a view (zienswijze,
    Awb 4:8); the decision then answers it."""

    __tablename__ = "refusal_intents"
    __table_args__ = (
        CheckConstraint("kind IN ('refuse', 'lower')", name="known_kind"),
        CheckConstraint(
            "proposed_cents IS NULL OR proposed_cents >= 0", name="amount_not_negative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10))
    proposed_cents: Mapped[int | None] = mapped_column(Integer)
    grounds: Mapped[list[str]] = mapped_column(JSON, default=list)
    reasons: Mapped[str] = mapped_column(Text)
    sent_on: Mapped[date] = mapped_column(Date)
    view_due: Mapped[date] = mapped_column(Date)
    view: Mapped[str | None] = mapped_column(Text)
    view_on: Mapped[date | None] = mapped_column(Date)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)

    application: Mapped[Application] = relationship(back_populates="intents")
    created_by: Mapped[User] = relationship()


class Decision(db.Model):
    """The beschikking: granted (the amount asked or less, with conditions) or refused (grounds
    and reasons). A grant above the four-eyes limit waits for a second case officer."""

    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint("outcome IN ('granted', 'refused')", name="known_outcome"),
        CheckConstraint(
            "status IN ('awaiting_approval', 'final', 'returned')", name="known_status"
        ),
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
        CheckConstraint(
            "approved_by_id IS NULL OR approved_by_id <> decided_by_id", name="four_eyes"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    outcome: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))
    amount_cents: Mapped[int] = mapped_column(Integer, default=0)
    conditions: Mapped[str | None] = mapped_column(Text)
    grounds: Mapped[list[str]] = mapped_column(JSON, default=list)
    reasons: Mapped[str] = mapped_column(Text)
    view_answer: Mapped[str | None] = mapped_column(Text)
    advice_answer: Mapped[str | None] = mapped_column(Text)
    without_advice: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_reason: Mapped[str | None] = mapped_column(Text)
    sent_on: Mapped[date | None] = mapped_column(Date)
    objection_due: Mapped[date | None] = mapped_column(Date)
    # The new decision after a well-founded objection replaces this one.
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))
    letter_storage_key: Mapped[str | None] = mapped_column(String(80))
    letter_generated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    application: Mapped[Application] = relationship(
        back_populates="decisions", foreign_keys=[application_id]
    )
    decided_by: Mapped[User] = relationship(foreign_keys=[decided_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])


class Objection(db.Model):
    """Bezwaar against a decision, within the objection period (Awb 6:7); staff record the
    hearing and the outcome. Well-founded: a new decision through the same path."""

    __tablename__ = "objections"
    __table_args__ = (
        CheckConstraint(
            "outcome IS NULL OR outcome IN ('well_founded', 'unfounded', 'inadmissible')",
            name="known_outcome",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))
    lodged_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reasons: Mapped[str] = mapped_column(Text)
    lodged_on: Mapped[date] = mapped_column(Date)
    hearing_on: Mapped[date | None] = mapped_column(Date)
    hearing_notes: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(20))
    outcome_reasons: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_on: Mapped[date | None] = mapped_column(Date)

    application: Mapped[Application] = relationship(back_populates="objections")
    decision: Mapped[Decision | None] = relationship()


class AccountabilityReport(db.Model):
    """The verantwoording after the activity: what happened, who took part, the actual costs
    per budget line with receipts (photos and a short text for a small grant), and a short
    evaluation for the municipality's learning cycle."""

    __tablename__ = "accountability_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), unique=True
    )
    what_happened: Mapped[str] = mapped_column(Text)
    participants: Mapped[int | None] = mapped_column(Integer)
    went_well: Mapped[str | None] = mapped_column(Text)
    do_differently: Mapped[str | None] = mapped_column(Text)
    would_recommend: Mapped[bool | None] = mapped_column(Boolean)
    actual_total_cents: Mapped[int] = mapped_column(Integer, default=0)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    application: Mapped[Application] = relationship(back_populates="report")
    lines: Mapped[list[ReportLine]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="ReportLine.position"
    )


class ReportLine(db.Model):
    """What one budget line actually cost."""

    __tablename__ = "report_lines"
    __table_args__ = (CheckConstraint("actual_cents >= 0", name="actual_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("accountability_reports.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(String(200))
    planned_cents: Mapped[int] = mapped_column(Integer, default=0)
    actual_cents: Mapped[int] = mapped_column(Integer, default=0)

    report: Mapped[AccountabilityReport] = relationship(back_populates="lines")


class Settlement(db.Model):
    """The vaststelling (Awb 4:42-4:47): the final amount, equal to the grant or lower with
    reasons; lower only after the applicant could give a view. The difference with what was paid
    becomes a last payment or a recovery (terugvordering, Awb 4:57)."""

    __tablename__ = "settlements"
    __table_args__ = (
        CheckConstraint("status IN ('intended', 'final')", name="known_status"),
        CheckConstraint("kind IN ('equal', 'lower', 'ex_officio')", name="known_kind"),
        CheckConstraint("final_cents >= 0", name="final_not_negative"),
        CheckConstraint(
            "recovery_status IS NULL OR recovery_status IN ('open', 'received')",
            name="known_recovery_status",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(12))
    final_cents: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    view_due: Mapped[date | None] = mapped_column(Date)
    view: Mapped[str | None] = mapped_column(Text)
    view_on: Mapped[date | None] = mapped_column(Date)
    # What was paid too much comes back: the amount, to which account, with which reference.
    recovery_cents: Mapped[int] = mapped_column(Integer, default=0)
    recovery_reference: Mapped[str | None] = mapped_column(String(35))
    recovery_due: Mapped[date | None] = mapped_column(Date)
    recovery_status: Mapped[str | None] = mapped_column(String(10))
    recovery_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    application: Mapped[Application] = relationship(back_populates="settlements")
    decided_by: Mapped[User] = relationship()
