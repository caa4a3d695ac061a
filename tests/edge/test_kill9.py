"""The agent killed with SIGKILL at random points and restarted, many times: nothing lost, nothing doubled.

Each iteration adds new captures to a replay folder (seeded random 320×256 °C matrices,
some with a critical hot spot, plus the real FLIR demo images and one unreadable file) and
runs the real agent (:func:`irpatrol.edge.runner.run_from_config`) in a forked process, with a
stand-in drainer thread that claims and acks items as an uplink would.  The child reports
each key the moment it is known to be in the outbox, and each ack, on a pipe.  The parent
kills it with SIGKILL at a seeded random point: after a random delay, or a random number of
reported commits plus a random delay.  After the last iteration a clean run completes the
work, and the outbox must hold

* every key the child reported committed, exactly once, and every key it reported acked in
  state ``acked`` (an ack is durable too);
* exactly the keys the captures call for (result and file of each, alarm of each critical
  one, a capture-failed event for the unreadable file): nothing missing, nothing extra;
* whole blobs whose SHA-256 is the one in the payload and in the key, and no other file;
* a database that passes ``PRAGMA integrity_check``.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import select
import shutil
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from irpatrol.edge.config import EdgeConfig
from irpatrol.edge.outbox import BLOB_DIR, Outbox
from tests.conftest import DEMO
from tests.edge.conftest import hot_npy

SEED = 9_2026_12
ITERATIONS = 60
TIME_BUDGET_S = 75.0
"""The loop stops early (and the test fails if below 50 iterations) when this runs out."""


def _npy(rng: np.random.Generator, critical: bool) -> bytes:
    """A 320×256 °C matrix about 25 °C with a Gaussian hot spot of 210 °C (critical) or 45 °C (normal)."""
    seed = int(rng.integers(0, 2**31))
    return hot_npy(210.0 if critical else 45.0, seed=seed, shape=(256, 320))


def _child(cfg: EdgeConfig, fd: int) -> None:  # pragma: no cover  (runs in the forked process)
    from irpatrol.edge.runner import run_from_config

    stop = threading.Event()

    def say(line: str) -> None:
        os.write(fd, (line + "\n").encode())

    # the stand-in uplink: claims a few items now and then and acks two keys in three
    import irpatrol.edge.runner as runner

    opened: list[Outbox] = []
    original = runner.outbox_for

    def outbox_for(c: EdgeConfig) -> Outbox:  # run_from_config opens the outbox; keep a handle
        box = original(c)
        opened.append(box)
        return box

    def drainer() -> None:
        for _ in range(10_000):
            if stop.wait(0.01):
                return
            if not opened:
                continue
            try:
                items = opened[0].claim(3)
                for it in items:  # a third of the keys are never acked: their blobs are checked at the end
                    if hashlib.sha256(it.key.encode()).digest()[0] % 3 and opened[0].ack(it.key):
                        say(f"ACK {it.key}")
            except Exception:  # the outbox was closed at the end of the run
                return

    runner.outbox_for = outbox_for  # type: ignore[assignment]
    t = threading.Thread(target=drainer, daemon=True)
    t.start()
    run_from_config(cfg, stop, on_committed=lambda k: say(f"PUT {k}"), with_uplink=False)
    stop.set()
    t.join(timeout=5)
    say("DONE")
    os._exit(0)


def _read_lines(fd: int, buf: bytearray, timeout: float) -> list[str]:
    """Complete lines that arrive within ``timeout`` seconds (a partial last line stays in ``buf``)."""
    lines: list[str] = []
    ready, _, _ = select.select([fd], [], [], max(0.0, timeout))
    if ready:
        chunk = os.read(fd, 65536)
        if not chunk:
            return lines
        buf.extend(chunk)
    while b"\n" in buf:
        line, _, rest = bytes(buf).partition(b"\n")
        buf[:] = rest
        lines.append(line.decode())
    return lines


def test_kill9_at_random_points_loses_and_doubles_nothing(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    nrng = np.random.default_rng(SEED)
    replay = tmp_path / "replay"
    replay.mkdir()
    expected: set[str] = set()
    shas: dict[str, str] = {}

    def add(name: str, data: bytes, *, critical: bool = False, bad: bool = False) -> None:
        (replay / name).write_bytes(data)
        sha = hashlib.sha256(data).hexdigest()
        shas[name] = sha
        if bad:
            expected.add(f"r9:failed:{sha}:0")
            return
        expected.update({f"r9:result:{sha}:0", f"r9:file:{sha}:0"})
        if critical:
            expected.add(f"r9:alarm:{sha}:0")

    for img in sorted(DEMO.glob("*.jpg")):
        add(img.name, img.read_bytes())
    add("broken.npy", b"\x93NUMPY garbage", bad=True)

    outbox = tmp_path / "outbox"
    cfg = EdgeConfig(
        robot_id="r9",
        outbox_dir=outbox,
        outbox_budget_mb=512,
        outbox_reserve_mb=1,
        source="replay",
        replay_path=replay,
        replay_rate_hz=1000,
        watch_patterns=["*.jpg", "*.npy"],
        telemetry_interval_s=0.05,
    )
    ctx = multiprocessing.get_context("fork")
    committed: set[str] = set()
    acked: set[str] = set()
    killed_mid_run = 0
    start = time.monotonic()
    iterations = 0
    for it in range(ITERATIONS):
        if time.monotonic() - start > TIME_BUDGET_S:
            break
        iterations += 1
        for j in range(2):
            hot = rng.random() < 0.3  # a 210 °C spot grades critical (DL/T 664), 45 °C does not
            add(f"cap-{it:03d}-{j}.npy", _npy(nrng, critical=hot), critical=hot)
        r, w = os.pipe()
        proc = ctx.Process(target=_child, args=(cfg, w))
        proc.start()
        os.close(w)
        buf = bytearray()
        done = False
        mode = rng.random()
        delay = rng.uniform(0.0, 0.4)
        after = rng.randint(0, 12)
        seen = 0
        t0 = time.monotonic()
        deadline = t0 + (delay if mode < 0.5 else 5.0)
        while time.monotonic() < deadline and not done:
            for line in _read_lines(r, buf, deadline - time.monotonic()):
                kind, _, key = line.partition(" ")
                if kind == "PUT":
                    committed.add(key)
                    seen += 1
                elif kind == "ACK":
                    acked.add(key)
                elif kind == "DONE":
                    done = True
            if mode >= 0.5 and seen >= after:
                deadline = min(deadline, time.monotonic() + rng.uniform(0.0, 0.005))
        if proc.is_alive():
            os.kill(proc.pid, signal.SIGKILL)
        proc.join(timeout=10)
        assert proc.exitcode is not None
        for line in _read_lines(r, buf, 0.0) + _read_lines(r, buf, 0.05):
            kind, _, key = line.partition(" ")
            if kind == "PUT":
                committed.add(key)
            elif kind == "ACK":
                acked.add(key)
            elif kind == "DONE":
                done = True
        os.close(r)
        killed_mid_run += not done
    assert iterations >= 50, f"only {iterations} iterations in {TIME_BUDGET_S} s"
    assert killed_mid_run >= iterations // 3, f"only {killed_mid_run} of {iterations} kills landed mid-run"
    print(
        f"{iterations} iterations, {killed_mid_run} killed mid-run, {len(committed)} keys committed, "
        f"{len(acked)} acked, {time.monotonic() - start:.1f} s"
    )

    # a last clean run completes the work of the last kill
    r, w = os.pipe()
    proc = ctx.Process(target=_child, args=(cfg, w))
    proc.start()
    os.close(w)
    buf = bytearray()
    end = time.monotonic() + 60
    finished = False
    while time.monotonic() < end and not finished:
        for line in _read_lines(r, buf, 1.0):
            kind, _, key = line.partition(" ")
            committed.add(key) if kind == "PUT" else acked.add(key) if kind == "ACK" else None
            finished = finished or kind == "DONE"
    proc.join(timeout=10)
    os.close(r)
    assert finished
    assert proc.exitcode == 0

    with Outbox(outbox, byte_budget=512 * 1024**2, reserve_bytes=1024**2) as ob:
        assert ob.recovery.missing_blobs == ()
        assert ob._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = list(ob.states())
        keys = [k for k, _ in rows]
        assert len(keys) == len(set(keys)), "a key is stored twice"
        states = dict(rows)
        missing = committed - set(keys)
        assert not missing, f"{len(missing)} committed keys lost, e.g. {sorted(missing)[:3]}"
        assert all(states[k] == "acked" for k in acked), "an acknowledged item lost its ack"
        capture_keys = {k for k in keys if ":telemetry:" not in k}
        assert capture_keys == expected, (
            f"missing {sorted(expected - capture_keys)[:3]}, extra {sorted(capture_keys - expected)[:3]}"
        )
        live_blobs = set()
        checked = 0
        for key in capture_keys:
            got = ob.get(key)
            assert got is not None
            state, item = got
            sha = key.split(":")[2]
            if state == "acked":  # delivered: the key stays, its body and blob are gone
                assert item.payload == {}
                assert item.blob_path is None
                continue
            checked += 1
            if item.kind in ("result", "alarm"):
                assert item.payload["capture"]["sha256"] == sha
                assert isinstance(item.payload["inspection"], dict)
            if item.kind == "file":
                assert item.payload["sha256"] == sha
                assert item.blob_path is not None
                data = item.blob_path.read_bytes()
                assert len(data) == item.payload["size"]
                assert hashlib.sha256(data).hexdigest() == sha, "a torn or wrong blob"
                live_blobs.add(item.blob_path.name)
        assert checked >= 20, f"only {checked} items left unacked to check"
        on_disk = {p.name for p in (outbox / BLOB_DIR).iterdir()}
        assert on_disk == live_blobs, f"stray files in the blob folder: {sorted(on_disk - live_blobs)[:3]}"
    shutil.rmtree(replay)


@pytest.mark.parametrize("sig", [signal.SIGKILL])
def test_cli_agent_killed_then_restarted(tmp_path: Path, sig: signal.Signals) -> None:
    """The real command: ``irpatrol edge run`` killed mid-replay, then run again to the end."""
    import subprocess
    import sys

    replay = tmp_path / "replay"
    replay.mkdir()
    nrng = np.random.default_rng(7)
    for i in range(30):
        (replay / f"c{i:02d}.npy").write_bytes(_npy(nrng, critical=i % 10 == 0))
    toml = tmp_path / "edge.toml"
    toml.write_text(
        'robot_id = "cli-1"\nsource = "replay"\nreplay_path = "replay"\nreplay_rate_hz = 10\n'
        'watch_patterns = ["*.npy"]\noutbox_dir = "box"\noutbox_budget_mb = 64\noutbox_reserve_mb = 1\n',
        encoding="utf-8",
    )
    exe = [sys.executable, "-m", "irpatrol", "edge", "run", "--config", str(toml)]
    proc = subprocess.Popen(exe, cwd=tmp_path, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    time.sleep(2.0)  # start-up (imports, about 1 s) plus part of the 3 s replay
    proc.send_signal(sig)
    proc.communicate(timeout=30)
    assert proc.returncode == -sig
    done = subprocess.run(exe, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "finished: 30 captures" in done.stderr
    with Outbox(tmp_path / "box", byte_budget=64 * 1024**2, reserve_bytes=1024**2) as ob:
        keys = [k for k, _ in ob.states() if ":telemetry:" not in k]
        assert len(keys) == len(set(keys)) == 30 * 2 + 3  # result + file each, alarm for c00, c10, c20
