"""Development only: read the e-mails the portal wrote to ``instance/mail/``.

Registered only when ``PORTAL_DEV_PAGES`` is on, which production never allows.
"""

from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path

from flask import Blueprint, Response, abort, current_app
from markupsafe import Markup, escape

from portal.web import render

bp = Blueprint("dev", __name__, url_prefix="/dev")

NAME_PATTERN = re.compile(r"^[0-9]{8}\.eml$")
URL_PATTERN = re.compile(r"(https?://[^\s<>\"]+)")


def _folder() -> Path:
    return Path(current_app.config["PORTAL_MAIL_DIR"])


def _read(path: Path) -> email.message.EmailMessage:
    with path.open("rb") as handle:
        return email.message_from_binary_file(handle, policy=policy.default)  # type: ignore[return-value]


@bp.route("/mail")
def mail_list() -> Response:
    """The newest 100 e-mails written by the development mail backend."""
    folder = _folder()
    files = sorted(folder.glob("*.eml"), reverse=True)[:100] if folder.exists() else []
    mails = []
    for path in files:
        message = _read(path)
        mails.append(
            {
                "name": path.name,
                "to": message["To"],
                "subject": message["Subject"],
                "date": message["Date"],
            }
        )
    return render("dev/mail_list.html", mails=mails)


@bp.route("/mail/<name>")
def mail_detail(name: str) -> Response:
    """One e-mail: its headers and its plain-text body with clickable links."""
    if not NAME_PATTERN.match(name):
        abort(404)
    path = _folder() / name
    if not path.is_file():
        abort(404)
    message = _read(path)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    linked = URL_PATTERN.sub(
        lambda m: f'<a class="utrecht-link" href="{m.group(1)}">{m.group(1)}</a>', str(escape(text))
    )
    return render(
        "dev/mail_detail.html",
        name=name,
        message=message,
        body=Markup(linked),  # noqa: S704 - built from escaped text, links added by us
    )
