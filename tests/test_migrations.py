"""The schema comes from the migrations, and the migrations match the models."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from portal.audit.services import record
from portal.extensions import db
from tests.conftest import DATABASE_KIND, ROOT, TMP, database_url


def test_models_and_migrations_agree(app) -> None:
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_flask_db_upgrade_builds_the_schema_on_an_empty_database() -> None:
    if DATABASE_KIND == "sqlite":
        url = f"sqlite:///{TMP / 'empty-upgrade.sqlite'}"
        Path(TMP / "empty-upgrade.sqlite").unlink(missing_ok=True)
    else:
        url = database_url("wijkkracht_test_empty")
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        FLASK_APP="portal:create_app",
        PORTAL_DATABASE_URL=url,
        PORTAL_INSTANCE_PATH=str(TMP / "empty"),
    )
    result = subprocess.run(
        [sys.executable, "-m", "flask", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    engine = create_engine(url.replace("postgresql+psycopg", "postgresql+psycopg"))
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {
        "users",
        "districts",
        "councils",
        "rulesets",
        "audit_records",
        "notifications",
    } <= tables


def test_audit_log_is_append_only_in_the_database(database, factory) -> None:
    user = factory.user()
    entry = record(actor_id=user.id, action="test.done", object_type="user", object_id=user.id)
    db.session.flush()
    with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.execute(
            text("UPDATE audit_records SET reason = 'rewritten' WHERE id = :id"),
            {"id": entry.id},
        )
    with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.execute(text("DELETE FROM audit_records WHERE id = :id"), {"id": entry.id})
