"""Settings in one place: defaults that run out of the box, overridable by ``IRPATROL_*``.

Library code never reads settings; the CLI (and later the server and edge agent)
builds a :class:`Settings` once and passes values down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """irpatrol settings; each field can be set by the env var ``IRPATROL_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="IRPATROL_", env_ignore_empty=True, extra="ignore")

    palette: Literal["iron", "rainbow", "gray"] = Field(
        default="iron", description="Default palette for rendered images."
    )
    workers: int = Field(
        default=0, ge=0, description="Worker processes for folder batches; 0 = one per core."
    )
    output_dir: Path = Field(
        default=Path("irpatrol-output"), description="Where the demo job writes its files."
    )
    rules: str = Field(default="dlt664-2016", description="Default rule pack for grading.")


def load_settings() -> Settings:
    """Read settings from the environment (``IRPATROL_*``) over the embedded defaults."""
    return Settings()
