"""``Server-Timing``: how long a request spent in the database, in how many queries, and in the
app as a whole, for the browser's developer tools and for ``make bench``.

    Server-Timing: db;dur=3.1;desc="5 queries", app;dur=11.8

Off by default (``PORTAL_SERVER_TIMING``); when off, nothing is registered at all. When on, two
SQLAlchemy events on the engine (``before_cursor_execute``/``after_cursor_execute``) add each
statement's time to a tally kept on ``flask.g``. ``g`` belongs to one app context, so to one
request in one thread: concurrent requests (threads of a gthread worker, or greenlets) never mix
their tallies, and statements run outside a request (the CLI, a worker's job) are not counted.

``db`` is the time spent executing statements (SAVEPOINT bookkeeping included); ``n queries``
counts the statements sent, without ``SAVEPOINT``/``RELEASE``/``ROLLBACK TO`` (the same rule as
the tests' ``count_queries``), always written "queries" so machines read one format. ``app`` is
the whole request in the app, from the first ``before_request`` to the last ``after_request``,
the database included.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import perf_counter
from typing import Any

from flask import Flask, Response, g, has_app_context
from sqlalchemy import event

from portal.extensions import db

# Transaction bookkeeping, not queries (the tests' count_queries skips the same statements).
BOOKKEEPING = ("SAVEPOINT", "RELEASE", "ROLLBACK TO")
HEADER = "Server-Timing"
_G_KEY = "_server_timing"
_STARTED = "_portal_timing_started"


@dataclass
class Tally:
    """One request's measurements."""

    started: float
    db_seconds: float = 0.0
    queries: int = 0

    def header(self, now: float) -> str:
        db_ms = self.db_seconds * 1000
        app_ms = (now - self.started) * 1000
        return f'db;dur={db_ms:.1f};desc="{self.queries} queries", app;dur={app_ms:.1f}'


def current_tally() -> Tally | None:
    """The tally of the request running in this thread, or None outside a timed request."""
    if not has_app_context():
        return None
    return g.get(_G_KEY)


def start_request() -> None:
    """``before_request``: start this request's tally."""
    setattr(g, _G_KEY, Tally(started=perf_counter()))


def add_header(response: Response) -> Response:
    """``after_request``: write the tally into the response."""
    tally = current_tally()
    if tally is not None:
        response.headers[HEADER] = tally.header(perf_counter())
    return response


def _before_cursor_execute(
    conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
) -> None:
    if context is not None and current_tally() is not None:
        setattr(context, _STARTED, perf_counter())


def _after_cursor_execute(
    conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
) -> None:
    started = getattr(context, _STARTED, None) if context is not None else None
    tally = current_tally()
    if started is None or tally is None:
        return
    setattr(context, _STARTED, None)  # counted once, also if an error follows
    tally.db_seconds += perf_counter() - started
    if not statement.lstrip()[:11].upper().startswith(BOOKKEEPING):
        tally.queries += 1


def _handle_error(exception_context: Any) -> None:
    """A statement that failed was still sent and waited for: count it too."""
    _after_cursor_execute(
        None,
        None,
        exception_context.statement or "",
        None,
        exception_context.execution_context,
        False,
    )


def listen(engine: Any) -> None:
    """Time every statement run on ``engine`` (and on connections made from it) during a
    timed request."""
    event.listen(engine, "before_cursor_execute", _before_cursor_execute)
    event.listen(engine, "after_cursor_execute", _after_cursor_execute)
    event.listen(engine, "handle_error", _handle_error)


def init_app(app: Flask) -> None:
    """Register the timing when ``PORTAL_SERVER_TIMING`` is on; otherwise do nothing.

    Call it before any other ``after_request`` handler is registered: Flask runs those in
    reverse order, so this one runs last and its ``app`` time includes theirs."""
    if not app.config.get("PORTAL_SERVER_TIMING"):
        return
    with app.app_context():
        listen(db.engine)
    # First of all before_request handlers, so that their work is timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, start_request)
    app.after_request(add_header)
