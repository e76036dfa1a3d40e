"""A cache of the public pages of initiatives for anonymous visitors: the showcase (every filter,
search and page) and an initiative's page are the same for everyone who is not signed in, per
language. Kept in Redis (``PORTAL_PAGE_CACHE_URL``, by default ``PORTAL_REDIS_URL``), so every
worker process sees the same entries; without Redis there is no cache.

What is cached is the page's own part, never the page around it: the blocks ``title``, ``head``
and ``content`` of the page's template (or the htmx fragment). The page around it (``base.html``:
the navigation, the language switch and its CSRF token, the htmx CSRF header, the flash messages)
is rendered for every request, so no token, cookie or message is ever shared between visitors.
Not cached at all: a signed-in user (their page shows their own support, forms and links), a
request with flash messages waiting, anything but GET, and any answer but a 200.

Staleness: every entry carries the *version* it was made for. A version number in Redis goes up
after every commit that changed something these pages show (an initiative and its districts,
themes, help, photos, timeline, supports and support count, comments, hiding, publication and
status; a district; a user's name): SQLAlchemy session events notice such rows in a flush or in
an INSERT/UPDATE/DELETE statement, and ``after_commit`` raises the version. An entry of an older
version is never served. The version is read before the page reads the database, so a page made
from data older than a commit is filed under the version before that commit's increase.

A second version, for the lists, only goes up for changes that can change which initiatives a
filter finds (an initiative added, removed, published, its status, title or pitch; its districts,
themes or help): the exact counts of filtered showcase lists are kept under it, so that a new
supporter or comment does not make the next visitor count again. (The whole list's count, and a
count by status alone, come from the ``initiative_counts`` table and need no cache.)

Changes made behind the app's back (SQL by hand, ``flask seed-scale``'s COPY) do not raise the
version: entries live at most ``TTL`` seconds, and a process raises both versions the first time
it uses the cache (a deploy or restart starts afresh).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from flask import Response, current_app, has_app_context, render_template, request, session
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup
from redis.exceptions import RedisError
from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session

from portal.web import is_fragment_request, render

log = logging.getLogger(__name__)

TTL = 300  # seconds an entry lives at most
BLOCKS = ("title", "head", "content")
SHELL = "initiatives/_cached_page.html"
# When Redis does not answer: no cache for this long (the page is made as without Redis).
PAUSE_AFTER_ERROR = 10.0

REDIS_ERRORS = (RedisError, OSError)
# The two versions: of everything the pages show, and of which initiatives the lists hold.
PAGES = "pages"
LISTS = "lists"

_clients: dict[str, Any] = {}
_paused_until: dict[str, float] = {}
_started: set[str] = set()
_SESSION_KEY = "public_page_cache_changes"


# --- Redis ----------------------------------------------------------------------------------------


def cache_url() -> str | None:
    config = current_app.config
    url = config.get("PORTAL_PAGE_CACHE_URL")
    if url is None:
        url = config.get("PORTAL_REDIS_URL")
    return url or None


def prefix() -> str:
    """Per database: two apps on one Redis (tests, a benchmark) never share entries."""
    config = current_app.config
    configured = config.get("PORTAL_PAGE_CACHE_PREFIX")
    if configured:
        return str(configured)
    database = str(config.get("SQLALCHEMY_DATABASE_URI", ""))
    return "wijkkracht:public-pages:" + hashlib.sha1(database.encode()).hexdigest()[:12] + ":"  # noqa: S324


def client() -> Any | None:
    """The Redis client, or None without Redis (or for a few seconds after it failed)."""
    url = cache_url()
    if not url:
        return None
    if _paused_until.get(url, 0.0) > time.monotonic():
        return None
    found = _clients.get(url)
    if found is None:
        import redis

        found = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        _clients[url] = found
    return found


def _failed(error: Exception) -> None:
    url = cache_url()
    if url:
        _paused_until[url] = time.monotonic() + PAUSE_AFTER_ERROR
    log.warning("page cache: Redis unavailable, pages made without the cache: %s", error)


# Raise versions: one more than now, but never less than Redis's clock in microseconds. So a
# version never comes back, also when Redis lost the key (a restart without persistence, an
# eviction): a new version starts above every one before it.
RAISE = """
local now = redis.call('TIME')
local floor = tonumber(now[1]) * 1000000 + tonumber(now[2])
for _, key in ipairs(KEYS) do
  local version = tonumber(redis.call('GET', key) or '0') + 1
  if version < floor then version = floor end
  redis.call('SET', key, string.format('%d', version))
end
return 1
"""


def _raise(redis_client: Any, keys: list[str]) -> None:
    redis_client.eval(RAISE, len(keys), *keys)


def _start(redis_client: Any, keys: str) -> None:
    """The first use in this process raises both versions: entries made by older code (or
    before data was loaded behind the app's back) are not served."""
    if keys in _started:
        return
    _raise(redis_client, [keys + PAGES, keys + LISTS])
    _started.add(keys)


def _split(value: bytes | None) -> tuple[int, bytes] | None:
    if not value:
        return None
    version, _, payload = value.partition(b":")
    try:
        return int(version), payload
    except ValueError:
        return None


def bump(kinds: set[str]) -> None:
    """Raise the versions (``LISTS`` raises both): every entry made before is stale."""
    redis_client = client()
    if redis_client is None:
        return
    keys = prefix()
    try:
        _raise(redis_client, [keys + PAGES, keys + LISTS] if LISTS in kinds else [keys + PAGES])
    except REDIS_ERRORS as error:  # Redis down: entries expire after TTL
        _failed(error)


# --- pages --------------------------------------------------------------------------------------


@dataclass
class Entry:
    """This request's place in the cache: its key and the version read before any query."""

    redis: Any
    key: str
    version: int
    fragment: bool
    payload: dict[str, str] | None = None


def cacheable() -> bool:
    """A plain anonymous GET, without flash messages waiting."""
    if request.method != "GET" or cache_url() is None:
        return False
    if current_user and current_user.is_authenticated:
        return False
    return "_flashes" not in session


def lookup(kind: str, *parts: Any) -> Entry | None:
    """The cache entry of this request (``kind`` and ``parts`` name the page, the language and
    the htmx fragment are added), with the page when one of the current version is stored; None
    when this request is not to be cached."""
    if not cacheable():
        return None
    redis_client = client()
    if redis_client is None:
        return None
    fragment = is_fragment_request()
    name = json.dumps([kind, str(get_locale() or "nl"), fragment, *parts], default=str)
    keys = prefix()
    key = keys + "page:" + hashlib.sha1(name.encode()).hexdigest()  # noqa: S324
    try:
        _start(redis_client, keys)
        version, stored = redis_client.mget(keys + PAGES, key)
    except REDIS_ERRORS as error:
        _failed(error)
        return None
    if version is None:  # lost: start a new one (above every earlier one); nothing is stored now
        bump({LISTS})
        return None
    entry = Entry(redis_client, key, int(version), fragment)
    found = _split(stored)
    if found is not None and found[0] == entry.version:
        entry.payload = json.loads(found[1])
    return entry


def respond(entry: Entry | None) -> Response | None:
    """The stored page for this request, or None."""
    if entry is None or entry.payload is None:
        return None
    return _response(entry.payload)


def _response(payload: dict[str, str]) -> Response:
    """An htmx fragment as it is; the blocks of a page in the page around them, made now."""
    if "fragment" in payload:
        response = Response(payload["fragment"])
    else:
        response = Response(render_template(SHELL, cached_blocks=_markup(payload)))
    response.headers.add("Vary", "HX-Request")
    return response


def _markup(payload: dict[str, str]) -> dict[str, Markup]:
    return {name: Markup(payload.get(name, "")) for name in BLOCKS}  # noqa: S704 - our own HTML


def render_blocks(template_name: str, context: dict[str, Any]) -> dict[str, str]:
    """The blocks of a page's template, each rendered alone (so the template must not rely on
    top-level ``{% set %}`` or imports outside its blocks)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    template = app.jinja_env.get_or_select_template(template_name)
    variables = dict(context)
    app.update_template_context(variables)
    jinja_context = template.new_context(variables)
    return {
        name: app.jinja_env.concat(template.blocks[name](jinja_context))
        for name in BLOCKS
        if name in template.blocks
    }


def render_page(
    entry: Entry | None, full: str, fragment: str | None = None, **context: Any
) -> Response:
    """``web.render`` for these pages: without an entry just that; with one, the page's own
    part is rendered, stored under the entry's version, and put in the page around it."""
    if entry is None:
        return render(full, fragment, **context)
    if entry.fragment and fragment:
        payload = {"fragment": render_template(fragment, **context)}
    else:
        payload = render_blocks(full, context)
    if not any("csrf_token" in part for part in payload.values()):  # never share a token
        _store(entry, payload)
    return _response(payload)


def _store(entry: Entry, payload: dict[str, str]) -> None:
    value = f"{entry.version}:".encode() + json.dumps(payload).encode()
    try:
        entry.redis.set(entry.key, value, ex=TTL)
    except REDIS_ERRORS as error:
        _failed(error)


def cached_count(name: str, count: Any) -> int:
    """An exact count kept under the lists' version: ``count()`` only when it is not stored
    for the current version. Without Redis, simply ``count()``."""
    if not has_app_context():
        return int(count())
    redis_client = client()
    if redis_client is None:
        return int(count())
    keys = prefix()
    key = keys + "count:" + hashlib.sha1(name.encode()).hexdigest()  # noqa: S324
    try:
        _start(redis_client, keys)
        version, stored = redis_client.mget(keys + LISTS, key)
    except REDIS_ERRORS as error:
        _failed(error)
        return int(count())
    if version is None:  # lost: as above
        bump({LISTS})
        return int(count())
    version = int(version)
    found = _split(stored)
    if found is not None and found[0] == version:
        return int(found[1])
    total = int(count())
    try:
        redis_client.set(key, f"{version}:{total}", ex=TTL)
    except REDIS_ERRORS as error:
        _failed(error)
    return total


# --- what makes an entry stale ----------------------------------------------------------------

# Tables whose rows these pages show. A change to a "list" table can change which initiatives a
# filter finds (so the counts); the others only what a page shows.
LIST_TABLES = frozenset(
    {"initiative_districts", "initiative_themes", "initiative_help", "districts"}
)
PAGE_TABLES = frozenset(
    {"initiatives", "initiative_photos", "initiative_updates", "initiative_supports",
     "initiative_comments", "users"}
)  # fmt: skip
# An initiative whose only change is one of these stays in the same lists.
COUNTER_COLUMNS = frozenset({"support_count", "updated_at"})
# A user is shown by name (initiator, guide, comment authors).
USER_COLUMNS = frozenset({"name"})


def _mark(session: Session, kind: str | None) -> None:
    if kind is None:
        return
    marks = session.info.setdefault(_SESSION_KEY, set())
    marks.add(kind)


def _changed_columns(state: Any) -> set[str]:
    return {attr.key for attr in state.attrs if attr.history.has_changes()}


def _row_change(session: Session, obj: Any, new: bool, deleted: bool) -> str | None:
    table = getattr(getattr(obj, "__table__", None), "name", None)
    if table in LIST_TABLES:
        return LISTS
    if table not in PAGE_TABLES:
        return None
    if table == "initiatives":
        if new or deleted:
            return LISTS
        changed = _changed_columns(inspect(obj))
        if not changed:
            return None
        return PAGES if changed <= COUNTER_COLUMNS else LISTS
    if table == "users":
        if new:
            return None  # nobody shows a user who was not there before
        if deleted or _changed_columns(inspect(obj)) & USER_COLUMNS:
            return PAGES
        return None
    return PAGES


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context: Any) -> None:
    for obj in session.new:
        _mark(session, _row_change(session, obj, new=True, deleted=False))
    for obj in session.deleted:
        _mark(session, _row_change(session, obj, new=False, deleted=True))
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            _mark(session, _row_change(session, obj, new=False, deleted=False))


def _statement_change(state: ORMExecuteState) -> str | None:
    table = getattr(getattr(state.statement, "table", None), "name", None)
    if table in LIST_TABLES:
        return LISTS
    if table not in PAGE_TABLES:
        return None
    if state.is_update and table in ("initiatives", "users"):
        values = getattr(state.statement, "_values", None) or {}
        columns = {getattr(column, "key", str(column)) for column in values}
        if table == "users":
            return PAGES if not columns or columns & USER_COLUMNS else None
        return PAGES if columns and columns <= COUNTER_COLUMNS else LISTS
    if state.is_insert and table == "users":
        return None
    return LISTS if table == "initiatives" else PAGES


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if state.is_select:
        return
    if state.is_insert or state.is_update or state.is_delete:
        _mark(state.session, _statement_change(state))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the changes count once the whole transaction commits
    marks = session.info.pop(_SESSION_KEY, None)
    if marks and has_app_context():
        bump(marks)
