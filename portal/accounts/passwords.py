"""Password hashing (argon2) and the strength rules."""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
_hasher = PasswordHasher()
# Common passwords: Django's list (BSD licence, see data/LICENSE-common-passwords.txt) plus a few
# Dutch ones it lacks.
_COMMON_FILE = Path(__file__).parent / "data" / "common-passwords.txt.gz"
_DUTCH_COMMON = {
    "wachtwoord123",
    "wachtwoord1234",
    "welkom123456",
    "welkomwelkom",
    "wijkkracht123",
    "enschede1234",
    "enschede12345",
    "fctwente1965",
    "wachtwoordwachtwoord",
}


@cache
def _common_passwords() -> frozenset[str]:
    with gzip.open(_COMMON_FILE, "rt", encoding="utf-8") as handle:
        words = {line.strip().lower() for line in handle if line.strip()}
    return frozenset(words | _DUTCH_COMMON)


def use_fast_hashing() -> None:
    """Cheap argon2 parameters, for the test suite only (create_app allows it only when testing).
    Hashes carry their own parameters, so verification stays correct either way."""
    global _hasher
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def is_common(password: str) -> bool:
    return password.strip().lower() in _common_passwords()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# Checked against during a login for an unknown address, so that timing does not reveal whether
# an account exists.
DUMMY_HASH = _hasher.hash("not-a-real-password-only-for-timing")
