"""The typed content of an inspection report, independent of where it came from and how it is printed.

A :class:`Report` is built from a folder of images (:mod:`irpatrol.report.folder`) or from
the server's database (``irpatrol.server.report_data``) and printed as PDF, DOCX or HTML
(:mod:`irpatrol.report.render`).  Values are facts in SI-ish units (°C, K, %, m, m/s);
``None`` means "not recorded" and is printed so, never as an empty cell.  Texts that
depend on the language (explanation, recommendation, grade labels) are rendered by the
builder in :attr:`Report.lang`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

ReportKind = Literal["patrol", "defect"]
"""``patrol``: 红外热像检测报告 (a patrol, a folder, a station over a time range);
``defect``: 红外热像检测异常报告 (one defect)."""

GRADES = ("critical", "serious", "general", "normal", "not_graded")
"""Grades from worst to best; ``not_graded`` when no rule pack decided."""

DEFECT_GRADES = frozenset({"general", "serious", "critical"})
"""Grades that make a finding a defect."""


@dataclass(frozen=True, kw_only=True)
class Instrument:
    """A camera used: make, model, serial and calibrated range (°C low, high) where known."""

    make: str | None = None
    model: str | None = None
    serial: str | None = None
    range_c: tuple[float, float] | None = None


@dataclass(frozen=True, kw_only=True)
class Environment:
    """Conditions at the inspection: ambient (°C), relative humidity (%), wind (m/s), weather text."""

    ambient_c: float | None = None
    humidity_pct: float | None = None
    wind_ms: float | None = None
    weather: str | None = None


@dataclass(frozen=True, kw_only=True)
class Header:
    """The report's header block.

    ``started_at``/``finished_at`` bound the captures (or the requested time range);
    ``executor`` is the robot id or the person; ``executor_kind`` ``"robot"``,
    ``"person"`` or ``None``; ``load_ratio`` present / rated load where one value applies
    to the whole report (per capture values are in :class:`CaptureEntry`).
    """

    station: str | None = None
    bays: tuple[str, ...] = ()
    started_at: datetime | None = None
    finished_at: datetime | None = None
    patrol_type: str | None = None
    instruments: tuple[Instrument, ...] = ()
    environment: Environment = field(default_factory=Environment)
    load_ratio: float | None = None
    load_current_a: float | None = None
    executor: str | None = None
    executor_kind: Literal["robot", "person"] | None = None
    rule_pack: str | None = None
    rule_pack_version: str | None = None
    source: str | None = None
    """Where the data came from, e.g. the folder or ``execution 12`` (printed small)."""


@dataclass(frozen=True, kw_only=True)
class FindingEntry:
    """One graded assessment: where, the numbers, the grade, the rule that decided it and the texts.

    Temperatures in °C (``t1_c`` hot spot, ``t2_c`` normal reference, ``t0_c`` ambient
    reference), ``delta_t_k`` = T1 − T2 and ``rise_k`` = T1 − T0 in K, ``delta_pct`` δ in %.
    """

    id: int | None = None
    subject: str
    device: str | None = None
    location: str | None = None
    part: str | None = None
    grade: str = "not_graded"
    grade_label: str | None = None
    tentative: bool = False
    rule_pack: str | None = None
    rule_id: str | None = None
    clause: str | None = None
    t1_c: float | None = None
    t2_c: float | None = None
    t0_c: float | None = None
    delta_t_k: float | None = None
    rise_k: float | None = None
    delta_pct: float | None = None
    hot: str | None = None
    reference: str | None = None
    explanation: str | None = None
    recommendation: str | None = None
    defect_status: str | None = None
    review_status: str | None = None
    automatic: bool = False
    """A hot spot found without a configured point (compared with an automatic reference)."""

    @property
    def is_defect(self) -> bool:
        """Graded above normal."""
        return self.grade in DEFECT_GRADES


@dataclass(frozen=True, kw_only=True)
class TrendPoint:
    """One earlier (or this) reading of the same inspection point: when, T1 (°C), grade."""

    at: datetime
    value_c: float
    grade: str = "not_graded"


@dataclass(frozen=True, kw_only=True)
class PointTrend:
    """The inspection point's trend analysis shown with a capture (issue 11).

    ``chart_png`` draws the rise over ambient (K) per patrol, on the rated-load basis when
    ``basis`` is ``"rated-load"`` (the load was recorded) and raw otherwise (``None``: not
    drawn, or fewer than two readings); ``warnings`` are the early warnings as sentences in
    the report's language with their codes (``rising-trend``, ``step-change``,
    ``projected-threshold``) in ``warning_codes``; ``comparison`` is the sentence comparing
    the latest reading with the last healthy one.
    """

    point: str
    basis: str = "raw"
    chart_png: bytes | None = None
    warnings: tuple[str, ...] = ()
    warning_codes: tuple[str, ...] = ()
    comparison: str | None = None


@dataclass(frozen=True, kw_only=True)
class CaptureEntry:
    """One image in the report: its figure, photo, conditions and findings.

    ``thermal_image`` is the palette rendering with markers and scale bar (JPEG); ``visible_jpeg``
    the visible-light photo (``None``: not recorded); ``trend_png`` the point's history
    chart (``None`` without history).  ``emissivity`` (0..1) and ``distance_m`` (m) are
    the measurement parameters; ``min_c``/``max_c`` over the frame.  ``point_trend`` is the
    point's trend analysis (``None``: no inspection point or no history).
    """

    name: str
    taken_at: datetime | None = None
    location: str | None = None
    point: str | None = None
    camera: Instrument = field(default_factory=Instrument)
    thermal_image: bytes | None = None
    visible_jpeg: bytes | None = None
    trend_png: bytes | None = None
    trend: tuple[TrendPoint, ...] = ()
    point_trend: PointTrend | None = None
    emissivity: float | None = None
    distance_m: float | None = None
    min_c: float | None = None
    max_c: float | None = None
    environment: Environment = field(default_factory=Environment)
    load_ratio: float | None = None
    findings: tuple[FindingEntry, ...] = ()

    @property
    def worst_grade(self) -> str:
        """The worst grade of the findings (``not_graded`` when there are none)."""
        grades = [f.grade for f in self.findings]
        return next((g for g in GRADES if g in grades), "not_graded")


@dataclass(frozen=True, kw_only=True)
class Unreadable:
    """A file that could not be read or analysed, and why (the reader's one-line message)."""

    name: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class MissedPoint:
    """A planned inspection point with no capture: its code, name and location."""

    code: str
    name: str | None = None
    location: str | None = None


@dataclass(frozen=True, kw_only=True)
class Report:
    """A whole report: kind, language, header, captures in order, and what is missing."""

    kind: ReportKind
    lang: str
    header: Header
    captures: tuple[CaptureEntry, ...] = ()
    unreadable: tuple[Unreadable, ...] = ()
    missed: tuple[MissedPoint, ...] = ()
    generated_at: datetime | None = None

    def counts_by_grade(self) -> dict[str, int]:
        """Findings per grade, every grade present (0 where none), worst first."""
        c = Counter(f.grade for cap in self.captures for f in cap.findings)
        return {g: c.get(g, 0) for g in GRADES}

    def early_warnings(self) -> list[PointTrend]:
        """The points with early warnings (rising trend, projected threshold, step change), once each."""
        seen: dict[str, PointTrend] = {}
        for cap in self.captures:
            t = cap.point_trend
            if t is not None and t.warnings:
                seen[t.point] = t  # the last capture of the point holds its latest analysis
        return list(seen.values())

    def defects(self) -> list[tuple[CaptureEntry, FindingEntry]]:
        """The findings graded above normal with their capture, worst first, then in capture order."""
        rank = {g: i for i, g in enumerate(GRADES)}
        found = [(cap, f) for cap in self.captures for f in cap.findings if f.is_defect]
        return sorted(found, key=lambda cf: rank.get(cf[1].grade, len(GRADES)))
