"""Settings in one place: defaults that run out of the box, overridable by ``IRPATROL_*``.

Library code never reads settings; the CLI, the server and the edge agent build a
:class:`Settings` once and pass values down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from irpatrol.errors import SettingsError


def default_data_dir() -> Path:
    """The per-user data folder (``~/.local/share/irpatrol`` on Linux), without creating it."""
    try:
        from platformdirs import user_data_dir
    except ImportError:  # the server extra is not installed: the XDG default by hand
        return Path.home() / ".local" / "share" / "irpatrol"
    return Path(user_data_dir("irpatrol", appauthor=False))


class Settings(BaseSettings):
    """irpatrol settings; each field can be set by the env var ``IRPATROL_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="IRPATROL_", env_ignore_empty=True, extra="ignore")

    palette: Literal["iron", "rainbow", "gray"] = Field(
        default="iron", description="Palette of rendered images when --palette is not given."
    )
    output_dir: Path = Field(
        default=Path("irpatrol-output"), description="Where the demo job writes its files."
    )
    rules: str = Field(
        default="dlt664-2016", description="Rule pack (name or YAML path) when --rules is not given."
    )
    debug: bool = Field(default=False, description="Show tracebacks of internal errors in the CLI.")
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Server data folder: SQLite database, task queue and content-addressed images.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the server database; default SQLite in the data folder. "
        "PostgreSQL: postgresql+psycopg://user:pass@host/db",
    )
    host: str = Field(default="127.0.0.1", description="Address `irpatrol serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `irpatrol serve` listens on.")
    processes: int = Field(
        default=1, ge=1, description="API processes `irpatrol serve` runs on its port (about one per core)."
    )
    max_upload_mb: float = Field(
        default=64.0, gt=0, description="Largest accepted upload (MiB); larger ones get 413."
    )
    workers: int = Field(
        default=1, ge=0, description="Analysis workers `irpatrol serve` runs in-process (0: none)."
    )
    analysis_attempts: int = Field(
        default=3, ge=1, description="Tries of a capture's analysis on transient errors before it fails."
    )
    login_rate: int = Field(
        default=10, ge=1, description="Login attempts allowed per user name and client address per minute."
    )
    session_hours: float = Field(
        default=12.0, gt=0, description="Lifetime of a login (session) token, hours."
    )
    webhook_attempts: int = Field(
        default=8, ge=1, description="Deliveries of one webhook event tried before it is marked dead."
    )
    webhook_timeout_s: float = Field(default=10.0, gt=0, description="Timeout of one webhook POST, s.")
    report_templates: Path | None = Field(
        default=None,
        description="Folder of report templates (layout, labels, logo) laid over the built-in ones.",
    )
    mqtt_host: str | None = Field(
        default=None,
        description="MQTT broker the server takes edge agents' messages from (none: no MQTT ingest).",
    )
    mqtt_port: int = Field(default=1883, ge=1, le=65535, description="Port of the MQTT broker.")
    mqtt_topic_prefix: str = Field(
        default="irpatrol", description="First topic level of the edge protocol (docs/edge-protocol.md)."
    )
    mqtt_client_id: str = Field(
        default="irpatrol-ingest", description="MQTT client id of the ingest (its persistent session)."
    )
    mqtt_username: str | None = Field(default=None, description="MQTT user name of the ingest, if any.")
    mqtt_password: SecretStr | None = Field(
        default=None, description="MQTT password of the ingest, if any (never printed or logged)."
    )
    mqtt_tls_ca_file: Path | None = Field(
        default=None, description="CA certificate (PEM): connect to the broker with TLS, trusting it."
    )
    mqtt_keepalive_s: int = Field(
        default=30, ge=2, le=3600, description="MQTT keepalive of the ingest, s (dead links seen within 2x)."
    )
    dji_tsdk: Path | None = Field(
        default=None,
        description="DJI Thermal SDK library (libdirp.so / libdirp.dll) converting DJI R-JPEG raw to °C; "
        "wins over the dji-thermal-cli package.",
    )

    trend_load_exponent: float = Field(
        default=2.0,
        ge=1.0,
        le=3.0,
        description="n in ΔT·(I_rated/I)^n for a finding's rise and ΔT stored on the rated-load basis "
        "(DL/T 664 practice 1.6–2.0; docs/trend.md).",
    )
    trend_min_load_ratio: float = Field(
        default=0.30,
        gt=0,
        le=1.0,
        description="Least load (I / I_rated) a rise is normalised at; below it the raw value is kept "
        "and marked not normalised (DL/T 664: retest at >= 30 % load).",
    )
    trend_window: int = Field(default=12, ge=3, le=500, description="Patrols the trend is fitted over.")
    trend_min_history: int = Field(
        default=8, ge=3, description="Patrols of a point needed before any trend warning."
    )
    trend_confidence: float = Field(
        default=0.95, ge=0.5, lt=1.0, description="Two-sided level of Sen's confidence interval of the slope."
    )
    trend_band_k: float = Field(
        default=3.0, gt=0, description="rising-trend: the last value beyond median + this many robust σ."
    )
    trend_step_k: float = Field(
        default=5.0, gt=0, description="step-change: a level shift of more than this many robust σ."
    )
    trend_step_confirm: int = Field(
        default=2, ge=1, description="step-change: patrols that must confirm the new level."
    )
    trend_noise_floor_k: float = Field(
        default=0.5, gt=0, description="Least robust noise σ assumed, K (patrol-to-patrol repeatability)."
    )
    trend_min_change_k: float = Field(
        default=1.0, ge=0, description="rising-trend: least fitted rise over the window worth a warning, K."
    )
    trend_horizon_days: float = Field(
        default=30.0, gt=0, description="projected-threshold: warn a crossing within this many days."
    )
    trend_horizon_patrols: int | None = Field(
        default=None, ge=1, description="projected-threshold: horizon in patrols instead (× median interval)."
    )

    @field_validator("report_templates")
    @classmethod
    def _templates_folder(cls, v: Path | None) -> Path | None:
        # a wrong folder is the operator's mistake: said once at start, not as a 422 per report
        if v is not None and not v.is_dir():
            raise ValueError("must be an existing folder of report templates")
        return v

    def resolved_database_url(self) -> str:
        """The database URL in force: the setting, or SQLite in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'irpatrol.db'}"


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment (``IRPATROL_*``) over the embedded defaults.

    ``overrides`` (field name → value) win over the environment, for tests and
    command-line options.  Raises :class:`~irpatrol.errors.SettingsError` naming
    the variable when a value is not allowed.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "?"
        raise SettingsError(
            f"IRPATROL_{name.upper()}", f"{first['msg']} (got {first.get('input')!r})"
        ) from exc
