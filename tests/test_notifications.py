"""The notifications core: one outbox, delivered after the commit, retried, never doubled."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
import redis
from sqlalchemy import func, select, update

from portal.extensions import db
from portal.notifications import jobs
from portal.notifications.models import EmailState, Notification
from portal.notifications.services import notify
from portal.timeutil import utcnow
from tests.conftest import free_port, make_app, reset_schema

REDIS_TEST_URL = f"redis://127.0.0.1:6379/{os.environ.get('PORTAL_TEST_REDIS_DB', '14')}"


def make_notification(user: Any) -> Notification:
    notification = notify(user, "account_password_changed", link="http://localhost/x")
    db.session.commit()
    return notification


def test_nothing_is_sent_when_the_change_rolls_back(database, factory, mailbox) -> None:
    user = factory.user()
    db.session.commit()
    notify(user, "account_password_changed", link="http://localhost/x")
    db.session.rollback()
    from portal.notifications.dispatch import dispatch_committed

    dispatch_committed()
    assert mailbox.messages == []
    assert (
        db.session.scalar(
            select(func.count(Notification.id)).where(Notification.user_id == user.id)
        )
        == 0
    )


def test_delivering_twice_sends_once(database, factory, mailbox) -> None:
    notification = make_notification(factory.user())
    assert jobs.deliver(notification.id).startswith("250")
    assert jobs.deliver(notification.id) == "not due or already taken"
    assert len(mailbox.messages) == 1
    db.session.refresh(notification)
    assert notification.email_state == "sent" and notification.attempts == 1
    assert notification.smtp_response.startswith("250")
    # The Message-ID is the notification's own, so a receiver can drop a duplicate.
    assert mailbox.messages[0]["Message-ID"] == notification.message_id


def test_refused_mail_is_retried_with_backoff_then_failed(database, factory, mailbox) -> None:
    mailbox.refuse = True
    notification = make_notification(factory.user())
    waits = []
    for attempt in range(1, 6):
        result = jobs.deliver(notification.id)
        assert result.startswith("failed")
        db.session.refresh(notification)
        assert notification.attempts == attempt
        assert "451" in notification.last_error
        if attempt < 5:
            assert notification.email_state == "waiting"
            waits.append(round((notification.next_attempt_at - utcnow()).total_seconds() / 60))
            # Not due yet: a second delivery does nothing.
            assert jobs.deliver(notification.id) == "not due or already taken"
            db.session.execute(
                update(Notification)
                .where(Notification.id == notification.id)
                .values(next_attempt_at=utcnow() - timedelta(seconds=1))
            )
            db.session.commit()
    assert waits == [1, 5, 30, 120]
    assert notification.email_state == "failed"
    assert mailbox.messages == []


def test_a_stale_claim_is_handed_out_again(database, factory, mailbox) -> None:
    notification = make_notification(factory.user())
    # A worker claimed it and was killed before it could send.
    db.session.execute(
        update(Notification)
        .where(Notification.id == notification.id)
        .values(email_state="sending", claimed_at=utcnow() - timedelta(minutes=11), attempts=1)
    )
    db.session.commit()
    assert notification.id in jobs.due_notification_ids()
    jobs.deliver(notification.id)
    assert len(mailbox.messages) == 1


def test_a_claim_left_after_the_last_attempt_counts_as_failed(database, factory, mailbox) -> None:
    notification = make_notification(factory.user())
    db.session.execute(
        update(Notification)
        .where(Notification.id == notification.id)
        .values(email_state="sending", claimed_at=utcnow() - timedelta(minutes=11), attempts=5)
    )
    db.session.commit()
    assert notification.id not in jobs.due_notification_ids()
    db.session.refresh(notification)
    assert notification.email_state == EmailState.FAILED
    assert mailbox.messages == []


def test_an_address_the_server_cannot_take_fails_instead_of_hanging(
    database, factory, mailbox
) -> None:
    user = factory.user()
    user.email = "jöe@exämple.org"
    notification = make_notification(user)
    db.session.commit()
    assert jobs.deliver(notification.id).startswith("failed")
    db.session.refresh(notification)
    assert notification.email_state == EmailState.WAITING  # retried later, then failed
    assert notification.attempts == 1
    assert "UnicodeEncodeError" in notification.last_error


def test_inbox_shows_notifications_with_unread_count(client, factory, login_as) -> None:
    user = factory.user()
    other = factory.user()
    mine = make_notification(user)
    theirs = make_notification(other)
    login_as(user)
    page = client.get("/berichten/").get_data(as_text=True)
    assert mine.subject in page
    assert '<span class="badge">1' in page
    assert client.get(f"/berichten/{theirs.id}").status_code == 404
    detail = client.get(f"/berichten/{mine.id}")
    assert detail.status_code == 200 and "Op andere apparaten bent u uitgelogd" in detail.get_data(
        as_text=True
    )
    # The page that marks it read no longer counts it (the count comes with the signed-in user).
    assert '<span class="badge">' not in detail.get_data(as_text=True)
    assert '<span class="badge">' not in client.get("/berichten/").get_data(as_text=True)


def test_inbox_queries_do_not_grow_with_messages(client, factory, login_as, count_queries) -> None:
    user = factory.user()
    login_as(user)
    make_notification(user)
    with count_queries() as few:
        client.get("/berichten/")
    for _ in range(30):
        notify(user, "account_password_changed", link="http://localhost/x", email=False)
    db.session.commit()
    with count_queries() as many:
        page = client.get("/berichten/?page=2")
    assert page.status_code == 200
    assert many.count == few.count


# --- with Redis and a real RQ worker ---------------------------------------------------


@pytest.fixture
def worker_app(smtp_server, monkeypatch) -> Any:
    """An app on its own committed database, with Redis, like production."""
    mailbox, smtp_port = smtp_server
    mailbox.messages.clear()
    mailbox.refuse = False
    name = "wijkkracht_test_worker"
    app = make_app(
        name,
        TESTING=False,
        RQ_ASYNC=True,
        PORTAL_REDIS_URL=REDIS_TEST_URL,
        RQ_CONNECTION=REDIS_TEST_URL,
        PORTAL_MAIL_BACKEND="smtp",
        PORTAL_SMTP_HOST="127.0.0.1",
        PORTAL_SMTP_PORT=smtp_port,
    )
    reset_schema(app)
    with app.app_context():
        from portal.demo import seed_demo

        seed_demo()
        db.session.commit()
    redis.Redis.from_url(REDIS_TEST_URL).flushdb()
    # The worker's job processes build the app from the environment.
    monkeypatch.setenv("FLASK_APP", "portal:create_app")
    monkeypatch.setenv("PORTAL_DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    monkeypatch.setenv("PORTAL_REDIS_URL", REDIS_TEST_URL)
    monkeypatch.setenv("PORTAL_MAIL_BACKEND", "smtp")
    monkeypatch.setenv("PORTAL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PORTAL_SMTP_PORT", str(smtp_port))
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", app.instance_path)
    monkeypatch.setenv("PORTAL_SECRET_KEY", app.config["SECRET_KEY"])
    yield app, mailbox
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def run_worker_burst(app: Any) -> None:
    from rq.serializers import JSONSerializer

    from portal.extensions import rq

    with app.app_context():
        rq.make_worker(serializer=JSONSerializer).work(burst=True)


def register(app: Any, email: str) -> int:
    client = app.test_client()
    response = client.post(
        "/account-maken",
        data={
            "name": "Via De Worker",
            "email": email,
            "password": "een-lange-zin-als-wachtwoord",
            "password_confirm": "een-lange-zin-als-wachtwoord",
            "postcode": "7511AB",
            "house_number": "1",
            "adult": "y",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    with app.app_context():
        return db.session.scalar(select(Notification.id).where(Notification.recipient == email))


@pytest.mark.redis
def test_with_redis_worker_py_sends_the_mail(worker_app) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    app, mailbox = worker_app
    notification_id = register(app, "via-worker@example.org")
    # Queued, not sent by the web process.
    assert mailbox.to("via-worker@example.org") == []
    result = subprocess.run(
        [sys.executable, "worker.py", "--burst"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(mailbox.to("via-worker@example.org")) == 1, result.stderr[-3000:]
    with app.app_context():
        assert db.session.get(Notification, notification_id).email_state == EmailState.SENT


@pytest.mark.redis
def test_with_redis_down_registration_succeeds_and_mail_follows(worker_app) -> None:
    app, mailbox = worker_app
    dead = f"redis://127.0.0.1:{free_port()}/0"
    down_app = make_app(
        "wijkkracht_test_worker",
        TESTING=False,
        RQ_ASYNC=True,
        PORTAL_REDIS_URL=dead,
        RQ_CONNECTION=dead,
        PORTAL_MAIL_BACKEND="smtp",
        PORTAL_SMTP_HOST=app.config["PORTAL_SMTP_HOST"],
        PORTAL_SMTP_PORT=app.config["PORTAL_SMTP_PORT"],
    )
    notification_id = register(down_app, "redis-down@example.org")
    with down_app.app_context():
        assert db.session.get(Notification, notification_id).email_state == EmailState.WAITING
        db.engine.dispose()
    assert mailbox.to("redis-down@example.org") == []
    # Redis is back: the relay (run by worker.py every few seconds) hands the mail over.
    with app.app_context():
        db.session.execute(
            update(Notification)
            .where(Notification.id == notification_id)
            .values(created_at=utcnow() - timedelta(minutes=1))
        )
        db.session.commit()
        assert jobs.relay_outbox() == 1
    run_worker_burst(app)
    assert len(mailbox.to("redis-down@example.org")) == 1
    # Relaying and working again sends nothing twice.
    with app.app_context():
        assert jobs.relay_outbox() == 0
    run_worker_burst(app)
    assert len(mailbox.to("redis-down@example.org")) == 1


def test_worker_script_refuses_without_redis(monkeypatch) -> None:
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env["PORTAL_DATABASE_URL"] = "sqlite://"
    result = subprocess.run(
        [sys.executable, "worker.py", "--burst"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "PORTAL_REDIS_URL is not set" in result.stderr


def test_plain_parts_are_plain_and_the_html_part_is_escaped(database, factory) -> None:
    """ "Tom & Jerry" stays itself in the subject, the text and the inbox; only the HTML part
    escapes, and a line break in a title never reaches the Subject header."""
    user = factory.user(name="Tom & Jerry <b>")
    notification = notify(user, "account_password_changed", link="http://localhost/x")
    assert "Tom & Jerry <b>" in notification.body_text
    assert "&amp;" not in notification.body_text and "&lt;" not in notification.body_text
    assert "Tom &amp; Jerry &lt;b&gt;" in notification.body_html
    assert "<b>" not in notification.body_html.replace("<body", "")
    assert "\n" not in notification.subject
