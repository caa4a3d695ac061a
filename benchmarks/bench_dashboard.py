"""Dashboard pages at 10 000 captures: time from navigation to a rendered page, in Debian's Chromium.

Seeds a data folder (SQLite) the way a year of patrols would fill it, quickly:

1. in-process, through :mod:`irpatrol.store`: a user, the demo station with ``--bays``
   copies of each of its two bays (4 + 4 × bays inspection points, all of them in one
   patrol plan);
2. through ``irpatrol serve`` (the same process the pages are timed against): the four
   bundled demo images are uploaded to their points and analysed for real;
3. in-process, with bulk inserts (SQLAlchemy Core, 1 000 rows a statement): ``--captures``
   captures in executions of that plan (one capture per plan point, about 2 % of points
   missed per run, one run every 3 days backwards from now), each a copy of one analysed
   demo capture (its measurements, result and findings) on another point, time and place.
   About ``--defect-rate`` of them are copies of a capture with a defect; those defects are
   open, in repair or closed.  The image files are the demo files' (content-addressed), so
   a capture viewer shows a real image.

Then, for each page of the dashboard (``#/overview``, ``#/assets``, a point, ``#/executions``,
the newest execution, ``#/captures``, a capture, ``#/defects``, ``#/positions``), the time
until the shell marks ``<main data-ready="1">``:

* load: a new browser context (empty cache) logged in through ``sessionStorage``, ``goto``
  of the page's URL: shell, scripts, ``/me``, the page's own API calls and rendering;
* in-app: the same tab, from another page, a change of ``location.hash`` (a click in the
  navigation): the page's API calls and rendering only.

Each is repeated ``--repeat`` times (median and max reported).  The API requests each page
made are recorded with Chromium's timings, and every distinct one is then timed directly
with httpx (``--api-repeat`` times): a slow page is traced to its endpoint.  A page whose
module does not exist yet is reported ``missing``.  Target (issue 7): every page usable in
under 1 s.  ``--json PATH`` writes all figures; ``--write`` puts the table into
BENCHMARKS.md; ``--data DIR`` keeps the seeded folder (and reuses it when run again).
Needs the dev extras (Playwright) and ``/usr/bin/chromium``.  Never run by CI.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "src" / "irpatrol" / "demo"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN_KEY = "irpatrol.token"
MARK_BEGIN = "<!-- bench_dashboard:begin -->"
MARK_END = "<!-- bench_dashboard:end -->"
TARGET_S = 1.0
PAGE_TIMEOUT_MS = 30_000
STARTUP_TIMEOUT_S = 60.0
ANALYSIS_TIMEOUT_S = 180.0
SEED_FILE = "bench-dashboard.json"
"""Written into a seeded data folder: who logs in, and which ids the pages are timed on."""

# the demo patrol: which bundled image shows which kind of point (irpatrol.cli.demo_system)
TEMPLATE_POINTS = {
    "flir_t640_fuses.jpg": "P-C3-FUSE",
    "flir_e40.jpg": "P-L1-DS-A",
    "flir_ax8.jpg": "P-L1-DS-B",
    "dji_zenmuse_xtr.jpg": "P-L1-CT",
}
ORIGIN = (31.2482383, 121.5874067)


# --------------------------------------------------------------------------- seeding


def station_yaml(bays: int) -> bytes:
    """The demo station with ``bays`` more copies of each of its bays (codes suffixed)."""
    tree = yaml.safe_load((DEMO / "station.assets.yaml").read_text(encoding="utf-8"))
    for area in tree["stations"][0]["areas"]:
        template = area["bays"][0]
        for k in range(1, bays + 1):
            text = yaml.safe_dump(template, allow_unicode=True)
            clone = yaml.safe_load(re.sub(r"(code: [A-Z]-[A-Z0-9-]+)", rf"\1-{k:03d}", text))
            clone["name"] = f"{template['name']} #{k}"
            area["bays"].append(clone)
    return yaml.safe_dump(tree, allow_unicode=True).encode("utf-8")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRPATROL_")}
    env.update(IRPATROL_DATA_DIR=str(data_dir), IRPATROL_LOGIN_RATE="10000")
    return env


@contextlib.contextmanager
def serve(data_dir: Path, log: Path, workers: int) -> Iterator[str]:
    """``irpatrol serve`` on a free loopback port; yields its URL once /api/v1/health answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "irpatrol", "serve", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--workers", str(workers)]
    with log.open("ab") as out:
        proc = subprocess.Popen(args, env=server_env(data_dir), stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"bench_dashboard: irpatrol serve exited ({proc.returncode}); see {log}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"bench_dashboard: irpatrol serve did not start in {STARTUP_TIMEOUT_S:g} s")
            time.sleep(0.2)
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


def login(url: str, user: str, password: str) -> str:
    r = httpx.post(f"{url}/api/v1/auth/login", json={"username": user, "password": password}, timeout=30)
    r.raise_for_status()
    return str(r.json()["token"])


def seed_structure(data_dir: Path, bays: int) -> dict[str, Any]:
    """User, station with its copies of bays, and one plan of all its points (in-process)."""
    from sqlalchemy import select

    from irpatrol.config import load_settings
    from irpatrol.server.runtime import open_runtime
    from irpatrol.store.accounts import create_user
    from irpatrol.store.assets import import_assets
    from irpatrol.store.models import Asset, Point
    from irpatrol.store.plans import create_plan

    password = secrets.token_urlsafe(12)
    rt = open_runtime(load_settings(data_dir=data_dir, database_url=None))
    try:
        with rt.sessions() as s:
            create_user(s, "bench", "admin", password)
            import_assets(s, station_yaml(bays), path="bench.assets.yaml", default_rules=rt.settings.rules)
            s.flush()
            station = s.scalar(select(Asset).where(Asset.kind == "station", Asset.code == "S-DEMO"))
            assert station is not None
            points = s.scalars(select(Point).where(Point.station_id == station.id).order_by(Point.id)).all()
            plan = create_plan(
                s,
                name="全站红外普测 / station infrared patrol",
                station_id=station.id,
                patrol_type="infrared",
                point_ids=[p.id for p in points],
            )
            s.commit()
            return {
                "user": "bench",
                "password": password,
                "station_id": station.id,
                "plan_id": plan.id,
                "points": {p.code: p.id for p in points},
            }
    finally:
        rt.engine.dispose()


def upload_templates(url: str, seed: dict[str, Any]) -> list[int]:
    """The four demo images, uploaded to their points and analysed by the server; their ids."""
    token = login(url, seed["user"], seed["password"])
    ids = []
    with httpx.Client(
        base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as c:
        for name, code in TEMPLATE_POINTS.items():
            with (DEMO / name).open("rb") as fh:
                r = c.post(
                    "/captures",
                    files={"file": (name, fh, "image/jpeg")},
                    data={"point_id": str(seed["points"][code]), "ambient_c": "25"},
                )
            r.raise_for_status()
            ids.append(int(r.json()["id"]))
        deadline = time.monotonic() + ANALYSIS_TIMEOUT_S
        while c.get("/captures", params={"status": "pending", "limit": 1}).json()["total"]:
            if time.monotonic() > deadline:
                raise SystemExit("bench_dashboard: the demo captures were not analysed in time")
            time.sleep(0.5)
        failed = c.get("/captures", params={"status": "failed"}).json()["items"]
        if failed:
            raise SystemExit(f"bench_dashboard: demo captures failed analysis: {failed}")
    return ids


def seed_captures(
    data_dir: Path, seed: dict[str, Any], templates: list[int], n: int, defect_rate: float, rng: random.Random
) -> dict[str, Any]:
    """Bulk-insert ``n`` captures (copies of the analysed templates) in executions of the plan."""
    from sqlalchemy import func, insert, select

    from irpatrol.config import load_settings
    from irpatrol.store.db import make_engine
    from irpatrol.store.models import Capture, Execution, Finding, Point

    settings = load_settings(data_dir=data_dir, database_url=None)
    engine = make_engine(settings.resolved_database_url())
    cap_t, find_t, ex_t = Capture.__table__, Finding.__table__, Execution.__table__
    with engine.begin() as conn:
        caps = {
            r["id"]: dict(r) for r in conn.execute(select(cap_t).where(cap_t.c.id.in_(templates))).mappings()
        }
        finds: dict[int, list[dict[str, Any]]] = {i: [] for i in caps}
        for r in conn.execute(select(find_t).where(find_t.c.capture_id.in_(templates))).mappings():
            finds[r["capture_id"]].append(dict(r))
        points = {
            r.id: r
            for r in conn.execute(
                select(Point.id, Point.code, Point.part, Point.station_id).order_by(Point.id)
            )
        }
        plan_points = list(points)
        by_part: dict[str, list[int]] = {}
        for cid, cap in caps.items():
            by_part.setdefault(points[cap["point_id"]].part, []).append(cid)
        defective = {cid for cid, fs in finds.items() if any(f["grade_value"] >= 1 for f in fs)}
        # only some parts have a defective template: their points carry all the defects
        sick_parts = {part for part, cids in by_part.items() if defective.intersection(cids)}
        share = sum(1 for p in points.values() if p.part in sick_parts) / len(points)
        sick_rate = min(1.0, defect_rate / share) if share else 0.0
        healthy = [cid for cid in caps if cid not in defective] or list(caps)
        runs = int(n / (len(plan_points) * 0.97)) + 2  # enough runs with 2 % of points missed
        now = datetime.now(UTC).replace(microsecond=0)
        cap_id = int(conn.scalar(select(func.max(cap_t.c.id))) or 0) + 1
        find_id = int(conn.scalar(select(func.max(find_t.c.id))) or 0) + 1
        ex_rows: list[dict[str, Any]] = []
        cap_rows: list[dict[str, Any]] = []
        find_rows: list[dict[str, Any]] = []
        made = 0
        first_ex = int(conn.scalar(select(func.max(ex_t.c.id))) or 0) + 1
        for run in range(runs):
            started = now - timedelta(days=3 * (runs - run), hours=rng.uniform(0, 6))
            ex_rows.append(
                {
                    "id": first_ex + run,
                    "plan_id": seed["plan_id"],
                    "executor": f"robot-{1 + run % 3}",
                    "data_source": "robot",
                    "started_at": started,
                    "finished_at": started + timedelta(seconds=30 * len(plan_points)),
                    "status": "finished",
                }
            )
        used = 0
        for run in range(runs):
            if made >= n:
                break
            used = run + 1
            started = ex_rows[run]["started_at"]
            for seq, pid in enumerate(plan_points):
                if made >= n:
                    break
                if rng.random() < 0.02:  # a missed point
                    continue
                point = points[pid]
                same_part = by_part.get(point.part, list(caps))
                sick = point.part in sick_parts and rng.random() < sick_rate
                pool = [c for c in same_part if (c in defective) == sick]
                if not pool:
                    pool = [c for c in same_part if c not in defective] or healthy
                tid = rng.choice(pool)
                taken = started + timedelta(seconds=30 * seq + rng.uniform(0, 5))
                row = dict(caps[tid])
                row.update(
                    id=cap_id,
                    idempotency_key=None,
                    point_id=pid,
                    execution_id=first_ex + run,
                    station_id=point.station_id,
                    taken_at=taken,
                    received_at=taken + timedelta(seconds=40),
                    analyzed_at=taken + timedelta(seconds=45),
                    claimed_at=None,
                    lat=ORIGIN[0] + (pid % 20) * 2e-5 + rng.gauss(0, 2e-6),
                    lon=ORIGIN[1] + (pid // 20) * 2e-5 + rng.gauss(0, 2e-6),
                    fix_quality="rtk_fixed",
                )
                cap_rows.append(row)
                for f in finds[tid]:
                    fr = dict(f)
                    fr.update(
                        id=find_id,
                        capture_id=cap_id,
                        point_id=pid,
                        station_id=point.station_id,
                        created_at=row["analyzed_at"],
                        taken_at=taken,
                    )
                    if fr["grade_value"] >= 1:
                        age = (now - taken).days
                        fr["defect_status"] = (
                            "closed" if age > 60 and rng.random() < 0.8 else rng.choice(["open", "in_repair"])
                        )
                        fr["status_changed_at"] = row["analyzed_at"]
                    find_rows.append(fr)
                    find_id += 1
                cap_id += 1
                made += 1
        runs = used
        conn.execute(insert(ex_t), ex_rows[:runs])
        for i in range(0, len(cap_rows), 1000):
            conn.execute(insert(cap_t), cap_rows[i : i + 1000])
        for i in range(0, len(find_rows), 1000):
            conn.execute(insert(find_t), find_rows[i : i + 1000])
    engine.dispose()
    defects = sum(1 for f in find_rows if f["grade_value"] >= 1)
    worst = max(
        (r for r in cap_rows if any(f["grade_value"] >= 1 for f in finds[_template_of(r, caps)])),
        key=lambda r: r["id"],
        default=cap_rows[-1],
    )
    return {
        "captures": len(cap_rows) + len(templates),
        "findings": len(find_rows),
        "defects": defects,
        "executions": runs,
        "latest_execution": first_ex + runs - 1,
        "capture": worst["id"],
        "point": worst["point_id"],
    }


def _template_of(row: dict[str, Any], caps: dict[int, dict[str, Any]]) -> int:
    """Which template a seeded row was copied from (same file, same analysis)."""
    return next(cid for cid, c in caps.items() if c["sha256"] == row["sha256"])


def seed_folder(data_dir: Path, args: argparse.Namespace, log: Path) -> dict[str, Any]:
    """A data folder with ``args.captures`` captures; reused if it was seeded before."""
    marker = data_dir / SEED_FILE
    if marker.exists():
        seed: dict[str, Any] = json.loads(marker.read_text(encoding="utf-8"))
        print(f"reusing seeded data folder {data_dir} ({seed['counts']['captures']} captures)")
        return seed
    t0 = time.perf_counter()
    seed = seed_structure(data_dir, args.bays)
    with serve(data_dir, log, workers=1) as url:
        templates = upload_templates(url, seed)
    t1 = time.perf_counter()
    counts = seed_captures(data_dir, seed, templates, args.captures, args.defect_rate, random.Random(7))
    t2 = time.perf_counter()
    seed["counts"] = counts
    seed["seed_s"] = {"structure_and_templates": round(t1 - t0, 1), "bulk_insert": round(t2 - t1, 1)}
    marker.write_text(json.dumps(seed, indent=1), encoding="utf-8")
    print(
        f"seeded {data_dir}: {len(seed['points'])} points, {counts['executions']} executions, "
        f"{counts['captures']} captures, {counts['findings']} findings ({counts['defects']} defects) "
        f"in {t1 - t0:.1f} s (structure, 4 analysed templates) + {t2 - t1:.1f} s (bulk insert)"
    )
    return seed


# --------------------------------------------------------------------------- timing


@dataclass
class PageTimes:
    """What one dashboard page took, seconds."""

    name: str
    route: str
    load_s: list[float] = field(default_factory=list)
    """New browser context (empty cache): ``goto`` of the page's URL until ready."""
    cached_s: list[float] = field(default_factory=list)
    """The same URL opened again in that context (files cached, revalidated)."""
    nav_s: list[float] = field(default_factory=list)
    """In-app: a hash change from another page until ready."""
    shell_s: list[float] = field(default_factory=list)
    """Cold load: from navigation start to the page's first own API request (html, scripts,
    dictionaries, ``/me``, the page's module: what the shell costs before the page asks for data)."""
    api: dict[str, list[float]] = field(default_factory=dict)
    """API request (path and query) → Chromium's request-to-response-end times during in-app runs."""
    error: str | None = None

    def row(self) -> dict[str, Any]:
        def stats(xs: list[float]) -> dict[str, float] | None:
            return {"median": statistics.median(xs), "max": max(xs)} if xs else None

        return {
            "page": self.name,
            "route": self.route,
            "load_s": stats(self.load_s),
            "cached_load_s": stats(self.cached_s),
            "in_app_s": stats(self.nav_s),
            "cold_shell_s": stats(self.shell_s),
            "error": self.error,
            "api_s": {k: stats(v) for k, v in self.api.items()},
        }


READY = 'main[data-ready="1"], main[data-error]'
CLEAR_AND_GO = (
    "(h) => { const m = document.querySelector('main');"
    " m.removeAttribute('data-ready'); m.removeAttribute('data-page'); m.removeAttribute('data-error');"
    " location.hash = h; }"
)


def _api_key(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.path.startswith("/api/v1/"):
        return None
    return parts.path[len("/api/v1") :] + (f"?{parts.query}" if parts.query else "")


def _wait_ready(page: Any, name: str) -> str | None:
    """Wait for the page to be ready; the error text if the shell reported one instead."""
    handle = page.wait_for_selector(READY, timeout=PAGE_TIMEOUT_MS)
    if handle.get_attribute("data-ready") == "1" and handle.get_attribute("data-page") == name:
        return None
    if handle.get_attribute("data-error") is not None:
        text = " / ".join(ln.strip() for ln in (handle.inner_text() or "error").splitlines() if ln.strip())
        return text[:200]
    return f"ready as {handle.get_attribute('data-page')!r}, expected {name!r}"


def _timed_goto(page: Any, url: str, name: str) -> tuple[float, str | None]:
    t0 = time.perf_counter()
    page.goto(url, timeout=PAGE_TIMEOUT_MS)
    err = _wait_ready(page, name)
    return time.perf_counter() - t0, err


def _timed_hash(page: Any, route: str, name: str) -> tuple[float, str | None]:
    t0 = time.perf_counter()
    page.evaluate(CLEAR_AND_GO, f"#/{route}")
    err = _wait_ready(page, name)
    return time.perf_counter() - t0, err


def _one_run(browser: Any, url: str, init: str, pt: PageTimes) -> str | None:
    """One cold load, one cached load and one in-app visit of the page; an error text or None."""
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    ctx.add_init_script(init)
    page = ctx.new_page()
    record: dict[str, float] = {}
    starts: list[tuple[float, str]] = []  # (epoch ms, API key) of the cold load's API requests

    def on_done(req: Any) -> None:
        key = _api_key(req.url)
        if key is not None:
            record[key] = req.timing["responseEnd"] / 1000.0
            starts.append((req.timing["startTime"], key))

    page.on("requestfinished", on_done)
    target = f"{url}/#/{pt.route}"
    try:
        secs, err = _timed_goto(page, target, pt.name)
        if err:
            return err
        pt.load_s.append(secs)
        origin = page.evaluate("performance.timeOrigin")
        own = [t for t, key in starts if key != "/me"]
        if own:
            pt.shell_s.append((min(own) - origin) / 1000.0)
        page.goto("about:blank")
        secs, err = _timed_goto(page, target, pt.name)
        if err:
            return err
        pt.cached_s.append(secs)
        other = "overview" if pt.name != "overview" else "assets"
        _, err = _timed_hash(page, other, other)
        if err:
            return f"{other}: {err}"
        record.clear()
        secs, err = _timed_hash(page, pt.route, pt.name)
        if err:
            return err
        pt.nav_s.append(secs)
        page.wait_for_load_state("networkidle", timeout=PAGE_TIMEOUT_MS)
        for key, s in record.items():
            pt.api.setdefault(key, []).append(s)
        return None
    except Exception as exc:  # a timeout or a crashed page: report it, go on with the next page
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    finally:
        ctx.close()


def time_pages(url: str, token: str, pages: list[tuple[str, str]], repeat: int) -> list[PageTimes]:
    """Cold, cached and in-app times of each page, ``repeat`` times each (after one warm-up)."""
    from playwright.sync_api import sync_playwright

    init = f"sessionStorage.setItem({json.dumps(TOKEN_KEY)}, {json.dumps(token)});"
    results = [PageTimes(name, route) for name, route in pages]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            _one_run(browser, url, init, PageTimes("overview", "overview"))  # warm-up, not counted
            for pt in results:
                for _ in range(repeat):
                    pt.error = _one_run(browser, url, init, pt)
                    if pt.error:
                        break
                state = (
                    f"missing/error: {pt.error}"
                    if pt.error
                    else (f"load {_med(pt.load_s)}, cached {_med(pt.cached_s)}, in-app {_med(pt.nav_s)}")
                )
                print(f"  {pt.name:<11} {state}", flush=True)
        finally:
            browser.close()
    return results


def _mm(xs: list[float]) -> str:
    return f"{statistics.median(xs):.3f} / {max(xs):.3f}"


def _med_n(xs: list[float]) -> str:
    return f"{statistics.median(xs):.3f}" if xs else "-"


def _med(xs: list[float]) -> str:
    return f"{statistics.median(xs):.3f} s" if xs else "-"


def time_api(url: str, token: str, keys: list[str], repeat: int) -> dict[str, dict[str, float]]:
    """Each API request timed directly (httpx, keep-alive): median and max seconds, answer size."""
    out: dict[str, dict[str, float]] = {}
    with httpx.Client(
        base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as c:
        for key in keys:
            times, size = [], 0
            for _ in range(repeat):
                t0 = time.perf_counter()
                r = c.get(key)
                times.append(time.perf_counter() - t0)
                size = len(r.content)
            out[key] = {
                "median": statistics.median(times),
                "max": max(times),
                "bytes": size,
                "status": r.status_code,
            }
    return out


# --------------------------------------------------------------------------- report


def table(results: list[PageTimes], api: dict[str, dict[str, float]], seed: dict[str, Any], args: Any) -> str:
    counts = seed["counts"]
    lines = [
        "Command: `" + " ".join(["benchmarks/run.sh dashboard", *args.argv]) + "`",
        "",
        f"SQLite data folder with {counts['captures']} captures, {counts['findings']} findings "
        f"({counts['defects']} defects), {counts['executions']} executions of one plan of "
        f"{len(seed['points'])} points; `irpatrol serve` (1 process, no analysis worker) on 127.0.0.1, "
        f"Debian Chromium {_chromium_version()} headless, 1440×900. Load: new context (empty cache), "
        '`goto` of the page\'s URL until `main[data-ready="1"]`; cached: the same URL again in that '
        "context (files revalidated, 304); in-app: a hash change from another page until ready; "
        "shell: the part of the cold load before the page's first own API request (HTML, scripts, "
        "dictionaries, `/me`, the page's module, one after the other). "
        f"{args.repeat} runs each, after one warm-up load. Target: {TARGET_S:g} s.",
        "",
        "| page | route | load s (median / max) | of which shell s | cached load s | in-app s "
        "| slowest API call (direct, median s) |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for pt in results:
        if pt.error:
            lines.append(f"| {pt.name} | `#/{pt.route}` | missing | | | | {pt.error} |")
            continue
        slow = max(pt.api, key=lambda k: api.get(k, {}).get("median", 0.0), default=None)
        slow_s = f"`{slow}` {api[slow]['median']:.3f}" if slow and slow in api else "-"
        lines.append(
            f"| {pt.name} | `#/{pt.route}` | {_mm(pt.load_s)} | {_med_n(pt.shell_s)} | {_mm(pt.cached_s)} "
            f"| {_mm(pt.nav_s)} "
            f"| {slow_s} |"
        )
    load = " / ".join(f"{x:.2f}" for x in args.loadavg)
    lines += [
        "",
        f"Machine: nproc {os.cpu_count()}; Python {platform.python_version()}; "
        f"load average before the runs: {load}.",
    ]
    return "\n".join(lines)


def _chromium_version() -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=20).stdout
        return out.split()[1] if len(out.split()) > 1 else out.strip()
    return "?"


def write_benchmarks(text: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    doc = path.read_text(encoding="utf-8")
    block = f"{MARK_BEGIN}\n{text}\n{MARK_END}"
    if MARK_BEGIN in doc and MARK_END in doc:
        head, rest = doc.split(MARK_BEGIN, 1)
        doc = head + block + rest.split(MARK_END, 1)[1]
    else:
        doc = doc.rstrip("\n") + "\n\n## Dashboard: pages at 10 000 captures (issue 7)\n\n" + block + "\n"
    path.write_text(doc, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--captures", type=int, default=10_000, help="captures to seed (default 10000)")
    p.add_argument("--bays", type=int, default=40, help="copies of each demo bay (4 points each pair)")
    p.add_argument("--defect-rate", type=float, default=0.03, help="share of captures copied from a defect")
    p.add_argument("--repeat", type=int, default=5, help="runs per page and kind (default 5)")
    p.add_argument("--api-repeat", type=int, default=10, help="direct runs of each API call (default 10)")
    p.add_argument("--data", type=Path, help="seed into (or reuse) this folder instead of a temporary one")
    p.add_argument("--json", type=Path, help="write all figures to this JSON file")
    p.add_argument("--write", action="store_true", help="put the table into BENCHMARKS.md")
    p.add_argument(
        "--check", action="store_true", help=f"exit 1 if a page misses {TARGET_S:g} s or is missing"
    )
    args = p.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"bench_dashboard: {CHROMIUM} is missing (Debian's chromium package)")
    tmp = None
    if args.data is None:
        tmp = tempfile.mkdtemp(prefix="irpatrol-bench-dashboard-")
        args.data = Path(tmp) / "data"
    data_dir = args.data.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir.parent / f"{data_dir.name}-server.log"
    try:
        seed = seed_folder(data_dir, args, log)
        counts = seed["counts"]
        pages = [
            ("overview", "overview"),
            ("assets", "assets"),
            ("point", f"points/{counts['point']}"),
            ("executions", "executions"),
            ("execution", f"executions/{counts['latest_execution']}"),
            ("captures", "captures"),
            ("capture", f"captures/{counts['capture']}"),
            ("defects", "defects"),
            ("positions", "positions"),
        ]
        with serve(data_dir, log, workers=0) as url:
            token = login(url, seed["user"], seed["password"])
            args.loadavg = os.getloadavg()
            print(f"timing {len(pages)} pages on {url}, {args.repeat} runs each")
            results = time_pages(url, token, pages, args.repeat)
            keys = sorted({k for pt in results for k in pt.api})
            api = time_api(url, token, keys, args.api_repeat)
        text = table(results, api, seed, args)
        print()
        print(text)
        print("\nAPI calls, timed directly (median / max s, answer bytes):")
        for key, v in sorted(api.items(), key=lambda kv: -kv[1]["median"]):
            print(f"  {v['median']:.3f} / {v['max']:.3f}  {int(v['bytes']):>9}  {v['status']:.0f}  {key}")
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "seed": {k: v for k, v in seed.items() if k != "password"},
                        "pages": [r.row() for r in results],
                        "api": api,
                    },
                    indent=1,
                    ensure_ascii=False,
                ),
                encoding="utf-8",
            )
        if args.write:
            write_benchmarks(text)
        if args.check:
            bad = [
                r.name
                for r in results
                if r.error or max(r.load_s + r.cached_s + r.nav_s, default=99) > TARGET_S
            ]
            if bad:
                print(f"over {TARGET_S:g} s or missing: {', '.join(bad)}")
                return 1
        return 0
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
