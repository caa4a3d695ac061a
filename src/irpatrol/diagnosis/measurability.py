"""Measurability of a finding: is the hot target big enough, is the surface's emissivity usable.

A thermal camera measures a target's temperature correctly only when the target fills
several pixels; a smaller one is averaged with its cooler surroundings and reads low, so a
real defect can be graded too mildly.  Low-emissivity surfaces (bare or polished metal)
reflect their surroundings and read wrongly whatever emissivity is set.  This module
computes both checks from plain numbers; :mod:`irpatrol.pipeline.inspection` supplies the
camera's field of view and the distance from the file (see ``docs/measurability.md``).

Spatial rule (units in the names):

* IFOV (mrad) = FOV (rad) / pixels across × 1000: the angle one pixel subtends (the mean
  over the frame; ≈ pixel pitch / focal length);
* pixel footprint (mm) = IFOV (mrad) × distance (m): 1 mrad at 1 m is 1 mm;
* smallest measurable target (mm) = ``min_pixels`` × footprint, ``min_pixels`` = 3 (the
  3 × 3-pixel measurement spot of common practice, :data:`MIN_PIXELS`).

The target is either the part's configured smallest dimension (``target_mm`` of a point:
compared with the smallest measurable size at the distance) or, without one, the hot area
seen in the image: the 8-connected pixels around T1's pixel at or above half of its excess
over the reference (T2 for a configured point, the ring background for a hot spot), measured
by the smaller side of its bounding box in pixels (compared with ``min_pixels``; the distance
only converts it to mm).  An excess below :data:`MIN_EXCESS_K` has no distinct hot area and
is not checked.

>>> round(ifov_mrad(25.0, 640), 3), round(footprint_mm(ifov_mrad(25.0, 640), 12.0), 2)
(0.682, 8.18)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from irpatrol.diagnosis.grading import Finding, Note, NoteValue
from irpatrol.errors import ParameterError

MIN_EXCESS_K = 2.0
"""Below this excess of T1 over its reference (K) there is no distinct hot area to size."""

SIZE_FLAG = "below-measurable-size"
"""Flag of a finding whose target is smaller than the camera can measure at its distance."""
MATERIAL_FLAG = "low-emissivity-material"
"""Flag of a finding on a surface whose emissivity makes the reading unreliable."""

_EIGHT = np.ones((3, 3), dtype=bool)


@cache
def _table() -> dict[str, Any]:
    text = resources.files("irpatrol.diagnosis").joinpath("measurability.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def min_pixels() -> int:
    """Pixels across the smallest measurable target (the table's ``measurement_spot``)."""
    return int(_table()["measurement_spot"]["min_pixels"])


MIN_PIXELS = min_pixels()
"""The measurement-spot rule: a target must cover 3 pixels across (3 × 3 px)."""


@dataclass(frozen=True, kw_only=True)
class CameraModel:
    """A camera of the table: horizontal FOV (deg) across ``width_px`` pixels, and where from."""

    make: str
    model: str
    name: str
    width_px: int
    height_px: int
    pixel_pitch_um: float
    focal_length_mm: float
    hfov_deg: float
    source: str
    verification: str


def camera_models() -> tuple[CameraModel, ...]:
    """Every camera of the table (for files without a field-of-view field)."""
    return tuple(
        CameraModel(**{k: c[k] for k in CameraModel.__dataclass_fields__}) for c in _table()["cameras"]
    )


def camera_model(make: str | None, model: str | None) -> CameraModel | None:
    """The table's entry for a camera make and model (case-insensitive), ``None`` if not listed."""
    if not model:
        return None
    for cam in camera_models():
        if cam.model.casefold() == model.strip().casefold() and (
            make is None or make.strip().casefold().startswith(cam.make.casefold())
        ):
            return cam
    return None


@dataclass(frozen=True, kw_only=True)
class MaterialClass:
    """A surface class: names, typical emissivity range and whether readings on it are unreliable."""

    id: str
    name_zh: str
    name_en: str
    emissivity_min: float
    emissivity_max: float
    low_emissivity: bool
    tentative: bool


def materials() -> dict[str, MaterialClass]:
    """The material classes of the table by id (``painted``, ``bare_metal`` ...)."""
    out = {}
    for mid, m in _table()["materials"].items():
        lo, hi = m["emissivity"]
        out[mid] = MaterialClass(
            id=mid,
            name_zh=m["name"]["zh"],
            name_en=m["name"]["en"],
            emissivity_min=float(lo),
            emissivity_max=float(hi),
            low_emissivity=bool(m["low_emissivity"]),
            tentative=bool(m["tentative"]),
        )
    return out


def material(material_id: str) -> MaterialClass:
    """One material class; :class:`ParameterError` names the known ones for another id."""
    table = materials()
    if material_id not in table:
        raise ParameterError("material", material_id, f"one of {', '.join(table)}")
    return table[material_id]


def ifov_mrad(fov_deg: float, pixels: int) -> float:
    """Instantaneous field of view (mrad): ``fov_deg`` (deg) over ``pixels`` across it."""
    if not (isinstance(fov_deg, int | float) and math.isfinite(fov_deg) and 0 < fov_deg < 180):
        raise ParameterError("fov_deg", fov_deg, "a field of view in (0, 180) deg")
    if not (isinstance(pixels, int) and pixels > 0):
        raise ParameterError("pixels", pixels, "a positive number of pixels")
    return math.radians(fov_deg) / pixels * 1000.0


def footprint_mm(ifov: float, distance_m: float) -> float:
    """What one pixel covers (mm) at ``distance_m`` (m) for an IFOV ``ifov`` (mrad)."""
    if not (math.isfinite(distance_m) and distance_m > 0):
        raise ParameterError("distance_m", distance_m, "a distance > 0 m")
    return ifov * distance_m


@dataclass(frozen=True, kw_only=True)
class Optics:
    """The camera's horizontal field of view (deg) across ``width_px``; ``source`` ``file`` or ``table``."""

    fov_deg: float
    width_px: int
    source: str

    @property
    def ifov_mrad(self) -> float:
        """IFOV (mrad), see :func:`ifov_mrad`."""
        return ifov_mrad(self.fov_deg, self.width_px)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: FOV (deg), width (px), IFOV (mrad), source."""
        return {
            "fov_deg": round(self.fov_deg, 4),
            "width_px": self.width_px,
            "ifov_mrad": round(self.ifov_mrad, 4),
            "fov_source": self.source,
        }


@dataclass(frozen=True, kw_only=True)
class HotArea:
    """The half-maximum hot area around T1's pixel: bounding box sides and area (px), level (°C)."""

    width_px: int
    height_px: int
    area_px: int
    level_c: float

    @property
    def size_px(self) -> int:
        """The target size in pixels: the smaller side of the bounding box."""
        return min(self.width_px, self.height_px)


def hot_area(
    celsius: npt.NDArray[np.floating],
    valid: npt.NDArray[np.bool_],
    peak_xy: tuple[int, int],
    reference_c: float,
    *,
    min_excess_k: float = MIN_EXCESS_K,
) -> HotArea | None:
    """The connected pixels around ``peak_xy`` at or above half its excess over ``reference_c``.

    ``None`` when the peak is invalid or less than ``min_excess_k`` (K) above the reference.

    >>> t = np.full((9, 9), 20.0); t[3:6, 3:5] = 40.0
    >>> hot_area(t, np.ones_like(t, bool), (3, 3), 20.0)
    HotArea(width_px=2, height_px=3, area_px=6, level_c=30.0)
    """
    x, y = peak_xy
    peak = float(celsius[y, x])
    if not (valid[y, x] and math.isfinite(peak) and math.isfinite(reference_c)):
        return None
    if peak - reference_c < min_excess_k:
        return None
    from scipy import ndimage  # here: points files and the CLI import this module, scipy loads slowly

    level = reference_c + (peak - reference_c) / 2.0
    with np.errstate(invalid="ignore"):
        mask = valid & (celsius >= level)
    labels, _ = ndimage.label(mask, structure=_EIGHT)
    ys, xs = np.nonzero(labels == labels[y, x])
    return HotArea(
        width_px=int(xs.max() - xs.min() + 1),
        height_px=int(ys.max() - ys.min() + 1),
        area_px=int(xs.size),
        level_c=level,
    )


@dataclass(frozen=True, kw_only=True)
class SizeCheck:
    """One target against the measurement-spot rule.

    ``target_source`` is ``configured`` (the point's ``target_mm``) or ``image`` (the hot
    area's smaller side, ``target_px``).  Lengths in mm, distance in m, IFOV in mrad; the mm
    values are ``None`` when the distance or the field of view is unknown.
    """

    target_source: str
    target_px: float | None
    target_mm: float | None
    pixel_mm: float | None
    ifov_mrad: float | None
    distance_m: float | None
    distance_source: str | None
    min_pixels: int
    min_measurable_mm: float | None

    @property
    def measurable(self) -> bool:
        """True unless the target is known to be below the smallest measurable size."""
        if self.target_source == "configured":
            target, minimum = self.target_mm, self.min_measurable_mm
            assert target is not None
            assert minimum is not None
            return target >= minimum or math.isclose(target, minimum)
        return self.target_px is None or self.target_px >= self.min_pixels

    def params(self) -> dict[str, NoteValue]:
        """Note parameters (rounded: mm to 0.01, mrad to 0.001)."""

        def r(x: float | None, nd: int) -> float | None:
            return None if x is None else round(x, nd)

        return {
            "target_source": self.target_source,
            "target_mm": r(self.target_mm, 2),
            "target_px": r(self.target_px, 2),
            "pixel_mm": r(self.pixel_mm, 3),
            "ifov_mrad": r(self.ifov_mrad, 4),
            "distance_m": self.distance_m,
            "distance_source": self.distance_source,
            "min_pixels": self.min_pixels,
            "min_measurable_mm": r(self.min_measurable_mm, 2),
        }


def check_size(
    *,
    optics: Optics | None,
    distance_m: float | None,
    distance_source: str | None = None,
    target_mm: float | None = None,
    area: HotArea | None = None,
    min_pixels: int = MIN_PIXELS,
) -> SizeCheck | None:
    """The size check of one target; ``None`` when it cannot be made.

    A configured ``target_mm`` needs the optics and the distance; otherwise the image's hot
    ``area`` is checked in pixels (and converted to mm where optics and distance are known).
    """
    ifov = optics.ifov_mrad if optics is not None else None
    pixel = footprint_mm(ifov, distance_m) if ifov is not None and distance_m is not None else None
    minimum = min_pixels * pixel if pixel is not None else None
    if target_mm is not None:
        if pixel is None:
            return None
        return SizeCheck(
            target_source="configured", target_px=target_mm / pixel, target_mm=target_mm, pixel_mm=pixel,
            ifov_mrad=ifov, distance_m=distance_m, distance_source=distance_source,
            min_pixels=min_pixels, min_measurable_mm=minimum,
        )  # fmt: skip
    if area is None:
        return None
    size = area.size_px
    return SizeCheck(
        target_source="image", target_px=size, target_mm=size * pixel if pixel is not None else None,
        pixel_mm=pixel, ifov_mrad=ifov, distance_m=distance_m, distance_source=distance_source,
        min_pixels=min_pixels, min_measurable_mm=minimum,
    )  # fmt: skip


def material_params(cls: MaterialClass, emissivity: float | None) -> dict[str, NoteValue]:
    """Note parameters of a low-emissivity warning: the class, its range, the emissivity used."""
    return {
        "material": cls.id,
        "name_zh": cls.name_zh,
        "name_en": cls.name_en,
        "emissivity": None if emissivity is None else round(emissivity, 3),
        "emissivity_min": cls.emissivity_min,
        "emissivity_max": cls.emissivity_max,
        "tentative": cls.tentative,
    }


def with_flag(finding: Finding, flag: str, params: Mapping[str, NoteValue], *, tentative: bool) -> Finding:
    """``finding`` with ``flag``, its note (code = flag) and, if ``tentative``, a tentative grade."""
    if flag in finding.flags:
        return finding
    return replace(
        finding,
        flags=(*finding.flags, flag),
        notes=(*finding.notes, Note.of(flag, **params)),
        tentative=finding.tentative or tentative,
    )


__all__ = [
    "MATERIAL_FLAG",
    "MIN_EXCESS_K",
    "MIN_PIXELS",
    "SIZE_FLAG",
    "CameraModel",
    "HotArea",
    "MaterialClass",
    "Optics",
    "SizeCheck",
    "camera_model",
    "camera_models",
    "check_size",
    "footprint_mm",
    "hot_area",
    "ifov_mrad",
    "material",
    "material_params",
    "materials",
    "min_pixels",
    "with_flag",
]
