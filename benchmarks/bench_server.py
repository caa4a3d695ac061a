"""Server load: uploads accepted per second, findings readers' latency, analysis throughput.

Starts ``irpatrol serve`` (and ``irpatrol worker``) itself on 127.0.0.1 with a
temporary data folder, creates a user and token with the CLI, and drives the
API with locust (headless, bounded users and run time; ``locustfile_server.py``):

(a) uploads: ``serve --workers 0`` (analysis deferred), locust ``Uploader`` users
    POST distinct small R-JPEGs (the E40 demo file, 70 kB, with a numbered JPEG
    COM segment) under unique ``Idempotency-Key``s as fast as they are answered;
    accepted/s is 201 answers per second of the run;
(b) readers: 50 locust ``Reader`` users GET /api/v1/findings (default page of 50)
    with a few hundred findings in the database, back to back and with a 0.5–1.5 s pause
    (uniform, so the users are not in lockstep);
(c) analysis: a backlog of pending uploads analysed by ``irpatrol worker --workers N``
    (processes) for N = 1 and 2: the time until all are ``analyzed``.

Each on SQLite (the default) and on PostgreSQL (``--pg-url`` or
``IRPATROL_BENCH_DATABASE_URL``; its database is dropped and created afresh, so
never point it at data you keep).  Server CPU seconds per request are reported
beside the rates: they do not depend on what else runs on the machine.
``--write`` puts the table into BENCHMARKS.md.  Run through
``benchmarks/run.sh server``.  Never run by CI.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import platform
import resource
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from irpatrol.store.db import make_engine

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
E40 = ROOT / "src" / "irpatrol" / "demo" / "flir_e40.jpg"
LOCUSTFILE = HERE / "locustfile_server.py"
WRK_SCRIPT = HERE / "wrk_upload.lua"
MARK_BEGIN = "<!-- bench_server:begin -->"
MARK_END = "<!-- bench_server:end -->"
DEFAULT_PG = "postgresql+psycopg://irpatrol@127.0.0.1:55432/irpatrol_bench"
TICK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- processes


def _bin(name: str) -> str:
    exe = Path(sys.executable).with_name(name)
    if exe.exists():
        return str(exe)
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"bench_server: {name} is not installed (pip install 'irpatrol[server,bench]')")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree_cpu_s(pid: int) -> float:
    """User+system CPU seconds of a process and its live descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    stats: dict[int, float] = {}
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            fields = (p / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(p.name))
        stats[int(p.name)] = (int(fields[11]) + int(fields[12])) / TICK
    total, todo = 0.0, [pid]
    while todo:
        q = todo.pop()
        total += stats.get(q, 0.0)
        todo.extend(children.get(q, []))
    return total


class Proc:
    """A subprocess in its own process group, stopped with SIGTERM then SIGKILL."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args = args
        self.log = log
        self._fh = log.open("ab")
        self.proc = subprocess.Popen(
            args, env=env, stdout=self._fh, stderr=subprocess.STDOUT, start_new_session=True
        )

    def cpu_s(self) -> float:
        return tree_cpu_s(self.proc.pid)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, grace: float = 10.0) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):  # leftovers of the group (worker processes)
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._fh.close()


def start_server(env: dict[str, str], log: Path, workers: int = 0, processes: int = 1) -> tuple[Proc, str]:
    """``irpatrol serve --processes N`` on a free loopback port, once it answers its health check."""
    port = free_port()
    args = [
        _bin("irpatrol"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--processes",
        str(processes),
    ]
    srv = Proc(args, env, log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if not srv.alive():
            raise SystemExit(f"irpatrol serve exited: {log.read_text()[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/api/v1/health", timeout=1.0).status_code == 200:
                return srv, url
        if time.monotonic() > deadline:
            srv.stop()
            raise SystemExit(f"irpatrol serve did not answer in 60 s: {log.read_text()[-2000:]}")
        time.sleep(0.1)


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    res = subprocess.run(
        [_bin("irpatrol"), *args], env=env, input=stdin, capture_output=True, text=True, check=False
    )
    if res.returncode:
        raise SystemExit(f"irpatrol {' '.join(args)} failed: {res.stderr}")
    return res.stdout


# --------------------------------------------------------------------------- backends


@dataclass
class Backend:
    name: str
    url: str | None  # None: SQLite in the data folder
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    token: str = ""

    def engine(self) -> Engine:
        return make_engine(self.url or f"sqlite:///{self.data_dir / 'irpatrol.db'}")


def fresh_backend(name: str, pg_url: str | None, work: Path) -> Backend:
    """A new data folder (and an empty PostgreSQL database) with a user and token made by the CLI."""
    data_dir = work / f"{name}-{uuid.uuid4().hex[:6]}"
    url = None
    if name == "postgresql":
        assert pg_url
        base = make_url(pg_url)
        db = base.database
        admin = make_engine(base.set(database="postgres").render_as_string(hide_password=False))
        with admin.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": db}
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}"'))
            conn.execute(text(f'CREATE DATABASE "{db}"'))
        admin.dispose()
        url = pg_url
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRPATROL_")}
    env["IRPATROL_DATA_DIR"] = str(data_dir)
    if url:
        env["IRPATROL_DATABASE_URL"] = url
    b = Backend(name, url, data_dir, env)
    cli(env, "user", "add", "bench", "--role", "operator", "--password-stdin", stdin="bench password 1\n")
    b.token = cli(env, "token", "create", "--user", "bench").strip().splitlines()[-1]
    return b


# --------------------------------------------------------------------------- locust


@dataclass
class LoadResult:
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    server_cpu_ms: float  # per successful request
    tool_cores: float = 0.0  # the load tool's CPU seconds per second of the run
    warmup_created: int = 0  # 201 answers in the warm-up before the measured run (not counted)


def _children_cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_locust(
    b: Backend,
    url: str,
    user_class: str,
    users: int,
    seconds: int,
    tmp: Path,
    server: Proc,
    wait: float = 0.0,
    ramp_s: int = 0,
) -> LoadResult:
    """``users`` locust users for ``seconds``; with ``ramp_s`` they start over that many seconds
    and the statistics are reset once all run (the figures leave out the ramp)."""
    prefix = tmp / f"locust-{user_class}-{uuid.uuid4().hex[:6]}"
    env = dict(os.environ, BENCH_TOKEN=b.token, BENCH_FILE=str(E40), BENCH_WAIT=str(wait))
    rate = users / ramp_s if ramp_s else users
    cmd = [
        _bin("locust"), "-f", str(LOCUSTFILE), user_class, "--headless", "-u", str(users), "-r", f"{rate:g}",
        "-t", f"{seconds + ramp_s}s", "--host", url, "--csv", str(prefix), "--only-summary",
        "--stop-timeout", "10", "--loglevel", "WARNING", *(["--reset-stats"] if ramp_s else []),
    ]  # fmt: skip
    cpu0, tool0, t0 = server.cpu_s(), _children_cpu_s(), time.monotonic()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 120, check=False)
    cpu = server.cpu_s() - cpu0
    tool_cores = (_children_cpu_s() - tool0) / (time.monotonic() - t0)
    with Path(f"{prefix}_stats.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    row = next((r for r in rows if r["Name"] != "Aggregated"), None)
    if row is None:
        raise SystemExit(f"locust made no request: {res.stdout[-2000:]} {res.stderr[-2000:]}")
    n, f = int(row["Request Count"]), int(row["Failure Count"])
    if f:
        fails = Path(f"{prefix}_failures.csv").read_text()[:1500]
        print(f"  warning: {f} of {n} {user_class} requests failed:\n{fails}", file=sys.stderr)
    rps = float(row["Requests/s"]) * (n - f) / n if n else 0.0
    return LoadResult(
        n, f, rps, float(row["50%"]), float(row["95%"]), float(row["99%"]), 1000 * cpu / max(n - f, 1),
        tool_cores,
    )  # fmt: skip


def run_wrk(
    b: Backend, url: str, connections: int, seconds: int, server: Proc, warmup_s: int = 0
) -> LoadResult:
    """Uploads driven by wrk (C, event loop; ``wrk_upload.lua`` builds each distinct request).

    locust spends about a core of its own to drive 32 upload users on this 2-core machine;
    wrk drives the same request stream with a few per cent of one, so the server's figure
    is less the load tool's.  Both count only 201 answers.  ``warmup_s`` seconds of the same
    load run first and are not counted: a fresh server's first seconds (its processes
    importing, database connections opened, statements prepared) are start-up, not
    throughput.
    """
    if shutil.which("wrk") is None:
        raise SystemExit("--load-tool wrk needs the wrk program (Debian package wrk)")

    def wrk(secs: int) -> dict[str, int]:
        run = uuid.uuid4().hex[:12]
        cmd = [
            "wrk", "-t2", f"-c{connections}", f"-d{secs}s", "--timeout", "10s", "-s", str(WRK_SCRIPT), url,
            "--", b.token, str(E40), run,
        ]  # fmt: skip
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 60, check=False)
        line = next((ln for ln in res.stdout.splitlines() if ln.startswith("{")), None)
        if res.returncode or line is None:
            raise SystemExit(f"wrk failed: {res.stdout[-2000:]} {res.stderr[-2000:]}")
        parsed: dict[str, int] = json.loads(line)
        return parsed

    warm = wrk(warmup_s)["created"] if warmup_s > 0 else 0
    cpu0, tool0, t0 = server.cpu_s(), _children_cpu_s(), time.monotonic()
    r = wrk(seconds)
    cpu = server.cpu_s() - cpu0
    tool_cores = (_children_cpu_s() - tool0) / (time.monotonic() - t0)
    n, f = r["created"] + r["other"], r["other"]
    return LoadResult(
        n, f, r["created"] / (r["duration_us"] / 1e6), r["p50_us"] / 1000, r["p95_us"] / 1000,
        r["p99_us"] / 1000, 1000 * cpu / max(r["created"], 1), tool_cores, warm,
    )  # fmt: skip


# --------------------------------------------------------------------------- stages


def upload_backlog(b: Backend, url: str, count: int, clients: int = 4) -> None:
    """``count`` distinct pending captures, uploaded with plain HTTP clients."""
    base = E40.read_bytes()
    cut = 4 + int.from_bytes(base[4:6], "big")
    run = uuid.uuid4().hex[:8]
    errors: list[str] = []

    def one_client(ns: range) -> None:
        with httpx.Client(base_url=url, timeout=30) as c:
            for n in ns:
                note = f"irpatrol backlog {run} {n:06d}".encode()
                data = base[:cut] + b"\xff\xfe" + (len(note) + 2).to_bytes(2, "big") + note + base[cut:]
                r = c.post(
                    "/api/v1/captures",
                    files={"file": (f"b{n}.jpg", data, "image/jpeg")},
                    headers={"Authorization": f"Bearer {b.token}", "Idempotency-Key": f"backlog-{run}-{n}"},
                )
                if r.status_code != 201:
                    errors.append(f"{r.status_code} {r.text[:200]}")

    threads = [threading.Thread(target=one_client, args=(range(i, count, clients),)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"backlog upload failed: {errors[:3]}")


def reset_to_pending(b: Backend) -> None:
    """Every capture pending again, no findings, an empty task queue (workers' recovery re-enqueues)."""
    eng = b.engine()
    with eng.begin() as conn:
        conn.execute(text("DELETE FROM findings"))
        conn.execute(
            text(
                "UPDATE captures SET status='pending', claimed_at=NULL, attempts=0, analyzed_at=NULL,"
                " result=NULL"
            )
        )
    eng.dispose()
    if b.url is None:
        with contextlib.closing(sqlite3.connect(b.data_dir / "queue.db")) as q:
            for table in ("task", "schedule"):
                q.execute(f"DELETE FROM {table}")
            q.commit()
    else:
        eng = make_engine(b.url)
        with eng.begin() as conn:
            for table in ("task", "schedule"):
                conn.execute(text(f"DELETE FROM huey_{table} WHERE queue = 'irpatrol'"))
        eng.dispose()


@dataclass
class AnalysisResult:
    workers: int
    captures: int
    wall_s: float  # from launching `irpatrol worker` until the last capture is analyzed
    steady_per_s: float  # (n-1) / (last analyzed_at - first analyzed_at)
    cpu_ms: float  # worker CPU per capture


def run_workers(b: Backend, workers: int, count: int, tmp: Path, timeout: float) -> AnalysisResult:
    reset_to_pending(b)
    eng = b.engine()
    t0 = time.perf_counter()
    w = Proc([_bin("irpatrol"), "worker", "--workers", str(workers)], b.env, tmp / f"worker-{b.name}.log")
    try:
        while True:
            with eng.connect() as conn:
                done = conn.execute(
                    text("SELECT count(*) FROM captures WHERE status <> 'pending'")
                ).scalar_one()
            if done >= count:
                wall = time.perf_counter() - t0
                break
            if not w.alive() or time.perf_counter() - t0 > timeout:
                raise SystemExit(f"workers stopped or overran ({done}/{count}): {w.log.read_text()[-2000:]}")
            time.sleep(0.05)
        cpu = w.cpu_s()
    finally:
        w.stop()
    with eng.connect() as conn:
        statuses = dict(conn.execute(text("SELECT status, count(*) FROM captures GROUP BY status")).all())
        first, last = conn.execute(text("SELECT min(analyzed_at), max(analyzed_at) FROM captures")).one()
    eng.dispose()
    if statuses != {"analyzed": count}:
        raise SystemExit(f"analysis ended with {statuses}: {w.log.read_text()[-2000:]}")
    if isinstance(first, str):  # SQLite without type information on a raw query
        from datetime import datetime

        first, last = datetime.fromisoformat(first), datetime.fromisoformat(last)
    span = (last - first).total_seconds()
    return AnalysisResult(
        workers, count, wall, (count - 1) / span if span > 0 else float("nan"), 1000 * cpu / count
    )


def count_rows(b: Backend, table: str) -> int:
    eng = b.engine()
    with eng.connect() as conn:
        n = int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    eng.dispose()
    return n


# --------------------------------------------------------------------------- report


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    py = platform.python_version()
    return f"{os.cpu_count()} cores ({model}), Python {py}, SQLite {sqlite3.sqlite_version}"


def pg_version(url: str) -> str:
    eng = make_engine(make_url(url).set(database="postgres").render_as_string(hide_password=False))
    with eng.connect() as conn:
        v = str(conn.execute(text("SHOW server_version")).scalar_one())
    eng.dispose()
    return v


def write_benchmarks_md(block: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    doc = path.read_text()
    body = f"{MARK_BEGIN}\n{block}\n{MARK_END}"
    if MARK_BEGIN in doc and MARK_END in doc:
        head, rest = doc.split(MARK_BEGIN, 1)
        doc = head + body + rest.split(MARK_END, 1)[1]
    else:
        doc = doc.rstrip("\n") + "\n\n## Server: uploads, readers, analysis workers\n\n" + body + "\n"
    path.write_text(doc)
    print(f"wrote {path}")


def _procs(n: int) -> str:
    return "`irpatrol serve`" if n == 1 else f"`irpatrol serve --processes {n}`"


def load_note() -> str:
    """The machine's load average when the benchmark starts (other work skews the rates)."""
    with contextlib.suppress(OSError):
        return "load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    ap.add_argument("--pg-url", default=os.environ.get("IRPATROL_BENCH_DATABASE_URL", DEFAULT_PG))
    ap.add_argument("--upload-users", type=int, default=32)
    ap.add_argument("--upload-seconds", type=int, default=20)
    ap.add_argument("--readers", type=int, default=50)
    ap.add_argument("--read-seconds", type=int, default=15)
    ap.add_argument(
        "--warmup-seconds",
        type=int,
        default=3,
        help="uploads for this long before the measured run, not counted (wrk only; default 3)",
    )
    ap.add_argument("--backlog", type=int, default=200, help="pending captures for the analysis stage")
    ap.add_argument("--workers", default="1,2", help="worker process counts for the analysis stage")
    ap.add_argument(
        "--api-processes",
        default="1,2",
        help="API process counts (irpatrol serve --processes N)",
    )
    ap.add_argument(
        "--load-tool",
        choices=("locust", "wrk"),
        default="locust",
        help="what drives the uploads (readers always use locust); wrk costs the shared cores far less",
    )
    ap.add_argument("--write", action="store_true", help="put the table into BENCHMARKS.md")
    args = ap.parse_args(argv)
    backends = [x.strip() for x in args.backends.split(",") if x.strip()]
    worker_counts = [int(x) for x in args.workers.split(",")]
    api_procs = [int(x) for x in args.api_processes.split(",")]

    work = Path(tempfile.mkdtemp(prefix="irpatrol-bench-server-"))
    rows: list[tuple[str, str, str, str]] = []  # backend, measure, result, server CPU
    info = [machine(), f"{load_note()} at the start"]
    try:
        for name in backends:
            if name == "postgresql":
                info.append(f"PostgreSQL {pg_version(args.pg_url)} on 127.0.0.1")
            for procs in api_procs:
                print(
                    f"[{name}] uploads: {args.upload_users} users, {args.upload_seconds} s, {procs} API",
                    flush=True,
                )
                b = fresh_backend(name, args.pg_url, work)
                srv, url = start_server(b.env, work / f"serve-{name}.log", processes=procs)
                try:
                    if args.load_tool == "wrk":
                        up = run_wrk(b, url, args.upload_users, args.upload_seconds, srv, args.warmup_seconds)
                    else:
                        up = run_locust(b, url, "Uploader", args.upload_users, args.upload_seconds, work, srv)
                finally:
                    srv.stop()
                stored = count_rows(b, "captures")
                warm = ""
                if up.warmup_created:
                    warm = f" (+{up.warmup_created} in the {args.warmup_seconds} s warm-up)"
                rows.append((
                    name,
                    f"(a) uploads accepted/s, {args.upload_users} {args.load_tool} clients, E40 70 kB, "
                    f"{_procs(procs)}",
                    f"**{up.rps:.0f}/s** (p50 {up.p50_ms:.0f} ms, p95 {up.p95_ms:.0f} ms; "
                    f"{up.requests - up.failures} answered 201{warm}, {stored} rows, {up.failures} failed; "
                    f"{args.load_tool} used {up.tool_cores:.2f} cores)",
                    f"{up.server_cpu_ms:.1f} ms",
                ))  # fmt: skip
                print(f"  {rows[-1][2]}", flush=True)
                shutil.rmtree(b.data_dir, ignore_errors=True)

            print(f"[{name}] analysis: backlog of {args.backlog}", flush=True)
            b = fresh_backend(name, args.pg_url, work)
            srv, url = start_server(b.env, work / f"serve-{name}.log")
            try:
                upload_backlog(b, url, args.backlog)
            finally:
                srv.stop()
            for n in worker_counts:
                a = run_workers(b, n, args.backlog, work, timeout=600)
                rows.append((
                    name, f"(c) analysis, `irpatrol worker --workers {n}`, {a.captures} pending E40",
                    f"**{a.captures / a.wall_s:.1f}/s** ({a.wall_s:.1f} s wall incl. start-up; "
                    f"{a.steady_per_s:.1f}/s steady)",
                    f"{a.cpu_ms:.1f} ms",
                ))  # fmt: skip
                print(f"  {rows[-1][2]}", flush=True)
            findings = count_rows(b, "findings")
            for procs in api_procs:
                srv, url = start_server(b.env, work / f"serve-{name}.log", processes=procs)
                try:
                    for wait in (0.0, 1.0):
                        ramp = 0 if wait == 0 else 5  # paused readers arrive over 5 s, as people do
                        how = (
                            "back to back"
                            if wait == 0
                            else f"0.5–1.5 s pause (mean {wait:g} s), arriving over {ramp} s"
                        )
                        print(
                            f"[{name}] readers: {args.readers}, {how}, {findings} findings, {procs} API",
                            flush=True,
                        )
                        rd = run_locust(
                            b, url, "Reader", args.readers, args.read_seconds, work, srv,
                            wait=wait, ramp_s=ramp,
                        )  # fmt: skip
                        rows.append((
                            name,
                            f"(b) {args.readers} readers of GET /findings ({findings} findings), {how}, "
                            f"{_procs(procs)}",
                            f"**p95 {rd.p95_ms:.0f} ms** (p50 {rd.p50_ms:.0f}, p99 {rd.p99_ms:.0f}; "
                            f"{rd.rps:.0f} req/s, {rd.failures} failed)",
                            f"{rd.server_cpu_ms:.1f} ms",
                        ))  # fmt: skip
                        print(f"  {rows[-1][2]}", flush=True)
                finally:
                    srv.stop()
            shutil.rmtree(b.data_dir, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    command = "benchmarks/run.sh server " + shlex.join(argv if argv is not None else sys.argv[1:])
    lines = [
        f"`{command.strip()}` — {'; '.join(info)}; the load tool on the same machine.",
        "",
        "| backend | measure | result | server CPU per request |",
        "|---|---|---|---|",
        *(f"| {a} | {m} | {r} | {c} |" for a, m, r, c in rows),
    ]
    block = "\n".join(lines)
    print()
    print(block)
    if args.write:
        write_benchmarks_md(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
