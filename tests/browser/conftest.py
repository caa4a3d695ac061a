"""Browser-test fixtures: a real ``irpatrol serve`` with the demo station, and Debian's Chromium.

The dashboard tests drive the single-page app the way a user does: a real server
process (the same command a substation runs) on a free loopback port with its own
data folder, and headless Chromium through Playwright's sync API.  Nothing is mocked,
so what passes here is what an operator sees.

Fixtures
--------
``live_server`` (session)
    A :class:`LiveServer`: ``.url`` (``http://127.0.0.1:PORT``), ``.users``
    (role → ``(name, password)`` for ``admin``, ``operator``, ``viewer``), ``.api(role)``
    (an ``httpx.Client`` with that user's bearer token, base URL ``.url + "/api/v1"``),
    ``.captures`` (ids of the uploaded demo images, all analysed), ``.defects`` (ids of
    findings graded a defect, at least one), ``.points`` (code → id), ``.station_id``,
    ``.plan_id``, ``.execution_id``.  The demo station's assets are imported, a plan of
    four of its points is run once (P-L1-CT is missed on purpose) and the bundled images
    are uploaded into that run with point ids and positions.  One server serves the whole
    session: a test that changes data (a review, a status) must not assume it is alone.
``browser`` (session)
    Chromium at ``/usr/bin/chromium`` (Debian's ``chromium`` package; Playwright downloads no
    browser).  Skipped with the reason when Chromium or Playwright is missing, but a failure
    when ``CI`` is set, so CI never passes without a browser.
``page`` (function)
    A fresh context and tab (1440×900, locale zh-CN), closed afterwards.

Helpers (import them from ``tests.browser.conftest``)
-----------------------------------------------------
``login_via_api(page, live_server, role)``
    Logs in through ``POST /api/v1/auth/login`` and puts the token in the tab's
    ``sessionStorage[TOKEN_KEY]`` before the app's own scripts run, so a test needs no
    knowledge of the login form.  Call it before the first ``page.goto``.
``login_via_form(page, live_server, role)``
    Logs in through the login form (the password input and the text input before it).
``open_page(page, live_server, route, name)``
    Navigates to ``#/<route>`` and waits for ``main[data-page=name][data-ready="1"]``.
``watch(page)``
    Records console errors, uncaught exceptions and every request URL;
    ``.assert_clean()`` fails on any error or on a request to a host other than 127.0.0.1.
``shot(page, name)``
    A full-page screenshot to ``test-artifacts/browser/<name>.png`` (kept by CI, git-ignored).

Mark each test module ``pytestmark = pytest.mark.browser``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import DEMO, REPO

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Request

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # without these Chromium calls Google's hosts, which a closed intranet refuses
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WEB = REPO / "src" / "irpatrol" / "server" / "web"
"""The dashboard's static files (issue 7)."""
ARTIFACTS = REPO / "test-artifacts" / "browser"
"""Where screenshots go; CI keeps the folder, git ignores it."""
TOKEN_KEY = "irpatrol.token"
"""The ``sessionStorage`` key under which the dashboard keeps the bearer token (the shell's contract)."""

STARTUP_TIMEOUT_S = 60.0
ANALYSIS_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 15.0
HTTP_TIMEOUT_S = 30.0
PAGE_TIMEOUT_MS = 15_000

# the demo patrol (irpatrol.cli.demo_system): image → plan point; P-L1-CT stays uncovered
PATROL_POINTS = {
    "flir_t640_fuses.jpg": "P-C3-FUSE",
    "flir_e40.jpg": "P-L1-DS-A",
    "flir_ax8.jpg": "P-L1-DS-B",
    "dji_zenmuse_xtr.jpg": "P-L1-DS-B",
}
PLAN_POINTS = ("P-C3-FUSE", "P-L1-DS-A", "P-L1-DS-B", "P-L1-CT")
ORIGIN = (31.2482383, 121.5874067)
"""Where the demo robot stands (lat, lon): the bundled BeiDou log's last fix."""


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    """A running ``irpatrol serve`` with the demo data; see the module docstring."""

    url: str
    data_dir: Path
    log: Path
    users: dict[str, tuple[str, str]]
    captures: list[int] = field(default_factory=list)
    defects: list[int] = field(default_factory=list)
    points: dict[str, int] = field(default_factory=dict)
    station_id: int = 0
    plan_id: int = 0
    execution_id: int = 0
    _tokens: dict[str, str] = field(default_factory=dict, repr=False)
    _clients: list[httpx.Client] = field(default_factory=list, repr=False)

    def token(self, role: str) -> str:
        """A session token of the role's user (logged in once, then reused: logins are rate-limited)."""
        if role not in self._tokens:
            name, password = self.users[role]
            r = httpx.post(
                f"{self.url}/api/v1/auth/login",
                json={"username": name, "password": password},
                timeout=HTTP_TIMEOUT_S,
            )
            r.raise_for_status()
            self._tokens[role] = str(r.json()["token"])
        return self._tokens[role]

    def api(self, role: str) -> httpx.Client:
        """An HTTP client of the REST API acting as the role's user (closed with the server)."""
        client = httpx.Client(
            base_url=f"{self.url}/api/v1",
            headers={"Authorization": f"Bearer {self.token(role)}"},
            timeout=HTTP_TIMEOUT_S,
        )
        self._clients.append(client)
        return client

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's output, for failure messages."""
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    def close_clients(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()


def _server_env(data_dir: Path) -> dict[str, str]:
    """The parent's environment without its irpatrol settings, plus a fresh SQLite data folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRPATROL_")}
    env.update(
        IRPATROL_DATA_DIR=str(data_dir),
        IRPATROL_WORKERS="1",
        IRPATROL_LOGIN_RATE="10000",  # every test may log in
    )
    return env


def _irpatrol(*args: str) -> list[str]:
    return [sys.executable, "-m", "irpatrol", *args]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT_S)


def _wait_healthy(srv: LiveServer, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"irpatrol serve exited ({proc.returncode}):\n{srv.log_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{srv.url}/api/v1/health", timeout=2.0).status_code == 200:
                return
        time.sleep(0.2)
    pytest.fail(f"irpatrol serve did not answer /api/v1/health in {STARTUP_TIMEOUT_S:g} s:\n{srv.log_tail()}")


def _poll(what: str, srv: LiveServer, done: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(0.3)
    pytest.fail(f"{what} did not happen in {timeout_s:g} s:\n{srv.log_tail()}")


def seed_demo(srv: LiveServer) -> None:
    """Users, the demo station, a plan run once, the demo images uploaded and analysed."""
    admin = srv.api("admin")
    for role in ("operator", "viewer"):
        name, password = srv.users[role]
        admin.post("/users", json={"name": name, "role": role, "password": password}).raise_for_status()
    op = srv.api("operator")
    assets = DEMO / "station.assets.yaml"
    with assets.open("rb") as fh:
        op.post("/assets/import", files={"file": (assets.name, fh, "application/yaml")}).raise_for_status()
    points = op.get("/points", params={"limit": 500}).json()["items"]
    srv.points = {p["code"]: p["id"] for p in points}
    srv.station_id = int(next(p["station_id"] for p in points if p["code"] in PLAN_POINTS))
    plan = op.post(
        "/plans",
        json={
            "name": "示范站红外普测 / demo infrared patrol",
            "station_id": srv.station_id,
            "patrol_type": "infrared",
            "point_ids": [srv.points[c] for c in PLAN_POINTS],
        },
    )
    plan.raise_for_status()
    srv.plan_id = int(plan.json()["id"])
    ex = op.post(f"/plans/{srv.plan_id}/executions", json={"executor": "robot-demo"})
    ex.raise_for_status()
    srv.execution_id = int(ex.json()["id"])
    images = sorted(DEMO.glob("*.jpg"))
    for n, image in enumerate(images):
        fields: dict[str, str] = {
            "execution_id": str(srv.execution_id),
            "taken_at": f"2015-02-25T07:41:{56 + n:02d}Z",
            "lat": f"{ORIGIN[0] + n * 1e-5:.7f}",
            "lon": f"{ORIGIN[1] + n * 1e-5:.7f}",
            "fix_quality": "rtk_fixed",
            "ambient_c": "25",
        }
        if image.name in PATROL_POINTS:
            fields["point_id"] = str(srv.points[PATROL_POINTS[image.name]])
        with image.open("rb") as fh:
            r = op.post(
                "/captures",
                files={"file": (image.name, fh, "image/jpeg")},
                data=fields,
                headers={"Idempotency-Key": f"browser-tests:{image.name}"},
            )
        r.raise_for_status()
        srv.captures.append(int(r.json()["id"]))
    op.post(f"/executions/{srv.execution_id}/finish").raise_for_status()

    def analysed() -> bool:
        return int(op.get("/captures", params={"status": "pending", "limit": 1}).json()["total"]) == 0

    _poll("the analysis of the demo captures", srv, analysed, ANALYSIS_TIMEOUT_S)
    failed = op.get("/captures", params={"status": "failed", "limit": 100}).json()["items"]
    if failed:
        pytest.fail(f"demo captures failed analysis: {json.dumps(failed, ensure_ascii=False)[:2000]}")
    defects = op.get("/findings", params={"min_grade": 1, "limit": 500}).json()["items"]
    srv.defects = [int(f["id"]) for f in defects]
    if not srv.defects:
        pytest.fail("the demo images gave no defect (expected at least the T640's hot fuse)")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real ``irpatrol serve`` on SQLite with the demo station, patrol and analysed images."""
    folder = tmp_path_factory.mktemp("live-server")
    data_dir = folder / "data"
    env = _server_env(data_dir)
    port = free_port()
    users = {role: (role, secrets.token_urlsafe(12)) for role in ("admin", "operator", "viewer")}
    srv = LiveServer(
        url=f"http://127.0.0.1:{port}", data_dir=data_dir, log=folder / "server.log", users=users
    )
    # the first user through the CLI, as an installer does (it also creates the database)
    add = subprocess.run(
        _irpatrol("user", "add", users["admin"][0], "--role", "admin", "--password-stdin"),
        input=users["admin"][1] + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT_S,
        check=False,
    )
    if add.returncode != 0:
        pytest.fail(f"irpatrol user add failed ({add.returncode}): {add.stderr}")
    with srv.log.open("wb") as log:
        proc = subprocess.Popen(
            _irpatrol("serve", "--host", "127.0.0.1", "--port", str(port)),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_healthy(srv, proc)
        seed_demo(srv)
        yield srv
    finally:
        srv.close_clients()
        _stop(proc)


def _browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright (Python) is not installed: scripts/setup.sh dev"
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        return f"{CHROMIUM} is missing: Debian's chromium package (scripts/setup.sh dev installs it)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium; skipped when absent locally, a failure in CI."""
    missing = _browser_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    executable = CHROMIUM if CHROMIUM.exists() else Path(str(shutil.which("chromium")))
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context and tab: 1440×900, Chinese locale, bounded waits."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as ``test-artifacts/browser/<name>.png``; return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login_via_api(page: Page, live_server: LiveServer, role: str) -> str:
    """Log the tab in as the role's user without the form; return the token.

    The token comes from ``POST /api/v1/auth/login`` and is written to
    ``sessionStorage[TOKEN_KEY]`` by an init script, before the app's scripts run, on
    the tab's first document only (a marker key), so a later logout in the app sticks.
    Call before the first ``page.goto``.
    """
    name, password = live_server.users[role]
    r = httpx.post(
        f"{live_server.url}/api/v1/auth/login",
        json={"username": name, "password": password},
        timeout=HTTP_TIMEOUT_S,
    )
    r.raise_for_status()
    token = str(r.json()["token"])
    page.add_init_script(
        "(() => {"
        "  if (sessionStorage.getItem('irpatrol.test-login') !== null) return;"
        f"  sessionStorage.setItem({json.dumps(TOKEN_KEY)}, {json.dumps(token)});"
        "  sessionStorage.setItem('irpatrol.test-login', '1');"
        "})();"
    )
    return token


def login_via_form(page: Page, live_server: LiveServer, role: str) -> None:
    """Log in through the dashboard's login form, as a person does, and wait to leave ``#/login``."""
    name, password = live_server.users[role]
    page.goto(f"{live_server.url}/#/login")
    form = page.locator("form", has=page.locator("input[type=password]")).first
    form.locator("input:not([type=password]):not([type=hidden]):not([type=submit])").first.fill(name)
    form.locator("input[type=password]").first.fill(password)
    form.locator("input[type=password]").first.press("Enter")
    page.wait_for_function("() => !location.hash.startsWith('#/login')")


def ready_selector(name: str) -> str:
    """The selector of a dashboard page that has rendered its data."""
    return f'main[data-page="{name}"][data-ready="1"]'


def open_page(page: Page, live_server: LiveServer, route: str, name: str, timeout_ms: float = 10_000) -> None:
    """Go to ``#/<route>`` and wait until the page ``name`` says it is ready."""
    page.goto(f"{live_server.url}/#/{route.lstrip('/')}")
    page.wait_for_selector(ready_selector(name), timeout=timeout_ms)


@dataclass
class PageWatch:
    """What a tab logged and asked for: console errors, uncaught exceptions, request URLs."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        """Requests to anything but http://127.0.0.1 (the dashboard must work on a closed intranet)."""
        allowed = {"data", "blob", "about"}
        out = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in allowed:
                continue
            if parts.scheme != "http" or parts.hostname != "127.0.0.1":
                out.append(url)
        return out

    def assert_clean(self) -> None:
        """No console error, no uncaught exception, no request off the loopback host."""
        assert not self.page_errors, f"uncaught exceptions: {self.page_errors}"
        assert not self.console_errors, f"console errors: {self.console_errors}"
        assert not self.foreign_requests(), f"requests off 127.0.0.1: {self.foreign_requests()}"


def watch(page: Page) -> PageWatch:
    """Start recording the tab's console errors, exceptions and requests (call before ``goto``)."""
    w = PageWatch()

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            w.console_errors.append(f"{msg.text} ({msg.location.get('url', '')})")

    def on_request(req: Request) -> None:
        w.requests.append(req.url)

    def on_page_error(exc: Any) -> None:
        w.page_errors.append(str(exc))

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    page.on("request", on_request)
    return w
