"""The outbox's contract: idempotent keys, lanes, states, recovery, budget, one writer + one drainer."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from irpatrol.edge.outbox import BLOB_DIR, DB_NAME, Lane, Outbox, blob_name, read_counts
from irpatrol.errors import FileAccessError, OutboxFullError, ParameterError, failure_kind

MiB = 1024 * 1024


def small(path: Path, **kw: int) -> Outbox:
    """An outbox with a 64 MiB budget and a 1 MiB reserve (tests need no gigabytes)."""
    budget, reserve = kw.get("byte_budget", 64 * MiB), kw.get("reserve_bytes", MiB)
    return Outbox(path, byte_budget=budget, reserve_bytes=reserve)


def test_put_is_idempotent_by_key(tmp_path: Path) -> None:
    with small(tmp_path) as ob:
        assert ob.put(Lane.RESULT, "result", "r1", {"v": 1}) is True
        assert ob.put(Lane.RESULT, "result", "r1", {"v": 2}) is False
        assert ob.counts() == {"pending": 1, "inflight": 0, "acked": 0}
        got = ob.get("r1")
        assert got is not None
        assert got[1].payload == {"v": 1}


def test_claim_orders_by_lane_then_insertion(tmp_path: Path) -> None:
    with small(tmp_path) as ob:
        ob.put(Lane.FILE, "file", "f1", {}, b"a")
        ob.put(Lane.RESULT, "result", "r1", {})
        ob.put(Lane.TELEMETRY, "telemetry", "t1", {})
        ob.put(Lane.RESULT, "result", "r2", {})
        ob.put(Lane.ALARM, "alarm", "a1", {})
        first = ob.claim(2)
        assert [i.key for i in first] == ["a1", "r1"]
        assert all(i.attempts == 1 for i in first)
        ob.put(Lane.ALARM, "alarm", "a2", {})  # a live alarm overtakes the older backlog
        assert [i.key for i in ob.claim(10)] == ["a2", "r2", "t1", "f1"]
        assert ob.claim(10) == []
        assert ob.counts() == {"pending": 0, "inflight": 6, "acked": 0}


def test_ack_release_and_attempts(tmp_path: Path) -> None:
    with small(tmp_path) as ob:
        ob.put(Lane.FILE, "file", "f1", {"size": 3}, b"abc")
        (item,) = ob.claim()
        assert item.blob_path is not None
        assert item.blob_path.read_bytes() == b"abc"
        assert item.blob_path.name == blob_name("f1")
        assert ob.release() == 1
        (again,) = ob.claim()
        assert again.attempts == 2
        assert ob.release(["nope"]) == 0
        assert ob.release(["f1"]) == 1
        assert ob.ack("f1") is True  # pending → acked is allowed too
        assert ob.ack("f1") is False
        assert ob.ack("unknown") is False
        assert not item.blob_path.exists()
        assert ob.counts() == {"pending": 0, "inflight": 0, "acked": 1}
        assert ob.put(Lane.FILE, "file", "f1", {}, b"abc") is False  # acked keys stay known
        assert ob.purge_acked() == 1
        assert ob.counts() == {"pending": 0, "inflight": 0, "acked": 0}


def test_recovery_releases_inflight_and_removes_orphans(tmp_path: Path) -> None:
    with small(tmp_path) as ob:
        ob.put(Lane.FILE, "file", "f1", {}, b"one")
        ob.put(Lane.FILE, "file", "f2", {}, b"two")
        ob.claim(1)
    blobs = tmp_path / BLOB_DIR
    (blobs / ".x.part").write_bytes(b"torn")  # a crash mid-write
    (blobs / blob_name("never-committed")).write_bytes(b"orphan")  # a crash before the commit
    with small(tmp_path) as ob:
        assert ob.recovery.released == 1
        assert ob.recovery.orphans_removed == 2
        assert ob.recovery.missing_blobs == ()
        assert ob.counts() == {"pending": 2, "inflight": 0, "acked": 0}
        assert sorted(p.name for p in blobs.iterdir()) == sorted([blob_name("f1"), blob_name("f2")])
        items = ob.claim()
        assert [i.key for i in items] == ["f1", "f2"]
        assert [i.attempts for i in items] == [2, 1]


def test_a_second_owner_is_refused(tmp_path: Path) -> None:
    with small(tmp_path):
        with pytest.raises(FileAccessError, match="in use by another process"):
            small(tmp_path)
        assert read_counts(tmp_path)["pending"] == 0  # reading from outside is fine
    with small(tmp_path) as ob:  # free again once closed
        assert ob.counts()["pending"] == 0


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="byte_budget"):
        Outbox(tmp_path, byte_budget=MiB, reserve_bytes=MiB)
    with small(tmp_path) as ob:
        with pytest.raises(ParameterError, match="key"):
            ob.put(Lane.RESULT, "result", "", {})
        with pytest.raises(ParameterError, match="payload"):
            ob.put(Lane.RESULT, "result", "k", {"x": float("nan")})
        with pytest.raises(ParameterError, match="limit"):
            ob.claim(0)
        assert ob.counts()["pending"] == 0
    with pytest.raises(FileAccessError, match="no outbox"):
        read_counts(tmp_path / "elsewhere")


def test_byte_budget_keeps_the_reserve_for_alarms(tmp_path: Path) -> None:
    with small(tmp_path, byte_budget=2 * MiB, reserve_bytes=MiB) as ob:
        blob = b"x" * (200 * 1024)
        committed = 0
        refused: OutboxFullError | None = None
        for n in range(20):  # bounded: the budget holds about 5 blobs
            try:
                ob.put(Lane.FILE, "file", f"f{n}", {}, blob)
            except OutboxFullError as exc:
                refused = exc
                break
            committed += 1
        assert refused is not None
        assert "byte budget" in str(refused)
        assert failure_kind(refused) == "transient"
        assert 1 <= committed < 10
        assert ob.put(Lane.ALARM, "alarm", "a1", {"grade": "critical"}) is True  # uses the reserve
        assert ob.counts()["pending"] == committed + 1
        for i in range(committed):
            assert ob.ack(f"f{i}")
        assert ob.put(Lane.FILE, "file", "again", {}, blob) is True


def test_writer_and_drainer_threads(tmp_path: Path) -> None:
    """The agent writes while the uplink claims and acks; every key ends acked exactly once."""
    n = 300
    with small(tmp_path) as ob:
        acked: list[str] = []
        done = threading.Event()

        def writer() -> None:
            for i in range(n):
                ob.put(Lane(i % 4), "result", f"k{i:04d}", {"i": i}, b"b" * 100 if i % 4 == 3 else None)
            done.set()

        def drainer() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                items = ob.claim(17)
                if not items and done.is_set() and ob.counts()["pending"] == 0:
                    return
                for it in items:
                    if it.blob_path is not None:
                        assert it.blob_path.read_bytes() == b"b" * 100
                    assert ob.ack(it.key)
                    acked.append(it.key)

        threads = [threading.Thread(target=writer), threading.Thread(target=drainer)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=90)
        assert not any(t.is_alive() for t in threads)
        assert sorted(acked) == [f"k{i:04d}" for i in range(n)]
        assert ob.counts() == {"pending": 0, "inflight": 0, "acked": n}
        assert list((tmp_path / BLOB_DIR).iterdir()) == []


def test_database_is_wal_with_full_sync(tmp_path: Path) -> None:
    with small(tmp_path) as ob:
        ob.put(Lane.RESULT, "result", "r", {})
        conn = sqlite3.connect(tmp_path / DB_NAME)
        try:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        finally:
            conn.close()
        assert ob._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_blob_hash_matches(tmp_path: Path) -> None:
    data = bytes(range(256)) * 100
    with small(tmp_path) as ob:
        ob.put(Lane.FILE, "file", "f", {"sha256": hashlib.sha256(data).hexdigest()}, data)
        (item,) = ob.claim()
        assert item.blob_path is not None
        assert hashlib.sha256(item.blob_path.read_bytes()).hexdigest() == item.payload["sha256"]
