"""The query plans of every benchmarked page on the city-scale database.

    make bench-plans          (or: .venv/bin/python bench/plans.py [--only queue])

For each GET page of ``make bench`` (the same pages, accounts and ids, chosen by ``bench/run.py``)
this asks the page once in-process as its user, captures the reading statements it sends, and
runs each with ``EXPLAIN (ANALYZE, BUFFERS)`` on ``BENCH_DATABASE_URL`` (default ``scale_full``),
inside a transaction that is rolled back. It reports per page the number of queries, the summed
execution time, the slowest statement, the planning time (PostgreSQL plans each statement anew
in every request: psycopg drops prepared statements at each rollback), and every large table read
whole (a ``Seq Scan``, or an
index walked from end to end without a ``Limit``; "large" is more than 10,000 rows, tables that
stay small are exempt). Writes ``bench/results/plans.md`` and ``plans.json``; exits 1 when a page
reads a large table whole. The draft-saving POST is left out: it writes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import run as bench  # noqa: E402

LARGE_ROWS = 10_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated parts of page names")
    args = parser.parse_args()

    os.environ.update(
        PORTAL_DATABASE_URL=bench.DATABASE_URL,
        PORTAL_ENV=os.environ.get("PORTAL_ENV", "production"),
        PORTAL_SECRET_KEY=os.environ.get("PORTAL_SECRET_KEY", "plans-" + "x" * 40),
        PORTAL_BASE_URL="http://localhost",
    )
    os.environ.pop("PORTAL_REDIS_URL", None)  # no response cache: explain what the page asks
    from sqlalchemy import select, text

    from portal import create_app
    from portal.accounts.models import User
    from portal.extensions import db
    from portal.queryplans import REFERENCE_TABLES, captured, explain

    ids = bench.pick(bench.DATABASE_URL)
    pages = [p for p in bench.pages_for(ids) if p.method == "GET"]
    if args.only:
        wanted = [w.strip().lower() for w in args.only.split(",")]
        pages = [p for p in pages if any(w in p.name.lower() for w in wanted)]
    app = create_app()
    app.config["SESSION_COOKIE_SECURE"] = False
    rows: list[dict[str, Any]] = []
    # Requests run outside any app context of ours: each gets its own, as under gunicorn.
    with app.app_context():
        sizes = dict(
            db.session.execute(
                text(
                    "SELECT relname, reltuples::bigint FROM pg_class "
                    "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
                )
            ).all()
        )
        engine = db.engine
        tokens = {
            page.who: db.session.scalar(select(User.session_token).where(User.email == page.who))
            for page in pages
            if page.who
        }
    large = {t for t, n in sizes.items() if n > LARGE_ROWS and t not in REFERENCE_TABLES}
    for page in pages:
        client = app.test_client()
        if page.who:
            with client.session_transaction() as session:
                session["_user_id"] = tokens[page.who]
                session["_fresh"] = True
        status = client.get(page.path).status_code  # warm
        with captured(engine) as statements:
            status = client.get(page.path).status_code
        explained = []
        with engine.connect() as connection:
            transaction = connection.begin()
            try:
                # Twice: the second run is the one reported, with the catalogue and the data
                # cached as on a pooled connection of a running server.
                for statement in statements:
                    explain(connection, statement, analyze=True)
                explained = [explain(connection, s, analyze=True) for s in statements]
            finally:
                transaction.rollback()
        whole = sorted({t for e in explained for t in e.seq_scans if t in large})
        times = [e.execution_ms or 0.0 for e in explained]
        slowest = max(explained, key=lambda e: e.execution_ms or 0.0, default=None)
        row = {
            "name": page.name,
            "path": page.path,
            "status": status,
            "queries": len(statements),
            "sql_ms": round(sum(times), 2),
            "planning_ms": round(sum(e.planning_ms or 0.0 for e in explained), 2),
            "slowest_ms": round(max(times, default=0.0), 2),
            "slowest": " ".join(slowest.statement.sql.split())[:300] if slowest else "",
            "large_tables_read_whole": whole,
        }
        rows.append(row)
        print(
            f"{page.name:24} {status} {row['queries']} queries, {row['sql_ms']:.1f} ms SQL "
            f"(slowest {row['slowest_ms']:.1f} ms, planning {row['planning_ms']:.1f} ms), "
            f"read whole: {', '.join(whole) or '-'}",
            flush=True,
        )
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": bench.git_commit(),
        "database": bench.masked(bench.DATABASE_URL),
        "rows": ids["rows"],
        "pages": rows,
    }
    bench.RESULTS.mkdir(parents=True, exist_ok=True)
    (bench.RESULTS / "plans.json").write_text(json.dumps(report, indent=1) + "\n")
    sizes_text = ", ".join(f"{v:,} {k}" for k, v in ids["rows"].items())
    lines = [
        "# Query plans of the benchmarked pages",
        "",
        f"`bench/plans.py` on {report['database']} ({sizes_text}),",
        f"commit {report['git_commit']}, {report['generated_at']}. Each statement of one request "
        "run with `EXPLAIN (ANALYZE, BUFFERS)`.",
        "",
        "| page | queries | execution ms (sum) | slowest ms | planning ms (sum) | "
        "large tables read whole |",
        "|---|---:|---:|---:|---:|---|",
    ]
    lines += [
        f"| {r['name']} | {r['queries']} | {r['sql_ms']:.1f} | {r['slowest_ms']:.1f} | "
        f"{r['planning_ms']:.1f} | "
        f"{', '.join(r['large_tables_read_whole']) or 'none'} |"
        for r in rows
    ]
    (bench.RESULTS / "plans.md").write_text("\n".join(lines) + "\n")
    return 1 if any(r["large_tables_read_whole"] or r["status"] != 200 for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
