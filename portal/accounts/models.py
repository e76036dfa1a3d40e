"""Users, their staff roles, the boroughs a case officer handles, and login attempts."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.districts.models import Borough, CouncilMembership, District
from portal.extensions import db
from portal.timeutil import UTCDateTime, utcnow


class Role(StrEnum):
    """Roles held directly. Council membership is its own table (see CouncilMembership)."""

    RESIDENT = "resident"
    CASE_OFFICER = "case_officer"
    FINANCE = "finance"
    ADMIN = "admin"


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # Always stored lower-case, so uniqueness is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    pending_email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    postcode: Mapped[str | None] = mapped_column(String(6))
    house_number: Mapped[str | None] = mapped_column(String(10))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), index=True)
    adult_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locale: Mapped[str] = mapped_column(String(5), default="nl")
    # Flask-Login's id: rotating it logs out every session of this user.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    district: Mapped[District | None] = relationship()
    # Loaded with the user in one query by the login loader (``load_user`` in web.py); for other
    # users, on first use.
    role_links: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )
    memberships: Mapped[list[CouncilMembership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )
    handled_boroughs: Mapped[list[Borough]] = relationship(
        secondary="case_officer_boroughs", order_by="Borough.name"
    )

    # --- Flask-Login -------------------------------------------------------------------------
    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    # --- Roles -------------------------------------------------------------------------------
    @property
    def roles(self) -> set[str]:
        found = {link.role for link in self.role_links}
        if self.memberships:
            found.add("council_member")
        return found

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & {Role.CASE_OFFICER, Role.FINANCE, Role.ADMIN})

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class UserRole(db.Model):
    __tablename__ = "user_roles"
    __table_args__ = (
        CheckConstraint(
            "role IN ('resident', 'case_officer', 'finance', 'admin')", name="role_known"
        ),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)

    user: Mapped[User] = relationship(back_populates="role_links")


class CaseOfficerBorough(db.Model):
    __tablename__ = "case_officer_boroughs"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    borough_id: Mapped[int] = mapped_column(
        ForeignKey("boroughs.id", ondelete="CASCADE"), primary_key=True
    )


class LoginAttempt(db.Model):
    """Failed and successful logins, counted per account and per client address for throttling."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_created", "email", "created_at"),
        Index("ix_login_attempts_address_created", "address", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
