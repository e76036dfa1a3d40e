"""Cross-cutting web concerns: security headers, errors, htmx responses, template helpers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import (
    Flask,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_date, format_datetime, get_locale, lazy_gettext
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import HTTPException, TooManyRequests

from portal.accounts.passwords import MIN_LENGTH
from portal.extensions import db, htmx, login_manager

# Endpoints that can save a post whose CSRF token no longer matches (the session expired while
# the user typed). Each rescuer checks its own proof of who typed it, or returns None for a 400.
CSRF_RESCUE: dict[str, Callable[[], Response | None]] = {}

P = ParamSpec("P")
R = TypeVar("R")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# Where each role starts after logging in, in order of precedence.
START_PAGES = [
    ("admin", "admin.index"),
    ("finance", "money.payments"),
    ("case_officer", "reviews.queue"),
    ("council_member", "reviews.council_requests"),
    ("resident", "applications.mine"),
]

# What the navigation shows per role: (role, endpoint, label).
NAVIGATION = [
    ("resident", "applications.mine", lazy_gettext("Mijn aanvragen")),
    ("resident", "initiatives.mine", lazy_gettext("Mijn initiatieven")),
    ("council_member", "reviews.council_requests", lazy_gettext("Adviesverzoeken")),
    ("case_officer", "reviews.queue", lazy_gettext("Werkvoorraad")),
    ("case_officer", "initiatives.queue", lazy_gettext("Initiatieven beoordelen")),
    ("case_officer", "money.payments", lazy_gettext("Betalingen")),
    ("finance", "money.payments", lazy_gettext("Betalingen")),
    ("case_officer", "money.budgets", lazy_gettext("Wijkbudgetten")),
    ("finance", "money.budgets", lazy_gettext("Wijkbudgetten")),
    ("admin", "admin.index", lazy_gettext("Beheer")),
    ("admin", "money.budgets", lazy_gettext("Wijkbudgetten")),
]


def start_page_for(user: Any) -> str:
    roles = user.roles
    for role, endpoint in START_PAGES:
        if role in roles:
            return url_for(endpoint)
    return url_for("accounts.account")


def is_fragment_request() -> bool:
    """The one rule for answering with a fragment instead of the full page."""
    return bool(htmx and not htmx.boosted and not htmx.history_restore_request)


def render(full: str, fragment: str | None = None, status: int = 200, **context: Any) -> Response:
    """Render the full page, or only its fragment for a plain htmx request."""
    template = fragment if fragment and is_fragment_request() else full
    response = Response(render_template(template, **context), status=status)
    response.headers.add("Vary", "HX-Request")
    return response


@dataclass
class ListPage:
    """One page of a list whose total is already known: what the ``pagination`` macro and the
    templates use of Flask-SQLAlchemy's ``Pagination``, without its count query."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return -(-self.total // self.per_page) if self.total else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None


def redirect_after_post(location: str) -> Response:
    """303 after a POST; htmx requests get ``HX-Redirect`` so they load a full page."""
    if htmx:
        response = Response(status=204)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location, code=303)  # type: ignore[return-value]


def roles_required(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Allow the view only to signed-in users holding one of ``roles``."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()  # type: ignore[no-any-return]
            if not (current_user.roles & set(roles)):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def format_money(cents: int | None) -> str:
    """Euro cents as ``€ 1.234,56`` (Dutch notation in both languages, as on Dutch invoices)."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    euros, rest = divmod(cents, 100)
    grouped = f"{euros:,}".replace(",", ".")
    return f"{sign}€ {grouped},{rest:02d}"


def init_app(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = lazy_gettext("Log in om deze pagina te zien.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(token: str) -> Any:
        from portal.accounts.models import User
        from portal.notifications.models import Notification

        # The user, their roles, their council memberships and the number of unread messages
        # (the navigation shows it) in one query: every signed-in page asks for all four.
        unread = (
            select(func.count(Notification.id))
            .where(Notification.user_id == User.id, Notification.read_at.is_(None))
            .correlate(User)
            .scalar_subquery()
        )
        row = (
            db.session.execute(
                select(User, unread)
                .where(User.session_token == token, User.active.is_(True))
                .options(joinedload(User.role_links), joinedload(User.memberships))
            )
            .unique()
            .first()
        )
        if row is None:
            return None
        g.unread_count = row[1]
        return row[0]

    @login_manager.unauthorized_handler
    def unauthorized() -> Response:
        flash(_("Log in om deze pagina te zien."), "info")
        target = url_for("accounts.login", next=request.full_path.rstrip("?"))
        if htmx:
            response = Response(status=204)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target)  # type: ignore[return-value]

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure or app.config["PORTAL_BASE_URL"].startswith("https://"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        # A signed-in session's pages are never stored. Read from the session, not from
        # current_user: after a commit that would reload the user for nothing.
        if session.get("_user_id"):
            headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Response:
        rescue = CSRF_RESCUE.get(request.endpoint or "")
        rescued = rescue() if rescue else None
        if rescued is not None:
            return rescued
        if htmx:
            # A long-open page whose token expired: reload it with a fresh token.
            response = Response(status=400)
            response.headers["HX-Refresh"] = "true"
            return response
        return render_error(400, _("Het formulier was verlopen. Probeer het opnieuw."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        code = error.code or 500
        if code not in ERROR_TITLES:
            return error  # type: ignore[return-value]
        response = render_error(code)
        if isinstance(error, TooManyRequests) and error.retry_after:
            response.headers["Retry-After"] = str(error.retry_after)
        if error.description and code == 429:
            response = render_error(code, str(error.description))
            if getattr(error, "retry_after", None):
                response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(Exception)
    def server_error(error: Exception) -> Response:
        if isinstance(error, HTTPException):
            return http_error(error)
        app.logger.exception("Unhandled error")
        db.session.rollback()
        return render_error(500)

    @app.context_processor
    def template_helpers() -> dict[str, Any]:
        return {
            "navigation": _navigation(),
            "unread_count": _unread_count(),
            "current_locale": str(get_locale() or "nl"),
            "municipality": app.config["PORTAL_MUNICIPALITY"],
            "dev_pages": app.config["PORTAL_DEV_PAGES"],
            "hx_headers": _hx_headers,
            "password_min_length": MIN_LENGTH,
            "verify_hours": app.config["PORTAL_VERIFY_MAX_AGE"] // 3600,
            "reset_minutes": app.config["PORTAL_RESET_MAX_AGE"] // 60,
        }

    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["date_nl"] = lambda value: format_date(value, "d MMMM y") if value else ""
    app.jinja_env.filters["datetime_nl"] = lambda value: (
        format_datetime(value, "d MMMM y, HH:mm") if value else ""
    )


def _hx_headers() -> Markup:
    """The CSRF header for htmx as JSON, escaped for a double-quoted attribute."""
    from flask_wtf.csrf import generate_csrf

    return escape(json.dumps({"X-CSRFToken": generate_csrf()}))


def _navigation() -> list[tuple[str, Any]]:
    if not current_user or not current_user.is_authenticated:
        return []
    roles = current_user.roles
    shown: dict[str, Any] = {}
    for role, endpoint, label in NAVIGATION:
        if role in roles:
            shown.setdefault(endpoint, label)
    return list(shown.items())


def _unread_count() -> int:
    if not current_user or not current_user.is_authenticated:
        return 0
    if "unread_count" not in g:
        from portal.notifications.models import Notification

        g.unread_count = db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == current_user.id, Notification.read_at.is_(None)
            )
        )
    return int(g.unread_count or 0)


ERROR_TITLES = {
    400: lazy_gettext("Het verzoek klopt niet"),
    403: lazy_gettext("Geen toegang"),
    404: lazy_gettext("Pagina niet gevonden"),
    405: lazy_gettext("Dit kan zo niet"),
    413: lazy_gettext("Het bestand is te groot"),
    422: lazy_gettext("De gegevens kloppen niet"),
    429: lazy_gettext("Te veel pogingen"),
    500: lazy_gettext("Er ging iets mis"),
}

ERROR_EXPLANATIONS = {
    400: lazy_gettext("Wij begrijpen dit verzoek niet. Ga terug en probeer het opnieuw."),
    403: lazy_gettext("U mag deze pagina niet bekijken. Bent u met het juiste account ingelogd?"),
    404: lazy_gettext(
        "Deze pagina bestaat niet (meer). Controleer het adres of ga naar de startpagina."
    ),
    405: lazy_gettext(
        "Deze handeling kan niet op deze manier. Ga terug en gebruik de knoppen op de pagina."
    ),
    413: lazy_gettext("Het bestand is groter dan is toegestaan. Kies een kleiner bestand."),
    422: lazy_gettext("Een paar gegevens kloppen niet. Ga terug en verbeter ze."),
    429: lazy_gettext("U heeft het te vaak geprobeerd. Wacht even en probeer het dan opnieuw."),
    500: lazy_gettext(
        "Er ging bij ons iets mis. Uw gegevens zijn niet verloren. Probeer het later opnieuw."
    ),
}


def render_error(code: int, detail: str | None = None) -> Response:
    response = Response(
        render_template(
            "errors/error.html",
            code=code,
            title=ERROR_TITLES[code],
            explanation=detail or ERROR_EXPLANATIONS[code],
        ),
        status=code,
    )
    return response
