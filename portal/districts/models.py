"""Boroughs (stadsdelen), districts (wijken) with their postcode ranges, councils and budgets."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db

if TYPE_CHECKING:
    from portal.accounts.models import User


class Borough(db.Model):
    __tablename__ = "boroughs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)

    districts: Mapped[list[District]] = relationship(
        back_populates="borough", order_by="District.name"
    )

    def __repr__(self) -> str:
        return f"<Borough {self.name}>"


council_districts = Table(
    "council_districts",
    db.metadata,
    Column("council_id", ForeignKey("councils.id", ondelete="CASCADE"), primary_key=True),
    Column("district_id", ForeignKey("districts.id", ondelete="CASCADE"), primary_key=True),
)


class District(db.Model):
    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    borough_id: Mapped[int] = mapped_column(ForeignKey("boroughs.id"), index=True)

    borough: Mapped[Borough] = relationship(back_populates="districts")
    postcode_ranges: Mapped[list[PostcodeRange]] = relationship(
        back_populates="district", cascade="all, delete-orphan", order_by="PostcodeRange.start"
    )
    councils: Mapped[list[Council]] = relationship(
        secondary=council_districts, back_populates="districts", order_by="Council.name"
    )

    def __repr__(self) -> str:
        return f"<District {self.name}>"


class PostcodeRange(db.Model):
    """An inclusive range of normalised postcodes (``7511AA`` .. ``7511ZZ``) in one district."""

    __tablename__ = "postcode_ranges"
    __table_args__ = (
        CheckConstraint("length(start) = 6 AND length(end_) = 6", name="six_characters"),
        CheckConstraint("start <= end_", name="ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(
        ForeignKey("districts.id", ondelete="CASCADE"), index=True
    )
    start: Mapped[str] = mapped_column(String(6), index=True)
    end: Mapped[str] = mapped_column("end_", String(6))

    district: Mapped[District] = relationship(back_populates="postcode_ranges")


class CouncilKind(StrEnum):
    WIJKRAAD = "wijkraad"
    DORPSRAAD = "dorpsraad"
    BUURTKRING = "buurtkring"
    WIJKPLATFORM = "wijkplatform"
    THEMANETWERK = "themanetwerk"
    BUURTNETWERK = "buurtnetwerk"


class Council(db.Model):
    __tablename__ = "councils"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('wijkraad', 'dorpsraad', 'buurtkring', 'wijkplatform', 'themanetwerk', "
            "'buurtnetwerk')",
            name="kind_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))

    districts: Mapped[list[District]] = relationship(
        secondary=council_districts, back_populates="councils", order_by="District.name"
    )
    memberships: Mapped[list[CouncilMembership]] = relationship(
        back_populates="council", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Council {self.name}>"


class MembershipRole(StrEnum):
    MEMBER = "member"
    CHAIR = "chair"
    SECRETARY = "secretary"


class CouncilMembership(db.Model):
    __tablename__ = "council_memberships"
    __table_args__ = (
        UniqueConstraint("council_id", "user_id"),
        CheckConstraint("role IN ('member', 'chair', 'secretary')", name="role_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20), default=MembershipRole.MEMBER.value)

    council: Mapped[Council] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships")

    @property
    def may_submit_advice(self) -> bool:
        return self.role in (MembershipRole.CHAIR, MembershipRole.SECRETARY)


class DistrictBudget(db.Model):
    """The wijkbudget of one district in one calendar year, in euro cents.

    The four totals are derived from the ledger: a database trigger adds every new
    ``LedgerEntry`` to them, and the check constraint ``never_overspent`` makes the database
    refuse any entry (or any direct statement) that would spend more than was allocated.
    """

    __tablename__ = "district_budgets"
    __table_args__ = (
        UniqueConstraint("district_id", "year"),
        CheckConstraint("allocated_cents >= 0", name="allocated_not_negative"),
        CheckConstraint("committed_cents >= 0", name="committed_not_negative"),
        CheckConstraint("paid_cents >= 0", name="paid_not_negative"),
        CheckConstraint("recovered_cents >= 0", name="recovered_not_negative"),
        CheckConstraint("recovered_cents <= paid_cents", name="recovered_within_paid"),
        CheckConstraint(
            "committed_cents + paid_cents - recovered_cents <= allocated_cents",
            name="never_overspent",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    allocated_cents: Mapped[int] = mapped_column(Integer, default=0)
    committed_cents: Mapped[int] = mapped_column(Integer, default=0)
    paid_cents: Mapped[int] = mapped_column(Integer, default=0)
    recovered_cents: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def remaining_cents(self) -> int:
        return self.allocated_cents - self.committed_cents - self.paid_cents + self.recovered_cents

    district: Mapped[District] = relationship()
