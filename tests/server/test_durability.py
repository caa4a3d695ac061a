"""Nothing lost: uploads acknowledged before a ``kill -9`` survive it, once, and are all analysed once.

A real ``irpatrol serve`` runs as a subprocess on a loopback port (no analysis
workers while the uploads stream in), client threads upload distinct small
R-JPEGs each under its own ``Idempotency-Key``, and the server is killed with
SIGKILL in the middle of the stream.  It is restarted on the same data folder
and database, this time with analysis workers, and the clients retry every key
that never got a 2xx plus a sample of those that did.  Then:

* every key that was ever acknowledged is in the database exactly once, under
  the id first answered (retries answer 200 with that id); no other rows;
* every capture reaches ``analyzed`` within a bounded wait, claimed once
  (``attempts == 1``) and with the findings of a single analysis (the same
  count as analysing the same pixels once in-process, ``seq`` 0..n-1).

Runs on SQLite and on PostgreSQL (a fresh database created beside
``IRPATROL_TEST_DATABASE_URL`` and dropped afterwards).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from irpatrol.formats import open_thermal
from irpatrol.store.db import make_engine
from irpatrol.store.models import Capture, Finding
from tests.server.conftest import BACKENDS, E40, PG_URL

pytestmark = pytest.mark.slow

N_UPLOADS = 120
"""Distinct files uploaded in the first phase."""
KILL_AFTER = 40
"""The server is killed once this many uploads were acknowledged."""
CLIENTS = 4
RESAMPLE = 20
"""Acknowledged keys sent again after the restart (must answer 200 with the same id)."""
ANALYSIS_TIMEOUT_S = 60.0
START_TIMEOUT_S = 30.0


# --------------------------------------------------------------------------- files


def variant(base: bytes, n: int) -> bytes:
    """``base`` (a JPEG) with a COM segment naming ``n`` after its first segment: new bytes, same pixels."""
    assert base[:2] == b"\xff\xd8"
    first_len = int.from_bytes(base[4:6], "big")
    cut = 4 + first_len  # after SOI and APP0 (JFIF)
    note = f"irpatrol durability test upload {n:06d}".encode()
    return base[:cut] + b"\xff\xfe" + (len(note) + 2).to_bytes(2, "big") + note + base[cut:]


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def irpatrol_cmd() -> list[str]:
    script = Path(sys.executable).with_name("irpatrol")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from irpatrol.cli import main; sys.exit(main())"]


def run_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    res = subprocess.run(
        [*irpatrol_cmd(), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, f"irpatrol {' '.join(args)} failed: {res.stderr}"
    return res.stdout


class Server:
    """``irpatrol serve`` in its own process group on a loopback port."""

    def __init__(self, env: dict[str, str], port: int, workers: int, log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self._log = log.open("ab")
        self.proc = subprocess.Popen(
            [*irpatrol_cmd(), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"irpatrol serve exited with {self.proc.returncode}: {log.read_text()}")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(
                    f"irpatrol serve did not answer within {START_TIMEOUT_S} s: {log.read_text()}"
                )
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL the whole process group (idempotent)."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._log.close()


# --------------------------------------------------------------------------- databases


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """``None`` (SQLite in the data folder) or the URL of a fresh, empty PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("IRPATROL_TEST_DATABASE_URL is not set in CI: the PostgreSQL half cannot run")
        pytest.skip("IRPATROL_TEST_DATABASE_URL is unset (scripts/test.sh starts a PostgreSQL server)")
    base = make_url(PG_URL)
    name = f"irpatrol_durability_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(
        base.set(database="postgres").render_as_string(hide_password=False)
    ).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


# --------------------------------------------------------------------------- clients


@dataclass
class Ledger:
    """What the clients were told, per key (thread-safe)."""

    ids: dict[str, int] = field(default_factory=dict)
    """Key -> capture id of the first 2xx."""
    answers: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    """Key -> every (status, id) 2xx answer."""
    failures: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: threading.Event = field(default_factory=threading.Event)
    ack_target: int = 0

    def ok(self, key: str, status: int, cid: int) -> None:
        with self.lock:
            self.ids.setdefault(key, cid)
            self.answers.setdefault(key, []).append((status, cid))
            self.failures.pop(key, None)
            if self.ack_target and len(self.ids) >= self.ack_target:
                self.acked.set()

    def fail(self, key: str, why: str) -> None:
        with self.lock:
            self.failures[key] = why


def upload_all(url: str, token: str, jobs: list[tuple[str, bytes]], ledger: Ledger, attempts: int) -> None:
    """Upload ``jobs`` (key, bytes) from one client; connection errors are recorded, not raised."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, timeout=15.0) as client:
        for key, data in jobs:
            for attempt in range(attempts):
                try:
                    r = client.post(
                        "/api/v1/captures",
                        files={"file": (f"{key}.jpg", data, "image/jpeg")},
                        headers={**headers, "Idempotency-Key": key},
                    )
                except httpx.HTTPError as exc:
                    ledger.fail(key, f"{type(exc).__name__}: {exc}")
                    if attempts > 1:
                        time.sleep(0.05 * (attempt + 1))
                    continue
                if r.status_code in (200, 201):
                    ledger.ok(key, r.status_code, int(r.json()["id"]))
                    break
                ledger.fail(key, f"HTTP {r.status_code}: {r.text[:200]}")
                if r.status_code < 500:
                    break


def run_clients(
    url: str, token: str, jobs: list[tuple[str, bytes]], ledger: Ledger, attempts: int
) -> list[threading.Thread]:
    threads = [
        threading.Thread(
            target=upload_all, args=(url, token, jobs[i::CLIENTS], ledger, attempts), daemon=True
        )
        for i in range(CLIENTS)
    ]
    for t in threads:
        t.start()
    return threads


def single_analysis_findings(data: bytes) -> int:
    """How many findings one analysis of ``data`` gives, run as the server's job runs it (no point)."""
    from irpatrol.config import load_settings
    from irpatrol.server.jobs import _pack

    try:
        from irpatrol.pipeline import Conditions, inspect_image
    except ImportError as exc:  # pragma: no cover - the pipeline package is required
        pytest.fail(f"irpatrol.pipeline is not importable: {exc}")
    pack = _pack(load_settings().rules)
    inspection = inspect_image(data, name="reference.jpg", points=(), pack=pack, conditions=Conditions())
    return len(inspection.to_dict().get("findings", []))


# --------------------------------------------------------------------------- the test


def test_nothing_lost_across_kill_9(database_url: str | None, tmp_path: Path) -> None:
    base = E40.read_bytes()
    files = [variant(base, n) for n in range(N_UPLOADS)]
    with open_thermal(files[0], name="variant.jpg") as tf:  # the changed bytes still parse, same pixels
        assert tf.first_frame().thermogram().celsius.shape == (120, 160)
    assert len(set(files)) == N_UPLOADS
    keys = [f"dur-{uuid.uuid4().hex}" for _ in range(N_UPLOADS)]
    jobs = list(zip(keys, files, strict=True))

    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRPATROL_")}
    env.update(IRPATROL_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
    if database_url:
        env["IRPATROL_DATABASE_URL"] = database_url
    run_cli(
        env, "user", "add", "robot", "--role", "operator", "--password-stdin", stdin="correct horse battery\n"
    )
    token = run_cli(env, "token", "create", "--user", "robot").strip().splitlines()[-1]
    assert token

    log = tmp_path / "serve.log"
    servers: list[Server] = []
    engine = make_engine(database_url or f"sqlite:///{data_dir / 'irpatrol.db'}")
    try:
        # ---- phase 1: stream uploads, kill -9 the server once KILL_AFTER are acknowledged
        first = Server(env, free_port(), workers=0, log=log)
        servers.append(first)
        ledger = Ledger(ack_target=KILL_AFTER)
        threads = run_clients(first.url, token, jobs, ledger, attempts=1)
        assert ledger.acked.wait(timeout=30.0), (
            f"only {len(ledger.ids)} uploads acknowledged in 30 s: {ledger.failures}"
        )
        first.kill()
        for t in threads:
            t.join(timeout=30.0)
            assert not t.is_alive(), "a client thread hung after the kill"
        acked_before = dict(ledger.ids)
        lost_answers = [k for k in keys if k not in acked_before]
        assert len(acked_before) >= KILL_AFTER
        assert lost_answers, "the kill came after the last upload: nothing was in flight (raise N_UPLOADS)"
        for key, answers in ledger.answers.items():
            assert [s for s, _ in answers] == [201], f"{key}: first upload answered {answers}"

        # ---- phase 2: restart with analysis workers; retry the unanswered keys and a sample of the answered
        second = Server(env, free_port(), workers=2, log=log)
        servers.append(second)
        sample = random.Random(7).sample(sorted(acked_before), min(RESAMPLE, len(acked_before)))
        retry = [(k, d) for k, d in jobs if k not in acked_before or k in sample]
        for t in run_clients(second.url, token, retry, ledger, attempts=5):
            t.join(timeout=60.0)
            assert not t.is_alive(), "a client thread hung after the restart"
        assert not ledger.failures, f"retries after the restart failed: {ledger.failures}"
        assert set(ledger.ids) == set(keys)
        for key in sample:  # an acknowledged key answers 200 with the id first given
            status, cid = ledger.answers[key][-1]
            assert (status, cid) == (200, acked_before[key]), f"{key}: {ledger.answers[key]}"
        for key in lost_answers:  # committed-but-unanswered ones answer 200; the rest 201 (new)
            assert ledger.answers[key][-1][0] in (200, 201)
            assert len({cid for _, cid in ledger.answers[key]}) == 1, f"{key}: {ledger.answers[key]}"

        # ---- one row per acknowledged key, under the id answered, and nothing else
        with engine.connect() as conn:
            rows = conn.execute(select(Capture.idempotency_key, Capture.id, Capture.sha256)).all()
        by_key: dict[str | None, list[int]] = {}
        for key, cid, _ in rows:
            by_key.setdefault(key, []).append(cid)
        dupes = {k: v for k, v in by_key.items() if len(v) != 1}
        assert not dupes, f"keys stored more than once: {dupes}"
        assert set(by_key) == set(ledger.ids), (
            "rows without an acknowledged key, or acknowledged keys missing"
        )
        assert len(rows) == len(set(ledger.ids)) == N_UPLOADS
        assert {k: v[0] for k, v in by_key.items()} == ledger.ids, "a stored id differs from the id answered"
        assert len({sha for _, _, sha in rows}) == len(rows)
        for _, _, sha in rows:  # every stored row has its image
            blob = data_dir / "images" / sha[:2] / sha[2:4] / sha
            assert blob.is_file(), f"image {sha} of a stored capture is missing"

        # ---- every capture analysed, once, within a bounded wait
        deadline = time.monotonic() + ANALYSIS_TIMEOUT_S
        while True:
            with engine.connect() as conn:
                counts = dict(
                    conn.execute(select(Capture.status, func.count()).group_by(Capture.status)).all()
                )
            if counts.get("pending", 0) == 0:
                break
            assert second.proc.poll() is None, f"the server died: {log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, f"not all analysed within {ANALYSIS_TIMEOUT_S} s: {counts}"
            time.sleep(0.25)
        assert counts == {"analyzed": N_UPLOADS}, f"statuses {counts}; log: {log.read_text()[-2000:]}"

        expected = single_analysis_findings(base)
        with engine.connect() as conn:
            attempts = dict(conn.execute(select(Capture.id, Capture.attempts)).all())
            per_capture: dict[int, list[int]] = {cid: [] for cid in attempts}
            for cid, seq in conn.execute(select(Finding.capture_id, Finding.seq)):
                per_capture[cid].append(seq)
        assert all(a == 1 for a in attempts.values()), f"captures claimed more than once: {attempts}"
        wrong = {cid: sorted(s) for cid, s in per_capture.items() if sorted(s) != list(range(expected))}
        assert not wrong, f"findings differ from one analysis ({expected} each): {wrong}"
    finally:
        for s in servers:
            s.kill()
        engine.dispose()
        if sys.exc_info()[0] is None:
            shutil.rmtree(data_dir, ignore_errors=True)
