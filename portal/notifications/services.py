"""Recording notifications. The one path for every e-mail.

``notify`` renders the message in the recipient's language and adds the row to the current
transaction; it never commits and never sends. After the commit, ``dispatch`` hands the new rows
to the worker (or, without Redis, delivers them in-process).
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from jinja2 import Environment
from markupsafe import Markup
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.extensions import db
from portal.notifications.kinds import Delivery, is_mandatory
from portal.notifications.models import EmailState, Notification, NotificationPreference

PENDING_KEY = "wijkkracht_new_notifications"


def absolute_url(endpoint: str, **values: Any) -> str:
    """A full link for e-mails, built on ``PORTAL_BASE_URL`` (also outside a request)."""
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        with current_app.test_request_context():
            path = url_for(endpoint, **values)
    return current_app.config["PORTAL_BASE_URL"] + path


def _plain_environment() -> Environment:
    """The app's Jinja environment without autoescaping, for the plain-text parts of a mail (the
    subject, the text and the inbox line): "Tom & Jerry" must not become "Tom &amp; Jerry"."""
    plain = current_app.extensions.get("wijkkracht_plain_jinja")
    if plain is None:
        plain = current_app.jinja_env.overlay(autoescape=False)
        current_app.extensions["wijkkracht_plain_jinja"] = plain
    return plain


def _render_parts(kind: str, context: dict[str, Any]) -> dict[str, str]:
    name = f"notifications/mail/{kind}.html"
    plain = _plain_environment()
    text_module = plain.get_template(name).make_module(vars=context)
    parts = {}
    for part in ("subject", "text", "inbox"):
        parts[part] = str(getattr(text_module, part)()).strip()
    # A subject is one line: no line breaks smuggled in through a title.
    parts["subject"] = " ".join(parts["subject"].split())
    footer_text = plain.get_template("notifications/mail/_footer_text.html").render(**context)
    parts["text"] = f"{parts['text']}\n\n{footer_text.strip()}"
    html_module = current_app.jinja_env.get_template(name).make_module(vars=context)
    parts["html"] = str(
        current_app.jinja_env.get_template("notifications/mail/_layout.html").render(
            {
                **context,
                "mail_body": Markup(str(html_module.html()).strip()),  # noqa: S704 - autoescaped
                "subject": parts["subject"],
            }
        )
    )
    return parts


def municipality_place() -> str:
    """ "Gemeente Enschede" -> "Enschede", for "het college van ... van Enschede"."""
    name = str(current_app.config["PORTAL_MUNICIPALITY"])
    return name.removeprefix("Gemeente ").strip() or name


def notify(
    user: User | None,
    kind: str,
    *,
    link: str | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    email: bool = True,
    mandatory: bool = False,
    recipient: str | None = None,
    dedupe_key: str | None = None,
    **context: Any,
) -> Notification:
    """Record one notification for ``user`` (or, without a user, for ``recipient`` in
    ``locale``); it goes out once the transaction commits."""
    if user is None and not recipient:
        raise ValueError("a notification needs a user or a recipient address")
    locale = (user.locale if user is not None else context.pop("locale", None)) or "nl"
    context = {
        "user": user,
        "link": link,
        "preferences_url": absolute_url("notifications.preferences"),
        "base_url": current_app.config["PORTAL_BASE_URL"],
        "municipality": current_app.config["PORTAL_MUNICIPALITY"],
        "place": municipality_place(),
        "mail_locale": locale,
        **context,
    }
    mandatory = mandatory or is_mandatory(kind)
    delivery = Delivery.IMMEDIATE if mandatory or user is None else delivery_for(user, kind)
    if not email or delivery == Delivery.INBOX:
        state = EmailState.NOT_EMAILED
    elif delivery == Delivery.DIGEST:
        state = EmailState.DIGEST
    else:
        state = EmailState.WAITING
    with force_locale(locale):
        parts = _render_parts(kind, context)
    notification = Notification(
        user_id=user.id if user is not None else None,
        kind=kind,
        object_type=object_type,
        object_id=object_id,
        locale=locale,
        recipient=recipient or user.email,  # type: ignore[union-attr]
        subject=parts["subject"],
        body_text=parts["text"],
        body_html=parts["html"],
        inbox_text=parts["inbox"],
        link=link,
        message_id=f"<{uuid.uuid4()}@wijkkracht>",
        dedupe_key=dedupe_key,
        mandatory=mandatory,
        email_state=state.value,
    )
    db.session.add(notification)
    db.session.flush()
    if state == EmailState.WAITING:
        send_after_commit(notification.id)
    return notification


def send_after_commit(notification_id: int) -> None:
    """Hand this (waiting) notification to the worker once the transaction commits."""
    db.session.info.setdefault(PENDING_KEY, []).append(notification_id)


def delivery_for(user: User, kind: str) -> Delivery:
    chosen = db.session.scalar(
        select(NotificationPreference.delivery).where(
            NotificationPreference.user_id == user.id, NotificationPreference.kind == kind
        )
    )
    return Delivery(chosen) if chosen else Delivery.IMMEDIATE


def notify_once(user: User | None, kind: str, dedupe_key: str, **values: Any) -> int:
    """``notify`` unless a notification with this key exists: 1 if recorded, else 0. Safe when
    two processes compute the same reminder at once: the key is unique, and the loser's insert
    is rolled back to its savepoint (on PostgreSQL it waits for the winner's commit first)."""
    if db.session.scalar(select(Notification.id).where(Notification.dedupe_key == dedupe_key)):
        return 0
    try:
        with db.session.begin_nested():
            notify(user, kind, dedupe_key=dedupe_key, **values)
    except IntegrityError:
        return 0
    return 1


JOBS_KEY = "wijkkracht_new_jobs"


def run_after_commit(job: Any, *args: int | str) -> None:
    """Run an RQ job (a Flask-RQ ``@rq.job``) once the current transaction commits: on the
    worker when Redis is configured, otherwise in-process. Arguments are ids and primitives."""
    db.session.info.setdefault(JOBS_KEY, []).append((job, args))


@event.listens_for(Session, "after_commit")
def _remember_committed(session: Session) -> None:
    """Move what the committed transaction asked for to the lists ``dispatch`` works through."""
    pending = session.info.pop(PENDING_KEY, None)
    if pending:
        session.info.setdefault("wijkkracht_committed_notifications", []).extend(pending)
    jobs = session.info.pop(JOBS_KEY, None)
    if jobs:
        session.info.setdefault("wijkkracht_committed_jobs", []).extend(jobs)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
    session.info.pop(JOBS_KEY, None)


def take_committed_ids() -> list[int]:
    return list(db.session.info.pop("wijkkracht_committed_notifications", []))


def take_committed_jobs() -> list[tuple[Any, tuple[int | str, ...]]]:
    return list(db.session.info.pop("wijkkracht_committed_jobs", []))
