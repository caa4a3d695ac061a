"""GNSS positions for the agent: a track fed from NMEA in the background, asked by capture time.

``nmea_source = "file"`` loads a recorded log once (captures are positioned by the time the
robot reports for them); ``"tcp"`` (gpsd, an NTRIP-corrected receiver) and ``"serial"`` read
live in a thread that reconnects with backoff, logging once when the receiver is lost and
once when it is back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Protocol

from irpatrol.edge.config import EdgeConfig
from irpatrol.errors import FileAccessError, IrpatrolError
from irpatrol.geo import GnssTrack, PositionFix

log = logging.getLogger(__name__)


class PositionProvider(Protocol):
    """Anything that can say where the robot was at an instant (UTC, timezone-aware)."""

    def position_at(self, t: datetime) -> PositionFix | None:
        """The fix at ``t``, or ``None`` when there is no position at all."""


class TrackPositions:
    """A :class:`~irpatrol.geo.GnssTrack` behind a lock (fed by one thread, read by another).

    ``max_age_s`` is passed to :meth:`GnssTrack.position_at`: a fix further than that from
    the asked instant is flagged ``stale``.
    """

    def __init__(self, track: GnssTrack | None = None, *, max_age_s: float = 2.0) -> None:
        self.track = track if track is not None else GnssTrack()
        self.max_age_s = max_age_s
        self._lock = threading.Lock()

    def add_epochs(self, epochs: Iterator[Any]) -> int:
        """Add epochs as they come; answers how many were kept."""
        n = 0
        for ep in epochs:
            with self._lock:
                n += bool(self.track.add(ep))
        return n

    def position_at(self, t: datetime) -> PositionFix | None:
        """The fix at ``t`` (interpolated, flagged stale or poor as the track says)."""
        with self._lock:
            return self.track.position_at(t, max_age_s=self.max_age_s)


def position_dict(fix: PositionFix | None) -> dict[str, Any] | None:
    """The ``position`` object of a capture record: lat, lon (deg), alt_m, quality, sigma_m, age_s, flags."""
    if fix is None:
        return None
    return {
        "lat": round(fix.lat, 9),
        "lon": round(fix.lon, 9),
        "alt_m": fix.alt_m,
        "quality": fix.quality.label,
        "sigma_m": fix.sigma_m,
        "heading_deg": fix.heading_deg,
        "age_s": round(fix.age_s, 3),
        "flags": list(fix.flags),
    }


def _live_chunks(cfg: EdgeConfig) -> Callable[[], Iterator[bytes]]:
    from irpatrol.geo import sources

    if cfg.nmea_source == "tcp":
        gpsd = cfg.nmea_port == 2947
        return lambda: sources.tcp_chunks(cfg.nmea_host, cfg.nmea_port, gpsd_watch=gpsd)
    return lambda: sources.serial_chunks(cfg.nmea_serial, baudrate=cfg.nmea_baud)


def start_positions(cfg: EdgeConfig, stop: threading.Event) -> TrackPositions | None:
    """The position provider the configuration names (a live one runs a daemon thread), or ``None``."""
    if cfg.nmea_source == "none":
        return None
    from irpatrol.geo import sources

    if cfg.nmea_source == "file":
        assert cfg.nmea_file is not None  # checked by EdgeConfig
        try:
            track = sources.read_track(cfg.nmea_file)
        except (FileAccessError, IrpatrolError) as exc:
            log.error("GNSS log %s cannot be used (%s): captures get no position", cfg.nmea_file, exc)
            return None
        log.info("GNSS log %s: %d epochs with a position", cfg.nmea_file, len(track))
        return TrackPositions(track, max_age_s=cfg.position_max_age_s)
    provider = TrackPositions(max_age_s=cfg.position_max_age_s)
    open_chunks = _live_chunks(cfg)
    thread = threading.Thread(
        target=_feed, args=(provider, open_chunks, stop), name="irpatrol-gnss", daemon=True
    )
    thread.start()
    return provider


def _feed(
    provider: TrackPositions, open_chunks: Callable[[], Iterator[bytes]], stop: threading.Event
) -> None:
    """Read epochs until ``stop``; reconnect with backoff (1 s doubling to 30 s); log once down, once up."""
    from irpatrol.geo import sources

    delay = 1.0
    down = False
    for _attempt in range(10_000_000):  # bounded; in practice ended by `stop`
        if stop.is_set():
            return
        try:
            for ep in sources.read_epochs(open_chunks()):
                if down:
                    log.info("GNSS receiver is back")
                    down = False
                    delay = 1.0
                provider.add_epochs(iter((ep,)))
                if stop.is_set():
                    return
        except (IrpatrolError, OSError) as exc:
            if not down:
                log.warning("GNSS receiver lost (%s); retrying", exc)
                down = True
        stop.wait(delay)
        delay = min(30.0, delay * 2)


__all__ = ["PositionProvider", "TrackPositions", "position_dict", "start_positions"]
