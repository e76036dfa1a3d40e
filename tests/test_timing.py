"""Server-Timing (``PORTAL_SERVER_TIMING``): when on, every response says how long it spent in the
database, in how many queries (the same number ``count_queries`` sees), and in the app; when off,
no header and nothing registered. Tallies of requests in different threads never mix."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.pool import SingletonThreadPool

from portal import timing
from portal.applications import services
from portal.extensions import db
from tests.conftest import make_app

HEADER = re.compile(r'^db;dur=(\d+\.\d);desc="(\d+) queries", app;dur=(\d+\.\d)$')


def parse(response: Any) -> tuple[float, int, float]:
    value = response.headers.get("Server-Timing", "")
    found = HEADER.match(value)
    assert found, f"not a Server-Timing header of ours: {value!r}"
    return float(found.group(1)), int(found.group(2)), float(found.group(3))


def test_off_by_default_no_header_and_nothing_registered(app, client, personas, login_as) -> None:
    assert app.config["PORTAL_SERVER_TIMING"] is False
    assert timing.start_request not in app.before_request_funcs.get(None, [])
    assert timing.add_header not in app.after_request_funcs.get(None, [])
    for url in ("/healthz", "/initiatieven", "/bestaat-niet"):
        assert "Server-Timing" not in client.get(url).headers, url
    login_as(personas["resident"])
    assert "Server-Timing" not in client.get("/mijn-aanvragen").headers


class TestOn:
    """Every fixture of these tests (database, client, count_queries, ...) uses an app with
    ``PORTAL_SERVER_TIMING`` on, over the suite's database and demo data."""

    @pytest.fixture(scope="class")
    @classmethod
    def app(cls, app: Flask) -> Iterator[Flask]:  # the suite's app has built the schema
        timed = make_app("wijkkracht_test", PORTAL_SERVER_TIMING=True)

        @timed.route("/_timing/slaap")
        def sleep() -> str:
            """30 ms in the database, then one more statement."""
            db.session.execute(text("SELECT pg_sleep(0.03)"))
            db.session.execute(text("SELECT 1"))
            return "ok"

        yield timed
        with timed.app_context():
            db.engine.dispose()

    def test_every_response_has_the_header_and_its_count_matches_count_queries(
        self, app, client, personas, login_as, count_queries
    ) -> None:
        assert app.config["PORTAL_SERVER_TIMING"] is True
        resident = personas["resident"]
        draft = services.create_draft(resident, "timing-draft")
        db.session.commit()
        pages: list[tuple[str, str, dict[str, str] | None]] = [
            ("GET", "/healthz", None),
            ("GET", "/initiatieven", None),
            ("GET", "/initiatieven?zoek=moestuin&page=3", None),
            ("GET", "/bestaat-niet", None),  # a 404 too
        ]
        mine = [
            ("GET", "/mijn-aanvragen", None),
            ("GET", f"/aanvragen/{draft.id}/bewerken/activiteit", None),
            (
                "POST",
                f"/aanvragen/{draft.id}/bewerken/activiteit",
                {"title": "Buurtfeest", "description": "Soep en muziek", "location": "Plein"},
            ),
        ]
        seen = {}
        for signed_in, listed in ((False, pages), (True, mine)):
            if signed_in:
                login_as(resident)
            for method, url, data in listed:
                client.open(url, method=method, data=data)  # warm up
                with count_queries() as counted:
                    response = client.open(url, method=method, data=data)
                db_ms, queries, app_ms = parse(response)
                assert queries == counted.count, (url, queries, counted.statements)
                assert 0 <= db_ms <= app_ms, (url, db_ms, app_ms)
                seen[url] = (response.status_code, queries)
        assert seen["/healthz"] == (200, 1)
        assert seen["/bestaat-niet"][0] == 404
        assert seen[f"/aanvragen/{draft.id}/bewerken/activiteit"][0] == 303  # the POST
        db.session.refresh(draft)
        assert draft.title == "Buurtfeest"

    def test_the_database_time_is_the_time_spent_in_statements(
        self, app, client, count_queries
    ) -> None:
        """A page that waits 30 ms in the database reports at least that as ``db``."""
        if db.engine.dialect.name != "postgresql":
            pytest.skip("pg_sleep is PostgreSQL's")
        db_ms, queries, app_ms = parse(client.get("/_timing/slaap"))
        assert queries == 2
        assert 30 <= db_ms <= app_ms


def test_tallies_of_concurrent_requests_stay_apart(app) -> None:
    """Two requests in two threads, interleaving their statements: each counts its own."""
    engine = create_engine("sqlite://", poolclass=SingletonThreadPool)
    timing.listen(engine)
    counts = {"first": 3, "second": 7}
    results: dict[str, tuple[int, str]] = {}
    turn = threading.Barrier(2)
    errors: list[BaseException] = []

    def request(name: str) -> None:
        try:
            with app.test_request_context(f"/{name}"), engine.connect() as connection:
                timing.start_request()
                for step in range(max(counts.values())):
                    turn.wait(timeout=5)  # both threads take a step at the same time
                    if step < counts[name]:
                        connection.execute(text("SELECT 1"))
                tally = timing.current_tally()
                assert tally is not None
                response = timing.add_header(app.response_class("ok"))
                results[name] = (tally.queries, response.headers["Server-Timing"])
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=request, args=(name,)) for name in counts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    engine.dispose()
    assert not errors, errors
    assert results["first"][0] == 3 and 'desc="3 queries"' in results["first"][1]
    assert results["second"][0] == 7 and 'desc="7 queries"' in results["second"][1]
    # Outside a request nothing is counted and nothing breaks.
    with app.app_context():
        assert timing.current_tally() is None
    assert timing.current_tally() is None
