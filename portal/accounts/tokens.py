"""Signed, expiring links for e-mail verification and password reset.

Each token carries what makes it single-use: a verification token names the address it
verifies; a reset token carries a fingerprint of the current password hash, so it stops working
once the password has changed.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

VERIFY_SALT = "wijkkracht-verify-email"
RESET_SALT = "wijkkracht-reset-password"


class TokenInvalid(Exception):
    """The link was altered or does not belong to this account."""


class TokenExpired(Exception):
    """The link is genuine but too old."""


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _load(salt: str, token: str, max_age: int) -> Any:
    try:
        return _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise TokenExpired from error
    except BadSignature as error:
        raise TokenInvalid from error


def make_verify_token(user_id: int, email: str) -> str:
    return _serializer(VERIFY_SALT).dumps({"u": user_id, "e": email})


def read_verify_token(token: str) -> tuple[int, str]:
    data = _load(VERIFY_SALT, token, current_app.config["PORTAL_VERIFY_MAX_AGE"])
    if not isinstance(data, dict) or "u" not in data or "e" not in data:
        raise TokenInvalid
    return int(data["u"]), str(data["e"])


def password_fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def make_reset_token(user_id: int, password_hash: str) -> str:
    return _serializer(RESET_SALT).dumps({"u": user_id, "p": password_fingerprint(password_hash)})


def read_reset_token(token: str) -> tuple[int, str]:
    data = _load(RESET_SALT, token, current_app.config["PORTAL_RESET_MAX_AGE"])
    if not isinstance(data, dict) or "u" not in data or "p" not in data:
        raise TokenInvalid
    return int(data["u"]), str(data["p"])


DRAFT_SALT = "wijkkracht-draft"


def make_draft_token(user_id: int, application_id: int) -> str:
    """Rendered in a draft's form: proves a post was typed by this user into this draft.

    When the session (and with it the CSRF token) expired while the resident typed, this token
    lets the portal keep what was typed for that resident, and for no one else.
    """
    return _serializer(DRAFT_SALT).dumps({"u": user_id, "a": application_id})


def read_draft_token(token: str) -> tuple[int, int]:
    data = _load(DRAFT_SALT, token, current_app.config["PORTAL_DRAFT_TOKEN_MAX_AGE"])
    if not isinstance(data, dict) or "u" not in data or "a" not in data:
        raise TokenInvalid
    return int(data["u"]), int(data["a"])
