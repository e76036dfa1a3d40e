"""The harness itself: each test's changes are rolled back."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.extensions import db

MARKER = "rollback-proof@example.org"


def test_a_test_can_write_and_commit(factory) -> None:
    factory.user(email=MARKER)
    db.session.commit()
    assert db.session.scalar(select(func.count()).where(User.email == MARKER)) == 1


def test_the_previous_test_left_nothing_behind(database) -> None:
    assert db.session.scalar(select(func.count()).where(User.email == MARKER)) == 0
