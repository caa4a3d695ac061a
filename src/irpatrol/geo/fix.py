"""GNSS fix quality, one assembled epoch, and the position handed to a capture.

These are plain values: the NMEA reader (:mod:`irpatrol.geo.nmea`) and the epoch
assembler (:mod:`irpatrol.geo.epochs`) produce :class:`Epoch` objects, a
:class:`~irpatrol.geo.track.GnssTrack` keeps them, and
:meth:`~irpatrol.geo.track.GnssTrack.position_at` answers with a :class:`PositionFix`.

Units: latitude/longitude in decimal degrees (WGS-84/CGCS2000, north and east
positive), altitudes and σ in metres, headings in degrees true, times UTC.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import datetime


class FixQuality(enum.Enum):
    """How a GNSS position was solved, with the GGA fix-quality digit as its value.

    The value is the GGA digit (0 invalid ... 8 simulation), so
    ``FixQuality(4) is FixQuality.RTK_FIXED``; it is *not* an order of goodness
    (RTK float is 5, fixed is 4).  Compare with :attr:`rank` or :meth:`at_least`.

    >>> FixQuality(5).label
    'rtk_float'
    >>> FixQuality.RTK_FIXED.at_least(FixQuality.RTK_FLOAT)
    True
    """

    NONE = 0
    SINGLE = 1
    DGPS = 2
    PPS = 3
    RTK_FIXED = 4
    RTK_FLOAT = 5
    DEAD_RECKONING = 6
    MANUAL = 7
    SIMULATION = 8

    @property
    def label(self) -> str:
        """Lower-case name for JSON and logs: ``"rtk_fixed"``, ``"single"``, ``"none"`` ..."""
        return self.name.lower()

    @property
    def rank(self) -> int:
        """Goodness order: 0 for no real fix (none, manual, simulation) up to 6 for RTK fixed."""
        return _RANK[self]

    @property
    def is_fix(self) -> bool:
        """True for a position the receiver actually solved (rank above 0)."""
        return self.rank > 0

    def at_least(self, other: FixQuality) -> bool:
        """True when this quality is as good as ``other`` or better (by :attr:`rank`)."""
        return self.rank >= other.rank

    @classmethod
    def from_label(cls, label: str) -> FixQuality:
        """The member whose :attr:`label` is ``label`` (``"rtk_fixed"`` ...); ``ValueError`` otherwise."""
        try:
            return cls[label.upper()]
        except KeyError:
            msg = f"unknown fix quality {label!r}; expected one of {[q.label for q in cls]}"
            raise ValueError(msg) from None


_RANK = {
    FixQuality.NONE: 0,
    FixQuality.MANUAL: 0,
    FixQuality.SIMULATION: 0,
    FixQuality.DEAD_RECKONING: 1,
    FixQuality.SINGLE: 2,
    FixQuality.PPS: 3,
    FixQuality.DGPS: 3,
    FixQuality.RTK_FLOAT: 5,
    FixQuality.RTK_FIXED: 6,
}

# FAA mode letters of RMC/GLL/VTG and the per-system characters of GNS (NMEA 2.3+/4.x).
_MODE_QUALITY = {
    "N": FixQuality.NONE,
    "A": FixQuality.SINGLE,
    "D": FixQuality.DGPS,
    "P": FixQuality.PPS,
    "R": FixQuality.RTK_FIXED,
    "F": FixQuality.RTK_FLOAT,
    "E": FixQuality.DEAD_RECKONING,
    "M": FixQuality.MANUAL,
    "S": FixQuality.SIMULATION,
}


def quality_from_mode(mode: str) -> FixQuality | None:
    """Fix quality from an FAA mode letter (RMC, GLL) or a GNS mode string (best system wins).

    ``None`` when no character is a known mode (an empty field, Quectel's ``C``/``U``).

    >>> quality_from_mode("R").label
    'rtk_fixed'
    >>> quality_from_mode("ANAAA").label
    'single'
    >>> quality_from_mode("") is None
    True
    """
    found = [_MODE_QUALITY[c] for c in mode.upper() if c in _MODE_QUALITY]
    if not found:
        return None
    return max(found, key=lambda q: q.rank)


@dataclass(frozen=True, kw_only=True)
class Epoch:
    """One receiver solution: the sentences that share one UTC time, merged.

    ``time`` is UTC (``None`` while no date is known: GGA carries only the time of
    day, the date comes from RMC/ZDA or the caller).  ``lat``/``lon`` in decimal
    degrees, ``alt_m`` above mean sea level (GGA/GNS), ``geoid_sep_m`` the geoid
    separation (ellipsoidal height = ``alt_m + geoid_sep_m``), ``quality`` from GGA,
    else GNS, else RMC/GLL mode; ``gga_quality`` the raw GGA digit when a GGA was
    seen.  ``sigma_lat_m``/``sigma_lon_m``/``sigma_alt_m`` are GST's 1-σ errors and
    ``sigma_m`` the horizontal one, √(σ_lat² + σ_lon²).  ``heading_deg`` is true
    heading (HDT/THS/HPR).  ``diff_age_s`` is the age of differential corrections
    and ``station_id`` the base station (GGA), ``talkers`` the talker ids whose
    sentences made the epoch, ``sentences`` their types in arrival order.
    """

    time: datetime | None
    time_of_day_s: float
    lat: float | None = None
    lon: float | None = None
    alt_m: float | None = None
    geoid_sep_m: float | None = None
    quality: FixQuality = FixQuality.NONE
    gga_quality: int | None = None
    num_sats: int | None = None
    hdop: float | None = None
    sigma_lat_m: float | None = None
    sigma_lon_m: float | None = None
    sigma_alt_m: float | None = None
    heading_deg: float | None = None
    speed_mps: float | None = None
    course_deg: float | None = None
    diff_age_s: float | None = None
    station_id: str | None = None
    talkers: tuple[str, ...] = ()
    sentences: tuple[str, ...] = ()

    @property
    def has_position(self) -> bool:
        """True when the epoch carries a latitude and a longitude."""
        return self.lat is not None and self.lon is not None

    @property
    def sigma_m(self) -> float | None:
        """Horizontal 1-σ position error in metres from GST, √(σ_lat² + σ_lon²); ``None`` without GST."""
        if self.sigma_lat_m is None or self.sigma_lon_m is None:
            return None
        return math.hypot(self.sigma_lat_m, self.sigma_lon_m)


@dataclass(frozen=True, kw_only=True)
class PositionFix:
    """The position for one instant (a capture), as :meth:`GnssTrack.position_at` gives it.

    ``lat``/``lon`` decimal degrees (north/east positive), ``alt_m`` metres above
    mean sea level (``None`` when unknown), ``quality`` the fix quality (for an
    interpolated fix the worse of the two epochs), ``sigma_m`` horizontal 1-σ error
    in metres from GST (``None`` without GST), ``heading_deg`` true heading,
    ``time`` the instant asked for (UTC), ``age_s`` seconds from ``time`` to the
    nearest epoch used, ``flags`` from ``"interpolated"`` (between two epochs),
    ``"stale"`` (the nearest epoch is further than ``max_age_s`` from ``time``) and
    ``"poor"`` (quality or σ worse than the thresholds).  No position is guessed
    beyond the first or last epoch: outside them the nearest epoch is given, flagged
    by its age.  ``hdop`` is GGA's horizontal dilution of precision and
    ``epoch_time`` the time of the nearest epoch used.
    """

    lat: float
    lon: float
    alt_m: float | None
    quality: FixQuality
    sigma_m: float | None
    heading_deg: float | None
    time: datetime
    age_s: float
    flags: tuple[str, ...] = ()
    hdop: float | None = None
    epoch_time: datetime | None = None

    @property
    def is_stale(self) -> bool:
        """True when the nearest epoch was further than ``max_age_s`` from the asked time."""
        return "stale" in self.flags

    @property
    def is_poor(self) -> bool:
        """True when the quality or σ failed the thresholds given to ``position_at``."""
        return "poor" in self.flags
