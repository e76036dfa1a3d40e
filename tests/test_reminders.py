"""Reminders go out once: the council before its advice is due, the case officers before and
after the decision deadline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.notifications.models import Notification
from portal.reviews import advice
from portal.reviews.reminders import send_review_reminders
from portal.timeutil import local_today
from tests.test_decisions import ask_advice, in_review


@pytest.fixture
def people(factory) -> dict[str, Any]:
    return {
        "applicant": factory.user(postcode="7533AB"),
        "officer": factory.user(roles=("case_officer",), boroughs=("Oost",)),
        "elsewhere": factory.user(roles=("case_officer",), boroughs=("Zuid",)),
        "chair": factory.user(postcode="7533AD", council=("Dorpsraad Glanerbrug", "chair")),
        "member": factory.user(postcode="7533AE", council=("Dorpsraad Glanerbrug", "member")),
        "neighbours": [factory.user(postcode="7533AC") for _ in range(5)],
    }


def kinds_for(user: Any) -> list[str]:
    return sorted(
        db.session.scalars(
            select(Notification.kind).where(
                Notification.user_id == user.id,
                Notification.kind.in_(["advice_reminder", "decision_due_soon", "decision_overdue"]),
            )
        )
    )


def test_the_council_is_reminded_three_days_before_the_advice_is_due(people) -> None:
    application = in_review(people)
    ask_advice(application, people)
    advice.declare_conflict(application, people["member"], "Mijn buurman")
    due = application.advice_request.due_date
    assert send_review_reminders(due - timedelta(days=4)) == 0
    send_review_reminders(due - timedelta(days=3))
    send_review_reminders(due - timedelta(days=1))
    assert kinds_for(people["chair"]) == ["advice_reminder"]
    assert kinds_for(people["member"]) == []  # declared a conflict: not asked any more


def test_case_officers_hear_of_a_deadline_within_a_week_and_when_it_passed(people) -> None:
    application = in_review(people, cents=39_000)
    deadline = application.decision_deadline
    send_review_reminders(deadline - timedelta(days=8))
    assert kinds_for(people["officer"]) == []
    send_review_reminders(deadline - timedelta(days=7))
    send_review_reminders(deadline - timedelta(days=2))
    assert kinds_for(people["officer"]) == ["decision_due_soon"]
    send_review_reminders(deadline + timedelta(days=1))
    send_review_reminders(deadline + timedelta(days=5))
    assert kinds_for(people["officer"]) == ["decision_due_soon", "decision_overdue"]
    assert kinds_for(people["elsewhere"]) == []  # another borough
    assert local_today() <= deadline
