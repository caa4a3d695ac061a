"""Options shared by several commands: measurement-parameter overrides and input expansion."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from irpatrol.errors import FileAccessError, FormatError, ParameterError
from irpatrol.formats import ThermalFile, ThermalFrame, open_thermal
from irpatrol.thermal.radiometry import celsius_to_kelvin

T = TypeVar("T")

THERMAL_SUFFIXES = {".jpg", ".jpeg", ".fff", ".seq", ".csq", ".irg", ".tif", ".tiff", ".csv", ".npy"}


workers_option = click.option(
    "--workers", type=click.IntRange(0), default=0, help="Processes for folder batches; 0 = one per core."
)
"""``--workers N`` for commands that run folder batches."""

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
"""``--json`` for machine-readable output."""


rules_option = click.option(
    "--rules",
    default=None,
    metavar="NAME|PATH",
    help="Rule pack: dlt664-2016, gbt11022, neta-mts or a YAML file "
    "(default: IRPATROL_RULES, else dlt664-2016).",
)
"""``--rules`` for commands that grade."""


def setting_or(value: T | None, name: str) -> T:
    """``value`` when the option was given, else the setting ``name`` (``IRPATROL_<NAME>`` or its default)."""
    if value is not None:
        return value
    from irpatrol.config import load_settings  # pydantic-settings: only when an option is left out

    result: T = getattr(load_settings(), name)
    return result


@dataclass(frozen=True)
class InputOptions:
    """How the CLI opens input files: the temperature scale of integer radiometric TIFFs.

    Picklable, so batch workers open files the same way.  The scale applies to TIFF
    files only, so a mixed folder can be given one ``--tiff-scale``.
    """

    tiff_scale: float | None = None
    tiff_offset_c: float | None = None

    def open(self, path: Path) -> ThermalFile:
        """Open ``path`` with these options."""
        if path.suffix.lower() in TIFF_SUFFIXES and (self.tiff_scale, self.tiff_offset_c) != (None, None):
            return open_thermal(path, tiff_scale=self.tiff_scale, tiff_offset_c=self.tiff_offset_c)
        return open_thermal(path)


TIFF_SUFFIXES = (".tif", ".tiff")


def input_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--tiff-scale --tiff-offset`` (°C = value × scale + offset for integer TIFFs)."""
    func = click.option(
        "--tiff-offset", "tiff_offset_c", type=float, help="Integer TIFFs: °C = value × scale + OFFSET."
    )(func)
    return click.option("--tiff-scale", type=float, help="Integer TIFFs: °C = value × SCALE + offset.")(func)


def override_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--emissivity --distance --reflected --atm-temp --humidity --window-temp
    --window-transmission`` to a command."""
    opts = [
        click.option(
            "--emissivity", type=click.FloatRange(0.0, 1.0, min_open=True), help="Object emissivity (0..1]."
        ),
        click.option("--distance", "distance_m", type=click.FloatRange(0.0), help="Object distance in m."),
        click.option("--reflected", "reflected_c", type=float, help="Reflected apparent temperature in °C."),
        click.option("--atm-temp", "atmospheric_c", type=float, help="Atmospheric temperature in °C."),
        click.option(
            "--humidity", "humidity_pct", type=click.FloatRange(0.0, 100.0), help="Relative humidity in %."
        ),
        click.option(
            "--window-temp", "window_c", type=float, help="IR window (or external optics) temperature in °C."
        ),
        click.option(
            "--window-transmission",
            "window_transmission",
            type=click.FloatRange(0.0, 1.0, min_open=True),
            help="IR window transmission (0..1]; 1 = no window.",
        ),
        click.option(
            "--lrf-distance",
            "lrf_distance",
            is_flag=True,
            help="DJI: object distance from the laser rangefinder (XMP, status Normal), not the file's.",
        ),
    ]
    for opt in reversed(opts):
        func = opt(func)
    return func


def overrides_from(
    *,
    emissivity: float | None,
    distance_m: float | None,
    reflected_c: float | None,
    atmospheric_c: float | None,
    humidity_pct: float | None,
    window_c: float | None = None,
    window_transmission: float | None = None,
    lrf_distance: bool = False,
) -> dict[str, float | None]:
    """CLI units (°C, %) → the library's keyword overrides (K, fraction).

    ``lrf_distance`` is carried as the key ``distance_from_lrf`` and resolved per file by
    :func:`frame_overrides` (each DJI file has its own rangefinder reading).
    """
    if lrf_distance and distance_m is not None:
        raise ParameterError("--distance", distance_m, "left out when --lrf-distance is given")
    lrf: dict[str, float | None] = {"distance_from_lrf": 1.0} if lrf_distance else {}
    return lrf | {
        "emissivity": emissivity,
        "distance_m": distance_m,
        "reflected_temp_k": None if reflected_c is None else celsius_to_kelvin(reflected_c),
        "atmospheric_temp_k": None if atmospheric_c is None else celsius_to_kelvin(atmospheric_c),
        "relative_humidity": None if humidity_pct is None else humidity_pct / 100.0,
        "window_temp_k": None if window_c is None else celsius_to_kelvin(window_c),
        "window_transmission": window_transmission,
    }


def frame_overrides(frame: ThermalFrame, overrides: dict[str, float | None]) -> dict[str, float | None]:
    """The keyword overrides for one frame: ``--lrf-distance`` becomes that file's rangefinder distance.

    Raises :class:`FormatError` (exit 3, this file) when it has no valid rangefinder reading.
    """
    if "distance_from_lrf" not in overrides:
        return overrides
    out = {k: v for k, v in overrides.items() if k != "distance_from_lrf"}
    lrf = getattr(frame, "lrf_distance_m", None)
    if not isinstance(lrf, float):
        raise FormatError(
            frame.source, "--lrf-distance: no valid laser-rangefinder reading (DJI XMP, LRFStatus Normal)"
        )
    out["distance_m"] = lrf
    return out


def expand_inputs(inputs: Iterable[str]) -> tuple[list[Path], bool]:
    """Files given, plus thermal-looking files inside given folders (sorted); True if a folder was given."""
    files: list[Path] = []
    any_dir = False
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            any_dir = True
            files.extend(
                sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in THERMAL_SUFFIXES)
            )
        elif p.exists():
            files.append(p)
        else:
            raise FileAccessError(p, "no such file or folder")
    return files, any_dir
