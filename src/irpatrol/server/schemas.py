"""Response and request bodies of the API (pydantic), derived from the stored rows.

Field names follow the pipeline's JSON (``t1_c``, ``delta_pct`` …) so that the CLI's
``--json``, the API and the exports say the same thing in the same words.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    database: str


class CaptureAccepted(BaseModel):
    id: int
    sha256: str
    status: str


class FindingOut(BaseModel):
    """One graded assessment with its review and defect state; texts rendered in the asked language."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    capture_id: int
    point_id: int | None
    station_id: int | None
    subject: str
    device: str
    part: str
    heating_type: str | None
    grade: str
    grade_value: int
    rule_pack: str | None
    rule_id: str | None
    clause: str | None
    verification: str | None
    tentative: bool = Field(
        description="The grade is provisional: low load, weather, or a measurability flag (see flags)"
    )
    t1_c: float | None
    t2_c: float | None
    t0_c: float | None
    delta_t_k: float | None
    rise_k: float | None
    delta_pct: float | None
    flags: list[Any] = Field(
        description=(
            "Flags of the assessment and its grading, e.g. load-unknown, below-measurable-size (the "
            "target is under 3 pixels across at its distance), low-emissivity-material (bare or "
            "polished metal); the numbers behind each are the parameters of its note in "
            "facts.finding.notes"
        )
    )
    taken_at: datetime | None
    created_at: datetime
    review_status: str
    corrected_value_c: float | None
    corrected_grade: str | None
    review_note: str | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    defect_status: str | None
    status_changed_at: datetime | None
    explanation: str | None = None
    recommendation: str | None = None
    facts: dict[str, Any] | None = Field(
        default=None,
        description=(
            "The stored assessment: comparison and finding (numbers, rule, flags, notes with parameters)"
        ),
    )


class CaptureOut(BaseModel):
    """A capture: what was uploaded, the conditions, the analysis state, measurements and findings."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    sha256: str
    filename: str
    size_bytes: int
    status: Literal["pending", "analyzed", "failed"]
    point_id: int | None
    execution_id: int | None
    station_id: int | None
    received_at: datetime
    taken_at: datetime | None
    lat: float | None
    lon: float | None
    fix_quality: str | None
    ambient_c: float | None
    humidity: float | None
    wind_ms: float | None
    distance_m: float | None = Field(None, description="Camera-to-target distance the uploader gave, m")
    load_current_a: float | None
    load_ratio: float | None
    attempts: int
    error: str | None
    error_kind: str | None
    analyzed_at: datetime | None
    format_name: str | None
    camera_make: str | None
    camera_model: str | None
    camera_serial: str | None
    width: int | None
    height: int | None
    min_c: float | None
    max_c: float | None
    mean_c: float | None
    background_c: float | None
    rule_pack: str | None
    measurements: dict[str, Any] | None = None
    findings: list[FindingOut] = Field(default_factory=list)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: ``total`` matching rows, ``items`` on this page."""

    total: int
    limit: int
    offset: int
    items: list[T]


class ReviewIn(BaseModel):
    """A person's review of a finding."""

    model_config = ConfigDict(extra="forbid")

    verdict: Literal["confirmed", "false_alarm", "corrected"]
    corrected_value_c: float | None = Field(default=None, ge=-100, le=2000)
    corrected_grade: Literal["normal", "general", "serious", "critical"] | None = None
    note: str | None = Field(default=None, max_length=2000)


class StatusIn(BaseModel):
    """Move a defect through its lifecycle: open → in_repair → closed (or back to open)."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["open", "in_repair", "closed"]
    note: str | None = Field(default=None, max_length=2000)


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=1024)


class TokenOut(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime | None
    scopes: list[str]
    user: str
    role: str


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    role: Literal["viewer", "operator", "admin"]
    password: str | None = Field(default=None, min_length=8, max_length=1024)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: str
    active: bool
    created_at: datetime


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1, max_length=128)
    scopes: list[Literal["read", "captures:write", "review", "assets:write", "admin"]] | None = None
    name: str | None = Field(default=None, max_length=128)
    days: float | None = Field(default=None, gt=0, le=3650)


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^https?://[^\s]+$", max_length=2048)
    secret: str = Field(min_length=16, max_length=256)
    events: list[Literal["defect.created", "defect.closed"]] = Field(min_length=1)


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    events: list[str]
    active: bool
    created_at: datetime


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: str
    webhook_id: int
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    detail: dict[str, Any] | None
