"""Builds a running agent from an :class:`~irpatrol.edge.config.EdgeConfig`: what ``irpatrol edge run`` does.

Order of start: outbox (recovery first), rule pack, points (local list, points file, the
downloaded plan), GNSS positions, the capture source, the uplink (when the configuration
names a broker and :mod:`irpatrol.edge.uplink` is installed), then the agent's loop.  Stop
(``stop`` set, e.g. by SIGTERM) ends the loop after the capture in hand, stops the uplink and
closes the outbox; every item committed so far stays for the next run.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from irpatrol.diagnosis.points import parse_points
from irpatrol.diagnosis.rulepack import load_rule_pack
from irpatrol.edge.agent import Agent, AgentStats, outbox_for
from irpatrol.edge.config import EdgeConfig
from irpatrol.edge.matching import PointMatcher, SitePoint, merge_points
from irpatrol.edge.outbox import Lane, Outbox
from irpatrol.edge.plans import (
    Execution,
    PlanClient,
    finish,
    load_plan,
    plan_points,
    resume_or_start,
    strip_images,
)
from irpatrol.edge.positions import start_positions
from irpatrol.edge.sources import CaptureSource, ReplaySource, WatchedFolder
from irpatrol.errors import FileAccessError, PointsFileError

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    """How a run ended: ``finished`` (the source ran out) or stopped, counters, the plan run's summary."""

    finished: bool
    stats: AgentStats
    execution: dict[str, Any] | None = None
    uplink: str | None = None
    notes: list[str] = field(default_factory=list)


def local_points(cfg: EdgeConfig) -> list[SitePoint]:
    """The configured points with their positions and, from ``points_file``, their regions (by code)."""
    regions: dict[str, Any] = {}
    if cfg.points_file is not None:
        try:
            text = Path(cfg.points_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise FileAccessError(cfg.points_file, f"cannot be read ({exc.strerror or exc})") from exc
        for p in strip_images(parse_points(text, path=str(cfg.points_file)).points):
            regions.setdefault(p.id, []).append(p)
    out = [
        SitePoint(
            code=p.code,
            preset=p.preset,
            x_m=p.x_m,
            y_m=p.y_m,
            lat=p.lat,
            lon=p.lon,
            regions=tuple(regions.pop(p.code, ())),
        )
        for p in cfg.points
    ]
    for code, pts in regions.items():  # a points-file entry with no location: matched by its code only
        out.append(SitePoint(code=code, regions=tuple(pts)))
    return out


def build_source(cfg: EdgeConfig) -> CaptureSource:
    """The capture source the configuration names."""
    if cfg.source == "replay":
        assert cfg.replay_path is not None  # checked by EdgeConfig
        return ReplaySource(
            Path(cfg.replay_path),
            rate_hz=cfg.replay_rate_hz,
            loop=cfg.replay_loop,
            patterns=cfg.watch_patterns,
        )
    folder = Path(cfg.watch_dir)
    if not folder.is_dir():
        raise FileAccessError(folder, "the watched folder does not exist (watch_dir)")
    return WatchedFolder(folder, patterns=cfg.watch_patterns, settle_s=cfg.settle_s)


def start_uplink(cfg: EdgeConfig, outbox: Outbox, stop: threading.Event) -> tuple[Any, str]:
    """INTEGRATION POINT with :mod:`irpatrol.edge.uplink` (written beside this module).

    Answers ``(uplink or None, a line saying what happened)``.  The uplink drains the outbox
    (claim → publish → ack on the server's application ack); it is started only when the
    configuration names a broker (``mqtt_host``).  The module is looked up at run time so the
    agent works (store only, nothing sent) where it is not installed.
    """
    if not cfg.mqtt_host:
        return None, "no mqtt_host: items stay in the outbox (no uplink)"
    if importlib.util.find_spec("irpatrol.edge.uplink") is None:
        return None, "irpatrol.edge.uplink is not installed: items stay in the outbox"
    module = importlib.import_module("irpatrol.edge.uplink")
    factory = getattr(module, "start_uplink", None)
    if factory is None:
        return None, "irpatrol.edge.uplink has no start_uplink(config, outbox, stop): no uplink started"
    uplink = factory(cfg, outbox, stop)
    return uplink, f"uplink to {cfg.mqtt_host}:{cfg.mqtt_port} started"


def _stop_uplink(uplink: Any) -> None:
    for name in ("stop", "close"):
        fn = getattr(uplink, name, None)
        if callable(fn):
            fn()
            return


def drain(outbox: Outbox, stop: threading.Event, timeout_s: float) -> bool:
    """Wait until nothing is pending or inflight (True), ``stop`` is set or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while not stop.is_set():
        counts = outbox.counts()
        if counts["pending"] + counts["inflight"] == 0:
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            log.warning("outbox not drained after %.0f s: %s", timeout_s, counts)
            return False
        stop.wait(min(0.2, left))
    return False


def run_from_config(
    cfg: EdgeConfig,
    stop: threading.Event,
    *,
    source: CaptureSource | None = None,
    on_committed: Callable[[str], None] | None = None,
    with_uplink: bool = True,
) -> RunReport:
    """Run the agent the configuration describes until its source ends or ``stop`` is set."""
    outbox = outbox_for(cfg)
    notes: list[str] = []
    uplink: Any = None
    client: PlanClient | None = None
    try:
        if outbox.recovery.released or outbox.recovery.orphans_removed:
            notes.append(
                f"outbox recovered: {outbox.recovery.released} inflight back to pending, "
                f"{outbox.recovery.orphans_removed} orphan files removed"
            )
        pack = load_rule_pack(cfg.rules)
        points = local_points(cfg)
        execution: Execution | None = None
        if cfg.plan_id is not None:
            assert cfg.server_url is not None  # checked by EdgeConfig
            client = PlanClient(cfg.server_url, cfg.server_token)
            plan = load_plan(client, cfg.plan_id, Path(cfg.outbox_dir))
            if plan is None:
                notes.append(f"plan {cfg.plan_id}: not reachable and no copy on the robot; running without")
            else:
                try:
                    points = merge_points(points, plan_points(plan))
                except PointsFileError as exc:
                    notes.append(f"plan {cfg.plan_id}: regions not usable ({exc}); running without the plan")
                else:
                    execution = resume_or_start(
                        client, plan, executor=cfg.robot_id, state_dir=Path(cfg.outbox_dir)
                    )
        matcher = PointMatcher(points, radius_m=cfg.match_radius_m)
        positions = start_positions(cfg, stop)
        src = source if source is not None else build_source(cfg)
        if with_uplink:
            uplink, line = start_uplink(cfg, outbox, stop)
            notes.append(line)
        notify = getattr(uplink, "notify", None)

        def committed(key: str) -> None:
            if callable(notify):
                notify()  # wake the uplink at once rather than at its next poll
            if on_committed is not None:
                on_committed(key)

        agent = Agent(
            cfg,
            outbox=outbox,
            matcher=matcher,
            pack=pack,
            positions=positions,
            execution=execution,
            on_committed=committed,
        )
        for line in notes:
            log.info("%s", line)
        finished = agent.run(src, stop)
        summary = None
        if execution is not None:
            execution.save(Path(cfg.outbox_dir))
            if finished:
                summary = finish(client, execution, Path(cfg.outbox_dir))
                key = f"{cfg.robot_id}:execution:{execution.plan_id}:{execution.execution_id}:finished"
                outbox.put(Lane.TELEMETRY, "telemetry", key, {"event": "execution-finished", **summary})
                if summary["missed"]:
                    log.warning("plan %d: missed points %s", execution.plan_id, ", ".join(summary["missed"]))
        if finished and uplink is not None:
            drain(outbox, stop, cfg.drain_on_finish_s)
        return RunReport(finished=finished, stats=agent.stats, execution=summary, notes=notes)
    finally:
        if uplink is not None:
            _stop_uplink(uplink)
        if client is not None:
            client.close()
        outbox.close()


__all__ = ["RunReport", "build_source", "drain", "local_points", "run_from_config", "start_uplink"]
