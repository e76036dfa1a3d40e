"""Kracht van de stad: residents' initiatives, their photos and timeline, and how neighbours take
part (support, offers of help, comments, messages relayed by the portal)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
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
from portal.districts.models import District
from portal.extensions import db
from portal.timeutil import UTCDateTime, utcnow


class InitiativeState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    PUBLISHED = "published"
    IN_CONVERSATION = "in_conversation"
    RUNNING = "running"
    REALISED = "realised"
    STOPPED = "stopped"


INITIATIVE_STATES = [state.value for state in InitiativeState]
# Shown in the public showcase (and the Atom feeds).
PUBLIC_STATES = frozenset(
    {
        InitiativeState.PUBLISHED,
        InitiativeState.IN_CONVERSATION,
        InitiativeState.RUNNING,
        InitiativeState.REALISED,
        InitiativeState.STOPPED,
    }
)

# The showcase's condition, word for word as ``showcase.public_initiatives`` writes it (the states
# as literals, not parameters): so the database can prove that a query meets the condition of the
# partial indexes below, also in a prepared statement's generic plan.
PUBLIC_STATE_VALUES = tuple(sorted(state.value for state in PUBLIC_STATES))
PUBLIC_CONDITION = (
    "state IN (" + ", ".join(f"'{s}'" for s in PUBLIC_STATE_VALUES) + ") "
    "AND published_at IS NOT NULL"
)

# What help an initiator may ask for.
HELP_KINDS = ("volunteers", "space", "materials", "expertise", "money")
MAX_PHOTOS = 6


class Initiative(db.Model):
    __tablename__ = "initiatives"
    __table_args__ = (
        CheckConstraint(
            "state IN (" + ", ".join(f"'{s}'" for s in INITIATIVE_STATES) + ")",
            name="state_known",
        ),
        CheckConstraint("support_count >= 0", name="support_count_not_negative"),
        UniqueConstraint("initiator_id", "creation_key"),
        Index("ix_initiatives_state_published", "state", "published_at", "id"),
        # The showcase and the feeds: newest published first, read backwards from the start.
        Index("ix_initiatives_published", "published_at", "id"),
        # Only the public ones (migration 0011). The showcase's page of ids, newest first, and
        # from the other end for the last pages, without visiting the table...
        Index(
            "ix_initiatives_public_newest",
            "published_at",
            "id",
            postgresql_where=text(PUBLIC_CONDITION),
            sqlite_where=text(PUBLIC_CONDITION),
        ),
        # ... and their count, and "is it public?" for the ids a filter on a link table finds.
        Index(
            "ix_initiatives_public_id",
            "id",
            postgresql_where=text(PUBLIC_CONDITION),
            sqlite_where=text(PUBLIC_CONDITION),
        ),
        # The showcase's search (ILIKE '%word%' in title and pitch): trigram indexes on
        # PostgreSQL (pg_trgm). SQLite has no GIN: there they are plain indexes, unused.
        Index(
            "ix_initiatives_title_trgm",
            "title",
            postgresql_using="gin",
            postgresql_ops={"title": "gin_trgm_ops"},
        ),
        Index(
            "ix_initiatives_pitch_trgm",
            "pitch",
            postgresql_using="gin",
            postgresql_ops={"pitch": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The readable part of the public URL: /initiatieven/<id>-<slug>. Made from the title.
    slug: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(20), default=InitiativeState.DRAFT.value)
    initiator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # One "new initiative" click, however often it is posted, makes one draft.
    creation_key: Mapped[str] = mapped_column(String(64))

    title: Mapped[str] = mapped_column(String(120), default="")
    pitch: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    citywide: Mapped[bool] = mapped_column(Boolean, default=False)
    # How people can get in touch, in the initiator's words (never an e-mail address: the
    # portal relays messages).
    contact_note: Mapped[str] = mapped_column(Text, default="")

    # The case officers' check before publication: due 2 working days after submission.
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_due: Mapped[date | None] = mapped_column(Date)
    changes_message: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    guide_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    # Kept equal to the number of Support rows by the statement that adds or removes one.
    support_count: Mapped[int] = mapped_column(Integer, default=0)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    initiator: Mapped[User] = relationship(foreign_keys=[initiator_id])
    guide: Mapped[User | None] = relationship(foreign_keys=[guide_id])
    district_links: Mapped[list[InitiativeDistrict]] = relationship(
        cascade="all, delete-orphan", order_by="InitiativeDistrict.district_id"
    )
    theme_links: Mapped[list[InitiativeTheme]] = relationship(
        cascade="all, delete-orphan", order_by="InitiativeTheme.theme"
    )
    help_links: Mapped[list[InitiativeHelp]] = relationship(
        cascade="all, delete-orphan", order_by="InitiativeHelp.kind"
    )
    # The initiative's own photos (not those of an update); rows go with the initiative through
    # ON DELETE CASCADE.
    photos: Mapped[list[InitiativePhoto]] = relationship(
        order_by="InitiativePhoto.position, InitiativePhoto.id",
        primaryjoin="and_(InitiativePhoto.initiative_id == Initiative.id, "
        "InitiativePhoto.update_id.is_(None))",
        viewonly=True,
    )

    @property
    def districts(self) -> list[District]:
        return [link.district for link in self.district_links]

    @property
    def themes(self) -> list[str]:
        return [link.theme for link in self.theme_links]

    @property
    def help_wanted(self) -> list[str]:
        return [link.kind for link in self.help_links]

    @property
    def is_public(self) -> bool:
        return self.state in PUBLIC_STATES

    @property
    def path_key(self) -> str:
        """``<id>-<slug>``: the id finds it, the slug makes the URL readable."""
        return f"{self.id}-{self.slug}" if self.slug else str(self.id)


class InitiativeCount(db.Model):
    """How many published initiatives (``published_at`` set) are in a state. Kept by the
    database itself: triggers on ``initiatives`` (migration 0012) add and subtract on every
    insert, change of state or publication, and delete, so the showcase's count without filters
    (or with only a status) sums the rows of the public states instead of counting initiatives."""

    __tablename__ = "initiative_counts"

    state: Mapped[str] = mapped_column(String(20), primary_key=True)
    total: Mapped[int] = mapped_column(Integer, default=0)


class InitiativeDistrict(db.Model):
    __tablename__ = "initiative_districts"
    __table_args__ = (Index("ix_initiative_districts_district", "district_id", "initiative_id"),)

    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), primary_key=True
    )
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), primary_key=True)

    district: Mapped[District] = relationship()


class InitiativeTheme(db.Model):
    """One of the seven kaders of the action plan (``applications.labels.KADER_LABELS``)."""

    __tablename__ = "initiative_themes"
    __table_args__ = (Index("ix_initiative_themes_theme", "theme", "initiative_id"),)

    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), primary_key=True
    )
    theme: Mapped[str] = mapped_column(String(40), primary_key=True)


class InitiativeHelp(db.Model):
    """A kind of help the initiator asks for (``HELP_KINDS``)."""

    __tablename__ = "initiative_help"
    __table_args__ = (Index("ix_initiative_help_kind", "kind", "initiative_id"),)

    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)


class InitiativePhoto(db.Model):
    """A photo of the initiative (or of one update). Stored by ``uploads.store``; the worker
    removes its metadata (EXIF, location included) and makes the thumbnail, then sets ``ready``.
    Only ready photos are shown."""

    __tablename__ = "initiative_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    update_id: Mapped[int | None] = mapped_column(
        ForeignKey("initiative_updates.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    storage_key: Mapped[str] = mapped_column(String(80), unique=True)
    thumbnail_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    display_name: Mapped[str] = mapped_column(String(160))
    size: Mapped[int] = mapped_column(Integer)
    # Describes the photo for people who cannot see it (alt text).
    description: Mapped[str] = mapped_column(String(200), default="")
    ready: Mapped[bool] = mapped_column(Boolean, default=False)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InitiativeUpdate(db.Model):
    """One entry of the public timeline: a change of status, an update by the initiator (text and
    photos), or a public milestone of the wijkbudget application made from it."""

    __tablename__ = "initiative_updates"
    __table_args__ = (
        CheckConstraint("kind IN ('status', 'update', 'milestone')", name="kind_known"),
        Index("ix_initiative_updates_initiative", "initiative_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    # For "status": the new state; for "milestone": "application_submitted" or "granted".
    code: Mapped[str | None] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()
    photos: Mapped[list[InitiativePhoto]] = relationship(
        order_by="InitiativePhoto.position, InitiativePhoto.id", viewonly=True
    )


class Support(db.Model):
    """ "Ik steun dit": once per person (the primary key), undone by deleting the row."""

    __tablename__ = "initiative_supports"

    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HelpOffer(db.Model):
    """A resident offers help: what kind, what exactly, and how much time."""

    __tablename__ = "initiative_help_offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    what: Mapped[str] = mapped_column(Text)
    time_available: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
    messages: Mapped[list[InitiativeMessage]] = relationship(
        order_by="InitiativeMessage.id", viewonly=True
    )


class InitiativeMessage(db.Model):
    """A message the portal relays between the initiator and someone else (an answer to an offer
    of help, or a question through the contact form). Addresses are never shown."""

    __tablename__ = "initiative_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    help_offer_id: Mapped[int | None] = mapped_column(
        ForeignKey("initiative_help_offers.id", ondelete="CASCADE"), index=True
    )
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sender: Mapped[User] = relationship(foreign_keys=[sender_id])
    recipient: Mapped[User] = relationship(foreign_keys=[recipient_id])


class Comment(db.Model):
    __tablename__ = "initiative_comments"
    __table_args__ = (Index("ix_initiative_comments_initiative", "initiative_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Hidden by a case officer (with the reason the author is told); restoring clears these.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    report_count: Mapped[int] = mapped_column(Integer, default=0)

    author: Mapped[User] = relationship(foreign_keys=[author_id])

    @property
    def hidden(self) -> bool:
        return self.hidden_at is not None


class CommentReport(db.Model):
    """Someone signed in reports a comment; once per person per comment."""

    __tablename__ = "initiative_comment_reports"

    comment_id: Mapped[int] = mapped_column(
        ForeignKey("initiative_comments.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Dealt with by a case officer (hidden, or left as it is).
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CommentBlock(db.Model):
    """A user a case officer blocked from commenting (with the reason); lifting it deletes the
    row."""

    __tablename__ = "initiative_comment_blocks"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
