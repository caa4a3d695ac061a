"""Where captures come from: a folder the camera writes into, or live radiometric frames.

A :class:`Capture` is one radiometric image as file bytes (R-JPEG, FFF, IRG, TIFF, a
temperature matrix …) plus what the robot reported with it (preset, point, position).
Sequences (SEQ, CSQ) are split into their frames, each a standalone FFF file, so every frame
is analysed, stored and sent like a single image.

* :class:`WatchedFolder` takes files the camera writes (watchdog events plus a rescan, and
  the files already there at start), each once its size has stopped changing for
  ``settle_s`` seconds and its header parses;
* :class:`FrameSource` is the interface of a live radiometric camera (a GigE, UVC or HTTP
  adapter implements :meth:`FrameSource.read_frame`); :class:`ReplaySource` plays a folder
  or a SEQ/CSQ file through it at a set rate, for tests, demos and benchmarks.

What the robot reports comes in a JSON sidecar written *before* the image, ``NAME.json`` or
``NAME.EXT.json``: ``{"preset": "3", "point": "P-C3-FUSE", "x_m": 12.5, "y_m": 40.1,
"lat": 31.2, "lon": 121.4, "taken_at": "2026-12-02T10:00:00+08:00", "execution_id": 12}``
(every field optional).  Without one, the preset is looked for in the file name.
"""

from __future__ import annotations

import abc
import contextlib
import fnmatch
import json
import logging
import math
import mmap
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from irpatrol.errors import DamagedFrameError, FileAccessError, FormatError, IrpatrolError, ParameterError
from irpatrol.formats import open_thermal
from irpatrol.formats.base import read_source
from irpatrol.formats.flir import iter_blocks

log = logging.getLogger(__name__)

SEQUENCE_SUFFIXES = (".seq", ".csq")
"""Files split into one capture per frame."""
MMAP_ABOVE = 32 * 1024 * 1024
"""Sequences larger than this (bytes) are memory-mapped, not read whole."""


@dataclass(frozen=True, kw_only=True)
class Capture:
    """One radiometric image to analyse, with what the robot reported about it.

    ``data`` is the file's bytes; ``file_name`` its name (a sequence frame:
    ``<stem>.f<index>.fff``); ``frame_index`` the frame in its sequence (0 for single
    images); ``received_at`` when the agent got it (UTC); ``taken_at`` the capture time the
    robot reported, if any; ``preset``, ``point_code``, ``local_xy`` (m, station map),
    ``latlon`` (degrees) and ``execution_id`` as reported; ``source_path`` the file it came from.
    """

    data: bytes
    file_name: str
    frame_index: int = 0
    received_at: datetime
    taken_at: datetime | None = None
    preset: str | None = None
    point_code: str | None = None
    local_xy: tuple[float, float] | None = None
    latlon: tuple[float, float] | None = None
    execution_id: int | None = None
    source_path: Path | None = None


def _number(doc: dict[str, Any], key: str) -> float | None:
    v = doc.get(key)
    if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
        return float(v)
    return None


def read_sidecar(image: Path) -> dict[str, Any]:
    """The robot's report for ``image`` (``NAME.EXT.json`` or ``NAME.json``), checked; ``{}`` if none.

    Keys of the answer: ``preset``, ``point_code``, ``local_xy``, ``latlon``, ``taken_at``,
    ``execution_id`` (only those present and valid).  A sidecar that is not valid JSON is
    logged and ignored: the image is still analysed.
    """
    for candidate in (image.with_name(image.name + ".json"), image.with_suffix(".json")):
        try:
            text = candidate.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("sidecar %s cannot be read (%s); ignored", candidate, exc)
            return {}
        try:
            doc = json.loads(text)
        except ValueError as exc:
            log.warning("sidecar %s is not JSON (%s); ignored", candidate, exc)
            return {}
        if not isinstance(doc, dict):
            log.warning("sidecar %s is not a JSON object; ignored", candidate)
            return {}
        return _sidecar_fields(doc, candidate)
    return {}


def _sidecar_fields(doc: dict[str, Any], where: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    preset = doc.get("preset")
    if isinstance(preset, int | str) and not isinstance(preset, bool) and str(preset):
        out["preset"] = str(preset)
    if isinstance(doc.get("point"), str) and doc["point"]:
        out["point_code"] = doc["point"]
    x, y = _number(doc, "x_m"), _number(doc, "y_m")
    if x is not None and y is not None:
        out["local_xy"] = (x, y)
    lat, lon = _number(doc, "lat"), _number(doc, "lon")
    if lat is not None and lon is not None and abs(lat) <= 90 and abs(lon) <= 180:
        out["latlon"] = (lat, lon)
    taken = doc.get("taken_at")
    if isinstance(taken, str):
        try:
            when = datetime.fromisoformat(taken)
        except ValueError:
            when = None
        if when is not None and when.tzinfo is not None:
            out["taken_at"] = when.astimezone(UTC)
        else:
            log.warning("sidecar %s: taken_at %r is not an ISO time with a zone; ignored", where, taken)
    ex = doc.get("execution_id")
    if isinstance(ex, int) and not isinstance(ex, bool) and ex > 0:
        out["execution_id"] = ex
    return out


def sequence_frames(path: Path) -> Iterator[tuple[int, bytes]]:
    """``(index, FFF bytes)`` of every frame of a SEQ/CSQ file, one at a time.

    A damaged frame ends the walk after the complete frames before it (logged).
    """
    data = read_source(path, mmap_above=MMAP_ABOVE)
    try:
        for index, block in enumerate(iter_blocks(data, path=str(path))):
            yield index, bytes(data[block.start : block.end])
    except DamagedFrameError as exc:
        log.warning("%s", exc)
    finally:
        if isinstance(data, mmap.mmap):
            data.close()


def captures_from_file(path: Path, *, sidecars: bool = True) -> Iterator[Capture]:
    """The captures of one file: itself, or each frame of a sequence; sidecar fields attached."""
    report = read_sidecar(path) if sidecars else {}
    if path.suffix.lower() in SEQUENCE_SUFFIXES:
        for index, frame in sequence_frames(path):
            yield Capture(
                data=frame,
                file_name=f"{path.stem}.f{index:05d}.fff",
                frame_index=index,
                received_at=datetime.now(UTC),
                source_path=path,
                **report,
            )
        return
    yield Capture(
        data=read_source(path), file_name=path.name, received_at=datetime.now(UTC), source_path=path, **report
    )


def _matches(name: str, patterns: Sequence[str]) -> bool:
    low = name.lower()
    return any(fnmatch.fnmatch(low, p.lower()) for p in patterns)


class CaptureSource(abc.ABC):
    """Anything that yields captures until it runs out or ``stop`` is set."""

    @abc.abstractmethod
    def captures(self, stop: threading.Event) -> Iterator[Capture]:
        """Yield captures; return when the source is exhausted or soon after ``stop`` is set."""

    def close(self) -> None:  # noqa: B027  (optional hook, nothing to release by default)
        """Release the source's resources (idempotent)."""


class FrameSource(CaptureSource):
    """A live radiometric camera: an adapter implements :meth:`read_frame`.

    A frame is handed over as a :class:`Capture` holding a radiometric file's bytes: what
    the camera's SDK gives (FFF, R-JPEG), or for a camera streaming temperatures (FLIR
    TemperatureLinear, Hikvision's temperature matrix) a float32 °C TIFF made with
    :func:`irpatrol.formats.writers.temperature_bytes`.
    """

    @property
    def finished(self) -> bool:
        """True when a finite source (a replay) has no frame left; a camera never finishes."""
        return False

    @abc.abstractmethod
    def read_frame(self, timeout_s: float) -> Capture | None:
        """The next frame, or ``None`` if none came within ``timeout_s`` seconds."""

    def captures(self, stop: threading.Event) -> Iterator[Capture]:
        """Frames as they come, until the source finishes or ``stop`` is set."""
        while not stop.is_set() and not self.finished:
            frame = self.read_frame(0.25)
            if frame is not None:
                yield frame


class ReplaySource(FrameSource):
    """Plays a folder (files in name order) or one file, sequences frame by frame, at ``rate_hz``.

    ``loop`` starts again at the end (a looped capture has the same bytes, so the same keys:
    the outbox stores it once); ``limit`` stops after that many frames.  Pacing follows the
    monotonic clock from the first frame, so a slow consumer does not accumulate drift; a
    consumer slower than the rate simply gets frames back to back.
    """

    def __init__(
        self,
        path: Path,
        *,
        rate_hz: float,
        loop: bool = False,
        limit: int | None = None,
        patterns: Sequence[str] = ("*",),
        sidecars: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (math.isfinite(rate_hz) and rate_hz > 0):
            raise ParameterError("rate_hz", rate_hz, "a positive number of captures per second")
        if limit is not None and limit < 0:
            raise ParameterError("limit", limit, "≥ 0 or None")
        self.path = Path(path)
        if not self.path.exists():
            raise FileAccessError(self.path, "no such file or folder to replay")
        self.rate_hz = rate_hz
        self.loop = loop
        self.limit = limit
        self.patterns = tuple(patterns)
        self.sidecars = sidecars
        self._clock = clock
        self._wait = threading.Event()
        self._iter: Iterator[Capture] | None = None
        self._played = 0
        self._start: float | None = None
        self._done = False

    def _files(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        return sorted(
            p
            for p in self.path.iterdir()
            if p.is_file() and _matches(p.name, self.patterns) and p.suffix.lower() != ".json"
        )

    def _all(self) -> Iterator[Capture]:
        for _round in range(1_000_000 if self.loop else 1):  # a loop is bounded too (and by `limit`)
            files = self._files()
            if not files:
                return
            for f in files:
                try:
                    yield from captures_from_file(f, sidecars=self.sidecars)
                except FileAccessError as exc:
                    log.warning("replay: %s", exc)

    @property
    def finished(self) -> bool:
        """True once every frame (or ``limit``) was played."""
        return self._done

    def read_frame(self, timeout_s: float) -> Capture | None:
        """The next frame when its time has come (``None`` if that is more than ``timeout_s`` away)."""
        if self._done:
            return None
        if self.limit is not None and self._played >= self.limit:
            self._done = True
            return None
        now = self._clock()
        if self._start is None:
            self._start = now
        due = self._start + self._played / self.rate_hz
        if due - now > timeout_s:
            self._wait.wait(timeout_s)
            return None
        if due > now:
            self._wait.wait(due - now)
        if self._iter is None:
            self._iter = self._all()
        frame = next(self._iter, None)
        if frame is None:
            self._done = True
            return None
        self._played += 1
        return frame

    def close(self) -> None:
        """Stop a waiting :meth:`read_frame` and end the replay."""
        self._done = True
        self._wait.set()


@dataclass
class _Pending:
    size: int
    mtime_ns: int
    since: float
    first_seen: float


class WatchedFolder(CaptureSource):
    """Files the camera writes into ``folder``, each once it is complete.

    A file is complete when its size and modification time have not changed for
    ``settle_s`` seconds and its header parses; one that still does not parse
    ``give_up_s`` seconds after it was first seen is handed over anyway (the analysis then
    reports it as a bad file).  Files present at start are taken too.  New files are
    noticed by watchdog events, with a rescan every ``rescan_s`` seconds in case an event
    was lost (or watchdog is unavailable).  A file rewritten with new content is taken again.
    """

    def __init__(
        self,
        folder: Path,
        *,
        patterns: Sequence[str] = ("*",),
        settle_s: float = 0.5,
        give_up_s: float = 60.0,
        rescan_s: float = 5.0,
        poll_s: float = 0.1,
        sidecars: bool = True,
        recursive: bool = False,
    ) -> None:
        self.folder = Path(folder)
        self.patterns = tuple(patterns)
        self.settle_s = settle_s
        self.give_up_s = give_up_s
        self.rescan_s = rescan_s
        self.poll_s = poll_s
        self.sidecars = sidecars
        self.recursive = recursive
        self._events: queue.SimpleQueue[Path] = queue.SimpleQueue()
        self._pending: dict[Path, _Pending] = {}
        self._done: dict[Path, tuple[int, int]] = {}
        self._observer: Any = None

    def _wanted(self, path: Path) -> bool:
        return (
            _matches(path.name, self.patterns)
            and path.suffix.lower() != ".json"
            and not path.name.startswith(".")
        )

    def _scan(self) -> None:
        walker = self.folder.rglob("*") if self.recursive else self.folder.iterdir()
        seen: set[Path] = set()
        try:
            for p in walker:
                if self._wanted(p):
                    seen.add(p)
                    self._note(p)
        except FileNotFoundError:
            log.warning("watched folder %s has gone", self.folder)
        for gone in [p for p in self._done if p not in seen]:
            del self._done[gone]

    def _note(self, path: Path) -> None:
        """Start (or keep) watching one file until it settles."""
        try:
            st = path.stat()
        except FileNotFoundError:
            self._pending.pop(path, None)
            return
        if not path.is_file() or self._done.get(path) == (st.st_size, st.st_mtime_ns):
            return
        if path not in self._pending:
            now = time.monotonic()
            self._pending[path] = _Pending(st.st_size, st.st_mtime_ns, now, now)

    def _start_observer(self) -> None:
        try:
            from watchdog.events import FileSystemEvent, FileSystemEventHandler
            from watchdog.observers import Observer
        except ImportError:  # the edge extra is not installed: rescans only
            log.info("watchdog is not installed: %s is polled every %.1f s", self.folder, self.rescan_s)
            return
        events = self._events

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.is_directory:
                    return
                for p in (event.src_path, getattr(event, "dest_path", "")):
                    if p:
                        events.put(Path(os.fsdecode(p)))

        observer = Observer()
        observer.schedule(Handler(), str(self.folder), recursive=self.recursive)
        observer.daemon = True
        observer.start()
        self._observer = observer

    def _ready(self, path: Path, now: float) -> bool | None:
        """True: take it; False: keep waiting; None: gone."""
        pend = self._pending[path]
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        if (st.st_size, st.st_mtime_ns) != (pend.size, pend.mtime_ns):
            pend.size, pend.mtime_ns, pend.since = st.st_size, st.st_mtime_ns, now
            return False
        if st.st_size == 0 or now - pend.since < self.settle_s:
            return False
        if now - pend.first_seen >= self.give_up_s:
            return True
        try:  # headers only: a file still being written usually fails here
            with open_thermal(path) as tf:
                tf.first_frame()
        except FormatError:
            pend.since = now  # look again after another settle period
            return False
        except FileAccessError:
            return None
        return True

    def captures(self, stop: threading.Event) -> Iterator[Capture]:
        """Complete files as they appear, oldest first, until ``stop`` is set."""
        if not self.folder.is_dir():
            raise FileAccessError(self.folder, "the watched folder does not exist")
        self._start_observer()
        try:
            self._scan()
            last_scan = time.monotonic()
            while not stop.is_set():
                for _ in range(10_000):  # drain the events that came in (bounded per round)
                    try:
                        p = self._events.get_nowait()
                    except queue.Empty:
                        break
                    if self._wanted(p):
                        self._note(p)
                now = time.monotonic()
                if now - last_scan >= self.rescan_s:
                    self._scan()
                    last_scan = now
                ready = []
                for p in sorted(self._pending, key=lambda q: self._pending[q].first_seen):
                    state = self._ready(p, now)
                    if state is None:
                        del self._pending[p]
                    elif state:
                        ready.append(p)
                for p in ready:
                    pend = self._pending.pop(p)
                    self._done[p] = (pend.size, pend.mtime_ns)
                    try:
                        yield from captures_from_file(p, sidecars=self.sidecars)
                    except IrpatrolError as exc:
                        log.warning("watched file %s: %s", p, exc)
                    if stop.is_set():
                        return
                stop.wait(self.poll_s)
        finally:
            self.close()

    def close(self) -> None:
        """Stop the watchdog observer (idempotent)."""
        obs, self._observer = self._observer, None
        if obs is not None:
            obs.stop()
            with contextlib.suppress(RuntimeError):
                obs.join(timeout=5)


__all__ = [
    "SEQUENCE_SUFFIXES",
    "Capture",
    "CaptureSource",
    "FrameSource",
    "ReplaySource",
    "WatchedFolder",
    "captures_from_file",
    "read_sidecar",
    "sequence_frames",
]
