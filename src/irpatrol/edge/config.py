"""The edge agent's settings: one TOML file, validated once into :class:`EdgeConfig`.

Every field has a default, so a file with only ``robot_id`` (or an empty file) runs: it
watches ``./captures`` and writes its outbox to ``./edge-outbox``.  Keys are flat (the
uplink reads ``mqtt_host``, ``mqtt_port``, ``mqtt_topic_prefix``, ``server_url`` and
``server_token``); inspection points for matching are an array of tables::

    robot_id = "robot-07"
    watch_dir = "/data/ir"
    mqtt_host = "10.0.0.5"

    [[points]]
    code = "P-C3-FUSE"
    preset = "3"
    x_m = 12.5
    y_m = 40.0

Relative paths are resolved against the folder of the TOML file.  A malformed file raises
:class:`~irpatrol.errors.EdgeConfigError` naming the file, the line where TOML says so, and
the field.  ``docs/edge.md`` lists every key; ``docs/examples/edge.toml`` is a full example.
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from irpatrol.errors import EdgeConfigError

_PATH_FIELDS = ("outbox_dir", "watch_dir", "replay_path", "points_file", "nmea_file")
DEFAULT_PRESET_PATTERN = r"(?i)(?:^|[_\-.])(?:preset|p)[_\-]?(?P<preset>\d+)(?=[_\-.]|$)"
"""Finds the preset id in a file name such as ``IR_preset12_0001.jpg`` or ``bay3-p7.jpg``."""
_ROBOT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class PointLocation(BaseModel):
    """Where an inspection point is looked at from, for matching captures without a preset.

    ``code`` is the point's code (as on the server and in the points file); ``preset`` the
    robot's preset id for it; ``x_m``/``y_m`` the parking position in the station map (m),
    ``lat``/``lon`` (decimal degrees, WGS-84/CGCS2000) the surveyed position.
    """

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=128)
    preset: str | None = Field(default=None, min_length=1, max_length=64)
    x_m: float | None = None
    y_m: float | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @field_validator("preset", mode="before")
    @classmethod
    def _preset_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v

    @model_validator(mode="after")
    def _pairs(self) -> PointLocation:
        if (self.x_m is None) != (self.y_m is None):
            msg = "x_m and y_m go together"
            raise ValueError(msg)
        if (self.lat is None) != (self.lon is None):
            msg = "lat and lon go together"
            raise ValueError(msg)
        for name in ("x_m", "y_m"):
            v = getattr(self, name)
            if v is not None and not math.isfinite(v):
                msg = f"{name} must be finite"
                raise ValueError(msg)
        return self


class EdgeConfig(BaseModel):
    """Settings of ``irpatrol edge run``; units in the names: ``_s`` seconds, ``_mb`` MiB, ``_m`` metres."""

    model_config = ConfigDict(extra="forbid")

    robot_id: str = Field(default="robot-01", description="This robot's id: one MQTT topic level.")
    station: str | None = Field(default=None, description="Station code, for the records.")

    outbox_dir: Path = Field(default=Path("edge-outbox"), description="Folder of the durable outbox.")
    outbox_budget_mb: float = Field(default=2048.0, gt=0, description="Bytes the outbox may use (MiB).")
    outbox_reserve_mb: float = Field(
        default=16.0, ge=0, description="Part of the budget kept for alarms, acks and cleanup (MiB)."
    )

    source: Literal["watch", "replay"] = Field(default="watch", description="Where captures come from.")
    watch_dir: Path = Field(default=Path("captures"), description="Folder the camera writes into.")
    watch_patterns: list[str] = Field(
        default_factory=lambda: ["*.jpg", "*.jpeg", "*.fff", "*.seq", "*.csq", "*.irg", "*.tif", "*.tiff"],
        description="File-name patterns taken from the watched folder (case-insensitive).",
    )
    settle_s: float = Field(
        default=0.5, ge=0, le=3600, description="A file is taken once its size has not changed for this long."
    )
    replay_path: Path | None = Field(default=None, description="A folder or a SEQ/CSQ file to replay.")
    replay_rate_hz: float = Field(
        default=1.0, gt=0, le=10_000, description="Replay speed, captures per second."
    )
    replay_loop: bool = Field(default=False, description="Start the replay again at its end.")

    rules: str = Field(default="dlt664-2016", description="Rule pack: a name or a YAML path.")
    points_file: Path | None = Field(
        default=None, description="Regions per point (docs/points.md), by point code."
    )
    points: list[PointLocation] = Field(
        default_factory=list, description="Point codes, presets and positions."
    )
    match_radius_m: float = Field(
        default=5.0, gt=0, description="Nearest point farther than this: unmatched."
    )
    preset_pattern: str = Field(
        default=DEFAULT_PRESET_PATTERN, description="Regular expression with a `preset` group, on file names."
    )
    send_images: bool = Field(default=True, description="Queue each image as a `file` item.")
    ambient_c: float | None = Field(default=None, description="Ambient temperature (°C) for grading.")
    load_ratio: float | None = Field(default=None, gt=0, description="Present / rated load for grading.")
    humidity_pct: float | None = Field(default=None, ge=0, le=100, description="Relative humidity (%).")
    wind_ms: float | None = Field(default=None, ge=0, description="Wind speed (m/s).")

    nmea_source: Literal["none", "file", "tcp", "serial"] = Field(default="none", description="GNSS input.")
    nmea_file: Path | None = Field(
        default=None, description="NMEA log of the patrol (nmea_source = file), read whole."
    )
    nmea_host: str = Field(default="127.0.0.1", description="gpsd / receiver host (nmea_source = tcp).")
    nmea_port: int = Field(default=2947, ge=1, le=65535, description="Its port.")
    nmea_serial: str = Field(default="/dev/ttyUSB0", description="Serial device (nmea_source = serial).")
    nmea_baud: int = Field(default=115200, gt=0, description="Serial speed (baud).")
    position_max_age_s: float = Field(
        default=2.0, gt=0, description="A fix older than this is flagged stale."
    )

    server_url: str | None = Field(default=None, description="Intranet server, e.g. https://irpatrol.local")
    server_token: str | None = Field(default=None, description="API token (scope captures:write).")
    plan_id: int | None = Field(default=None, ge=1, description="Patrol plan to download and run.")

    mqtt_host: str | None = Field(default=None, description="MQTT broker host; none: no uplink.")
    mqtt_port: int = Field(default=1883, ge=1, le=65535, description="MQTT broker port.")
    mqtt_topic_prefix: str = Field(default="irpatrol", min_length=1, description="Topic prefix.")

    drain_on_finish_s: float = Field(
        default=60.0,
        ge=0,
        description="After a replay ends, keep the uplink draining the outbox this long (s).",
    )
    telemetry_interval_s: float = Field(default=10.0, gt=0, description="Seconds between telemetry items.")
    full_retry_s: float = Field(
        default=5.0, gt=0, description="Wait before retrying when the outbox is full."
    )

    @field_validator("robot_id")
    @classmethod
    def _robot(cls, v: str) -> str:
        if not _ROBOT.fullmatch(v):
            msg = "must be 1-64 letters, digits, '.', '_' or '-' (it is an MQTT topic level)"
            raise ValueError(msg)
        return v

    @field_validator("preset_pattern")
    @classmethod
    def _pattern(cls, v: str) -> str:
        try:
            rx = re.compile(v)
        except re.error as exc:
            msg = f"not a regular expression ({exc})"
            raise ValueError(msg) from None
        if "preset" not in rx.groupindex:
            msg = "needs a named group (?P<preset>...)"
            raise ValueError(msg)
        return v

    @field_validator("server_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"https?://[^\s/]+", v):
            msg = "must start with http:// or https:// and a host"
            raise ValueError(msg)
        return v.rstrip("/") if v else v

    @model_validator(mode="after")
    def _consistent(self) -> EdgeConfig:
        if self.outbox_reserve_mb >= self.outbox_budget_mb:
            msg = "outbox_reserve_mb must be less than outbox_budget_mb"
            raise ValueError(msg)
        if self.source == "replay" and self.replay_path is None:
            msg = "source = 'replay' needs replay_path"
            raise ValueError(msg)
        if self.nmea_source == "file" and self.nmea_file is None:
            msg = "nmea_source = 'file' needs nmea_file"
            raise ValueError(msg)
        if self.plan_id is not None and self.server_url is None:
            msg = "plan_id needs server_url"
            raise ValueError(msg)
        codes = [p.code for p in self.points]
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            msg = f"points: code {dup[0]!r} is listed twice"
            raise ValueError(msg)
        presets = [p.preset for p in self.points if p.preset is not None]
        dupp = sorted({c for c in presets if presets.count(c) > 1})
        if dupp:
            msg = f"points: preset {dupp[0]!r} is given to two points"
            raise ValueError(msg)
        return self

    @property
    def outbox_budget_bytes(self) -> int:
        """The outbox byte budget in bytes."""
        return int(self.outbox_budget_mb * 1024 * 1024)

    @property
    def outbox_reserve_bytes(self) -> int:
        """The outbox reserve in bytes."""
        return int(self.outbox_reserve_mb * 1024 * 1024)


def _line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """The line that sets a top-level key, or that opens the ``[[points]]`` table in error."""
    if not loc:
        return None
    if loc[0] == "points" and len(loc) > 1 and isinstance(loc[1], int):
        tables = list(re.finditer(r"^[ \t]*\[\[[ \t]*points[ \t]*\]\]", text, re.MULTILINE))
        if loc[1] < len(tables):
            return text.count("\n", 0, tables[loc[1]].start()) + 1
        return None
    m = re.search(rf"^[ \t]*{re.escape(str(loc[0]))}[ \t]*=", text, re.MULTILINE)
    return text.count("\n", 0, m.start()) + 1 if m else None


def parse_config(text: str, *, path: str | Path = "<edge.toml>") -> EdgeConfig:
    """Parse TOML ``text`` into an :class:`EdgeConfig`; relative paths resolve against ``path``'s folder.

    Raises :class:`~irpatrol.errors.EdgeConfigError` (file, line where known, field) on the
    first problem.
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        detail = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise EdgeConfigError(
            path, f"not valid TOML: {detail}", line=int(m.group(1)) if m else None
        ) from None
    base = Path(path).parent if str(path) != "<edge.toml>" else Path(".")
    for key in _PATH_FIELDS:
        if isinstance(raw.get(key), str):
            p = Path(raw[key]).expanduser()
            raw[key] = p if p.is_absolute() else base / p
    try:
        cfg = EdgeConfig.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (docs/edge.md lists the keys)"
        raise EdgeConfigError(path, msg, line=_line_of(text, tuple(err["loc"])), field=loc or None) from None
    if "watch_dir" not in raw:
        cfg = cfg.model_copy(update={"watch_dir": base / cfg.watch_dir})
    if "outbox_dir" not in raw:
        cfg = cfg.model_copy(update={"outbox_dir": base / cfg.outbox_dir})
    return cfg


def load_config(path: str | Path) -> EdgeConfig:
    """Read and parse an edge TOML file; :class:`~irpatrol.errors.EdgeConfigError` if it cannot be read."""
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8")
    except OSError as exc:
        raise EdgeConfigError(p, f"cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise EdgeConfigError(p, "is not UTF-8 text") from None
    return parse_config(text, path=p)


__all__ = ["DEFAULT_PRESET_PATTERN", "EdgeConfig", "PointLocation", "load_config", "parse_config"]
