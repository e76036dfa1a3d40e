"""Benchmark: how fast the main pages answer at city scale, against the ceiling of the stack.

    make bench                 (or: .venv/bin/python bench/run.py [--only showcase,queue])

What it does:

* looks in the database named by ``BENCH_DATABASE_URL`` (default: ``scale_full``, filled by
  ``flask seed-scale``) for real ids: the case officer with the most applications in their
  boroughs, a resident of one of those applications, drafts to save, the council member whose
  councils have the most requests for advice, the published initiative with the most comments
  and news, the officer's budget with the most ledger entries, and the showcase's most common
  district, theme and title word;
* starts the portal as "Running in production" in the README says: gunicorn with 2 sync
  workers (the default class, as in production; 2 because this machine has 2 cores) bound to
  127.0.0.1 on a free port, ``PORTAL_ENV=production`` with a generated secret key, PostgreSQL
  and Redis, ``PORTAL_BASE_URL=http://127.0.0.1:<port>``, plus ``PORTAL_SERVER_TIMING=1`` so
  every response tells its queries;
* logs in once per account (through the login form, with its CSRF token), and reads the
  draft's form as a browser would (its CSRF and draft tokens and every field);
* per page: checks one request (the first: it makes the page, and its queries and app time are
  reported as "first request"), warms up, then drives it with wrk (Debian's ``wrk``; a Lua
  script sets the cookie, the POST body, and reads ``Server-Timing``) with 4 connections for
  ``BENCH_SECONDS`` (10), then at saturation (16 connections) for the throughput;
* runs the same against ``/healthz`` (one ``SELECT 1``, no template), the ceiling, before and
  after the pages, and compares each page's throughput with the ceiling's;
* notes the CPU time wrk used (it must stay a small share of one core, or the load generator
  would be what is measured) and how busy the machine was.

What it changes in that database: a login attempt per account, and the drafts it saves (their
own form posted back, as a resident pressing "Opslaan"; only without any draft it makes one).
Use a copy (``createdb -T scale_full bench_copy``) to keep the original untouched.

The page caches (``portal/page_cache.py``) are on, as in production: under load a GET page is
served from them while nothing is written. ``BENCH_PAGE_CACHE=off`` turns them off, so every
request makes its page: that run writes ``pages-uncached.md`` and ``.json`` instead.

Writes ``bench/results/pages.md`` and ``pages.json`` and prints the table. Exits 1 when a page
misses a target: every GET p50 <= 20 ms and p95 <= 50 ms at 4 connections, the POST p95 <= 100
ms, no errors, every list page at least 30% of the ceiling's throughput, at most 8 queries
(under load and on the first request).

Settings (environment): BENCH_DATABASE_URL, BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (2),
BENCH_CONNECTIONS (4), BENCH_SATURATION_CONNECTIONS (16), BENCH_WORKERS (2),
BENCH_WORKER_CLASS (sync), BENCH_REDIS_URL (redis://127.0.0.1:6379/7), BENCH_PASSWORD (the
demo password), BENCH_SEARCH (the showcase's search word), BENCH_PAGE_CACHE (on).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
VENV_BIN = Path(sys.executable).parent

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1/scale_full"
)
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
WARMUP_SECONDS = int(os.environ.get("BENCH_WARMUP_SECONDS", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "4"))
SATURATION = int(os.environ.get("BENCH_SATURATION_CONNECTIONS", "16"))
# BENCH_PAGE_CACHE=off runs the portal without its page caches (PORTAL_PAGE_CACHE_URL=""): every
# request makes its page. Its results go to pages-uncached.md and .json.
PAGE_CACHE = os.environ.get("BENCH_PAGE_CACHE", "on").lower() not in ("off", "0", "no", "")
RESULT_NAME = "pages" if PAGE_CACHE else "pages-uncached"
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
WORKER_CLASS = os.environ.get("BENCH_WORKER_CLASS", "sync")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
PASSWORD = os.environ.get("BENCH_PASSWORD") or os.environ.get(
    "PORTAL_DEMO_PASSWORD", "wijkkracht-demo"
)
USER_AGENT = "wijkkracht-bench"  # the same for the logins and wrk: the session is bound to it

# Targets (issue 8, "Fast at city scale").
GET_P50_MS = 20.0
GET_P95_MS = 50.0
POST_P95_MS = 100.0
LIST_RATIO = 0.30
MAX_QUERIES = 8

PUBLIC_STATES = ("published", "in_conversation", "running", "realised", "stopped")


# --- talking to the portal from Python (logins, forms, one checking request per page) ----------


class Browser:
    """Cookies and forms, one request at a time (no redirects followed)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, form: list[tuple[str, str]] | str | None = None
    ) -> tuple[int, dict[str, str], str]:
        """One request; ``form`` as pairs or already urlencoded."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"User-Agent": USER_AGENT}
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        body = None
        if form is not None:
            body = form if isinstance(form, str) else urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for value in response.headers.get_all("Set-Cookie") or []:
                cookie = SimpleCookie()
                cookie.load(value)
                for name, morsel in cookie.items():
                    if morsel["expires"] and "1970" in morsel["expires"]:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            return response.status, dict(response.headers.items()), text
        finally:
            connection.close()

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())


class Forms(HTMLParser):
    """Every form on a page: its action and what a browser would send (checked boxes only, no
    buttons)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []
        self.textarea: str | None = None
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.forms.append({"action": values.get("action", ""), "fields": []})
            return
        if not self.forms:
            return
        fields = self.forms[-1]["fields"]
        name = values.get("name")
        if tag == "input" and name:
            kind = values.get("type", "text").lower()
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in values:
                return
            fields.append([name, values.get("value", "on" if kind == "checkbox" else "")])
        elif tag == "textarea" and name:
            self.textarea = name
            fields.append([name, ""])
        elif tag == "select" and name:
            self.select = name
        elif tag == "option" and self.select and "selected" in values:
            fields.append([self.select, values.get("value", "")])

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None

    def handle_data(self, data: str) -> None:
        if self.textarea and self.forms:
            fields = self.forms[-1]["fields"]
            fields[-1][1] += data


def form_on(html: str, action_part: str) -> list[tuple[str, str]]:
    parser = Forms()
    parser.feed(html)
    for form in parser.forms:
        if action_part in form["action"]:
            fields = [(name, value) for name, value in form["fields"]]
            # A textarea's first newline belongs to the markup, not to the value.
            return [(n, v[1:] if v.startswith("\n") else v) for n, v in fields]
    raise BenchError(f"no form with action {action_part!r} on the page")


class BenchError(RuntimeError):
    """The bench cannot go on: what and why."""


def log_in(port: int, email: str) -> Browser:
    browser = Browser(port)
    status, _headers, html = browser.request("GET", "/inloggen")
    if status != 200:
        raise BenchError(f"GET /inloggen answered {status}")
    fields = dict(form_on(html, "/inloggen"))
    form = [
        ("csrf_token", fields.get("csrf_token", "")),
        ("next", ""),
        ("email", email),
        ("password", PASSWORD),
    ]
    status, _headers, html = browser.request("POST", "/inloggen", form)
    if status not in (302, 303):
        found = re.search(r'class="[^"]*error[^"]*"[^>]*>(.*?)<', html, re.S)
        detail = " ".join(found.group(1).split()) if found else html[:200]
        raise BenchError(
            f"cannot log in as {email} (answer {status}: {detail!r}); is BENCH_PASSWORD right? "
            "Each failed login counts towards the login throttle."
        )
    return browser


# --- picking real ids from the database ---------------------------------------------------------


def pick(database_url: str) -> dict[str, Any]:
    """Real users and ids, chosen with SQL (see the module docstring)."""
    from sqlalchemy import create_engine, text

    from portal.initiatives.showcase import PER_PAGE as SHOWCASE_PER_PAGE
    from portal.reviews.views import PER_PAGE as QUEUE_PER_PAGE

    engine = create_engine(database_url)
    public = ", ".join(f"'{s}'" for s in PUBLIC_STATES)
    verified = "u.active AND u.email_verified_at IS NOT NULL"
    with engine.connect() as db:

        def one(sql: str, **params: Any) -> Any:
            return db.execute(text(sql), params).first()

        counts = {
            table: db.execute(text(f"SELECT count(*) FROM {table}")).scalar()  # noqa: S608
            for table in ("users", "applications", "initiatives", "ledger_entries")
        }
        officer = one(
            f"""
            SELECT u.id, u.email, count(a.id) AS n
            FROM users u
            JOIN user_roles r ON r.user_id = u.id AND r.role = 'case_officer'
            JOIN case_officer_boroughs cb ON cb.user_id = u.id
            JOIN districts d ON d.borough_id = cb.borough_id
            JOIN applications a ON a.district_id = d.id AND a.state <> 'draft'
            WHERE {verified}
            GROUP BY u.id, u.email ORDER BY n DESC, u.id LIMIT 1"""  # noqa: S608
        )
        if officer is None:
            raise BenchError("no case officer with applications in the database")
        application = one(
            f"""
            SELECT a.id, a.applicant_id, u.email
            FROM applications a
            JOIN districts d ON d.id = a.district_id
            JOIN case_officer_boroughs cb ON cb.borough_id = d.borough_id AND cb.user_id = :o
            JOIN users u ON u.id = a.applicant_id
            WHERE a.state <> 'draft' AND {verified}
            ORDER BY (SELECT count(*) FROM applications b WHERE b.applicant_id = a.applicant_id)
                     DESC, a.id DESC
            LIMIT 1""",  # noqa: S608
            o=officer.id,
        )
        # Drafts to save: one each of up to 4 residents (the chosen one first), so that the
        # connections do not queue on one draft's row lock (each save locks its draft).
        drafts = [
            (row.id, row.email)
            for row in db.execute(
                text(
                    f"""
                    SELECT d.id, d.email FROM (
                      SELECT DISTINCT ON (a.applicant_id) a.id, a.applicant_id, u.email
                      FROM applications a JOIN users u ON u.id = a.applicant_id
                      WHERE a.state = 'draft' AND {verified}
                      ORDER BY a.applicant_id, a.id) d
                    ORDER BY d.applicant_id = :r DESC, d.applicant_id LIMIT 4"""  # noqa: S608
                ),
                {"r": application.applicant_id},
            ).all()
        ]
        member = one(
            f"""
            SELECT u.id, u.email, count(ar.id) AS n
            FROM council_memberships m
            JOIN users u ON u.id = m.user_id
            LEFT JOIN advice_requests ar ON ar.council_id = m.council_id
            WHERE {verified}
            GROUP BY u.id, u.email ORDER BY n DESC, u.id LIMIT 1"""  # noqa: S608
        )
        if member is None:
            raise BenchError("no council member in the database")
        initiative = one(
            f"""
            SELECT i.id, i.slug FROM initiatives i
            WHERE i.state IN ({public}) AND i.published_at IS NOT NULL
            ORDER BY (SELECT count(*) FROM initiative_comments c WHERE c.initiative_id = i.id)
                   + (SELECT count(*) FROM initiative_updates t WHERE t.initiative_id = i.id)
                     DESC, i.id DESC
            LIMIT 1"""  # noqa: S608
        )
        if initiative is None:
            raise BenchError("no published initiative in the database")
        budget = one(
            """
            SELECT b.id FROM district_budgets b
            JOIN districts d ON d.id = b.district_id
            JOIN case_officer_boroughs cb ON cb.borough_id = d.borough_id AND cb.user_id = :o
            ORDER BY (SELECT count(*) FROM ledger_entries e WHERE e.budget_id = b.id) DESC,
                     b.year DESC
            LIMIT 1""",
            o=officer.id,
        )
        if budget is None:
            raise BenchError("no district budget in the case officer's boroughs")
        showcase_filter = one(
            f"""
            SELECT d.slug, t.theme, count(*) AS n
            FROM initiatives i
            JOIN initiative_districts idd ON idd.initiative_id = i.id
            JOIN districts d ON d.id = idd.district_id
            JOIN initiative_themes t ON t.initiative_id = i.id
            WHERE i.state IN ({public}) AND i.published_at IS NOT NULL
            GROUP BY d.slug, t.theme ORDER BY n DESC, d.slug LIMIT 1"""  # noqa: S608
        )
        word = (
            os.environ.get("BENCH_SEARCH")
            or one(
                f"""
            SELECT w, count(*) AS n FROM (
              SELECT lower(regexp_replace(split_part(title, ' ', 1), '[^[:alpha:]]', '', 'g'))
                     AS w
              FROM initiatives WHERE state IN ({public}) AND published_at IS NOT NULL) words
            WHERE length(w) >= 4 GROUP BY w ORDER BY n DESC, w LIMIT 1"""  # noqa: S608
            ).w
        )
        public_count = db.execute(
            text(
                f"SELECT count(*) FROM initiatives WHERE state IN ({public}) "  # noqa: S608
                "AND published_at IS NOT NULL"
            )
        ).scalar()
        queue_district = one(
            """
            SELECT a.district_id, count(*) AS n FROM applications a
            JOIN districts d ON d.id = a.district_id
            JOIN case_officer_boroughs cb ON cb.borough_id = d.borough_id AND cb.user_id = :o
            WHERE a.state = 'submitted'
            GROUP BY a.district_id ORDER BY n DESC, a.district_id LIMIT 1""",
            o=officer.id,
        )
    engine.dispose()
    return {
        "rows": counts,
        "officer": {"email": officer.email, "applications": officer.n},
        "application": application.id,
        "resident": application.email,
        "drafts": [{"id": draft, "email": email} for draft, email in drafts],
        "member": {"email": member.email, "requests": member.n},
        "initiative": f"{initiative.id}-{initiative.slug}" if initiative.slug else initiative.id,
        "budget": budget.id,
        "showcase_filter": {
            "wijk": showcase_filter.slug if showcase_filter else "",
            "thema": showcase_filter.theme if showcase_filter else "",
        },
        "search": word,
        "showcase_last_page": max(math.ceil(public_count / SHOWCASE_PER_PAGE), 1),
        "queue_last_page": max(math.ceil(officer.n / QUEUE_PER_PAGE), 1),
        "queue_district": queue_district.district_id if queue_district else None,
    }


# --- the pages ---------------------------------------------------------------------------------


@dataclass
class Page:
    name: str
    kind: str  # "list", "detail", "post" or "ceiling"
    path: str
    who: str | None = None  # e-mail of the account, None for anonymous
    method: str = "GET"
    expected: int = 200
    # What each wrk thread sends: (path, urlencoded body or "", cookie or ""); a POST has one
    # per draft, each with its resident's session.
    targets: list[tuple[str, str, str]] = field(default_factory=list)


def pages_for(ids: dict[str, Any]) -> list[Page]:
    officer, resident, member = ids["officer"]["email"], ids["resident"], ids["member"]["email"]
    showcase_filter = urlencode({k: v for k, v in ids["showcase_filter"].items() if v})
    queue_filter = urlencode(
        {
            "status": "submitted",
            **({"wijk": ids["queue_district"]} if ids["queue_district"] else {}),
        }
    )
    pages = [
        Page("showcase", "list", "/initiatieven"),
        Page("showcase, filtered", "list", f"/initiatieven?{showcase_filter}"),
        Page("showcase, searched", "list", "/initiatieven?" + urlencode({"zoek": ids["search"]})),
        Page("showcase, deep page", "list", f"/initiatieven?page={ids['showcase_last_page']}"),
        Page("initiative", "detail", f"/initiatieven/{ids['initiative']}"),
        Page("queue", "list", "/werkvoorraad", officer),
        Page("queue, filtered", "list", f"/werkvoorraad?{queue_filter}", officer),
        Page("queue, deep page", "list", f"/werkvoorraad?page={ids['queue_last_page']}", officer),
        Page("application, staff", "detail", f"/behandeling/{ids['application']}", officer),
        Page("application, resident", "detail", f"/aanvragen/{ids['application']}", resident),
        Page("Mijn aanvragen", "list", "/mijn-aanvragen", resident),
        Page("council requests", "list", "/wijkorgaan", member),
        Page("district budget", "list", f"/budgetten/{ids['budget']}", officer),
    ]
    drafts = ids["drafts"]
    pages.append(
        Page(
            "save draft",
            "post",
            "/aanvragen/{draft}/bewerken/activiteit",
            drafts[0]["email"] if drafts else resident,
            method="POST",
            expected=303,
        )
    )
    return pages


def prepare_post(page: Page, sessions: dict[str, Browser], drafts: list[dict[str, Any]]) -> None:
    """Read each draft's form as the browser shows it, to post it back unchanged ("Opslaan"):
    CSRF token, draft token and every field. Without any draft in the database, make one (the
    only write besides the saves themselves)."""
    if not drafts:
        browser = sessions[page.who or ""]
        status, _headers, html = browser.request("GET", "/mijn-aanvragen")
        status, headers, _html = browser.request("POST", "/aanvragen/nieuw", form_on(html, "nieuw"))
        found = re.search(r"/aanvragen/(\d+)/", headers.get("Location", ""))
        if status != 303 or not found:
            raise BenchError(f"could not make a draft to save (answer {status})")
        drafts = [{"id": int(found.group(1)), "email": page.who}]
    for draft in drafts:
        browser = sessions[draft["email"]]
        path = page.path.format(draft=draft["id"])
        status, _headers, html = browser.request("GET", path)
        if status != 200:
            raise BenchError(f"GET {path} answered {status}")
        body = urlencode([*form_on(html, path), ("save", "1")])
        page.targets.append((path, body, browser.cookie_header()))
    page.path = page.targets[0][0]


# --- wrk ---------------------------------------------------------------------------------------


def lua_string(value: str) -> str:
    escaped = "".join(
        ch if 32 <= ord(ch) < 127 and ch not in '"\\' else f"\\{ord(ch):03d}"
        for ch in value.encode("utf-8").decode("latin-1")
    )
    return f'"{escaped}"'


LUA = r"""
-- Written by bench/run.py for one run.
local method = %(method)s
local expected = %(expected)d
local targets = { %(targets)s }
local headers = { ["User-Agent"] = %(agent)s %(content_type)s }

local threads = {}
local made = 0

function setup(thread)
  made = made + 1
  thread:set("id", made)
  table.insert(threads, thread)
end

function init(args)
  local target = targets[((id - 1) %% #targets) + 1]
  local mine = {}
  for name, value in pairs(headers) do mine[name] = value end
  if target[3] then mine["Cookie"] = target[3] end
  req = wrk.format(method, target[1], mine, target[2])
  responses, unexpected, timed, q_sum, q_min, q_max, db_sum, app_sum = 0, 0, 0, 0, -1, 0, 0, 0
  statuses = {}
end

function request()
  return req
end

function response(status, hdrs, body)
  responses = responses + 1
  if status ~= expected then
    unexpected = unexpected + 1
    statuses[tostring(status)] = (statuses[tostring(status)] or 0) + 1
  end
  local value = hdrs["Server-Timing"] or hdrs["server-timing"]
  if value then
    local db, q, app = string.match(
      value, 'db;dur=([%%d.]+);desc="(%%d+) queries", app;dur=([%%d.]+)')
    if q then
      q = tonumber(q)
      timed = timed + 1
      q_sum = q_sum + q
      if q_min < 0 or q < q_min then q_min = q end
      if q > q_max then q_max = q end
      db_sum = db_sum + tonumber(db)
      app_sum = app_sum + tonumber(app)
    end
  end
end

function done(summary, latency, requests)
  local t = {responses = 0, unexpected = 0, timed = 0, q_sum = 0, q_min = -1, q_max = 0,
             db_sum = 0, app_sum = 0}
  local statuses_all = {}
  for _, thread in ipairs(threads) do
    for _, key in ipairs({"responses", "unexpected", "timed", "q_sum", "db_sum", "app_sum"}) do
      t[key] = t[key] + thread:get(key)
    end
    local low = thread:get("q_min")
    if low >= 0 and (t.q_min < 0 or low < t.q_min) then t.q_min = low end
    if thread:get("q_max") > t.q_max then t.q_max = thread:get("q_max") end
    for code, n in pairs(thread:get("statuses")) do
      statuses_all[code] = (statuses_all[code] or 0) + n
    end
  end
  local codes = {}
  for code, n in pairs(statuses_all) do table.insert(codes, string.format('"%%s":%%d', code, n)) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%%d,"duration_us":%%d,"bytes":%%d,' ..
    '"errors":{"connect":%%d,"read":%%d,"write":%%d,"status":%%d,"timeout":%%d},' ..
    '"latency_us":{"p50":%%d,"p90":%%d,"p95":%%d,"p99":%%d,"max":%%d,"mean":%%.1f},' ..
    '"responses":%%d,"unexpected":%%d,"unexpected_statuses":{%%s},' ..
    '"timed":%%d,"queries_sum":%%d,"queries_min":%%d,"queries_max":%%d,' ..
    '"db_ms_sum":%%.1f,"app_ms_sum":%%.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean,
    t.responses, t.unexpected, table.concat(codes, ","),
    t.timed, t.q_sum, t.q_min, t.q_max, t.db_sum, t.app_sum))
end
"""


def lua_script(page: Page) -> str:
    def lua(value: str) -> str:
        return lua_string(value) if value else "nil"

    return LUA % {
        "method": lua_string(page.method),
        "expected": page.expected,
        "targets": ", ".join(
            f"{{{lua(path)}, {lua(body)}, {lua(cookie)}}}" for path, body, cookie in page.targets
        ),
        "agent": lua_string(USER_AGENT),
        "content_type": ', ["Content-Type"] = "application/x-www-form-urlencoded"'
        if page.method == "POST"
        else "",
    }


def cpu_busy() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def process_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) of these processes so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def server_pids(master: int) -> list[int]:
    pids = [master]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                pids.append(int(entry.name))
    return pids


def run_wrk(page: Page, port: int, connections: int, seconds: int, master: int) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua_script(page))
    threads = min(connections, 4)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        script.name,
        f"http://127.0.0.1:{port}{page.path}",
    ]
    pids = server_pids(master)
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before, total_before = cpu_busy()
    server_before = process_cpu(pids)
    started = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    wall = time.perf_counter() - started
    server_used = process_cpu(pids) - server_before
    busy_after, total_after = cpu_busy()
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    Path(script.name).unlink(missing_ok=True)
    found = re.search(r"^BENCH_JSON (.*)$", finished.stdout, re.M)
    if finished.returncode != 0 or not found:
        raise BenchError(
            f"wrk failed ({finished.returncode}): {finished.stderr or finished.stdout}"
        )
    result: dict[str, Any] = json.loads(found.group(1))
    duration = result["duration_us"] / 1e6
    wrk_cpu = (after_children.ru_utime - before_children.ru_utime) + (
        after_children.ru_stime - before_children.ru_stime
    )
    errors = result["errors"]
    result.update(
        connections=connections,
        threads=threads,
        rps=result["requests"] / duration if duration else 0.0,
        error_count=errors["status"]
        + errors["connect"]
        + errors["read"]
        + errors["write"]
        + errors["timeout"],
        wrk_cpu_seconds=round(wrk_cpu, 3),
        wrk_cpu_share_of_one_core=round(wrk_cpu / wall, 4),
        wrk_cpu_us_per_request=round(wrk_cpu / max(result["requests"], 1) * 1e6, 1),
        server_cpu_share_of_one_core=round(server_used / wall, 3),
        machine_busy=round((busy_after - busy_before) / max(total_after - total_before, 1), 3),
    )
    if result["timed"]:
        result["queries_mean"] = round(result["queries_sum"] / result["timed"], 2)
        result["db_ms_mean"] = round(result["db_ms_sum"] / result["timed"], 2)
        result["app_ms_mean"] = round(result["app_ms_sum"] / result["timed"], 2)
    return result


# --- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int, instance: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PORTAL_ENV": "production",
        "PORTAL_SECRET_KEY": secrets.token_urlsafe(48),
        "PORTAL_DATABASE_URL": DATABASE_URL,
        "PORTAL_REDIS_URL": REDIS_URL,
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "PORTAL_INSTANCE_PATH": str(instance),
        "PORTAL_SERVER_TIMING": "1",
        "FLASK_APP": "portal:create_app",
    }
    if not PAGE_CACHE:
        env["PORTAL_PAGE_CACHE_URL"] = ""
    env.pop("PORTAL_DEBUG", None)
    log = (instance / "gunicorn.log").open("wb")
    server = subprocess.Popen(  # noqa: S603
        [
            str(VENV_BIN / "gunicorn"),
            "--workers",
            str(WORKERS),
            "--worker-class",
            WORKER_CLASS,
            "--bind",
            f"127.0.0.1:{port}",
            "portal:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(
                "gunicorn stopped:\n" + (instance / "gunicorn.log").read_text()[-3000:]
            )
        try:
            if Browser(port).request("GET", "/healthz")[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.3)
    server.terminate()
    raise BenchError("gunicorn did not answer /healthz within 60 s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- judging and reporting ---------------------------------------------------------------------


def judge(row: dict[str, Any], ceiling_rps: float) -> None:
    """Fill in the ratio and the checks (name -> passed) of one page."""
    at4, saturated = row["at_connections"], row["at_saturation"]
    row["ratio"] = saturated["rps"] / ceiling_rps if ceiling_rps else 0.0
    checks: dict[str, bool] = {}
    p50, p95 = at4["latency_us"]["p50"] / 1000, at4["latency_us"]["p95"] / 1000
    if row["kind"] in ("list", "detail"):
        checks[f"p50 <= {GET_P50_MS:g} ms"] = p50 <= GET_P50_MS
        checks[f"p95 <= {GET_P95_MS:g} ms"] = p95 <= GET_P95_MS
    if row["kind"] == "post":
        checks[f"p95 <= {POST_P95_MS:g} ms"] = p95 <= POST_P95_MS
    checks["no errors"] = row["errors"] == 0
    if row["kind"] == "list":
        checks[f">= {LIST_RATIO:.0%} of the ceiling"] = row["ratio"] >= LIST_RATIO
    if row["kind"] != "ceiling":
        # Under load and on the first request, which made the page when the load is cached.
        counted = [row["queries_max"], row.get("first_queries")]
        checks[f"<= {MAX_QUERIES} queries"] = row["queries_max"] is not None and all(
            count <= MAX_QUERIES for count in counted if count is not None
        )
    row["checks"] = checks
    row["pass"] = all(checks.values())


def ms(microseconds: float) -> str:
    value = microseconds / 1000
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def number(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def first(row: dict[str, Any]) -> str:
    if row.get("first_queries") is None:
        return "–"
    return f"{row['first_queries']} q, {row['first_app_ms']:.1f} ms"


def markdown(report: dict[str, Any]) -> str:
    rows = report["pages"]
    ceiling = report["ceiling"]
    lines = [
        "# Pages at city scale (`make bench`"
        + ("" if report["settings"].get("page_cache", True) else ", without the page caches")
        + ")",
        "",
        f"{report['generated_at']}, {report['machine']['cpus']} CPUs, load average before "
        f"{report['machine']['load_before']}, after {report['machine']['load_after']}; "
        f"database `{report['database']['name']}` "
        + ", ".join(f"{n:,} {t}" for t, n in report["database"]["rows"].items())
        + ".",
        "",
        f"gunicorn {report['settings']['workers']} {report['settings']['worker_class']} workers, "
        f"PORTAL_ENV=production, PostgreSQL + Redis; wrk {report['settings']['seconds']} s per "
        f"run at {report['settings']['connections']} connections (latency) and at "
        f"{report['settings']['saturation']} (throughput, ratio); queries, db ms and app ms "
        "(mean time in the database and in the app per request, at 4 connections) from "
        "Server-Timing. First request: the queries and app ms of the request before the load, "
        "which made the page"
        + (
            " (under load the page caches serve what they hold: 0 queries)."
            if report["settings"].get("page_cache", True)
            else "; the page caches are off (BENCH_PAGE_CACHE=off)."
        ),
        "",
        "| page | rps @4 | p50 ms | p95 ms | p99 ms | rps @sat | ratio | errors | queries "
        "| db ms | app ms | first request | result |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in [*rows, ceiling]:
        at4, sat = row["at_connections"], row["at_saturation"]
        queries = (
            "–"
            if row["queries_max"] is None
            else (
                str(row["queries_max"])
                if row["queries_min"] == row["queries_max"]
                else f"{row['queries_min']}–{row['queries_max']}"
            )
        )
        failed = [name for name, ok in row.get("checks", {}).items() if not ok]
        result = (
            "ceiling"
            if row["kind"] == "ceiling"
            else ("PASS" if row["pass"] else "FAIL: " + "; ".join(failed))
        )
        lines.append(
            f"| {row['name']} ({row['kind']}) | {at4['rps']:.0f} | {ms(at4['latency_us']['p50'])} "
            f"| {ms(at4['latency_us']['p95'])} | {ms(at4['latency_us']['p99'])} | {sat['rps']:.0f} "
            f"| {row['ratio']:.0%} | {row['errors']} | {queries} "
            f"| {number(row['db_ms_mean'])} | {number(row['app_ms_mean'])} | {first(row)} "
            f"| {result} |"
        )
    wrk = report["load_generator"]
    lines += [
        "",
        f"Ceiling: `/healthz` {ceiling['runs_rps']} rps at saturation (before and after the "
        f"pages; the ratio uses their mean, {ceiling['at_saturation']['rps']:.0f}).",
        f"Load generator: wrk used at most {wrk['max_share_of_one_core']:.1%} of one core (at the "
        f"fastest page) and {wrk['us_per_request']:.0f} µs of CPU per request, against "
        f"{wrk['server_us_per_request']:.0f} µs in gunicorn (database not counted); the machine "
        f"was {wrk['machine_busy_median']:.0%} busy (median over the runs). The load generator is "
        "not the bottleneck.",
        "",
        f"Targets: GET p50 <= {GET_P50_MS:g} ms and p95 <= {GET_P95_MS:g} ms at "
        f"{report['settings']['connections']} connections; POST p95 <= {POST_P95_MS:g} ms; "
        f"no errors; list pages >= {LIST_RATIO:.0%} of the ceiling's rps; <= {MAX_QUERIES} "
        "queries a page.",
        "",
        f"**{'PASS' if report['pass'] else 'FAIL'}**: "
        f"{sum(r['pass'] for r in rows)} of {len(rows)} pages meet every target.",
    ]
    return "\n".join(lines) + "\n"


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def masked(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


# --- main --------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated parts of page names to run")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        return 2

    print(f"Picking ids in {masked(DATABASE_URL)} ...", flush=True)
    ids = pick(DATABASE_URL)
    print(json.dumps(ids, indent=1), flush=True)
    pages = pages_for(ids)
    if args.only:
        wanted = [part.strip().lower() for part in args.only.split(",")]
        pages = [p for p in pages if any(w in p.name.lower() for w in wanted)]

    load_before = " ".join(f"{v:.2f}" for v in os.getloadavg())
    instance = Path(tempfile.mkdtemp(prefix="wijkkracht-bench-"))
    port = free_port()
    print(f"Starting gunicorn on 127.0.0.1:{port} ({WORKERS} {WORKER_CLASS} workers)", flush=True)
    server = start_server(port, instance)
    try:
        sessions: dict[str, Browser] = {}
        for page in pages:
            if page.who and page.who not in sessions:
                print(f"Logging in as {page.who}", flush=True)
                sessions[page.who] = log_in(port, page.who)
        for draft in ids["drafts"]:
            if draft["email"] not in sessions:
                print(f"Logging in as {draft['email']}", flush=True)
                sessions[draft["email"]] = log_in(port, draft["email"])
        for page in pages:
            if page.method == "POST":
                prepare_post(page, sessions, ids["drafts"])
            else:
                cookie = sessions[page.who].cookie_header() if page.who else ""
                page.targets = [(page.path, "", cookie)]
        healthz = Page("ceiling: /healthz", "ceiling", "/healthz", targets=[("/healthz", "", "")])

        def measure(page: Page) -> dict[str, Any]:
            probe = Browser(port)
            path, body, cookie = page.targets[0]
            probe.cookies = dict(pair.split("=", 1) for pair in cookie.split("; ") if "=" in pair)
            status, headers, _html = probe.request(page.method, path, body or None)
            if status != page.expected:
                raise BenchError(f"{page.name}: {page.method} {path} answered {status}")
            timing = headers.get("Server-Timing", "")
            print(f"  {page.name}: {page.method} {path} -> {status}, {timing}", flush=True)
            # The first request makes the page (nothing cached for it yet).
            made = re.search(r'desc="(\d+) queries", app;dur=([\d.]+)', timing)
            run_wrk(page, port, CONNECTIONS, WARMUP_SECONDS, server.pid)
            at4 = run_wrk(page, port, CONNECTIONS, SECONDS, server.pid)
            saturated = run_wrk(page, port, SATURATION, SECONDS, server.pid)
            runs = (at4, saturated)
            timed = [r for r in runs if r["timed"]]
            q_mins = [r["queries_min"] for r in timed]
            row = {
                "name": page.name,
                "kind": page.kind,
                "method": page.method,
                "path": path,
                "account": page.who,
                "probe_server_timing": timing,
                "at_connections": at4,
                "at_saturation": saturated,
                "errors": sum(r["error_count"] + r["unexpected"] for r in runs),
                "queries_min": min(q_mins) if q_mins else None,
                "queries_max": max(r["queries_max"] for r in timed) if timed else None,
                "db_ms_mean": at4.get("db_ms_mean"),
                "app_ms_mean": at4.get("app_ms_mean"),
                "first_queries": int(made[1]) if made else None,
                "first_app_ms": float(made[2]) if made else None,
            }
            print(
                f"    @{CONNECTIONS}: {at4['rps']:.0f} rps, p50 {ms(at4['latency_us']['p50'])} "
                f"ms, p95 {ms(at4['latency_us']['p95'])} ms; @{SATURATION}: "
                f"{saturated['rps']:.0f} rps; errors {row['errors']}; "
                f"queries {row['queries_max']}; wrk CPU "
                f"{at4['wrk_cpu_share_of_one_core']:.1%} of a core",
                flush=True,
            )
            return row

        print("Measuring (ceiling first and last) ...", flush=True)
        ceiling_runs = [measure(healthz)]
        rows = [measure(page) for page in pages]
        ceiling_runs.append(measure(healthz))
    finally:
        stop_server(server)
    load_after = " ".join(f"{v:.2f}" for v in os.getloadavg())

    ceiling = ceiling_runs[0]
    ceiling_rps = sum(r["at_saturation"]["rps"] for r in ceiling_runs) / len(ceiling_runs)
    ceiling = {
        **ceiling_runs[0],
        "runs_rps": [round(r["at_saturation"]["rps"]) for r in ceiling_runs],
        "errors": sum(r["errors"] for r in ceiling_runs),
    }
    ceiling["at_saturation"] = {**ceiling["at_saturation"], "rps": ceiling_rps}
    ceiling["ratio"] = 1.0
    for row in rows:
        judge(row, ceiling_rps)
    ceiling["checks"] = {"no errors": ceiling["errors"] == 0}
    ceiling["pass"] = ceiling["errors"] == 0
    runs = [r[k] for r in [*rows, *ceiling_runs] for k in ("at_connections", "at_saturation")]
    busy = sorted(r["machine_busy"] for r in runs)
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_before": load_before,
            "load_after": load_after,
        },
        "database": {
            "url": masked(DATABASE_URL),
            "name": urlsplit(DATABASE_URL).path.lstrip("/"),
            "rows": ids["rows"],
        },
        "ids": ids,
        "settings": {
            "workers": WORKERS,
            "worker_class": WORKER_CLASS,
            "seconds": SECONDS,
            "warmup_seconds": WARMUP_SECONDS,
            "connections": CONNECTIONS,
            "saturation": SATURATION,
            "redis": REDIS_URL,
            "page_cache": PAGE_CACHE,
        },
        "targets": {
            "get_p50_ms": GET_P50_MS,
            "get_p95_ms": GET_P95_MS,
            "post_p95_ms": POST_P95_MS,
            "list_ratio": LIST_RATIO,
            "max_queries": MAX_QUERIES,
        },
        "load_generator": {
            "tool": "wrk (Debian), Lua script per run",
            "max_share_of_one_core": max(r["wrk_cpu_share_of_one_core"] for r in runs),
            "us_per_request": round(
                sum(r["wrk_cpu_seconds"] for r in runs)
                / max(sum(r["requests"] for r in runs), 1)
                * 1e6,
                1,
            ),
            "server_us_per_request": round(
                sum(r["server_cpu_share_of_one_core"] * r["duration_us"] for r in runs)
                / max(sum(r["requests"] for r in runs), 1),
                1,
            ),
            "machine_busy_median": busy[len(busy) // 2],
        },
        "ceiling": ceiling,
        "pages": rows,
        "pass": all(row["pass"] for row in rows) and ceiling["pass"],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{RESULT_NAME}.json").write_text(json.dumps(report, indent=2) + "\n")
    text = markdown(report)
    (RESULTS / f"{RESULT_NAME}.md").write_text(text)
    print()
    print(text)
    return 0 if report["pass"] else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        sys.exit(2)
