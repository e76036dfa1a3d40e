"""The verbs of accounts: register, verify, log in, reset and change. They flush, audit and
record notifications; they never commit (the view commits once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from portal.accounts import tokens
from portal.accounts.models import LoginAttempt, Role, User, UserRole, new_session_token
from portal.accounts.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password
from portal.audit.services import record
from portal.districts.models import District
from portal.extensions import db
from portal.notifications.services import absolute_url, notify
from portal.timeutil import utcnow


class AccountError(Exception):
    """A domain error the view turns into a form message."""


class EmailTaken(AccountError):
    pass


class NotVerified(AccountError):
    def __init__(self, user: User) -> None:
        super().__init__("not verified")
        self.user = user


@dataclass(frozen=True)
class Throttle:
    retry_at: datetime

    @property
    def retry_after_seconds(self) -> int:
        return max(1, int((self.retry_at - utcnow()).total_seconds()) + 1)


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def register(
    *,
    name: str,
    email: str,
    password: str,
    postcode: str,
    house_number: str,
    district: District,
    locale: str = "nl",
) -> User:
    email = email.strip().lower()
    if find_by_email(email) is not None:
        raise EmailTaken(email)
    user = User(
        name=name,
        email=email,
        password_hash=hash_password(password),
        postcode=postcode,
        house_number=house_number.upper(),
        district=district,
        adult_confirmed_at=utcnow(),
        locale=locale,
    )
    user.role_links.append(UserRole(role=Role.RESIDENT.value))
    db.session.add(user)
    db.session.flush()
    record(actor_id=user.id, action="account.registered", object_type="user", object_id=user.id)
    send_verification(user)
    return user


def send_verification(user: User) -> None:
    link = absolute_url(
        "accounts.verify_email", token=tokens.make_verify_token(user.id, user.email)
    )
    notify(
        user,
        "account_verify_email",
        link=link,
        object_type="user",
        object_id=user.id,
        mandatory=True,
        hours=current_app.config["PORTAL_VERIFY_MAX_AGE"] // 3600,
    )


def verify_email(token: str) -> User:
    """Mark the address in the token verified. Raises TokenInvalid or TokenExpired."""
    user_id, email = tokens.read_verify_token(token)
    user = db.session.get(User, user_id)
    if user is None:
        raise tokens.TokenInvalid
    if user.email == email:
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()
            record(
                actor_id=user.id,
                action="account.email_verified",
                object_type="user",
                object_id=user.id,
            )
        return user
    if user.pending_email == email:
        # A change of address, confirmed from the new mailbox.
        if find_by_email(email) is not None:
            raise tokens.TokenInvalid
        old = user.email
        user.email = email
        user.pending_email = None
        user.email_verified_at = utcnow()
        record(
            actor_id=user.id,
            action="account.email_changed",
            object_type="user",
            object_id=user.id,
            from_state=old,
            to_state=email,
        )
        return user
    raise tokens.TokenInvalid


def throttle_for(email: str, address: str) -> Throttle | None:
    """Too many failed logins for this account or from this address within the window?"""
    config = current_app.config
    window = timedelta(seconds=config["PORTAL_LOGIN_WINDOW_SECONDS"])
    since = utcnow() - window
    checks = (
        (LoginAttempt.email == email, config["PORTAL_LOGIN_MAX_PER_ACCOUNT"]),
        (LoginAttempt.address == address, config["PORTAL_LOGIN_MAX_PER_ADDRESS"]),
    )
    for condition, limit in checks:
        count, oldest = db.session.execute(
            select(func.count(LoginAttempt.id), func.min(LoginAttempt.created_at)).where(
                condition, LoginAttempt.succeeded.is_(False), LoginAttempt.created_at > since
            )
        ).one()
        if count >= limit:
            oldest_at = oldest if oldest.tzinfo else oldest.replace(tzinfo=utcnow().tzinfo)
            return Throttle(retry_at=oldest_at + window)
    return None


def authenticate(email: str, password: str, address: str) -> User | None:
    """Check the password. Every attempt is recorded for throttling; an unknown address costs
    the same time as a known one, so the answer reveals nothing."""
    email = email.strip().lower()
    user = find_by_email(email)
    ok = verify_password(user.password_hash if user else DUMMY_HASH, password)
    ok = ok and user is not None and user.active
    db.session.add(LoginAttempt(email=email[:254], address=address[:64], succeeded=bool(ok)))
    if not ok or user is None:
        return None
    if not user.is_verified:
        raise NotVerified(user)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    record(actor_id=user.id, action="account.logged_in", object_type="user", object_id=user.id)
    return user


def request_password_reset(email: str) -> None:
    """Send a reset link if the account exists; say nothing either way."""
    user = find_by_email(email)
    if user is None or not user.active:
        return
    link = absolute_url(
        "accounts.reset_password", token=tokens.make_reset_token(user.id, user.password_hash)
    )
    notify(
        user,
        "account_reset_password",
        link=link,
        object_type="user",
        object_id=user.id,
        mandatory=True,
        minutes=current_app.config["PORTAL_RESET_MAX_AGE"] // 60,
    )
    record(actor_id=None, action="account.reset_requested", object_type="user", object_id=user.id)


def user_for_reset_token(token: str) -> User:
    user_id, fingerprint = tokens.read_reset_token(token)
    user = db.session.get(User, user_id)
    if user is None or tokens.password_fingerprint(user.password_hash) != fingerprint:
        raise tokens.TokenInvalid
    return user


def set_password(user: User, password: str, *, action: str) -> None:
    """Set a new password and end every other session of this user."""
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()
    if action == "account.password_reset" and user.email_verified_at is None:
        # The reset link reached this mailbox, which proves the address.
        user.email_verified_at = utcnow()
    record(actor_id=user.id, action=action, object_type="user", object_id=user.id)
    notify(
        user,
        "account_password_changed",
        link=absolute_url("accounts.forgot_password"),
        object_type="user",
        object_id=user.id,
        mandatory=True,
    )


def check_password(user: User, password: str) -> bool:
    return verify_password(user.password_hash, password)


def request_email_change(user: User, new_email: str) -> None:
    new_email = new_email.strip().lower()
    if find_by_email(new_email) is not None:
        raise EmailTaken(new_email)
    user.pending_email = new_email
    record(
        actor_id=user.id,
        action="account.email_change_requested",
        object_type="user",
        object_id=user.id,
        to_state=new_email,
    )
    link = absolute_url("accounts.verify_email", token=tokens.make_verify_token(user.id, new_email))
    notify(
        user,
        "account_confirm_new_email",
        link=link,
        recipient=new_email,
        object_type="user",
        object_id=user.id,
        mandatory=True,
        new_email=new_email,
        hours=current_app.config["PORTAL_VERIFY_MAX_AGE"] // 3600,
    )


def set_locale(user: User, locale: str) -> None:
    if locale in current_app.config["PORTAL_LOCALES"]:
        user.locale = locale
