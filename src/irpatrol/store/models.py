"""The server's tables (SQLAlchemy 2 typed declarative mapping).

The asset hierarchy follows the State Grid remote-patrol model (Q/GDW 12164;
``domain.md`` §1.12): station → area → bay → device → component → inspection point.
The five upper levels share one adjacency-list table :class:`Asset` (``kind`` says
which level); inspection points, which carry the regions and grading settings,
have their own table.  SGCC field codes (recognition type 4 = infrared, file type
1 = infrared image, data source, phase, conclusion/status) are derived where
they are exported (:mod:`irpatrol.store.sgcc`), not stored twice.

Times are stored as UTC; :class:`UTCDateTime` gives them back timezone-aware on
every database (SQLite keeps no zone).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ASSET_KINDS = ("station", "area", "bay", "device", "component")
"""Levels of the asset tree, top down (点位, the inspection point, is its own table)."""

PATROL_TYPES = ("routine", "special", "infrared", "manual")
"""例行 / 特巡 / 红外普测 / 人工: why a patrol was run."""

CAPTURE_STATUSES = ("pending", "analyzed", "failed")
REVIEW_STATUSES = ("unreviewed", "confirmed", "false_alarm", "corrected")
DEFECT_STATUSES = ("open", "in_repair", "closed")
"""Defect lifecycle (未消缺 / 消缺中 / 已消缺); only findings graded above normal are defects."""
ROLES = ("viewer", "operator", "admin")
FIX_QUALITIES = ("none", "single", "dgps", "rtk_fixed", "rtk_float", "estimated", "manual")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime stored as naive UTC and returned timezone-aware (UTC) on every database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints alike everywhere."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Asset(Base):
    """One node of the asset tree: a station, area, bay, device or component."""

    __tablename__ = "assets"
    __table_args__ = (
        UniqueConstraint("parent_id", "code"),
        # stations have no parent, and NULLs never clash in a unique constraint: one index for them
        Index(
            "uq_assets_station_code",
            "code",
            unique=True,
            sqlite_where=text("parent_id IS NULL"),
            postgresql_where=text("parent_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(256))
    device_type: Mapped[str | None] = mapped_column(String(64))
    """For devices: the SGCC device-type name or code (e.g. ``隔离开关`` / 4)."""
    station_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"), index=True)
    """The station this node belongs to (itself for a station): fast filters by station."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Point(Base):
    """An inspection point (点位): a preset view of a component, its regions and how to grade it.

    ``spec`` is one entry of a points file (``docs/points.md``): phases, ambient
    region or value, reference image; the server turns it into an
    :class:`~irpatrol.diagnosis.points.InspectionPoint` for each analysis.
    """

    __tablename__ = "points"
    __table_args__ = (UniqueConstraint("station_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(256))
    component_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    preset_id: Mapped[str | None] = mapped_column(String(64))
    device_type: Mapped[str | None] = mapped_column(String(64))
    part: Mapped[str] = mapped_column(String(64))
    """Rule-pack part id (e.g. ``disconnector-blade``)."""
    phase: Mapped[str | None] = mapped_column(String(8))
    """``A``, ``B``, ``C`` or ``ABC`` (all three phases in one view)."""
    heating_type: Mapped[str] = mapped_column(String(16), default="current")
    rated_current_a: Mapped[float | None] = mapped_column(Float)
    rule_pack: Mapped[str | None] = mapped_column(String(256))
    spec: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    component: Mapped[Asset] = relationship(foreign_keys=[component_id])


class PatrolPlan(Base):
    """An ordered list of inspection points a robot or a person visits (巡视任务)."""

    __tablename__ = "patrol_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    station_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    patrol_type: Mapped[str] = mapped_column(String(16), default="routine")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    items: Mapped[list[PlanPoint]] = relationship(
        order_by="PlanPoint.seq", cascade="all, delete-orphan", lazy="selectin"
    )


class PlanPoint(Base):
    """A point's place in a plan."""

    __tablename__ = "plan_points"
    __table_args__ = (UniqueConstraint("plan_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("patrol_plans.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    point_id: Mapped[int] = mapped_column(ForeignKey("points.id"), index=True)


class Execution(Base):
    """One run of a patrol plan; its captures say which points were covered, the rest were missed."""

    __tablename__ = "executions"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("patrol_plans.id"), index=True)
    executor: Mapped[str | None] = mapped_column(String(128))
    """Robot id or person."""
    data_source: Mapped[str] = mapped_column(String(16), default="robot")
    """``camera``, ``robot``, ``drone``, ``handheld``, ``online`` (SGCC data source)."""
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")


class Capture(Base):
    """One uploaded thermal image and the state of its analysis.

    ``idempotency_key`` makes uploads safe to retry: the same key answers with the
    same row.  The file itself lives content-addressed under the data folder.
    """

    __tablename__ = "captures"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(256), unique=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(256))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    point_id: Mapped[int | None] = mapped_column(ForeignKey("points.id"), index=True)
    execution_id: Mapped[int | None] = mapped_column(ForeignKey("executions.id"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"), index=True)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    taken_at: Mapped[datetime | None] = mapped_column(index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    fix_quality: Mapped[str | None] = mapped_column(String(16))
    ambient_c: Mapped[float | None] = mapped_column(Float)
    humidity: Mapped[float | None] = mapped_column(Float)
    """Relative humidity, %."""
    wind_ms: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)
    """Camera-to-target distance, m, as the uploader measured it (rangefinder, preset), for the
    measurability check; the inspection point's configured ``distance_m`` comes first."""
    load_current_a: Mapped[float | None] = mapped_column(Float)
    """Load current at capture time, A (from the robot's or SCADA's reading)."""
    load_ratio: Mapped[float | None] = mapped_column(Float)
    """Present / rated load; given, or load_current_a over the point's rated current."""
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None]
    """When a worker took the analysis; a stale claim (worker died) is taken again."""
    error: Mapped[str | None] = mapped_column(Text)
    error_kind: Mapped[str | None] = mapped_column(String(16))
    analyzed_at: Mapped[datetime | None]
    format_name: Mapped[str | None] = mapped_column(String(32))
    camera_make: Mapped[str | None] = mapped_column(String(64))
    camera_model: Mapped[str | None] = mapped_column(String(64))
    camera_serial: Mapped[str | None] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    min_c: Mapped[float | None] = mapped_column(Float)
    max_c: Mapped[float | None] = mapped_column(Float)
    mean_c: Mapped[float | None] = mapped_column(Float)
    background_c: Mapped[float | None] = mapped_column(Float)
    rule_pack: Mapped[str | None] = mapped_column(String(256))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The pipeline's measurements (hot spots, regions, conditions), findings excepted."""

    findings: Mapped[list[Finding]] = relationship(
        order_by="Finding.seq", cascade="all, delete-orphan", lazy="selectin", back_populates="capture"
    )


class Finding(Base):
    """One graded assessment of a capture (a configured point or a hot spot), with review and lifecycle.

    ``facts`` holds everything the grader produced (numbers, rule, flags, notes);
    texts are rendered from them per language when shown.  Findings graded above
    normal are defects and carry ``defect_status``.
    """

    __tablename__ = "findings"
    __table_args__ = (
        UniqueConstraint("capture_id", "seq"),
        Index("ix_findings_station_grade_created", "station_id", "grade_value", "created_at"),
        Index("ix_findings_point_taken", "point_id", "taken_at"),
        # The overview's "to review" count filters on both (migration 0005).
        Index("ix_findings_review_grade", "review_status", "grade_value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    point_id: Mapped[int | None] = mapped_column(ForeignKey("points.id"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    taken_at: Mapped[datetime | None]
    subject: Mapped[str] = mapped_column(String(128))
    device: Mapped[str] = mapped_column(String(256))
    part: Mapped[str] = mapped_column(String(64))
    heating_type: Mapped[str | None] = mapped_column(String(16))
    grade: Mapped[str] = mapped_column(String(16), index=True)
    """``normal``, ``general``, ``serious``, ``critical`` or ``not_graded``."""
    grade_value: Mapped[int] = mapped_column(Integer, default=-1)
    rule_pack: Mapped[str | None] = mapped_column(String(128))
    rule_id: Mapped[str | None] = mapped_column(String(128))
    clause: Mapped[str | None] = mapped_column(String(256))
    verification: Mapped[str | None] = mapped_column(String(4))
    tentative: Mapped[bool] = mapped_column(Boolean, default=False)
    t1_c: Mapped[float | None] = mapped_column(Float)
    t2_c: Mapped[float | None] = mapped_column(Float)
    t0_c: Mapped[float | None] = mapped_column(Float)
    delta_t_k: Mapped[float | None] = mapped_column(Float)
    rise_k: Mapped[float | None] = mapped_column(Float)
    delta_pct: Mapped[float | None] = mapped_column(Float)
    load_ratio: Mapped[float | None] = mapped_column(Float)
    """Present / rated load the normalisation used (the capture's), ``None`` when unknown."""
    ambient_c: Mapped[float | None] = mapped_column(Float)
    """Ambient (reference) temperature the rise is over, degC."""
    norm_rise_k: Mapped[float | None] = mapped_column(Float)
    """Rise over ambient corrected to rated load, K; the raw rise where ``normalised`` is false."""
    norm_delta_t_k: Mapped[float | None] = mapped_column(Float)
    """Delta T corrected to rated load, K; the raw delta T where ``normalised`` is false."""
    normalised: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """True when the load was known and the rise/delta T were corrected to rated load."""
    flags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    review_status: Mapped[str] = mapped_column(String(16), default="unreviewed", index=True)
    corrected_value_c: Mapped[float | None] = mapped_column(Float)
    corrected_grade: Mapped[str | None] = mapped_column(String(16))
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(128))
    reviewed_at: Mapped[datetime | None]
    defect_status: Mapped[str | None] = mapped_column(String(16), index=True)
    status_changed_at: Mapped[datetime | None]

    capture: Mapped[Capture] = relationship(back_populates="findings")


class StationLayout(Base):
    """A station's layout image (site plan) and how it is tied to the ground.

    The image is in the blob store (``image_sha256``); ``georef`` holds the control
    points (lat, lon ↔ x, y pixel) and the fitted map from local metres to pixels
    (:class:`irpatrol.geo.local.LayoutFit`), so capture positions can be drawn on it.
    """

    __tablename__ = "station_layouts"

    station_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True)
    image_sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    """Image size, pixels."""
    georef: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(128))


class User(Base):
    """A person (or a machine account) who can log in or own tokens."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    """argon2id hash; ``None`` for accounts that only hold machine tokens."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """A bearer token: a login session or a scoped machine token.  Only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    """The token's first characters, to recognise it in lists (not enough to use it)."""
    kind: Mapped[str] = mapped_column(String(16), default="api")
    """``session`` (from a login) or ``api`` (created for a machine)."""
    name: Mapped[str | None] = mapped_column(String(128))
    scopes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship(lazy="joined")


class AuditEntry(Base):
    """Who did what to which object, when: reviews, lifecycle changes, users, tokens, webhooks."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Webhook(Base):
    """A subscriber: an URL, the secret its deliveries are signed with, and the events it wants."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(256))
    events: Mapped[list[Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """The durable outbox of webhook events: written with the change that caused it, sent until acked."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("event_id", "webhook_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), index=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    """``pending``, ``delivered`` or ``dead``."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class EdgeMessage(Base):
    """One message from an edge agent (robot), stored once by its idempotency key (``docs/edge-protocol.md``).

    ``key`` is unique: a message delivered again (MQTT is at least once) finds its row and is
    only acknowledged again.  ``created_at`` is when the agent committed it, ``received_at``
    when the server stored it.  Results and alarms also become a :class:`Capture` with its
    findings (``capture_id``); an alarm and the result of the same image share one capture.
    """

    __tablename__ = "edge_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(512), unique=True)
    robot: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("captures.id", ondelete="SET NULL"), index=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class EdgeReject(Base):
    """A dead letter: an edge message that can never be stored (malformed), kept for a person to read.

    It is acknowledged as ``rejected`` when its key could be read, so the agent stops
    sending it; ``payload`` is the raw message (cut at 64 KiB).
    """

    __tablename__ = "edge_rejects"

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    topic: Mapped[str] = mapped_column(String(256))
    robot: Mapped[str | None] = mapped_column(String(64))
    key: Mapped[str | None] = mapped_column(String(512), index=True)
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
