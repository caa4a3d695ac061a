"""The agent: captures → point → on-site analysis → outbox, in real time.

For each :class:`~irpatrol.edge.sources.Capture` the agent

1. computes the image's SHA-256 and the item keys ``{robot}:{kind}:{sha256}:{frame}``; when
   the result (and image) is already in the outbox, it stops there (a restart re-reads the
   watched folder without re-analysing it);
2. matches it to an inspection point (:mod:`irpatrol.edge.matching`) and looks up the GNSS
   position at its capture time;
3. analyses it with the shared pipeline (:func:`irpatrol.pipeline.inspect_image`), with the
   point's regions and the rule pack;
4. commits, in this order, an ``alarm`` item if any finding is graded critical (危急), the
   ``result`` item, and the ``file`` item holding the image bytes.  Each ``put`` is durable
   when it returns; a crash between them is repaired by the next run, which finds the
   missing keys and adds them.

A file the pipeline cannot read becomes a ``telemetry`` event (``capture-failed``), never a
crash.  A full outbox blocks the loop (back-pressure), retrying every ``full_retry_s``
seconds; alarms still get in through the reserve.  Telemetry (position, counters, outbox
state) is committed every ``telemetry_interval_s`` seconds from a second thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from irpatrol.diagnosis.rulemodel import Grade
from irpatrol.diagnosis.rulepack import RulePack
from irpatrol.edge.config import EdgeConfig
from irpatrol.edge.matching import Match, PointMatcher, preset_from_name
from irpatrol.edge.outbox import Lane, Outbox
from irpatrol.edge.plans import Execution
from irpatrol.edge.positions import PositionProvider, position_dict
from irpatrol.edge.sources import Capture, CaptureSource
from irpatrol.errors import IrpatrolError, OutboxFullError, failure_kind
from irpatrol.geo import PositionFix
from irpatrol.pipeline import Conditions, Inspection, inspect_image

log = logging.getLogger(__name__)

KINDS = ("alarm", "result", "telemetry", "file")
PIPELINE_DEPTH = 4
"""Analysed captures waiting for the committer at most (memory: a few frames)."""
MAX_FULL_RETRIES = 17_280
"""Retries of one capture while the outbox is full (a day at the default 5 s) before it is given up."""


def item_key(robot_id: str, kind: str, sha256: str, frame_index: int) -> str:
    """The idempotency key of one item of a capture: the same image always gives the same key.

    >>> key = item_key("robot-07", "result", "ab" * 32, 0)
    >>> key.startswith("robot-07:result:abab"), key.endswith("abab:0")
    (True, True)
    """
    return f"{robot_id}:{kind}:{sha256}:{frame_index}"


def is_critical(inspection: Inspection) -> bool:
    """True when any finding is graded critical (危急缺陷), the grade that raises an alarm."""
    return any(
        a.finding is not None and a.finding.grade == Grade.CRITICAL for a in inspection.analysis.assessments
    )


@dataclass
class AgentStats:
    """Counters since start: captures seen, analysed, skipped (already in the outbox), failed
    (unreadable), alarms raised, unmatched captures, and waits on a full outbox."""

    captures: int = 0
    analysed: int = 0
    skipped: int = 0
    failed: int = 0
    alarms: int = 0
    unmatched: int = 0
    full_waits: int = 0

    def to_dict(self) -> dict[str, int]:
        """JSON-ready counters."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class Outcome:
    """What became of one capture: its sha256, the keys now in the outbox, critical or not."""

    sha256: str
    keys: tuple[str, ...]
    critical: bool = False
    skipped: bool = False
    failed: str | None = None


@dataclass(frozen=True)
class Planned:
    """A capture analysed and ready to commit: the puts ``(lane, kind, key, payload, blob)`` in order."""

    capture: Capture
    puts: tuple[tuple[Lane, str, str, dict[str, Any], bytes | None], ...]
    outcome: Outcome
    point_code: str | None = None


class Agent:
    """Sources → analysis → outbox for one robot (see the module docstring).

    ``on_committed(key)`` is called after each item is known to be in the outbox (newly put
    or found there), for logs and tests.  ``positions`` gives GNSS fixes; ``execution`` records
    which plan points were captured.
    """

    def __init__(
        self,
        config: EdgeConfig,
        *,
        outbox: Outbox,
        matcher: PointMatcher,
        pack: RulePack | None,
        positions: PositionProvider | None = None,
        execution: Execution | None = None,
        on_committed: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.outbox = outbox
        self.matcher = matcher
        self.pack = pack
        self.positions = positions
        self.execution = execution
        self.on_committed = on_committed
        self.stats = AgentStats()
        self.conditions = Conditions(
            ambient_c=config.ambient_c,
            load_ratio=config.load_ratio,
            humidity_pct=config.humidity_pct,
            wind_ms=config.wind_ms,
        )
        self._boot = uuid.uuid4().hex[:12]
        self._telemetry_seq = 0
        self._state = "starting"
        self._last_fix: PositionFix | None = None
        self._commit_error: Exception | None = None

    # -- one capture ------------------------------------------------------------------------

    def _put(
        self, lane: Lane, kind: str, key: str, payload: dict[str, Any], blob: bytes | None = None
    ) -> None:
        self.outbox.put(lane, kind, key, payload, blob)
        if self.on_committed is not None:
            self.on_committed(key)

    def _fix(self, capture: Capture, when: datetime) -> PositionFix | None:
        if self.positions is None:
            return None
        try:
            fix = self.positions.position_at(when)
        except IrpatrolError as exc:
            log.warning("no position for %s: %s", capture.file_name, exc)
            return None
        if fix is not None:
            self._last_fix = fix
        return fix

    def _match(self, capture: Capture, preset: str | None, fix: PositionFix | None) -> Match | None:
        latlon = capture.latlon
        if latlon is None and fix is not None and not fix.is_stale:
            latlon = (fix.lat, fix.lon)
        return self.matcher.match(
            point_code=capture.point_code, preset=preset, local_xy=capture.local_xy, latlon=latlon
        )

    def capture_record(
        self, capture: Capture, sha: str, match: Match | None, preset: str | None, fix: PositionFix | None
    ) -> dict[str, Any]:
        """The ``capture`` object of a result or alarm (``docs/edge.md``)."""
        when, source = self._capture_time(capture)
        position = position_dict(fix)
        if position is None and capture.latlon is not None:
            lat, lon = capture.latlon
            position = {
                "lat": lat,
                "lon": lon,
                "alt_m": None,
                "quality": "reported",
                "sigma_m": None,
                "heading_deg": None,
                "age_s": 0.0,
                "flags": ["reported"],
            }
        point = match.point if match is not None else None
        execution_id = capture.execution_id
        if execution_id is None and self.execution is not None:
            execution_id = self.execution.execution_id
        return {
            "sha256": sha,
            "file_name": capture.file_name,
            "size": len(capture.data),
            "frame_index": capture.frame_index,
            "taken_at": when.isoformat(),
            "time_source": source,
            "received_at": capture.received_at.isoformat(),
            "robot_id": self.config.robot_id,
            "station": self.config.station,
            "preset": preset if preset is not None else (point.preset if point else None),
            "point_code": point.code if point else None,
            "point_id": point.point_id if point else None,
            "match": {"method": match.method, "distance_m": match.distance_m} if match else None,
            "local_xy": list(capture.local_xy) if capture.local_xy else None,
            "execution_id": execution_id,
            "position": position,
        }

    @staticmethod
    def _capture_time(capture: Capture) -> tuple[datetime, str]:
        if capture.taken_at is not None:
            return capture.taken_at.astimezone(UTC), "robot"
        return capture.received_at.astimezone(UTC), "received"

    def process(self, capture: Capture) -> Outcome:
        """Analyse one capture and commit its items; raises OutboxFullError when they do not fit."""
        return self.commit(self.prepare(capture))

    def prepare(self, capture: Capture) -> Planned:
        """Everything but the commit: hash, skip check, point, position, analysis, the items to put."""
        self.stats.captures += 1
        cfg = self.config
        sha = hashlib.sha256(capture.data).hexdigest()
        keys = {k: item_key(cfg.robot_id, k, sha, capture.frame_index) for k in ("alarm", "result", "file")}
        wanted = [keys["result"]] + ([keys["file"]] if cfg.send_images else [])
        if all(k in self.outbox for k in wanted):
            self.stats.skipped += 1
            outcome = Outcome(sha, tuple(wanted), critical=keys["alarm"] in self.outbox, skipped=True)
            return Planned(capture, (), outcome)
        preset = capture.preset
        if preset is None:
            preset = preset_from_name(capture.file_name, cfg.preset_pattern)
        when, _ = self._capture_time(capture)
        fix = self._fix(capture, when)
        match = self._match(capture, preset, fix)
        if match is None:
            self.stats.unmatched += 1
        try:
            inspection = inspect_image(
                capture.data,
                name=capture.file_name,
                points=match.point.regions if match else (),
                pack=self.pack,
                conditions=self.conditions,
            )
        except Exception as exc:  # one bad frame must never stop the patrol
            kind = failure_kind(exc)
            if kind == "bug":
                log.exception(
                    "analysis of %s failed (a bug; the capture is kept as an event)", capture.file_name
                )
            else:
                log.warning("%s", exc)
            self.stats.failed += 1
            key = item_key(cfg.robot_id, "failed", sha, capture.frame_index)
            event = {
                "event": "capture-failed",
                "robot_id": cfg.robot_id,
                "capture": self.capture_record(capture, sha, match, preset, fix),
                "error": {"kind": kind, "type": type(exc).__name__, "message": str(exc)[:500]},
            }
            return Planned(
                capture,
                ((Lane.TELEMETRY, "telemetry", key, event, None),),
                Outcome(sha, (key,), failed=str(exc)),
            )
        self.stats.analysed += 1
        record = self.capture_record(capture, sha, match, preset, fix)
        body = {"capture": record, "inspection": inspection.to_dict(lang=None)}
        critical = is_critical(inspection)
        puts: list[tuple[Lane, str, str, dict[str, Any], bytes | None]] = []
        if critical:
            puts.append((Lane.ALARM, "alarm", keys["alarm"], body, None))
            log.warning(
                "critical finding in %s (point %s): alarm queued", capture.file_name, record["point_code"]
            )
        puts.append((Lane.RESULT, "result", keys["result"], body, None))
        if cfg.send_images:
            meta = {"sha256": sha, "file_name": capture.file_name, "size": len(capture.data)}
            puts.append((Lane.FILE, "file", keys["file"], meta, capture.data))
        outcome = Outcome(sha, tuple(p[2] for p in puts), critical=critical)
        return Planned(capture, tuple(puts), outcome, point_code=match.point.code if match else None)

    def commit(self, planned: Planned) -> Outcome:
        """Put a prepared capture's items in order (alarm, result, file); OutboxFullError if they do not fit.

        Safe to call again after a refusal: items already in are skipped by key.
        """
        for lane, kind, key, payload, blob in planned.puts:
            self._put(lane, kind, key, payload, blob)
        if planned.outcome.critical and not planned.outcome.skipped:
            self.stats.alarms += 1
        if planned.point_code is not None and self.execution is not None:
            self.execution.seen(planned.point_code)
        return planned.outcome

    # -- telemetry ----------------------------------------------------------------------------

    def telemetry(self) -> str:
        """Commit one telemetry item (state, counters, outbox, last position); answers its key."""
        self._telemetry_seq += 1
        key = f"{self.config.robot_id}:telemetry:{self._boot}:{self._telemetry_seq}"
        now = datetime.now(UTC)
        fix = self.positions.position_at(now) if self.positions is not None else None
        body = {
            "event": "status",
            "robot_id": self.config.robot_id,
            "time": now.isoformat(),
            "state": self._state,
            "position": position_dict(fix),
            "stats": self.stats.to_dict(),
            "outbox": {**self.outbox.counts(), "bytes": self.outbox.used_bytes()},
            "execution": (
                {
                    "plan_id": self.execution.plan_id,
                    "execution_id": self.execution.execution_id,
                    "missed_so_far": len(self.execution.missed()),
                }
                if self.execution is not None
                else None
            ),
        }
        self._put(Lane.TELEMETRY, "telemetry", key, body)
        return key

    def _telemetry_loop(self, stop: threading.Event) -> None:
        interval = self.config.telemetry_interval_s
        for _ in range(100_000_000):  # bounded; ended by `stop`
            if stop.wait(interval):
                return
            try:
                self.telemetry()
            except OutboxFullError:
                log.debug("outbox full: telemetry skipped")
            except IrpatrolError as exc:
                log.warning("telemetry: %s", exc)

    # -- the loop -------------------------------------------------------------------------------

    def run(self, source: CaptureSource, stop: threading.Event) -> bool:
        """Process captures until the source ends (answers True) or ``stop`` is set (False).

        Two stages overlap: this thread reads and analyses the next capture while a committer
        thread writes the previous one's items (the fsyncs release the GIL), through a queue of
        at most :data:`PIPELINE_DEPTH` analysed captures.  A capture is committed when its puts
        return, as with :meth:`process`; one analysed but not yet committed when the process
        dies is analysed again from its source on the next run (its keys are the same).
        """
        tele_stop = threading.Event()
        tele = threading.Thread(target=self._telemetry_loop, args=(tele_stop,), name="irpatrol-telemetry")
        tele.daemon = True
        tele.start()
        pipe: queue.Queue[Planned | None] = queue.Queue(maxsize=PIPELINE_DEPTH)
        committer = threading.Thread(target=self._committer, args=(pipe, stop), name="irpatrol-commit")
        committer.daemon = True
        committer.start()
        self._state = "patrolling"
        try:
            for capture in _until(source.captures(stop), stop):
                planned = self.prepare(capture)
                for _ in range(MAX_FULL_RETRIES * 100):  # bounded; the committer drains the queue
                    try:
                        pipe.put(planned, timeout=0.05)
                        break
                    except queue.Full:
                        if stop.is_set() or not committer.is_alive():
                            break
                if not committer.is_alive():
                    log.error("the committer thread ended; the agent stops")
                    break
            finished = not stop.is_set() and committer.is_alive()
        finally:
            # the end marker, then wait for the committer: it finishes what was analysed (on a
            # full outbox it waits for room unless `stop` is set); bounded like its retries
            for _ in range(MAX_FULL_RETRIES * 100):
                if not committer.is_alive():
                    break
                with contextlib.suppress(queue.Full):
                    pipe.put(None, timeout=0.05)
                    break
            for _ in range(MAX_FULL_RETRIES * 100):
                committer.join(timeout=0.05)
                if not committer.is_alive():
                    break
            self._state = "stopped"
            tele_stop.set()
            tele.join(timeout=10)
            source.close()
        if self._commit_error is not None:
            raise self._commit_error
        return finished

    def _committer(self, pipe: queue.Queue[Planned | None], stop: threading.Event) -> None:
        """Commit analysed captures in order until the end marker (None)."""
        for _ in range(1_000_000_000):  # bounded; ended by the marker
            planned = pipe.get()
            if planned is None:
                return
            try:
                self._commit_with_backpressure(planned, stop)
            except IrpatrolError as exc:  # a blob could not be written: log, keep the patrol going
                log.error("capture %s not committed: %s", planned.capture.file_name, exc)
            except Exception as exc:  # the outbox's database failed: stop, so a restart recovers it
                self._commit_error = exc
                return

    def _commit_with_backpressure(self, planned: Planned, stop: threading.Event) -> None:
        """Commit one capture; while the outbox is full, wait and retry (logged once until it has room)."""
        for _attempt in range(MAX_FULL_RETRIES):
            try:
                self.commit(planned)
            except OutboxFullError as exc:
                self.stats.full_waits += 1
                if self._state != "outbox-full":
                    log.warning("outbox full, waiting for the uplink to drain it: %s", exc)
                    self._state = "outbox-full"
                if stop.wait(self.config.full_retry_s):
                    return
                continue
            if self._state == "outbox-full":
                log.info("outbox has room again")
                self._state = "patrolling"
            return
        log.error("capture %s given up: the outbox stayed full", planned.capture.file_name)


def _until(captures: Iterator[Capture], stop: threading.Event) -> Iterator[Capture]:
    for c in captures:
        yield c
        if stop.is_set():
            return


def describe(outcome: Outcome) -> str:
    """One log line for an outcome."""
    flag = " CRITICAL" if outcome.critical else ""
    state = "skipped (already queued)" if outcome.skipped else ("failed" if outcome.failed else "queued")
    return f"{outcome.sha256[:12]} {state}{flag}: {len(outcome.keys)} items"


def outbox_for(cfg: EdgeConfig) -> Outbox:
    """The outbox the configuration names (created if needed)."""
    return Outbox(
        Path(cfg.outbox_dir), byte_budget=cfg.outbox_budget_bytes, reserve_bytes=cfg.outbox_reserve_bytes
    )


__all__ = [
    "KINDS",
    "Agent",
    "AgentStats",
    "Outcome",
    "Planned",
    "describe",
    "is_critical",
    "item_key",
    "outbox_for",
]
