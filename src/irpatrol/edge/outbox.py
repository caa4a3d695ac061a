"""The edge agent's durable outbox: an SQLite ack-state queue with priority lanes, blobs and a byte budget.

Everything the robot must deliver to the intranet (alarms, inspection results, telemetry,
images) is first committed here; the uplink drains it and marks an item acked only when
the receiver has stored it (an application-level ack, never a broker's PUBACK).

* **States**: ``pending`` → ``inflight`` (claimed by the uplink) → ``acked``.  Opening the
  outbox puts every ``inflight`` item back to ``pending`` (the process that claimed it is
  gone) and removes blob files no live row refers to.
* **Keys** are the caller's deterministic idempotency keys (same capture → same key, across
  restarts): :meth:`Outbox.put` of a key already present changes nothing and answers ``False``.
* **Lanes**: :meth:`Outbox.claim` hands out items by lane (alarm, result, telemetry, file),
  then in insertion order, so a live alarm never waits behind an older backlog.
* **Durability**: SQLite in WAL mode with ``synchronous=FULL``.  A blob is written to a
  temporary file, fsynced, renamed to its final name and its folder fsynced *before* the row
  that names it commits, so a committed row always has its whole blob, after a crash or a
  power cut.
* **Byte budget**: blobs plus the database (and its WAL) may use ``byte_budget`` bytes;
  all but ``reserve_bytes`` of it for ordinary items, the rest for alarms.  The reserve is
  also held on the disk as a ballast file (``reserve.ballast``): when the disk itself fills
  up (SQLite then cannot even delete a row), the ballast is released so acks, cleanup and
  alarms still go through; it is put back once there is room again.

Thread safety: one process owns an outbox folder (an exclusive ``flock`` on
``outbox.lock``; a second opener gets :class:`~irpatrol.errors.FileAccessError`).  Inside it,
one writer thread (the agent) and one drainer thread (the uplink) share one SQLite
connection guarded by a lock; blob files are written and fsynced outside that lock, so an
ack never waits for an image to reach the disk.  :func:`read_counts` reads the counts of a
folder another process owns, without taking it over.
"""

from __future__ import annotations

import contextlib
import enum
import fcntl
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from irpatrol.durable import fsync_dir, write_file_durably
from irpatrol.edge.reserve import FULL_ERRNOS, DiskReserve
from irpatrol.errors import FileAccessError, OutboxFullError, ParameterError

log = logging.getLogger(__name__)

DB_NAME = "outbox.db"
BLOB_DIR = "blobs"
LOCK_NAME = "outbox.lock"
BALLAST_NAME = "reserve.ballast"
STATES = ("pending", "inflight", "acked")
ROW_OVERHEAD = 512
"""Bytes a row takes beyond its payload and key (record header, index entries): an upper estimate."""
DISK_MARGIN = 256 * 1024
"""Bytes an ordinary put leaves free on the disk beyond its own size, so SQLite's own writes fit."""
MAX_KEY_LENGTH = 512
_SQLITE_FULL = 13

T = TypeVar("T")


class Lane(enum.IntEnum):
    """Delivery priority; a lower lane drains first."""

    ALARM = 0
    RESULT = 1
    TELEMETRY = 2
    FILE = 3


@dataclass(frozen=True)
class OutboxItem:
    """One item handed to the uplink by :meth:`Outbox.claim`.

    ``key`` is the idempotency key, ``kind`` one of ``"alarm"``, ``"result"``,
    ``"telemetry"``, ``"file"``, ``payload`` the JSON-ready body; ``blob_path`` is the stored
    blob (the image of a ``"file"`` item), complete and fsynced, or ``None``; ``created_at``
    is when it was committed (UTC); ``attempts`` counts the claims including this one.
    """

    key: str
    lane: Lane
    kind: str
    payload: dict[str, Any]
    blob_path: Path | None
    created_at: datetime
    attempts: int


@dataclass(frozen=True)
class Recovery:
    """What opening an outbox found and repaired.

    ``released``: inflight items put back to pending; ``orphans_removed``: blob or temporary
    files no live row names, deleted; ``missing_blobs``: keys of live rows whose blob is absent
    (never expected: it would mean the disk lost fsynced data).
    """

    released: int
    orphans_removed: int
    missing_blobs: tuple[str, ...]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    lane INTEGER NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    blob TEXT,
    blob_size INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'inflight', 'acked')),
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    acked_at TEXT
);
CREATE INDEX IF NOT EXISTS items_drain ON items (state, lane, seq);
"""


def blob_name(key: str) -> str:
    """File name of a key's blob: its SHA-256 (keys may hold any character), ``.blob``."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest() + ".blob"


def _is_full(exc: BaseException) -> bool:
    """True for 'disk full' from the OS or from SQLite."""
    if isinstance(exc, sqlite3.OperationalError):
        code = getattr(exc, "sqlite_errorcode", None)
        return (code is not None and code & 0xFF == _SQLITE_FULL) or "full" in str(exc)
    return isinstance(exc, OSError) and exc.errno in FULL_ERRNOS


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


class Outbox:
    """The durable outbox in ``directory`` (created if needed).

    ``byte_budget`` (bytes) caps blobs plus database; ``reserve_bytes`` of it is kept for
    alarms and held on the disk as a ballast file for acks and cleanup on a full disk.
    Opening recovers from a crash (inflight → pending, orphan blobs removed); the result is
    in :attr:`recovery`.  Use as a context manager or call :meth:`close`.
    """

    def __init__(
        self,
        directory: Path,
        *,
        byte_budget: int = 2 * 1024**3,
        reserve_bytes: int = 16 * 1024**2,
    ) -> None:
        if reserve_bytes < 0:
            raise ParameterError("reserve_bytes", reserve_bytes, "≥ 0 bytes")
        if byte_budget <= reserve_bytes:
            raise ParameterError("byte_budget", byte_budget, f"more than reserve_bytes ({reserve_bytes})")
        self.directory = Path(directory)
        self.byte_budget = byte_budget
        self.reserve_bytes = reserve_bytes
        self._lock = threading.RLock()
        self._closed = False
        self._blobs = self.directory / BLOB_DIR
        try:
            self._blobs.mkdir(parents=True, exist_ok=True)
            self._lock_fd = os.open(self.directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise FileAccessError(self.directory, f"cannot be used as an outbox ({exc.strerror})") from exc
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise FileAccessError(self.directory, "outbox is in use by another process") from None
        try:
            self._conn = self._connect()
            fsync_dir(self.directory)
            self._reserve = DiskReserve(
                self.directory / BALLAST_NAME, reserve_bytes, margin_bytes=2 * DISK_MARGIN
            )
            self.recovery = self._recover()
            self._blob_bytes = int(
                self._conn.execute(
                    "SELECT COALESCE(SUM(blob_size), 0) FROM items WHERE state != 'acked'"
                ).fetchone()[0]
            )
            self._reserve.restore()
        except BaseException:
            os.close(self._lock_fd)
            raise

    # -- opening ---------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        path = self.directory / DB_NAME
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")  # takes effect only on a new file
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise FileAccessError(path, f"SQLite refused WAL mode (got {mode})")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA journal_size_limit = 1048576")
            conn.execute("PRAGMA wal_autocheckpoint = 256")  # pages: keeps the WAL near 1 MiB
            conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise FileAccessError(path, f"cannot be opened as an outbox database ({exc})") from exc
        return conn

    def _recover(self) -> Recovery:
        check = self._conn.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise FileAccessError(self.directory / DB_NAME, f"integrity check failed: {check}")
        released = self._conn.execute("UPDATE items SET state = 'pending' WHERE state = 'inflight'").rowcount
        live = {
            str(name): str(key)
            for key, name in self._conn.execute(
                "SELECT key, blob FROM items WHERE blob IS NOT NULL AND state != 'acked'"
            )
        }
        removed = 0
        for entry in os.scandir(self._blobs):
            if entry.name not in live:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed += 1
        missing = tuple(sorted(key for name, key in live.items() if not (self._blobs / name).exists()))
        if missing:
            log.error("outbox %s: %d committed items have lost their blob", self.directory, len(missing))
        if released or removed:
            log.info("outbox %s: %d inflight items back to pending, %d orphan files removed",
                     self.directory, released, removed)  # fmt: skip
        return Recovery(released=released, orphans_removed=removed, missing_blobs=missing)

    @property
    def reserve_held(self) -> bool:
        """True while the ballast file holds the reserve on the disk."""
        return self._reserve.held

    # -- bytes ------------------------------------------------------------------------------

    def used_bytes(self) -> int:
        """Bytes counted against the budget: live blobs plus the database, its WAL and shared memory."""
        db = self.directory / DB_NAME
        return (
            self._blob_bytes
            + _size(db)
            + _size(db.with_name(DB_NAME + "-wal"))
            + _size(db.with_name(DB_NAME + "-shm"))
        )

    def _check_room(self, lane: Lane, needed: int) -> None:
        alarm = lane == Lane.ALARM
        limit = self.byte_budget if alarm else self.byte_budget - self.reserve_bytes
        used = self.used_bytes()
        if used + needed > limit and self._acked_rows():
            self.purge_acked()  # acked rows and the WAL are space the budget can have back
            used = self.used_bytes()
        if used + needed > limit:
            raise OutboxFullError(
                self.directory,
                f"byte budget reached: {used} bytes used, {needed} more needed, limit {limit} for lane "
                f"{lane.name.lower()}",
                needed=needed,
                used=used,
                limit=limit,
            )
        if alarm:
            return
        free = shutil.disk_usage(self.directory).free
        floor = DISK_MARGIN if self.reserve_held else DISK_MARGIN + self.reserve_bytes
        if free - needed < floor:
            raise OutboxFullError(
                self.directory,
                f"disk full: {free} bytes free, {needed} needed plus {floor} kept free",
                needed=needed,
                used=None,
                limit=None,
            )

    # -- transactions -----------------------------------------------------------------------

    def _transaction(
        self, body: Callable[[sqlite3.Connection], T], *, use_reserve: bool, needed: int = 0
    ) -> T:
        """Run ``body`` in one write transaction; on a full disk release the reserve and retry once."""
        for attempt in (0, 1):
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    result = body(self._conn)
                    self._conn.execute("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise
                return result
            except sqlite3.OperationalError as exc:
                if not _is_full(exc):
                    raise
                if attempt == 0 and use_reserve and self._reserve.release():
                    continue
                raise OutboxFullError(
                    self.directory, f"disk full ({exc})", needed=needed, used=None, limit=None
                ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _acked_rows(self) -> bool:
        return self._conn.execute("SELECT 1 FROM items WHERE state = 'acked' LIMIT 1").fetchone() is not None

    def _check_open(self) -> None:
        if self._closed:
            raise ParameterError("outbox", str(self.directory), "an open outbox (it was closed)")

    # -- the interface ------------------------------------------------------------------------

    def put(
        self,
        lane: Lane,
        kind: str,
        key: str,
        payload: dict[str, Any],
        blob: bytes | None = None,
    ) -> bool:
        """Commit one item; ``False`` (and nothing written) when ``key`` is already there.

        ``blob`` (e.g. the image of a ``"file"`` item) is made durable before the row commits.
        Raises :class:`~irpatrol.errors.OutboxFullError` when the item does not fit the budget
        or the disk; alarms may use the reserve.  Once this returns ``True`` the item survives
        a crash or power loss.
        """
        lane = Lane(lane)
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ParameterError("key", key, f"a non-empty string of at most {MAX_KEY_LENGTH} characters")
        if not kind:
            raise ParameterError("kind", kind, "a non-empty string")
        try:
            text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ParameterError("payload", type(payload).__name__, f"JSON-ready data ({exc})") from None
        needed = len(text.encode("utf-8")) + len(key.encode("utf-8")) + ROW_OVERHEAD
        needed += len(blob) if blob is not None else 0
        with self._lock:
            self._check_open()
            if self._has(key):
                return False
            if not self.reserve_held:
                self._reserve.restore()
            self._check_room(lane, needed)
        name = blob_name(key) if blob is not None else None
        if blob is not None and name is not None:
            self._write_blob(name, blob, use_reserve=lane == Lane.ALARM, needed=needed)
        created = datetime.now(UTC).isoformat()
        size = len(blob) if blob is not None else 0

        def insert(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "INSERT OR IGNORE INTO items (key, lane, kind, payload, blob, blob_size, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, int(lane), kind, text, name, size, created),
            )
            return cur.rowcount == 1

        with self._lock:
            try:
                inserted = self._transaction(insert, use_reserve=lane == Lane.ALARM, needed=needed)
            except BaseException:
                if name is not None and not self._has(key):
                    with contextlib.suppress(FileNotFoundError):
                        (self._blobs / name).unlink()
                raise
            if inserted:
                self._blob_bytes += size
        return inserted

    def _write_blob(self, name: str, data: bytes, *, use_reserve: bool, needed: int) -> None:
        """Temporary file → fsync → rename → fsync the folder; a full disk releases the reserve for alarms."""
        for attempt in (0, 1):
            try:
                write_file_durably(self._blobs / name, data)
                return
            except OSError as exc:
                if exc.errno not in FULL_ERRNOS:
                    raise FileAccessError(self._blobs / name, f"cannot be written ({exc.strerror})") from exc
                if attempt == 0 and use_reserve:
                    with self._lock:
                        released = self._reserve.release()
                    if released:
                        continue
                raise OutboxFullError(
                    self.directory, "disk full while writing a blob", needed=needed, used=None, limit=None
                ) from exc

    def __contains__(self, key: object) -> bool:
        """True when ``key`` is in the outbox, in any state (until purged)."""
        if not isinstance(key, str):
            return False
        with self._lock:
            self._check_open()
            return self._has(key)

    def _has(self, key: str) -> bool:
        return self._conn.execute("SELECT 1 FROM items WHERE key = ?", (key,)).fetchone() is not None

    def claim(self, limit: int = 100) -> list[OutboxItem]:
        """Move up to ``limit`` pending items to inflight and return them: by lane, then oldest first."""
        if limit < 1:
            raise ParameterError("limit", limit, "≥ 1")

        def take(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
            rows = conn.execute(
                "SELECT seq, key, lane, kind, payload, blob, created_at, attempts FROM items"
                " WHERE state = 'pending' ORDER BY lane, seq LIMIT ?",
                (limit,),
            ).fetchall()
            conn.executemany(
                "UPDATE items SET state = 'inflight', attempts = attempts + 1 WHERE seq = ?",
                [(r[0],) for r in rows],
            )
            return rows

        with self._lock:
            self._check_open()
            rows = self._transaction(take, use_reserve=True)
        return [
            OutboxItem(
                key=key,
                lane=Lane(lane),
                kind=kind,
                payload=json.loads(payload),
                blob_path=self._blobs / blob if blob is not None else None,
                created_at=datetime.fromisoformat(created),
                attempts=attempts + 1,
            )
            for _seq, key, lane, kind, payload, blob, created, attempts in rows
        ]

    def ack(self, key: str) -> bool:
        """Mark an inflight or pending item acked, delete its blob, drop its body; True if it changed state.

        The key stays (a later put of it is still refused) until :meth:`purge_acked`.
        """
        now = datetime.now(UTC).isoformat()

        def mark(conn: sqlite3.Connection) -> tuple[str | None, int] | None:
            row = conn.execute(
                "SELECT blob, blob_size FROM items WHERE key = ? AND state IN ('pending', 'inflight')", (key,)
            ).fetchone()
            if row is None:
                return None
            conn.execute(  # the body is not needed any more: keep the key (dedup), drop the bytes
                "UPDATE items SET state = 'acked', acked_at = ?, payload = '{}' WHERE key = ?", (now, key)
            )
            return row[0], int(row[1])

        with self._lock:
            self._check_open()
            done = self._transaction(mark, use_reserve=True)
            if done is None:
                return False
            name, size = done
            if name is not None:
                with contextlib.suppress(FileNotFoundError):
                    (self._blobs / name).unlink()
                self._blob_bytes -= size
        return True

    def release(self, keys: Iterable[str] | None = None) -> int:
        """Put inflight items back to pending (on a disconnect); ``None`` releases all.  Answers how many."""

        def back(conn: sqlite3.Connection) -> int:
            if keys is None:
                return conn.execute("UPDATE items SET state = 'pending' WHERE state = 'inflight'").rowcount
            n = 0
            for key in keys:
                n += conn.execute(
                    "UPDATE items SET state = 'pending' WHERE key = ? AND state = 'inflight'", (key,)
                ).rowcount
            return n

        with self._lock:
            self._check_open()
            return self._transaction(back, use_reserve=True)

    def counts(self) -> dict[str, int]:
        """Number of items by state: ``pending``, ``inflight``, ``acked`` (always all three keys)."""
        with self._lock:
            self._check_open()
            return _counts(self._conn)

    def get(self, key: str) -> tuple[str, OutboxItem] | None:
        """The state and item of ``key``, or ``None`` (diagnostics and tests; does not claim)."""
        with self._lock:
            self._check_open()
            row = self._conn.execute(
                "SELECT state, key, lane, kind, payload, blob, created_at, attempts FROM items WHERE key = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        state, key, lane, kind, payload, blob, created, attempts = row
        item = OutboxItem(
            key=key,
            lane=Lane(lane),
            kind=kind,
            payload=json.loads(payload),
            blob_path=self._blobs / blob if blob is not None and state != "acked" else None,
            created_at=datetime.fromisoformat(created),
            attempts=attempts,
        )
        return state, item

    def states(self) -> Iterator[tuple[str, str]]:
        """Every ``(key, state)`` in insertion order (a snapshot; diagnostics and tests)."""
        with self._lock:
            self._check_open()
            rows = self._conn.execute("SELECT key, state FROM items ORDER BY seq").fetchall()
        yield from ((str(k), str(s)) for k, s in rows)

    def purge_acked(self) -> int:
        """Delete acked rows and give their pages back to the disk; answers how many rows went.

        Once purged, a key can be put again (the receiver deduplicates by key anyway).  A put
        that would exceed the budget purges first, so acked items never block new ones.
        """
        with self._lock:
            self._check_open()
            n = self._transaction(
                lambda conn: conn.execute("DELETE FROM items WHERE state = 'acked'").rowcount,
                use_reserve=True,
            )
            try:
                self._conn.execute("PRAGMA incremental_vacuum")
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.OperationalError as exc:
                if not _is_full(exc):
                    raise
                log.warning("outbox %s: could not shrink the database yet (%s)", self.directory, exc)
            self._reserve.restore()
        return int(n)

    def close(self) -> None:
        """Close the database and give up the folder (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._conn.close()
            finally:
                os.close(self._lock_fd)

    def __enter__(self) -> Outbox:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    out = dict.fromkeys(STATES, 0)
    for state, n in conn.execute("SELECT state, COUNT(*) FROM items GROUP BY state"):
        out[str(state)] = int(n)
    return out


def read_counts(directory: Path) -> dict[str, int]:
    """Counts by state of an outbox another process may own (read-only; no recovery, no lock).

    Also ``bytes``: the database and blob folder's size on disk.  Raises
    :class:`~irpatrol.errors.FileAccessError` when there is no outbox in ``directory``.
    """
    db = Path(directory) / DB_NAME
    if not db.exists():
        raise FileAccessError(directory, "no outbox here (outbox.db is missing)")
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=10.0)
        try:
            out = _counts(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise FileAccessError(db, f"cannot be read ({exc})") from exc
    blobs = Path(directory) / BLOB_DIR
    size = sum(e.stat().st_size for e in os.scandir(blobs) if e.is_file()) if blobs.exists() else 0
    out["bytes"] = size + sum(_size(db.with_name(DB_NAME + s)) for s in ("", "-wal", "-shm"))
    return out


__all__ = [
    "BALLAST_NAME",
    "BLOB_DIR",
    "DB_NAME",
    "Lane",
    "Outbox",
    "OutboxItem",
    "Recovery",
    "blob_name",
    "read_counts",
]
