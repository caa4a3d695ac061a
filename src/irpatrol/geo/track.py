"""A time-ordered buffer of GNSS epochs and the position at any instant.

A capture's timestamp rarely falls on a receiver epoch (1-20 Hz), so
:meth:`GnssTrack.position_at` interpolates linearly between the two epochs
around it.  The robot stands still at a preset, so the interpolation error is
negligible there; what matters is to say when the answer is weak: a fix whose
nearest epoch is too far away is flagged ``"stale"``, one whose quality or σ fails
the thresholds ``"poor"``.  Nothing is extrapolated beyond the first or last epoch.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections import deque
from collections.abc import Iterable
from datetime import datetime

from irpatrol.errors import ParameterError
from irpatrol.geo.fix import Epoch, FixQuality, PositionFix


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ParameterError(name, value, "a timezone-aware datetime (UTC)")


def _placed(epoch: Epoch) -> tuple[datetime, float, float]:
    """Time, latitude and longitude of a kept epoch (:meth:`GnssTrack.add` keeps no other)."""
    if epoch.time is None or epoch.lat is None or epoch.lon is None:  # pragma: no cover - add() refuses
        msg = "a track epoch without time or position"
        raise RuntimeError(msg)
    return epoch.time, epoch.lat, epoch.lon


def _lerp(a: float | None, b: float | None, w: float) -> float | None:
    """Linear interpolation; with one value missing, the other; ``None`` when both are."""
    if a is None:
        return b
    if b is None:
        return a
    return a + (b - a) * w


def _lerp_angle(a: float | None, b: float | None, w: float) -> float | None:
    """Interpolate an angle in degrees the short way round (359° → 1° passes 0°); result in [0, 360)."""
    if a is None or b is None:
        return a if b is None else b
    delta = (b - a + 180.0) % 360.0 - 180.0
    return (a + delta * w) % 360.0


class GnssTrack:
    """Epochs with a position and a UTC time, kept in time order, queried by instant.

    ``maxlen`` bounds memory (default 36,000 epochs: one hour at 10 Hz); the oldest
    epochs are dropped first.  Epochs with no time, no position or no real fix
    (quality ``none``, ``manual``, ``simulation``) are not kept: they are counted in
    :attr:`rejected`.  Epochs may arrive slightly out of order; an epoch with the
    same time as a kept one replaces it.  Thread-safe: one thread may add epochs while
    others ask for positions.

    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    >>> track = GnssTrack()
    >>> track.add(Epoch(time=t0, time_of_day_s=43200.0, lat=40.0, lon=116.0, quality=FixQuality.RTK_FIXED))
    True
    >>> track.add(Epoch(time=t0 + timedelta(seconds=1), time_of_day_s=43201.0, lat=40.0001, lon=116.0,
    ...                 quality=FixQuality.RTK_FIXED))
    True
    >>> fix = track.position_at(t0 + timedelta(seconds=0.25))
    >>> round(fix.lat, 6), fix.flags
    (40.000025, ('interpolated',))
    """

    def __init__(self, epochs: Iterable[Epoch] = (), *, maxlen: int = 36_000) -> None:
        if maxlen < 2:
            raise ParameterError("maxlen", maxlen, "at least 2")
        self._maxlen = maxlen
        self._times: deque[datetime] = deque()
        self._epochs: deque[Epoch] = deque()
        self._lock = threading.Lock()
        self.rejected = 0
        """Epochs offered to :meth:`add` and not kept (no time, no position or no fix)."""
        self.extend(epochs)

    def __len__(self) -> int:
        return len(self._epochs)

    @property
    def epochs(self) -> tuple[Epoch, ...]:
        """The kept epochs, oldest first."""
        with self._lock:
            return tuple(self._epochs)

    @property
    def first(self) -> Epoch | None:
        """The oldest kept epoch, or ``None`` when the track is empty."""
        with self._lock:
            return self._epochs[0] if self._epochs else None

    @property
    def last(self) -> Epoch | None:
        """The newest kept epoch, or ``None`` when the track is empty."""
        with self._lock:
            return self._epochs[-1] if self._epochs else None

    def add(self, epoch: Epoch) -> bool:
        """Keep ``epoch`` if it has a UTC time, a position and a real fix; returns whether it was kept."""
        t = epoch.time
        if t is None or not epoch.has_position or not epoch.quality.is_fix:
            self.rejected += 1
            return False
        _require_aware("epoch.time", t)
        with self._lock:
            if not self._times or t > self._times[-1]:
                self._times.append(t)
                self._epochs.append(epoch)
            else:  # out of order or a repeat: rare, so a linear insert into the deque is fine
                i = bisect.bisect_left(self._times, t)
                if i < len(self._times) and self._times[i] == t:
                    self._epochs[i] = epoch
                    return True
                self._times.insert(i, t)
                self._epochs.insert(i, epoch)
            while len(self._epochs) > self._maxlen:
                self._times.popleft()
                self._epochs.popleft()
        return True

    def between(self, start: datetime, end: datetime) -> list[Epoch]:
        """The kept epochs with ``start <= time <= end`` (both timezone-aware), oldest first."""
        _require_aware("start", start)
        _require_aware("end", end)
        with self._lock:
            lo = bisect.bisect_left(self._times, start)
            hi = bisect.bisect_right(self._times, end)
            return [self._epochs[k] for k in range(lo, hi)]

    def extend(self, epochs: Iterable[Epoch]) -> int:
        """Add many epochs; returns how many were kept."""
        return sum(self.add(e) for e in epochs)

    def position_at(
        self,
        t: datetime,
        *,
        max_age_s: float = 1.0,
        max_gap_s: float = 2.0,
        min_quality: FixQuality = FixQuality.DGPS,
        max_sigma_m: float | None = 2.0,
    ) -> PositionFix | None:
        """The position at instant ``t`` (timezone-aware), or ``None`` when the track is empty.

        When two epochs bracket ``t`` and lie at most ``max_gap_s`` seconds apart,
        latitude, longitude, altitude and heading are interpolated linearly in time
        (flag ``"interpolated"``; the quality is the worse of the two, σ the larger).
        Otherwise the nearest epoch is given as it is.  ``age_s`` is the time from
        ``t`` to the nearest epoch used; above ``max_age_s`` the fix is flagged
        ``"stale"``.  A quality below ``min_quality`` (by rank) or a σ above
        ``max_sigma_m`` metres flags it ``"poor"`` (``max_sigma_m=None``: σ is not
        checked; an epoch without GST is never poor for σ).
        """
        _require_aware("t", t)
        if max_age_s < 0 or not math.isfinite(max_age_s):
            raise ParameterError("max_age_s", max_age_s, "a finite number of seconds >= 0")
        if max_gap_s < 0 or not math.isfinite(max_gap_s):
            raise ParameterError("max_gap_s", max_gap_s, "a finite number of seconds >= 0")
        with self._lock:
            if not self._epochs:
                return None
            i = bisect.bisect_left(self._times, t)  # self._times[i-1] < t <= self._times[i]
            after = self._epochs[i] if i < len(self._epochs) else None
            before = self._epochs[i - 1] if i > 0 else None
        flags: list[str] = []
        if after is not None and after.time == t:
            before, after = after, None
        if before is not None and after is not None:
            t0, t1 = _placed(before)[0], _placed(after)[0]
            gap = (t1 - t0).total_seconds()
            if gap <= max_gap_s:
                fix = self._interpolate(before, after, t, (t - t0).total_seconds() / gap)
                flags.append("interpolated")
            else:
                nearest = before if (t - t0) <= (t1 - t) else after
                fix = self._single(nearest, t)
        elif before is not None:  # after the last epoch
            fix = self._single(before, t)
        elif after is not None:  # before the first epoch
            fix = self._single(after, t)
        else:  # pragma: no cover - the track was not empty
            return None
        if fix.age_s > max_age_s:
            flags.append("stale")
        poor = not fix.quality.at_least(min_quality)
        if max_sigma_m is not None and fix.sigma_m is not None and fix.sigma_m > max_sigma_m:
            poor = True
        if poor:
            flags.append("poor")
        return PositionFix(
            lat=fix.lat,
            lon=fix.lon,
            alt_m=fix.alt_m,
            quality=fix.quality,
            sigma_m=fix.sigma_m,
            heading_deg=fix.heading_deg,
            time=t,
            age_s=fix.age_s,
            flags=tuple(flags),
            hdop=fix.hdop,
            epoch_time=fix.epoch_time,
        )

    @staticmethod
    def _single(epoch: Epoch, t: datetime) -> PositionFix:
        et, lat, lon = _placed(epoch)
        return PositionFix(
            lat=lat,
            lon=lon,
            alt_m=epoch.alt_m,
            quality=epoch.quality,
            sigma_m=epoch.sigma_m,
            heading_deg=epoch.heading_deg,
            time=t,
            age_s=abs((t - et).total_seconds()),
            hdop=epoch.hdop,
            epoch_time=et,
        )

    @staticmethod
    def _interpolate(a: Epoch, b: Epoch, t: datetime, w: float) -> PositionFix:
        ta, lat_a, lon_a = _placed(a)
        tb, lat_b, lon_b = _placed(b)
        dlon = (lon_b - lon_a + 180.0) % 360.0 - 180.0  # across the antimeridian the short way
        lon = (lon_a + dlon * w + 180.0) % 360.0 - 180.0
        sigmas = [s for s in (a.sigma_m, b.sigma_m) if s is not None]
        hdops = [h for h in (a.hdop, b.hdop) if h is not None]
        return PositionFix(
            lat=lat_a + (lat_b - lat_a) * w,
            lon=lon,
            alt_m=_lerp(a.alt_m, b.alt_m, w),
            quality=a.quality if a.quality.rank <= b.quality.rank else b.quality,
            sigma_m=max(sigmas) if sigmas else None,
            heading_deg=_lerp_angle(a.heading_deg, b.heading_deg, w),
            time=t,
            age_s=min((t - ta).total_seconds(), (tb - t).total_seconds()),
            hdop=max(hdops) if hdops else None,
            epoch_time=ta if w <= 0.5 else tb,
        )


__all__ = ["GnssTrack"]
