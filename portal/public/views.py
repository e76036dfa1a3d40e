"""Public pages: start page, privacy and accessibility statements, language switch, health."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, request, session
from flask_login import current_user
from sqlalchemy import text

from portal.accounts import services as account_services
from portal.extensions import db
from portal.web import redirect_after_post, render, start_page_for

bp = Blueprint("public", __name__)


@bp.route("/")
def home() -> Response:
    """The start page: what Wijkkracht is and where to begin."""
    return render(
        "public/home.html",
        start_page=start_page_for(current_user) if current_user.is_authenticated else None,
    )


@bp.route("/privacy")
def privacy() -> Response:
    """The privacy statement."""
    return render("public/privacy.html")


@bp.route("/toegankelijkheid")
def accessibility() -> Response:
    """The accessibility statement (toegankelijkheidsverklaring)."""
    return render("public/accessibility.html")


@bp.route("/taal", methods=["POST"])
def set_language() -> Response:
    """Switch between Dutch and English; remembered in the session and on the account."""
    locale = request.form.get("locale", "nl")
    if locale not in ("nl", "en"):
        locale = "nl"
    session["locale"] = locale
    if current_user.is_authenticated:
        account_services.set_locale(current_user, locale)
        db.session.commit()
    target = request.form.get("next") or "/"
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    return redirect_after_post(target.rstrip("?") or "/")


@bp.route("/healthz")
def healthz() -> Response:
    """Liveness and database check: one ``SELECT 1``, no template."""
    db.session.execute(text("SELECT 1"))
    return Response("ok", mimetype="text/plain")


@bp.route("/start")
def start() -> Response:
    """Send a signed-in user to the start page of their role."""
    if not current_user.is_authenticated:
        return redirect("/")  # type: ignore[return-value]
    return redirect(start_page_for(current_user))  # type: ignore[return-value]
