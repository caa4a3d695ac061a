"""Settings in one place: defaults that run out of the box, overridable by ``IRPATROL_*``.

Library code never reads settings; the CLI (and later the server and edge agent)
builds a :class:`Settings` once and passes values down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from irpatrol.errors import SettingsError


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


def load_settings() -> Settings:
    """Read settings from the environment (``IRPATROL_*``) over the embedded defaults.

    Raises :class:`~irpatrol.errors.SettingsError` naming the variable when a value
    is not allowed.
    """
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "?"
        raise SettingsError(
            f"IRPATROL_{name.upper()}", f"{first['msg']} (got {first.get('input')!r})"
        ) from exc
