"""Request and response bodies of the asset, point, plan and execution endpoints (pydantic).

Field names follow the stored columns and the pipeline's JSON (``t1_c``, ``delta_pct`` …):
temperatures °C, differences K, δ in %, currents A, ``load_ratio`` = measured / rated current.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ImportResult(BaseModel):
    """What an asset import did: how many of each level the file holds and how many rows changed."""

    format: Literal["csv", "yaml"]
    stations: int
    areas: int
    bays: int
    devices: int
    components: int
    points: int
    created: int
    updated: int
    unchanged: int


class PointBrief(BaseModel):
    """A point as shown in the tree."""

    id: int
    code: str
    name: str
    part: str
    phase: str | None
    preset_id: str | None
    heating_type: str


class AssetNode(BaseModel):
    """One node of the asset tree with its children (and, for components, its points)."""

    id: int
    kind: Literal["station", "area", "bay", "device", "component"]
    code: str
    name: str
    parent_id: int | None
    station_id: int | None
    device_type: str | None
    children: list[AssetNode] = Field(default_factory=list)
    points: list[PointBrief] = Field(default_factory=list)


class AssetRef(BaseModel):
    """An ancestor of a node or point: enough to name it."""

    id: int
    kind: str
    code: str
    name: str


class AssetDetail(AssetNode):
    """A node with its ancestors (station first, the node itself excluded) and its subtree."""

    path: list[AssetRef] = Field(default_factory=list)


class PointOut(BaseModel):
    """An inspection point: where it is, how it is graded and its regions (``spec``, docs/points.md)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    station_id: int
    component_id: int
    preset_id: str | None
    device_type: str | None
    part: str
    phase: str | None
    heating_type: str
    rated_current_a: float | None
    rule_pack: str | None
    spec: dict[str, Any] | None
    created_at: datetime
    path: list[AssetRef] = Field(default_factory=list)


class TrendEntry(BaseModel):
    """One analysed capture of a point: when, the capture maximum and the point's comparison."""

    capture_id: int
    finding_id: int | None
    taken_at: datetime
    max_c: float | None
    t1_c: float | None
    t2_c: float | None
    t0_c: float | None
    delta_t_k: float | None
    delta_pct: float | None
    grade: str | None
    grade_value: int | None
    review_status: str | None
    ambient_c: float | None
    load_ratio: float | None
    rise_k: float | None = None
    """T1 − T0 as measured, K."""
    norm_rise_k: float | None = None
    """Rise over ambient at rated load, K (the raw rise where ``normalised`` is false)."""
    norm_delta_t_k: float | None = None
    """ΔT at rated load, K (the raw ΔT where ``normalised`` is false)."""
    normalised: bool | None = None
    """Whether the load was known and the values were corrected to rated load."""


class TrendFit(BaseModel):
    """The Theil–Sen fit of one quantity over the window (unit per day / per patrol)."""

    quantity: str
    unit: str
    n: int
    slope_per_day: float | None
    slope_per_patrol: float | None
    ci_low_per_day: float | None
    ci_high_per_day: float | None
    fitted_last: float | None
    sigma: float | None
    change: float | None
    interval_days: float | None
    since: datetime
    since_finding_id: int


class TrendWarningOut(BaseModel):
    """An early warning: by how much (``change``, in ``unit``), since when, the findings used, the numbers."""

    code: Literal["rising-trend", "step-change", "projected-threshold"]
    quantity: str
    unit: str
    change: float
    since: datetime
    since_finding_id: int
    points: list[dict[str, Any]]
    details: dict[str, Any]
    text: str


class TrendAnalysisOut(BaseModel):
    """The trend analysis of a point's history (``docs/trend.md``)."""

    status: Literal["ok", "insufficient-history"]
    n: int
    min_history: int
    trends: dict[str, TrendFit]
    warnings: list[TrendWarningOut]


class PointTrend(BaseModel):
    """A point's series over time, oldest first, with its trend analysis and chart data.

    ``basis`` says whether the analysis used rated-load values (``rated-load``) or, with no
    load recorded, the raw ones (``raw``); ``excluded_finding_ids`` are findings left out
    (not normalised while others are).  ``comparison`` is the latest finding's history facts
    (against the last healthy reading, the reference frame) and ``comparison_text`` their
    sentence in ``lang``.  ``chart``: ``x`` times, ``series`` per patrol, ``fit`` line ends,
    ``thresholds`` of the next grade.
    """

    point_id: int
    code: str
    name: str
    items: list[TrendEntry]
    basis: Literal["rated-load", "raw"] = "raw"
    excluded_finding_ids: list[int] = Field(default_factory=list)
    analysis: TrendAnalysisOut | None = None
    comparison: dict[str, Any] | None = None
    comparison_text: str | None = None
    chart: dict[str, Any] | None = None


class PlanIn(BaseModel):
    """A new patrol plan: the points a robot visits, in order."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=256)
    station_id: int
    patrol_type: Literal["routine", "special", "infrared", "manual"] = "routine"
    point_ids: list[int] = Field(min_length=1, max_length=5000)


class PlanOut(BaseModel):
    """A plan without its points."""

    id: int
    name: str
    station_id: int
    patrol_type: str
    created_at: datetime
    n_points: int


class DeviceRef(BaseModel):
    id: int
    code: str
    name: str
    device_type: str | None


class PlanPointOut(BaseModel):
    """A plan point with everything a robot needs to take and send its image."""

    seq: int
    point_id: int
    id: int
    code: str
    name: str
    preset_id: str | None
    part: str
    phase: str | None
    heating_type: str
    rated_current_a: float | None
    rule_pack: str | None
    device_type: str | None
    device: DeviceRef | None
    component: DeviceRef | None
    spec: dict[str, Any] | None


class PlanDetail(PlanOut):
    points: list[PlanPointOut]


class ExecutionIn(BaseModel):
    """The start of a run of a plan."""

    model_config = ConfigDict(extra="forbid")

    executor: str | None = Field(default=None, max_length=128, description="Robot id or person")
    data_source: Literal["camera", "robot", "drone", "acoustic", "online", "handheld"] = "robot"


class CaptureBrief(BaseModel):
    id: int
    point_id: int | None
    status: str
    taken_at: datetime | None
    received_at: datetime
    max_c: float | None
    worst_grade: str | None
    worst_grade_value: int | None


class ExecutionItem(BaseModel):
    """A plan point in one run: its captures and worst grade, or missed."""

    seq: int
    point_id: int
    code: str
    name: str
    preset_id: str | None
    captures: list[CaptureBrief]
    worst_grade: str | None
    worst_grade_value: int | None
    missed: bool


class MissedPoint(BaseModel):
    seq: int
    point_id: int
    code: str
    name: str
    preset_id: str | None


class ExecutionBrief(BaseModel):
    """A run of a plan as listed: which plan, who ran it, its state and times (no per-point detail)."""

    id: int
    plan_id: int
    plan_name: str
    station_id: int
    executor: str | None
    data_source: str
    status: str
    started_at: datetime
    finished_at: datetime | None


class ExecutionCounts(BaseModel):
    planned: int
    covered: int
    missed: int
    captures: int
    pending: int
    analyzed: int
    failed: int
    defects: int


class ExecutionOut(ExecutionBrief):
    """A run of a plan: state, what was covered and missed, captures at points outside the plan."""

    counts: ExecutionCounts
    items: list[ExecutionItem]
    missed: list[MissedPoint]
    extra: list[CaptureBrief]
