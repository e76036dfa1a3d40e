"""Which tables a page reads with a sequential scan: the statements one request runs, explained
by PostgreSQL.

Used twice: ``tests/test_page_plans.py`` explains every benchmarked page's statements with
``enable_seqscan = off`` (then the planner takes an index whenever one can serve the statement,
so a sequential scan left in the plan means no index fits, whatever the amount of test data);
``bench/plans.py`` explains them with ``ANALYZE`` on the city-scale database as they really run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

# Tables that stay small whatever the size of the city: a sequential scan over them is fine.
REFERENCE_TABLES = frozenset(
    {
        "alembic_version",
        "boroughs",
        "districts",
        "councils",
        "council_memberships",
        "case_officer_boroughs",
        "rulesets",
        "district_budgets",
        "postcode_ranges",
        "reference_counters",
        "application_counts",
        "initiative_counts",
    }
)


@dataclass
class Statement:
    sql: str
    parameters: Any


@dataclass
class Explained:
    statement: Statement
    plan: dict[str, Any]
    seq_scans: list[str] = field(default_factory=list)

    @property
    def execution_ms(self) -> float | None:
        return self.plan.get("Execution Time")

    @property
    def planning_ms(self) -> float | None:
        return self.plan.get("Planning Time")


def _reads(sql: str) -> bool:
    head = sql.lstrip()[:6].upper()
    return head.startswith(("SELECT", "WITH"))


@contextmanager
def captured(target: Any) -> Iterator[list[Statement]]:
    """``with captured(engine_or_connection) as statements: ...``: the reading statements sent
    meanwhile, with their parameters (bulk statements and writes are left out)."""
    statements: list[Statement] = []

    def before(conn: Any, cursor: Any, sql: str, parameters: Any, context: Any, many: bool) -> None:
        if not many and _reads(sql):
            statements.append(Statement(sql, parameters))

    event.listen(target, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(target, "before_cursor_execute", before)


INDEX_SCANS = ("Index Scan", "Index Only Scan")


def sequential_scans(node: dict[str, Any], limited: bool = False) -> list[str]:
    """The relations a JSON plan reads whole: by ``Seq Scan``, or by walking a whole index
    (an index scan without an index condition, e.g. to count every row) unless a ``Limit``
    above it stops the walk early (newest first, one page)."""
    kind = node.get("Node Type")
    limited = limited or kind == "Limit"
    whole_index = kind in INDEX_SCANS and "Index Cond" not in node and not limited
    found = [node["Relation Name"]] if kind == "Seq Scan" or whole_index else []
    for child in node.get("Plans", []):
        found += sequential_scans(child, limited)
    return found


def explain(connection: Any, statement: Statement, analyze: bool = False) -> Explained:
    """EXPLAIN (with ANALYZE: run it too) one captured statement on ``connection`` (a
    SQLAlchemy connection on PostgreSQL)."""
    options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
    sql = f"EXPLAIN ({options}) {statement.sql}"
    result = connection.exec_driver_sql(sql, statement.parameters)
    document = result.scalar()
    if isinstance(document, str):
        document = json.loads(document)
    plan = document[0]
    return Explained(statement, plan, sequential_scans(plan["Plan"]))
