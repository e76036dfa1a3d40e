"""Configuration: safe defaults first, then ``PORTAL_*`` environment variables.

Production (``PORTAL_ENV=production``) refuses to start without a real secret key and never
loads demo data. Development runs anywhere: SQLite in ``instance/`` and, without Redis, jobs
in-process after the commit.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

INSECURE_DEFAULT_SECRET = "development-only-not-secret"  # noqa: S105 - a marker, refused in production


class ConfigurationError(RuntimeError):
    """The configuration cannot run safely."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"PORTAL_{name}")
    return value if value not in (None, "") else default


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    return int(value) if value is not None else default


def load_config(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the configuration mapping for one app instance."""
    env = _env("ENV", "development") or "development"
    instance = Path(instance_path)
    sqlite_default = f"sqlite:///{instance / 'wijkkracht.sqlite'}"
    database_url = _env("DATABASE_URL", sqlite_default) or sqlite_default
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://") :]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    base_url = (_env("BASE_URL", "http://127.0.0.1:5000") or "").rstrip("/")
    redis_url = _env("REDIS_URL")

    config: dict[str, Any] = {
        "PORTAL_ENV": env,
        "DEBUG": _env_bool("DEBUG", False),
        "SECRET_KEY": _env("SECRET_KEY", INSECURE_DEFAULT_SECRET),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "PORTAL_BASE_URL": base_url,
        "PORTAL_MUNICIPALITY": _env("MUNICIPALITY", "Gemeente Enschede"),
        "PORTAL_REDIS_URL": redis_url,
        # The page caches (portal/page_cache.py): unset means the Redis above, empty turns
        # them off.
        "PORTAL_PAGE_CACHE_URL": os.environ.get("PORTAL_PAGE_CACHE_URL"),
        # Mail: "smtp" in production; "file" writes to instance/mail/ for development.
        "PORTAL_MAIL_BACKEND": _env("MAIL_BACKEND", "smtp" if env == "production" else "file"),
        "PORTAL_MAIL_DIR": _env("MAIL_DIR", str(instance / "mail")),
        "PORTAL_MAIL_FROM": _env("MAIL_FROM", "Wijkkracht Enschede <noreply@wijkkracht.nl>"),
        "PORTAL_SMTP_HOST": _env("SMTP_HOST", "localhost"),
        "PORTAL_SMTP_PORT": _env_int("SMTP_PORT", 25),
        "PORTAL_SMTP_USERNAME": _env("SMTP_USERNAME"),
        "PORTAL_SMTP_PASSWORD": _env("SMTP_PASSWORD"),
        "PORTAL_SMTP_STARTTLS": _env_bool("SMTP_STARTTLS", False),
        "PORTAL_SMTP_TIMEOUT": _env_int("SMTP_TIMEOUT", 20),
        # A delivery claimed this long ago without an answer (its worker died) is handed out
        # again; keep it well above the SMTP timeout. The relay leaves fresh rows to the normal
        # path for the grace period.
        "PORTAL_MAIL_STALE_CLAIM_SECONDS": _env_int("MAIL_STALE_CLAIM_SECONDS", 300),
        "PORTAL_MAIL_RELAY_GRACE_SECONDS": _env_int("MAIL_RELAY_GRACE_SECONDS", 10),
        # The daily digest goes out at this local hour.
        "PORTAL_DIGEST_HOUR": _env_int("DIGEST_HOUR", 7),
        "PORTAL_DEMO_PASSWORD": _env("DEMO_PASSWORD", "wijkkracht-demo"),
        "PORTAL_UPLOAD_DIR": _env("UPLOAD_DIR", str(instance / "uploads")),
        # The municipality's account that pays the grants (SEPA credit transfers, pain.001).
        "PORTAL_DEBTOR_NAME": _env("DEBTOR_NAME", "Gemeente Enschede"),
        "PORTAL_DEBTOR_IBAN": _env("DEBTOR_IBAN", "NL20INGB0001234567"),
        "PORTAL_DEBTOR_BIC": _env("DEBTOR_BIC", "INGBNL2A"),
        # Signed e-mail links: verification 48 hours, password reset 1 hour.
        "PORTAL_VERIFY_MAX_AGE": _env_int("VERIFY_MAX_AGE", 48 * 3600),
        "PORTAL_RESET_MAX_AGE": _env_int("RESET_MAX_AGE", 3600),
        # A draft's form stays good for rescuing typed text a week after it was opened.
        "PORTAL_DRAFT_TOKEN_MAX_AGE": _env_int("DRAFT_TOKEN_MAX_AGE", 7 * 24 * 3600),
        # Login throttling: failures allowed per window, per account and per address.
        "PORTAL_LOGIN_WINDOW_SECONDS": _env_int("LOGIN_WINDOW_SECONDS", 15 * 60),
        "PORTAL_LOGIN_MAX_PER_ACCOUNT": _env_int("LOGIN_MAX_PER_ACCOUNT", 5),
        "PORTAL_LOGIN_MAX_PER_ADDRESS": _env_int("LOGIN_MAX_PER_ADDRESS", 20),
        "PORTAL_DEV_PAGES": env != "production",
        # Number of proxies in front of the app whose X-Forwarded-For/-Proto to trust.
        "PORTAL_PROXIES": _env_int("PROXIES", 0),
        "PORTAL_SERVER_TIMING": _env_bool("SERVER_TIMING", False),  # see portal/timing.py
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "WTF_CSRF_HEADERS": ["X-CSRFToken"],
        # A signed-in session ends after this many hours without a request.
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_env_int("SESSION_HOURS", 8)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": base_url.startswith("https://"),
        "SESSION_COOKIE_NAME": "wijkkracht_session",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": base_url.startswith("https://"),
        "PREFERRED_URL_SCHEME": "https" if base_url.startswith("https://") else "http",
        "MAX_CONTENT_LENGTH": 110 * 1024 * 1024,
        "BABEL_DEFAULT_LOCALE": "nl",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Amsterdam",
        "PORTAL_LOCALES": ["nl", "en"],
        # Flask-RQ: queues live on Redis when configured; otherwise jobs run in-process.
        "RQ_CONNECTION": redis_url or "redis://127.0.0.1:6379/0",
        "RQ_QUEUES": ["default"],
    }
    if overrides:
        config.update(overrides)
    validate(config)
    return config


def validate(config: dict[str, Any]) -> None:
    """Fail fast on settings that would be unsafe."""
    if config["PORTAL_ENV"] == "production":
        secret = config.get("SECRET_KEY") or ""
        if secret == INSECURE_DEFAULT_SECRET or len(secret) < 32:
            raise ConfigurationError(
                "PORTAL_SECRET_KEY must be set to a random value of at least 32 characters "
                "in production."
            )
        if config.get("DEBUG"):
            raise ConfigurationError("PORTAL_DEBUG cannot be on in production.")
