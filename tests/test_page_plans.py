"""No benchmarked page reads a large table with a sequential scan: every statement of every page
of ``make bench`` is explained with ``enable_seqscan = off``. The planner then takes an index
whenever one can serve the statement, so a ``Seq Scan`` left in a plan means that no index fits
its filter or sort, and it would read the whole table at city scale (the test data is small, so
without the setting the planner would rightly scan every table). Reference tables that stay small
(districts, councils, rulesets, ...) are exempt. PostgreSQL only: SQLite has no such planner
switch, and production runs on PostgreSQL. ``bench/plans.py`` shows the real plans on the
city-scale database."""

from __future__ import annotations

from typing import Any

import pytest

from portal.extensions import db
from portal.queryplans import REFERENCE_TABLES, captured, explain
from tests.conftest import DATABASE_KIND
from tests.test_page_queries import LARGE, PAGES, World, signed_in, world  # noqa: F401

pytestmark = pytest.mark.skipif(
    DATABASE_KIND != "postgresql", reason="query plans are PostgreSQL's"
)


@pytest.mark.parametrize("name", list(PAGES))
def test_no_sequential_scan_over_a_large_table(app, client, world, signed_in, name) -> None:  # noqa: F811
    page = PAGES[name]
    world.grow(LARGE)
    signed_in(world, page)
    url = page.path(world)
    data = page.form or None
    assert client.open(url, method=page.method, data=data).status_code == page.status
    connection = db._app_engines[app][None]
    with captured(connection) as statements:
        response = client.open(url, method=page.method, data=data)
    assert response.status_code == page.status
    assert statements, f"{name}: no statement captured"
    scans: list[str] = []
    connection.exec_driver_sql("SET enable_seqscan = off")
    try:
        for statement in statements:
            explained = explain(connection, statement)
            large = [t for t in explained.seq_scans if t not in REFERENCE_TABLES]
            if large:
                scans.append(f"{', '.join(large)} in: {' '.join(statement.sql.split())[:400]}")
    finally:
        connection.exec_driver_sql("RESET enable_seqscan")
    assert not scans, f"{name} scans large tables:\n" + "\n".join(scans)


def test_the_plans_see_a_sequential_scan(app, database) -> None:
    """The check itself: a statement no index can serve is reported."""
    connection = db._app_engines[app][None]
    with captured(connection) as statements:
        db.session.execute(db.text("SELECT id FROM users WHERE lower(name) LIKE '%anna%'"))
    connection.exec_driver_sql("SET enable_seqscan = off")
    try:
        explained: Any = explain(connection, statements[0])
    finally:
        connection.exec_driver_sql("RESET enable_seqscan")
    assert explained.seq_scans == ["users"]
