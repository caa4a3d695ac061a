"""Epoch assembly: the sentences a receiver emits for one solution, merged into an :class:`Epoch`.

A receiver reports one solution as several sentences sharing one UTC time of day
(GGA, RMC, GNS, GST, ZDA, GLL), plus untimed ones (HDT, THS) that belong to the
solution being reported.  :class:`EpochAssembler` groups sentences by that time:
a timed sentence with a new time closes the current epoch.  An epoch is therefore
emitted when the next one starts (one receiver period late) or at :meth:`flush`.

Talkers do not matter for grouping (Trimble switches GN↔GP from one epoch to the
next; BeiDou comes as ``BD`` or ``GB``).  Unicore's high-precision variants
(``GGAH``, ``RMCH``, ``GNSH``, ``GSTH``, ``GLLH``) count as the base sentence.

Position: GGA, else GNS, else RMC, else GLL.  Quality: the GGA digit, else the
best GNS mode character, else the RMC/GLL mode letter (the mode dominates the A/V
status), else RMC status ``A`` = single.  Heading: HDT, else THS (not mode ``V``),
else Unicore HPR (quality > 0).  σ: GST's latitude and longitude errors.

Dates: GGA has only the time of day.  The date comes from RMC or ZDA; an epoch
without one takes the date of the latest RMC/ZDA, moved a day forward or back
when its time of day lies more than 12 h from that sentence's (midnight rollover).
Before any RMC/ZDA, the caller's ``date`` is used; without it, epochs wait (up to
``max_pending``) for the first date and are then dated backwards from it; past
that they are emitted with ``time=None``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from irpatrol.geo.fix import Epoch, FixQuality, quality_from_mode
from irpatrol.geo.nmea import Sentence

_TIMED = frozenset({"GGA", "RMC", "GNS", "GST", "ZDA", "GLL", "HPR"})
_HIGH_PRECISION = frozenset({"GGAH", "RMCH", "GNSH", "GSTH", "GLLH"})
_POSITION_ORDER = ("GGA", "GNS", "RMC", "GLL")
_HALF_DAY_S = 43_200.0
_DAY_S = 86_400.0


def base_type(sentence: Sentence) -> str:
    """The sentence type with Unicore's high-precision ``H`` suffix removed (``GGAH`` → ``GGA``)."""
    kind = sentence.sentence_type
    return kind[:-1] if kind in _HIGH_PRECISION else kind


def _float(value: Any) -> float | None:
    """A finite float from a parsed field, or ``None`` (empty field ``""``, NaN, wrong type)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    f = float(value)
    return f if math.isfinite(f) else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _time_of_day(value: Any) -> float | None:
    """Seconds since midnight UTC from pynmeagps' ``time`` field (a ``datetime.time``)."""
    if not isinstance(value, dt.time):
        return None
    return value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6


def _latlon(sentence: Sentence) -> tuple[float, float] | None:
    lat, lon = _float(sentence.get("lat")), _float(sentence.get("lon"))
    if lat is None or lon is None or abs(lat) > 90.0 or abs(lon) > 180.0:
        return None
    return lat, lon


def _zda_date(sentence: Sentence) -> dt.date | None:
    day, month, year = (_int(sentence.get(k)) for k in ("day", "month", "year"))
    if day is None or month is None or year is None:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _degrees(value: Any) -> float | None:
    f = _float(value)
    return None if f is None else f % 360.0


@dataclass
class _Builder:
    """The sentences of one epoch so far."""

    tod: float
    positions: dict[str, tuple[float, float]] = field(default_factory=dict)
    date: dt.date | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    talkers: list[str] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)

    def set(self, name: str, value: Any) -> None:
        """Set a field unless a higher-priority sentence already set it (first come wins)."""
        if value is not None and name not in self.fields:
            self.fields[name] = value

    def add(self, sentence: Sentence) -> None:
        kind = base_type(sentence)
        if sentence.talker not in self.talkers:
            self.talkers.append(sentence.talker)
        self.sentences.append(sentence.address)
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, sentence)

    def quality(self) -> FixQuality:
        for name in ("q_gga", "q_gns", "q_rmc", "q_gll"):
            q = self.fields.get(name)
            if q is not None:
                return q
        return FixQuality.NONE

    def epoch(self, time: dt.datetime | None) -> Epoch:
        pos = next((self.positions[k] for k in _POSITION_ORDER if k in self.positions), None)
        f = self.fields
        return Epoch(
            time=time,
            time_of_day_s=self.tod,
            lat=pos[0] if pos else None,
            lon=pos[1] if pos else None,
            alt_m=f.get("alt_m"),
            geoid_sep_m=f.get("geoid_sep_m"),
            quality=self.quality(),
            gga_quality=f.get("gga_quality"),
            num_sats=f.get("num_sats"),
            hdop=f.get("hdop"),
            sigma_lat_m=f.get("sigma_lat_m"),
            sigma_lon_m=f.get("sigma_lon_m"),
            sigma_alt_m=f.get("sigma_alt_m"),
            heading_deg=f.get("heading_hdt", f.get("heading_ths", f.get("heading_hpr"))),
            speed_mps=f.get("speed_mps"),
            course_deg=f.get("course_deg"),
            diff_age_s=f.get("diff_age_s"),
            station_id=f.get("station_id"),
            talkers=tuple(self.talkers),
            sentences=tuple(self.sentences),
        )


def _gga(b: _Builder, s: Sentence) -> None:
    digit = _int(s.get("quality"))
    if digit is not None:
        b.set("gga_quality", digit)
        with contextlib.suppress(ValueError):  # 9 (old SBAS), vendor digits: the other sentences decide
            b.set("q_gga", FixQuality(digit))
    pos = _latlon(s)
    if pos is not None:
        b.positions.setdefault("GGA", pos)
    b.set("alt_m", _float(s.get("alt")))
    b.set("geoid_sep_m", _float(s.get("sep")))
    b.set("num_sats", _int(s.get("numSV")))
    b.set("hdop", _float(s.get("HDOP")))
    b.set("diff_age_s", _float(s.get("diffAge")))
    station = s.field(14)  # as written: "0002", not the number 2
    if station:
        b.set("station_id", station)


def _gns(b: _Builder, s: Sentence) -> None:
    mode = s.get("posMode")
    if isinstance(mode, str):
        b.set("q_gns", quality_from_mode(mode))
    pos = _latlon(s)
    if pos is not None:
        b.positions.setdefault("GNS", pos)
    b.set("alt_m", _float(s.get("alt")))
    b.set("geoid_sep_m", _float(s.get("sep")))
    b.set("num_sats", _int(s.get("numSV")))
    b.set("hdop", _float(s.get("HDOP")))


def _mode_or_status(s: Sentence) -> FixQuality | None:
    mode = s.get("posMode")
    q = quality_from_mode(mode) if isinstance(mode, str) else None
    if q is not None:
        return q
    status = s.get("status")
    if status == "A":
        return FixQuality.SINGLE
    if status == "V":
        return FixQuality.NONE
    return None


def _rmc(b: _Builder, s: Sentence) -> None:
    b.set("q_rmc", _mode_or_status(s))
    pos = _latlon(s)
    if pos is not None:
        b.positions.setdefault("RMC", pos)
    date = s.get("date")
    if isinstance(date, dt.date) and b.date is None:
        b.date = date
    speed = _float(s.get("spd"))
    b.set("speed_mps", None if speed is None else speed * 1852.0 / 3600.0)  # knots → m/s
    b.set("course_deg", _degrees(s.get("cog")))


def _gll(b: _Builder, s: Sentence) -> None:
    b.set("q_gll", _mode_or_status(s))
    pos = _latlon(s)
    if pos is not None:
        b.positions.setdefault("GLL", pos)


def _gst(b: _Builder, s: Sentence) -> None:
    b.set("sigma_lat_m", _float(s.get("stdLat")))
    b.set("sigma_lon_m", _float(s.get("stdLong")))
    b.set("sigma_alt_m", _float(s.get("stdAlt")))


def _zda(b: _Builder, s: Sentence) -> None:
    if b.date is None:
        b.date = _zda_date(s)


def _hdt(b: _Builder, s: Sentence) -> None:
    b.set("heading_hdt", _degrees(s.get("headingT")))


def _ths(b: _Builder, s: Sentence) -> None:
    if s.get("mi") not in ("V", ""):
        b.set("heading_ths", _degrees(s.get("headt")))


def _hpr(b: _Builder, s: Sentence) -> None:
    quality = _int(s.get("quality"))
    if quality is not None and quality > 0:
        b.set("heading_hpr", _degrees(s.get("heading")))


_HANDLERS = {
    "GGA": _gga,
    "GNS": _gns,
    "RMC": _rmc,
    "GLL": _gll,
    "GST": _gst,
    "ZDA": _zda,
    "HDT": _hdt,
    "THS": _ths,
    "HPR": _hpr,
}


@dataclass
class AssemblyStats:
    """Counts kept by :class:`EpochAssembler`.

    ``epochs`` emitted, ``undated`` emitted with ``time=None``, ``gga_quality``
    GGA/GGAH sentences by fix-quality digit (as a string; ``""`` for an empty
    field), ``untimed_orphans`` untimed sentences (HDT/THS) seen before any epoch,
    ``no_time`` timed sentences (GGA, RMC ...) whose time field is empty: left out.
    """

    epochs: int = 0
    undated: int = 0
    gga_quality: Counter[str] = field(default_factory=Counter)
    untimed_orphans: int = 0
    no_time: int = 0


class EpochAssembler:
    """Merge checked sentences into epochs (see the module docstring for the rules).

    ``date`` is the UTC date to use until an RMC or ZDA gives one (e.g. the date of
    the patrol, for a receiver that emits only GGA).  ``max_pending`` bounds how
    many undated epochs wait for a date when no ``date`` is given.

    >>> from irpatrol.geo.nmea import NmeaReader
    >>> lines = (b"$GNGGA,115739.00,4002.1039,N,11618.3526,E,4,13,0.7,69.0,M,-8.0,M,1.0,0000*7F\\n"
    ...          b"$GNRMC,115739.00,A,4002.1039,N,11618.3526,E,0.0,,020126,,,R*72\\n")
    >>> asm = EpochAssembler()
    >>> epochs = [e for s in NmeaReader().read([lines]) for e in asm.push(s)] + asm.flush()
    >>> e = epochs[0]
    >>> e.time.isoformat(), round(e.lat, 6), round(e.lon, 6), e.quality.label
    ('2026-01-02T11:57:39+00:00', 40.035065, 116.305877, 'rtk_fixed')
    """

    def __init__(self, *, date: dt.date | None = None, max_pending: int = 600) -> None:
        if max_pending < 0:
            msg = f"`max_pending` must be >= 0, got {max_pending!r}"
            raise ValueError(msg)
        self._caller_date = date
        self._max_pending = max_pending
        self._anchor: tuple[dt.date, float] | None = None
        self._current: _Builder | None = None
        self._pending: list[_Builder] = []
        self.stats = AssemblyStats()

    def push(self, sentence: Sentence) -> list[Epoch]:
        """Add one sentence; returns the epochs it closed (usually none or one)."""
        kind = base_type(sentence)
        if kind == "GGA":
            digit = _int(sentence.get("quality"))
            self.stats.gga_quality["" if digit is None else str(digit)] += 1
        out: list[Epoch] = []
        if kind in _TIMED:
            tod = _time_of_day(sentence.get("time"))
            if tod is None:  # an empty time field: which epoch it belongs to is unknown
                self.stats.no_time += 1
                return out
            if self._current is None or abs(self._current.tod - tod) > 1e-3:
                if self._current is not None:
                    out.extend(self._close(self._current))
                self._current = _Builder(tod)
            self._current.add(sentence)
            return out
        if kind in _HANDLERS:
            if self._current is None:
                self.stats.untimed_orphans += 1
            else:
                self._current.add(sentence)
        elif self._current is not None:  # GSA, GSV, VTG, proprietary: only recorded as seen
            self._current.add(sentence)
        return out

    def flush(self) -> list[Epoch]:
        """End of stream: close the current epoch and emit any still waiting for a date."""
        out: list[Epoch] = []
        if self._current is not None:
            out.extend(self._close(self._current))
            self._current = None
        for b in self._pending:
            out.append(self._emit(b, None))
        self._pending.clear()
        return out

    # -- dating ------------------------------------------------------------------------------
    def _close(self, b: _Builder) -> list[Epoch]:
        if b.date is not None:
            self._anchor = (b.date, b.tod)
            out = [self._emit(p, self._dated(p.tod)) for p in self._pending]
            self._pending.clear()
            out.append(self._emit(b, _at(b.date, b.tod)))
            return out
        if self._anchor is None and self._caller_date is not None:
            self._anchor = (self._caller_date, b.tod)
        if self._anchor is not None:
            return [self._emit(b, self._dated(b.tod))]
        self._pending.append(b)
        if len(self._pending) > self._max_pending:
            return [self._emit(self._pending.pop(0), None)]
        return []

    def _dated(self, tod: float) -> dt.datetime:
        assert self._anchor is not None
        date, anchor_tod = self._anchor
        shift = tod - anchor_tod
        if shift < -_HALF_DAY_S:
            date += dt.timedelta(days=1)
        elif shift > _HALF_DAY_S:
            date -= dt.timedelta(days=1)
        return _at(date, tod)

    def _emit(self, b: _Builder, time: dt.datetime | None) -> Epoch:
        self.stats.epochs += 1
        if time is None:
            self.stats.undated += 1
        return b.epoch(time)


def _at(date: dt.date, tod: float) -> dt.datetime:
    """UTC datetime of a date and seconds since midnight (a leap second 23:59:60 folds into the next day)."""
    base = dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC)
    return base + dt.timedelta(seconds=min(tod, _DAY_S))


__all__ = ["AssemblyStats", "EpochAssembler", "base_type"]
