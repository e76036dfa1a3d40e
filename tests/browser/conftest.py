"""Browser tests: the real portal on a live server, driven by Chromium through Playwright.

* ``live_resident``: ``live_resident(password)`` adds a verified resident, returns its e-mail.
* ``live_server``: the app on ``http://127.0.0.1:<port>`` with real CSRF, the file mail backend
  (read it on ``/dev/mail``), no Redis (mail goes out in-process after the commit), its own
  database ``wijkkracht_test_live`` with the demo data.
* ``browser`` (session), ``page`` (JavaScript on) and ``page_nojs`` (JavaScript off): a fresh
  browser context per test, Dutch locale, 1280x900.
* ``axe``: ``axe(page)`` runs axe-core on the current document and fails on any violation.
* ``shot``: ``shot(page, "step")`` saves a full-page PNG to
  ``test-artifacts/screenshots/<test>-<step>.png``.
* ``checkpoint``: ``checkpoint(page, "step")`` does both (axe only when JavaScript is on).

Every document a ``page`` (JavaScript on) shows must be checked with axe: after a passing test,
the fixture fails it if some page it navigated to was never checked.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from tests.conftest import ROOT, make_app, reset_schema

HERE = Path(__file__).resolve().parent
AXE_SCRIPT = ROOT / "tests" / "assets" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
DEFAULT_TIMEOUT_MS = 15_000


# --- marks and reports ---------------------------------------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Everything in this folder is a browser test."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


# --- the live server -----------------------------------------------------------------------------


@dataclass
class LiveServer:
    app: Flask
    url: str
    mail_dir: Path

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    app = make_app(
        os.environ.get("PORTAL_TEST_LIVE_DB", "wijkkracht_test_live"),
        TESTING=False,
        WTF_CSRF_ENABLED=True,
        PORTAL_MAIL_BACKEND="file",
        PORTAL_REDIS_URL=None,
        PORTAL_DEV_PAGES=True,
        # All browser tests share 127.0.0.1; the per-address limit is a unit test's business.
        PORTAL_LOGIN_MAX_PER_ADDRESS=1000,
    )
    reset_schema(app)
    with app.app_context():
        from portal.demo import seed_demo
        from portal.extensions import db

        seed_demo()
        db.session.commit()
        db.session.remove()

    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    # Links in e-mails point at this server. Read per request, so setting it now is in time.
    app.config["PORTAL_BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=url, mail_dir=Path(app.config["PORTAL_MAIL_DIR"]))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            from portal.extensions import db

            db.engine.dispose()


@pytest.fixture
def live_resident(live_server: LiveServer) -> Callable[..., str]:
    """``live_resident(password=...)``: a verified resident in the live database; its e-mail."""

    def create(password: str, postcode: str = "7533AB") -> str:
        import uuid

        from portal.accounts.models import User, UserRole
        from portal.accounts.passwords import hash_password
        from portal.districts.services import district_for_postcode
        from portal.extensions import db
        from portal.timeutil import utcnow

        email = f"bewoner-{uuid.uuid4().hex[:10]}@example.org"
        with live_server.app.app_context():
            user = User(
                name="Bea Browser",
                email=email,
                password_hash=hash_password(password),
                postcode=postcode,
                house_number="1",
                district=district_for_postcode(postcode),
                adult_confirmed_at=utcnow(),
                email_verified_at=utcnow(),
            )
            user.role_links.append(UserRole(role="resident"))
            db.session.add(user)
            db.session.commit()
            db.session.remove()
        return email

    return create


# --- the browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Any) -> Iterator[Any]:
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@dataclass
class PageState:
    """What a page navigated to, and which of those documents axe has checked."""

    javascript: bool
    navigations: list[str] = field(default_factory=list)
    checked: set[int] = field(default_factory=set)

    def unchecked(self) -> list[str]:
        return [url for n, url in enumerate(self.navigations) if n not in self.checked]


_STATES: dict[int, PageState] = {}


def _state(page: Any) -> PageState:
    return _STATES[id(page)]


def _new_page(browser: Any, live_server: LiveServer, *, javascript: bool) -> tuple[Any, Any]:
    context = browser.new_context(
        base_url=live_server.url,
        locale="nl-NL",
        timezone_id="Europe/Amsterdam",
        viewport={"width": 1280, "height": 900},
        java_script_enabled=javascript,
        # The portal's CSP allows scripts from 'self' only; axe is injected by the test.
        bypass_csp=True,
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    state = PageState(javascript=javascript)
    _STATES[id(page)] = state

    def on_navigated(frame: Any) -> None:
        if frame != page.main_frame:
            return
        url = frame.url
        previous = state.navigations[-1] if state.navigations else None
        if previous and "#" in url and url.split("#")[0] == previous.split("#")[0]:
            return  # a jump within the same document (skip link, error summary link)
        state.navigations.append(url)

    page.on("framenavigated", on_navigated)
    return context, page


@pytest.fixture
def page(browser: Any, live_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page with JavaScript on. Every document it shows must pass axe (see ``axe``)."""
    context, page = _new_page(browser, live_server, javascript=True)
    state = _state(page)
    try:
        yield page
    finally:
        context.close()
        _STATES.pop(id(page), None)
    call = getattr(request.node, "report_call", None)
    if call is not None and call.passed:
        unchecked = [u for u in state.unchecked() if u != "about:blank"]
        assert not unchecked, f"pages shown without an axe check: {unchecked}"


@pytest.fixture
def page_nojs(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A page with JavaScript off: the portal must work without it. axe cannot run here."""
    context, page = _new_page(browser, live_server, javascript=False)
    try:
        yield page
    finally:
        context.close()
        _STATES.pop(id(page), None)


# --- axe and screenshots -------------------------------------------------------------------------


def format_violations(violations: list[dict[str, Any]], url: str) -> str:
    lines = [f"axe found {len(violations)} violation(s) on {url}:"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation.get('impact')}): {violation['help']}"
            f" <{violation.get('helpUrl', '')}>"
        )
        for node in violation["nodes"]:
            target = " ".join(
                json.dumps(t) if not isinstance(t, str) else t for t in node["target"]
            )
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {target}: {summary}")
            lines.append(f"      {node.get('html', '')[:200]}")
    return "\n".join(lines)


def check_axe(page: Any) -> None:
    """Run axe-core (WCAG 2.1 A/AA and best practices) on the current document."""
    state = _STATES.get(id(page))
    if state is not None and not state.javascript:
        raise AssertionError("axe needs JavaScript; use functional assertions on page_nojs")
    page.wait_for_load_state("load")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    result = page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return {violations: results.violations, url: results.url};
        }""",
        AXE_TAGS,
    )
    if state is not None and state.navigations:
        state.checked.add(len(state.navigations) - 1)
    violations = result["violations"]
    assert not violations, format_violations(violations, result["url"])


@pytest.fixture
def axe() -> Callable[[Any], None]:
    assert AXE_SCRIPT.is_file(), f"{AXE_SCRIPT} is missing (vendored axe-core)"
    return check_axe


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """``shot(page, "step")``: a full-page PNG in test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test_name = _slug(request.node.name)

    def take(page: Any, step: str) -> Path:
        path = SCREENSHOTS / f"{test_name}-{_slug(step)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def checkpoint(
    axe: Callable[[Any], None], shot: Callable[[Any, str], Path]
) -> Callable[[Any, str], None]:
    """``checkpoint(page, "step")``: screenshot, then axe when JavaScript is on."""

    def check(page: Any, step: str) -> None:
        page.wait_for_load_state("load")
        shot(page, step)
        state = _STATES.get(id(page))
        if state is None or state.javascript:
            axe(page)

    return check
