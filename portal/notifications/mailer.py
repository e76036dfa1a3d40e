"""Sending one e-mail: by SMTP in production, to ``instance/mail/`` in development."""

from __future__ import annotations

import smtplib
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path

from flask import current_app

from portal.notifications.models import Notification

SMTP_POLICY = policy.SMTP


class DeliveryError(Exception):
    """The mail could not be handed over; the message says why."""


def build_message(notification: Notification) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["PORTAL_MAIL_FROM"]
    message["To"] = notification.recipient
    message["Subject"] = notification.subject
    message["Message-ID"] = notification.message_id
    message["Date"] = formatdate(localtime=False)
    message["Content-Language"] = notification.locale
    message["Auto-Submitted"] = "auto-generated"
    message["X-Wijkkracht-Notification"] = str(notification.id)
    message.set_content(notification.body_text)
    message.add_alternative(notification.body_html, subtype="html")
    return message


def send(notification: Notification) -> str:
    """Hand the message over; return the receiving side's answer."""
    message = build_message(notification)
    backend = current_app.config["PORTAL_MAIL_BACKEND"]
    if backend == "file":
        return _write_file(notification, message)
    if backend == "smtp":
        return _send_smtp(message)
    raise DeliveryError(f"unknown mail backend {backend!r}")


def _write_file(notification: Notification, message: EmailMessage) -> str:
    folder = Path(current_app.config["PORTAL_MAIL_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{notification.id:08d}.eml"
    path.write_bytes(bytes(message))
    return f"written to {path.name}"


def _send_smtp(message: EmailMessage) -> str:
    config = current_app.config
    try:
        with smtplib.SMTP(
            config["PORTAL_SMTP_HOST"],
            config["PORTAL_SMTP_PORT"],
            timeout=config["PORTAL_SMTP_TIMEOUT"],
        ) as smtp:
            smtp.ehlo()
            if config["PORTAL_SMTP_STARTTLS"]:
                smtp.starttls()
                smtp.ehlo()
            if config["PORTAL_SMTP_USERNAME"]:
                smtp.login(config["PORTAL_SMTP_USERNAME"], config["PORTAL_SMTP_PASSWORD"] or "")
            sender = parseaddr(message["From"])[1]
            code, answer = smtp.mail(sender)
            if code != 250:
                raise DeliveryError(f"MAIL FROM refused: {code} {answer.decode(errors='replace')}")
            code, answer = smtp.rcpt(message["To"])
            if code not in (250, 251):
                raise DeliveryError(f"RCPT TO refused: {code} {answer.decode(errors='replace')}")
            # SMTP wants CRLF line ends; smtplib only fixes them for str, not bytes.
            code, answer = smtp.data(message.as_bytes(policy=SMTP_POLICY))
            if code != 250:
                raise DeliveryError(f"DATA refused: {code} {answer.decode(errors='replace')}")
            return f"{code} {answer.decode(errors='replace')}"
    except (OSError, smtplib.SMTPException, UnicodeError, ValueError) as error:
        # UnicodeError: an address the server cannot take without SMTPUTF8 (e.g. "jöe@…").
        raise DeliveryError(f"{type(error).__name__}: {error}") from error
