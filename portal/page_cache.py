"""The page caches, in Redis (``PORTAL_PAGE_CACHE_URL``, by default ``PORTAL_REDIS_URL``), so every
worker process sees the same entries; without Redis there is no cache. Two caches:

- the public pages of initiatives for anonymous visitors (the showcase and an initiative's page);
- the busiest signed-in pages, per user (``cached_for_user``, below).

**Public pages.** The showcase (every filter, search and page) and an initiative's page are the
same for everyone who is not signed in, per language.

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

**Signed-in pages** (the work queue, a case, a resident's application, Mijn aanvragen, the
council's requests, a district's budget). Such a page is one session's: it is stored whole, under
the session's login token, the address, the language chosen, htmx fragment or not, and today's
date (deadlines are shown against today). A third version goes up after *every* commit that wrote
anything at all, so an entry is only served while nothing in the database has changed since it
was made: the page around the content (the unread count, the user's roles and name) is as current
as the rest, and the checks of who may see the page would decide as they did (see
``cached_for_user``). The one thing in it that belongs to the request, the CSRF token, is stored
as a marker and replaced by the visitor's own token on the way out. Only a 200 is stored, without
flash messages, cookies or headers of the view's own. This trades hit rate for certainty: while
case officers are at work, every change empties the cache for all.

Changes made behind the app's back (SQL by hand, ``flask seed-scale``'s COPY) do not raise the
versions: entries live at most ``TTL`` seconds (a signed-in page ``USER_TTL``), and a process
raises every version the first time it uses the cache (a deploy or restart starts afresh).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec

from flask import Response, current_app, g, has_app_context, render_template, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from redis.exceptions import RedisError
from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session

from portal.timeutil import local_today
from portal.web import is_fragment_request, render

P = ParamSpec("P")

log = logging.getLogger(__name__)

TTL = 300  # seconds an entry lives at most
USER_TTL = 60  # the same for a signed-in page
BLOCKS = ("title", "head", "content")
SHELL = "initiatives/_cached_page.html"
# When Redis does not answer: no cache for this long (the page is made as without Redis).
PAUSE_AFTER_ERROR = 10.0

REDIS_ERRORS = (RedisError, OSError)
# The versions: of everything the public pages show, of which initiatives the lists hold, and of
# anything at all (the signed-in pages).
PAGES = "pages"
LISTS = "lists"
SIGNED_IN = "signed-in"
VERSIONS = (PAGES, LISTS, SIGNED_IN)

_clients: dict[str, Any] = {}
_paused_until: dict[str, float] = {}
_started: set[str] = set()
_SESSION_KEY = "page_cache_changes"


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
    return "wijkkracht:pages:" + hashlib.sha1(database.encode()).hexdigest()[:12] + ":"  # noqa: S324


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
    """The first use in this process raises every version: entries made by older code (or
    before data was loaded behind the app's back) are not served."""
    if keys in _started:
        return
    _raise(redis_client, [keys + version for version in VERSIONS])
    _started.add(keys)


def _split(value: bytes | None) -> tuple[int, bytes] | None:
    if not value:
        return None
    version, _, payload = value.partition(b":")
    try:
        return int(version), payload
    except ValueError:
        return None


def _read(
    redis_client: Any, keys: str, version_name: str, key: str
) -> tuple[int, bytes | None] | None:
    """The current version of ``version_name`` and what ``key`` holds for it (None when it holds
    nothing of that version). None when the cache is not to be used now: Redis failed, or the
    version was lost (a new one is started, above every earlier one; nothing is stored under it)."""
    try:
        _start(redis_client, keys)
        version, stored = redis_client.mget(keys + version_name, key)
    except REDIS_ERRORS as error:
        _failed(error)
        return None
    if version is None:
        bump(set(VERSIONS))
        return None
    found = _split(stored)
    return int(version), (found[1] if found is not None and found[0] == int(version) else None)


def _write(redis_client: Any, key: str, version: int, payload: bytes, ttl: int) -> None:
    """Store ``payload`` under ``key`` for ``version``."""
    try:
        redis_client.set(key, f"{version}:".encode() + payload, ex=ttl)
    except REDIS_ERRORS as error:
        _failed(error)


def bump(kinds: set[str]) -> None:
    """Raise the versions named (``LISTS`` raises ``PAGES`` too, and any change ``SIGNED_IN``):
    every entry made before under them is stale."""
    redis_client = client()
    if redis_client is None:
        return
    keys = prefix()
    raised = {SIGNED_IN} | ({PAGES} if kinds & {PAGES, LISTS} else set()) | (kinds & {LISTS})
    try:
        _raise(redis_client, [keys + version for version in VERSIONS if version in raised])
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
    read = _read(redis_client, keys, PAGES, key)
    if read is None:
        return None
    version, stored = read
    return Entry(
        redis_client, key, version, fragment, json.loads(stored) if stored is not None else None
    )


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
    _write(entry.redis, entry.key, entry.version, json.dumps(payload).encode(), TTL)


# --- signed-in pages ------------------------------------------------------------------------------

# Where the visitor's CSRF token goes in a stored page (between characters of Unicode's private use
# area; a page that holds the marker itself is not stored).
CSRF_PLACE = "\ue000csrf-token\ue000"
# The same for each key of ``fresh_key``: every visit gets new ones.
FRESH_PLACE = "\ue000fresh-key\ue000"
_FRESH_KEYS = "page_cache_fresh_keys"
# The headers a stored page may have: anything else came from the view and is not stored.
PLAIN_HEADERS = frozenset({"content-type", "content-length", "vary"})


def fresh_key() -> str:
    """A new random key for this page, such as a form's creation key (which tells a form sent
    twice from one page from two pages): a cached page gets new ones for every visit, as a page
    made afresh does."""
    key = uuid.uuid4().hex
    g.setdefault(_FRESH_KEYS, []).append(key)
    return key


def _signed_in_key(keys: str, user_token: str) -> str:
    name = json.dumps(
        [
            user_token,
            request.host,
            request.full_path,
            session.get("locale"),  # with the user's own choice (in the database): the language
            is_fragment_request(),
            local_today().isoformat(),
        ]
    )
    return keys + "user-page:" + hashlib.sha1(name.encode()).hexdigest()  # noqa: S324


def cached_for_user(view: Callable[P, Response]) -> Callable[P, Response]:
    """Serve a signed-in session's GET page from the cache while nothing was written since it
    was made (see the module's text). Put it right below the route, above the checks of who may
    see the page: on a hit nothing below runs, not even the loading of the user. That is safe
    because an entry is stored under the session's own login token, only after the checks and
    the view gave that session this page, and is served only while no commit has changed
    anything since: so also not after the user was blocked, lost a role or signed out."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> Response:
        user_token = session.get("_user_id")
        if (
            request.method != "GET"
            or not user_token
            or "_flashes" in session
            or cache_url() is None
        ):
            return view(*args, **kwargs)
        redis_client = client()
        if redis_client is None:
            return view(*args, **kwargs)
        keys = prefix()
        key = _signed_in_key(keys, str(user_token))
        read = _read(redis_client, keys, SIGNED_IN, key)
        if read is None:
            return view(*args, **kwargs)
        version, stored = read
        if stored is not None:
            return _user_page(stored.decode())
        response = view(*args, **kwargs)
        page = _storable(response, user_token)
        if page is not None:
            _write(redis_client, key, version, page.encode(), USER_TTL)
        return response

    return wrapped


def _storable(response: Response, user_token: str) -> str | None:
    """The page to store, its CSRF token replaced by the marker; None when it is not to be
    stored."""
    if (
        session.get("_user_id") != user_token  # signed in or out on the way
        or not current_user.is_authenticated
        or response.status_code != 200
        or response.mimetype != "text/html"
        or response.is_streamed
        or "_flashes" in session
        or any(name.lower() not in PLAIN_HEADERS for name, _value in response.headers)
    ):
        return None
    page = response.get_data(as_text=True)
    if CSRF_PLACE in page or FRESH_PLACE in page:
        return None
    for key in g.get(_FRESH_KEYS, ()):
        page = page.replace(key, FRESH_PLACE)
    token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    return page.replace(token, CSRF_PLACE) if token else page


def _user_page(page: str) -> Response:
    if CSRF_PLACE in page:
        page = page.replace(CSRF_PLACE, generate_csrf())
    if FRESH_PLACE in page:
        parts = page.split(FRESH_PLACE)
        page = parts[0] + "".join(uuid.uuid4().hex + part for part in parts[1:])
    response = Response(page, mimetype="text/html")
    response.headers.add("Vary", "HX-Request")
    return response


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
    read = _read(redis_client, keys, LISTS, key)
    if read is None:
        return int(count())
    version, stored = read
    if stored is not None:
        return int(stored)
    total = int(count())
    _write(redis_client, key, version, str(total).encode(), TTL)
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
    if session.new or session.deleted or any(session.is_modified(obj) for obj in session.dirty):
        _mark(session, SIGNED_IN)  # anything written: every signed-in page may show it
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
    _mark(state.session, SIGNED_IN)  # any statement but a SELECT (plain SQL included)
    if state.is_insert or state.is_update or state.is_delete:
        _mark(state.session, _statement_change(state))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the changes count once the whole transaction commits
    marks = session.info.pop(_SESSION_KEY, None)
    if marks and has_app_context():
        bump(marks)
