"""Outbox on a full disk (a small tmpfs): refused writes, acks and cleanup still work, nothing committed lost.

Needs root to mount a tmpfs (CI runs as root); skipped with the reason otherwise.
"""

from __future__ import annotations

import errno
import hashlib
import os
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from irpatrol.edge.outbox import BALLAST_NAME, Lane, Outbox
from irpatrol.errors import OutboxFullError

MiB = 1024 * 1024


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs mounted on a temporary folder, unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True, timeout=30, check=False)


def fill(path: Path) -> int:
    """Write ``path`` until the disk is full (bounded: at most 64 MiB); answers the bytes written."""
    written = 0
    with path.open("wb", buffering=0) as f:
        for chunk in (64 * 1024, 4096, 512, 1):
            block = b"\xff" * chunk
            for _ in range(64 * MiB // chunk if chunk > 1 else 4096):
                try:
                    written += f.write(block) or 0
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    return written


def test_full_disk_refuses_writes_keeps_acks_cleanup_and_alarms(tiny_disk: Path) -> None:
    rng = random.Random(20261202)
    box = tiny_disk / "outbox"
    committed: dict[str, str] = {}  # key → sha256 of its blob
    with Outbox(box, byte_budget=1024**3, reserve_bytes=MiB) as ob:  # the disk, not the budget, limits
        assert (box / BALLAST_NAME).stat().st_size == MiB
        refused: OutboxFullError | None = None
        for i in range(100):  # bounded: 8 MiB holds fewer than 30 blobs of 256 KiB
            blob = rng.randbytes(256 * 1024)
            try:
                ob.put(Lane.FILE, "file", f"f{i}", {"sha256": hashlib.sha256(blob).hexdigest()}, blob)
            except OutboxFullError as exc:
                refused = exc
                break
            committed[f"f{i}"] = hashlib.sha256(blob).hexdigest()
        assert refused is not None
        assert "disk full" in str(refused)
        assert 10 <= len(committed) < 30
        # something else on the robot fills the disk to the last byte
        assert fill(tiny_disk / "filler") > 0
        assert os.statvfs(tiny_disk).f_bavail == 0
        with pytest.raises(OutboxFullError):
            ob.put(Lane.RESULT, "result", "r-refused", {"x": "y" * 1000})
        assert ob.get("r-refused") is None
        # a critical alarm still goes in: the reserve is released for it
        assert ob.reserve_held
        assert ob.put(Lane.ALARM, "alarm", "a-critical", {"grade": "critical"}) is True
        assert not ob.reserve_held
        # ordinary items are still refused while the disk is full
        with pytest.raises(OutboxFullError):
            ob.put(Lane.FILE, "file", "f-late", {}, rng.randbytes(256 * 1024))
        # the uplink still drains: claim and ack on a full disk
        items = ob.claim(5)
        assert [i.key for i in items] == ["a-critical", "f0", "f1", "f2", "f3"]
        for it in items:
            assert ob.ack(it.key) is True
        assert ob.purge_acked() == 5
        # space comes back: the reserve is put back first, ordinary writes resume
        (tiny_disk / "filler").unlink()
        assert ob.purge_acked() == 0
        assert ob.reserve_held
        assert ob.put(Lane.RESULT, "result", "r-after", {"ok": True}) is True
        # full to the last byte again with the reserve held: acks still go through
        assert fill(tiny_disk / "filler") > 0
        (item,) = ob.claim(1)
        assert item.key == "r-after"
        assert ob.ack(item.key) is True
        assert not ob.reserve_held
        (tiny_disk / "filler").unlink()
    # nothing committed was lost; reopening finds the database whole
    with Outbox(box, byte_budget=1024**3, reserve_bytes=MiB) as ob:
        assert ob.recovery.missing_blobs == ()
        assert ob._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        keys = dict(ob.states())
        gone = {f"f{i}" for i in range(4)}
        assert set(keys) == (set(committed) - gone) | {"r-after"}
        assert keys["r-after"] == "acked"
        assert len(list(ob.states())) == len(keys)
        for key, sha in committed.items():
            got = ob.get(key)
            if key in gone:
                assert got is None  # acked then purged
                continue
            assert got is not None
            state, item = got
            assert state == "pending"
            assert item.blob_path is not None
            assert hashlib.sha256(item.blob_path.read_bytes()).hexdigest() == sha
