"""Wijkkracht: the online counter for wijkbudgetten and bewonersinitiatieven in Enschede."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from portal.config import load_config

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build an app: configuration, extensions, blueprints, CLI and error handlers."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("PORTAL_INSTANCE_PATH", str(ROOT / "instance")),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(load_config(app.instance_path, test_config))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    if app.testing and app.config.get("PORTAL_FAST_PASSWORD_HASHING"):
        from portal.accounts.passwords import use_fast_hashing

        use_fast_hashing()

    from portal import models  # noqa: F401 - registers every model with the metadata
    from portal.extensions import babel, csrf, db, htmx, login_manager, migrate, rq

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(ROOT / "migrations"),
        render_as_batch=True,
        compare_type=True,
        render_item=_render_migration_item,
    )
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(
        app,
        locale_selector=_select_locale,
        default_translation_directories=str(ROOT / "portal" / "translations"),
    )
    from portal.i18n import install_template_gettext

    install_template_gettext(app, babel)
    rq.init_app(app)
    login_manager.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _configure_sqlite(db.engine)

    from portal import timing, web

    timing.init_app(app)  # first: its after_request runs last
    web.init_app(app)

    from portal.accounts.views import bp as accounts_bp
    from portal.admin.views import bp as admin_bp
    from portal.applications import bp as applications_bp
    from portal.initiatives import bp as initiatives_bp
    from portal.money.views import bp as money_bp
    from portal.notifications.log import bp as mail_log_bp
    from portal.notifications.views import bp as notifications_bp
    from portal.public.views import bp as public_bp
    from portal.reviews.views import bp as reviews_bp

    for blueprint in (
        public_bp,
        accounts_bp,
        applications_bp,
        initiatives_bp,
        reviews_bp,
        money_bp,
        admin_bp,
        notifications_bp,
        mail_log_bp,
    ):
        app.register_blueprint(blueprint)

    if app.config["PORTAL_DEV_PAGES"]:
        from portal.dev.views import bp as dev_bp

        app.register_blueprint(dev_bp)

    from portal.notifications import dispatch

    dispatch.init_app(app)

    if app.config["PORTAL_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        proxies = app.config["PORTAL_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    from portal.cli import register_cli

    register_cli(app)
    return app


def _configure_sqlite(engine: Any) -> None:
    """Make SQLite behave: foreign keys on, WAL, wait for locks, and transactions that take the
    write lock at BEGIN (pysqlite's own transaction handling breaks SAVEPOINTs and lets two
    writers deadlock on a lock upgrade)."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _render_migration_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write our UTCDateTime as a plain DateTime in migrations: it is stored as one."""
    from portal.timeutil import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def _select_locale() -> str:
    from flask import session
    from flask_login import current_user

    if current_user and current_user.is_authenticated and current_user.locale:
        return str(current_user.locale)
    locale = session.get("locale")
    return locale if locale in ("nl", "en") else "nl"
