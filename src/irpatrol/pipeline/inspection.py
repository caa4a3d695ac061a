"""One image in, one typed :class:`Inspection` out: the job every front end shares.

:func:`inspect_image` reads a thermal file (a path or its bytes), converts the first frame to
°C, finds hot spots, measures the configured inspection points (re-registered against their
reference images), compares phases and grades the findings with a rule pack.  The CLI's
JSON, the server's database rows and API schemas and the reports all derive from the
returned :class:`Inspection`; nothing here writes files or renders images (see
:func:`irpatrol.report.annotate.annotate_png` for the annotated PNG).

Each graded finding is then checked for measurability (:func:`check_measurability`, rule
and tables in :mod:`irpatrol.diagnosis.measurability`): the camera's field of view (from the
file, or the per-model table) and the distance (the point's, the conditions', or the file's)
give the pixel footprint; a target smaller than 3 pixels across is flagged
``below-measurable-size`` and a point on bare or polished metal ``low-emissivity-material``,
both with their numbers as note parameters and the grade marked tentative.

Errors: :class:`~irpatrol.errors.FormatError` subclasses for a bad file,
:class:`~irpatrol.errors.FileAccessError` when it cannot be read,
:class:`~irpatrol.errors.ParameterError` for bad arguments; anything else is a bug (see
:func:`irpatrol.errors.failure_kind`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any

import numpy as np

from irpatrol.diagnosis.analysis import Assessment, FrameAnalysis, analyze_frame
from irpatrol.diagnosis.measurability import (
    MATERIAL_FLAG,
    SIZE_FLAG,
    HotArea,
    Optics,
    camera_model,
    check_size,
    footprint_mm,
    hot_area,
    material,
    material_params,
    min_pixels,
    with_flag,
)
from irpatrol.diagnosis.points import InspectionPoint
from irpatrol.diagnosis.rulepack import RulePack
from irpatrol.errors import ParameterError
from irpatrol.formats import CameraIdentity, GeoPosition, ThermalFile, open_thermal
from irpatrol.formats.base import FrameInfo, ThermalFrame
from irpatrol.formats.selection import FrameSelection
from irpatrol.pipeline.texts import LANGUAGES, bilingual_texts, render_finding_texts
from irpatrol.thermal.radiometry import Thermogram

TIFF_MAGICS = (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")
TIFF_SUFFIXES = (".tif", ".tiff")

ReferenceLoader = Callable[[str], Thermogram]
"""Resolves a point's ``reference_image`` name to the reference frame's thermogram."""


def _check_number(name: str, value: float | None, *, low: float, high: float = math.inf,
                  low_open: bool = False, unit: str = "") -> None:  # fmt: skip
    if value is None:
        return
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and value <= high
    if not ok:
        bound = f"> {low:g}" if low_open else f"≥ {low:g}"
        if math.isfinite(high):
            bound += f" and ≤ {high:g}"
        raise ParameterError(name, value, f"a finite number {bound}{unit}")


@dataclass(frozen=True, kw_only=True)
class Conditions:
    """Everything about the moment of capture that grading needs.

    ``ambient_c`` is the ambient temperature (°C) used where a point has no ambient region or
    value; ``load_ratio`` the present / rated load (current-heating parts are graded
    tentatively below the pack's minimum, and it is reported); ``load_exponent`` n in
    ΔT·(I_rated/I)^n; ``humidity_pct`` (relative humidity, %) and ``wind_ms`` (m/s) are
    checked against the rule pack's environment limits where it has them.  ``distance_m``
    (m) is the camera-to-target distance for the measurability check where a point gives
    none; it overrides the file's object distance (it does not change the temperatures).
    """

    ambient_c: float | None = None
    load_ratio: float | None = None
    load_exponent: float = 2.0
    humidity_pct: float | None = None
    wind_ms: float | None = None
    distance_m: float | None = None

    def __post_init__(self) -> None:
        _check_number("ambient_c", self.ambient_c, low=-273.15, unit=" °C")
        _check_number("load_ratio", self.load_ratio, low=0.0, low_open=True, unit=" (present / rated load)")
        _check_number("load_exponent", self.load_exponent, low=0.1, high=4.0)
        _check_number("humidity_pct", self.humidity_pct, low=0.0, high=100.0, unit=" %")
        _check_number("wind_ms", self.wind_ms, low=0.0, unit=" m/s")
        _check_number("distance_m", self.distance_m, low=0.0, low_open=True, unit=" m")

    def to_dict(self) -> dict[str, float | None]:
        """JSON-ready dict (°C, ratio, exponent, %, m/s, m)."""
        return {
            "ambient_c": self.ambient_c,
            "load_ratio": self.load_ratio,
            "load_exponent": self.load_exponent,
            "humidity_pct": self.humidity_pct,
            "wind_ms": self.wind_ms,
            "distance_m": self.distance_m,
        }


@dataclass(frozen=True, kw_only=True, eq=False)
class Inspection:
    """What one image showed: file facts, temperatures, hot spots, findings.

    ``name`` labels the image (file name or the caller's name for bytes); ``format_name`` is
    the reader's id (``"flir-rjpeg"`` ...); ``width``/``height`` in px; ``camera``,
    ``taken_at`` and ``gps`` come from the file (``None`` where it has none); ``emissivity``
    and ``distance_m`` (m) are the measurement parameters the conversion used (``None`` for
    formats that store temperatures).  ``thermogram`` keeps the °C frame and its validity
    mask for renderers; it is not part of :meth:`to_dict`.  ``min_c``/``max_c``/``mean_c``
    are over valid pixels (``None`` when there is none).  ``rule_pack`` and
    ``rule_pack_version`` name the pack graded with (``None``: not graded).  ``optics`` is
    the camera's field of view used for the measurability checks (``None``: unknown),
    ``target_distance_m`` the camera-to-target distance (m) they use where a point gives none
    and ``distance_source`` where it came from (``"conditions"``, ``"laser-rangefinder"``,
    ``"file"``; ``None`` without one).

    Not comparable with ``==`` (it holds arrays); compare :meth:`to_dict` results.
    """

    name: str
    format_name: str
    width: int
    height: int
    camera: CameraIdentity
    taken_at: datetime | None
    gps: GeoPosition | None
    emissivity: float | None
    distance_m: float | None
    thermogram: Thermogram = field(repr=False)
    analysis: FrameAnalysis = field(repr=False)
    min_c: float | None
    max_c: float | None
    mean_c: float | None
    rule_pack: str | None
    rule_pack_version: str | None
    conditions: Conditions
    warnings: tuple[str, ...] = ()
    frame_index: int = 0
    """Index of the frame in its file (0 for single images; sequences count from 0)."""
    optics: Optics | None = None
    target_distance_m: float | None = None
    distance_source: str | None = None

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        """JSON-ready dict: the keys ``irpatrol analyze --json`` emits per image, plus file facts.

        With ``lang`` ``"zh"`` or ``"en"`` each graded finding carries ``explanation`` and
        ``recommendation`` in that language; with ``None`` both languages
        (``explanation_zh``, ``explanation_en``, ``recommendation_zh``, ``recommendation_en``).
        """
        if lang is not None and lang not in LANGUAGES:
            raise ParameterError("lang", lang, f"None or one of {', '.join(LANGUAGES)}")
        analysis = self.analysis.to_dict()
        for entry in analysis["findings"]:
            facts = entry.get("finding")
            if facts is None:
                continue
            if lang is None:
                facts.update(bilingual_texts(facts))
            else:
                facts.update(render_finding_texts(facts, lang))
        cam = self.camera
        gps = self.gps
        return {
            "file": self.name,
            "frame": self.frame_index,
            "format": self.format_name,
            "width": self.width,
            "height": self.height,
            "camera": {
                "make": cam.make,
                "model": cam.model,
                "serial": cam.serial,
                "lens": cam.lens,
                "software": cam.software,
            },
            "taken_at": self.taken_at.isoformat() if self.taken_at is not None else None,
            "gps": (
                {
                    "latitude_deg": gps.latitude_deg,
                    "longitude_deg": gps.longitude_deg,
                    "altitude_m": gps.altitude_m,
                }
                if gps is not None
                else None
            ),
            "emissivity": self.emissivity,
            "distance_m": self.distance_m,
            "min_c": _rounded(self.min_c),
            "max_c": _rounded(self.max_c),
            "mean_c": _rounded(self.mean_c),
            "rule_pack": self.rule_pack,
            "rule_pack_version": self.rule_pack_version,
            "conditions": self.conditions.to_dict(),
            "warnings": list(self.warnings),
            "measurability": self._measurability(),
            **analysis,
        }

    def _measurability(self) -> dict[str, Any]:
        """The camera's IFOV, the distance and what one pixel covers there (mrad, m, mm)."""
        out: dict[str, Any] = {"fov_deg": None, "width_px": None, "ifov_mrad": None, "fov_source": None}
        if self.optics is not None:
            out.update(self.optics.to_dict())
        pixel = None
        if self.optics is not None and self.target_distance_m is not None:
            pixel = footprint_mm(self.optics.ifov_mrad, self.target_distance_m)
        spot = min_pixels()
        out.update(
            distance_m=self.target_distance_m,
            distance_source=self.distance_source,
            pixel_mm=_rounded(pixel),
            min_pixels=spot,
            min_measurable_mm=_rounded(spot * pixel) if pixel is not None else None,
        )
        return out


def _rounded(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def _is_tiff(source: str | bytes | bytearray | memoryview, name: str) -> bool:
    """A TIFF by its magic (bytes) or by the suffix of its path or name."""
    if not isinstance(source, str):
        return bytes(source[:4]) in TIFF_MAGICS
    return PurePath(name).suffix.lower() in TIFF_SUFFIXES or PurePath(source).suffix.lower() in TIFF_SUFFIXES


def open_source(
    source: str | os.PathLike[str] | bytes,
    *,
    name: str | None = None,
    tiff_scale: float | None = None,
    tiff_offset_c: float | None = None,
) -> ThermalFile:
    """Open a path or bytes; the TIFF scale options apply to TIFF files only (ignored otherwise).

    ``name`` labels bytes in error messages (default ``"<bytes>"``).
    """
    opts: dict[str, Any] = {}
    if isinstance(source, bytes | bytearray | memoryview):
        label = name or "<bytes>"
        if (tiff_scale, tiff_offset_c) != (None, None) and _is_tiff(source, label):
            opts = {"tiff_scale": tiff_scale, "tiff_offset_c": tiff_offset_c}
        return open_thermal(bytes(source), name=label, **opts)
    path = os.fspath(source)
    if (tiff_scale, tiff_offset_c) != (None, None) and _is_tiff(path, name or path):
        opts = {"tiff_scale": tiff_scale, "tiff_offset_c": tiff_offset_c}
    return open_thermal(path, **opts)


def load_thermogram(
    source: str | os.PathLike[str] | bytes,
    *,
    name: str | None = None,
    tiff_scale: float | None = None,
    tiff_offset_c: float | None = None,
) -> Thermogram:
    """The first frame of a file (path or bytes) in °C with its validity mask."""
    with open_source(source, name=name, tiff_scale=tiff_scale, tiff_offset_c=tiff_offset_c) as tf:
        return tf.first_frame().thermogram()


@dataclass(frozen=True)
class ReferenceFolder:
    """A picklable :data:`ReferenceLoader`: reference names resolve relative to ``folder``.

    Absolute names are used as they are.  This is how the CLI resolves a points file's
    ``reference_image`` (relative to the points file); a server resolves from its own store.
    """

    folder: Path
    tiff_scale: float | None = None
    tiff_offset_c: float | None = None

    def __call__(self, reference: str) -> Thermogram:
        """The reference image's first frame in °C."""
        path = Path(reference)
        if not path.is_absolute():
            path = self.folder / path
        return load_thermogram(path, tiff_scale=self.tiff_scale, tiff_offset_c=self.tiff_offset_c)


def _stats(t: Thermogram) -> tuple[float | None, float | None, float | None]:
    values = t.celsius[t.valid & np.isfinite(t.celsius)]
    if values.size == 0:
        return None, None, None
    return float(values.min()), float(values.max()), float(values.mean(dtype=np.float64))


def inspect_image(
    source: str | os.PathLike[str] | bytes,
    *,
    name: str | None = None,
    points: Sequence[InspectionPoint] | None = (),
    pack: RulePack | None,
    conditions: Conditions = Conditions(),  # frozen, so a shared default is safe
    reference_loader: ReferenceLoader | None = None,
    tiff_scale: float | None = None,
    tiff_offset_c: float | None = None,
) -> Inspection:
    """Inspect one thermal image: read → °C → hot spots and points → compare → grade.

    Parameters
    ----------
    source : path or bytes
        The image file, or its content.
    name : str, optional
        Labels the image in results and messages; its base name is matched against the
        points' ``images`` patterns.  Default: the path's file name, or ``"<bytes>"``.
    points : sequence of InspectionPoint, optional
        The inspection points selected for this image (those whose ``images`` patterns do not
        match ``name`` are skipped); ``None`` or empty is automatic mode: the top hot spots
        are compared with automatically chosen references.
    pack : RulePack or None
        Rule pack to grade with; ``None`` compares without grading.
    conditions : Conditions
        Ambient temperature, load, humidity and wind at capture.
    reference_loader : callable, optional
        Resolves a point's ``reference_image`` to a thermogram; called once per name.  Without
        one, points with a reference image are flagged ``reference-missing`` and not graded.
    tiff_scale, tiff_offset_c : float, optional
        For integer TIFFs: °C = value × scale + offset (ignored for other formats).

    Returns
    -------
    Inspection
        Typed results; ``Inspection.to_dict()`` is the JSON form.
    """
    label = _label(source, name)
    with open_source(source, name=label, tiff_scale=tiff_scale, tiff_offset_c=tiff_offset_c) as tf:
        frame = tf.first_frame()
        selected, references = _select(label, points, reference_loader)
        return _inspect_frame(
            frame,
            frame.thermogram(),
            label=label,
            format_name=tf.format_name,
            selected=selected,
            references=references,
            pack=pack,
            conditions=conditions,
            index=0,
        )


def inspect_frames(
    source: str | os.PathLike[str] | bytes,
    *,
    frames: FrameSelection = FrameSelection(),  # noqa: B008  (frozen, immutable default)
    name: str | None = None,
    points: Sequence[InspectionPoint] | None = (),
    pack: RulePack | None,
    conditions: Conditions = Conditions(),  # frozen, so a shared default is safe
    reference_loader: ReferenceLoader | None = None,
) -> Iterator[Inspection]:
    """Inspect the frames of a sequence (SEQ, CSQ) one at a time, as :func:`inspect_image` does one image.

    ``frames`` picks frames by index or by time (:class:`~irpatrol.formats.selection.FrameSelection`).
    Nothing is kept between frames, so memory stays bounded however long the recording;
    points and references are resolved once.  A single image is a sequence of one frame.
    A damaged frame ends the iteration with :class:`~irpatrol.errors.DamagedFrameError`
    after every complete frame before it was yielded.
    """
    label = _label(source, name)
    with open_source(source, name=label) as tf:
        selected, references = _select(label, points, reference_loader)
        for frame in frames.pick(tf.frames()):
            yield _inspect_frame(
                frame,
                frame.thermogram(),
                label=label,
                format_name=tf.format_name,
                selected=selected,
                references=references,
                pack=pack,
                conditions=conditions,
                index=frame.index,
            )


def _label(source: str | os.PathLike[str] | bytes, name: str | None) -> str:
    if isinstance(source, bytes | bytearray | memoryview):
        return name or "<bytes>"
    return name or Path(source).name


def _select(
    label: str, points: Sequence[InspectionPoint] | None, reference_loader: ReferenceLoader | None
) -> tuple[tuple[InspectionPoint, ...], dict[str, Thermogram]]:
    """The points whose ``images`` patterns match the label, and their reference frames."""
    base_name = PurePath(label).name
    selected = tuple(p for p in points or () if p.applies_to(base_name))
    references: dict[str, Thermogram] = {}
    if reference_loader is not None:
        for p in selected:
            if p.reference_image and p.reference_image not in references:
                references[p.reference_image] = reference_loader(p.reference_image)
    return selected, references


def _inspect_frame(
    frame: ThermalFrame,
    thermogram: Thermogram,
    *,
    label: str,
    format_name: str,
    selected: tuple[InspectionPoint, ...],
    references: dict[str, Thermogram],
    pack: RulePack | None,
    conditions: Conditions,
    index: int,
) -> Inspection:
    info = frame.info
    params = frame.calibration.params if frame.has_raw and frame.calibration is not None else None
    analysis = analyze_frame(
        thermogram,
        points=selected,
        references=references,
        pack=pack,
        ambient_c=conditions.ambient_c,
        load_ratio=conditions.load_ratio,
        load_exponent=conditions.load_exponent,
        wind_m_s=conditions.wind_ms,
        humidity_pct=conditions.humidity_pct,
    )
    rows, cols = thermogram.celsius.shape
    optics = camera_optics(info, int(cols))
    distance, distance_source = target_distance(info, params, conditions)
    emissivity = params.emissivity if params is not None else _extra_number(info, "dji_emissivity")
    analysis = check_measurability(
        analysis,
        thermogram,
        selected,
        optics=optics,
        distance_m=distance,
        distance_source=distance_source,
        emissivity=emissivity,
    )
    min_c, max_c, mean_c = _stats(thermogram)
    return Inspection(
        name=label,
        format_name=format_name,
        width=int(cols),
        height=int(rows),
        camera=info.camera,
        taken_at=info.captured_at,
        gps=info.gps,
        emissivity=params.emissivity if params is not None else None,
        distance_m=params.distance_m if params is not None else None,
        thermogram=thermogram,
        analysis=analysis,
        min_c=min_c,
        max_c=max_c,
        mean_c=mean_c,
        rule_pack=pack.name if pack is not None else None,
        rule_pack_version=pack.version if pack is not None else None,
        conditions=conditions,
        warnings=info.warnings,
        frame_index=index,
        optics=optics,
        target_distance_m=distance,
        distance_source=distance_source,
    )


def _extra_number(info: FrameInfo, key: str) -> float | None:
    value = info.extra.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value > 0 else None


def camera_optics(info: FrameInfo, width_px: int) -> Optics | None:
    """The camera's horizontal field of view across ``width_px`` pixels, ``None`` if unknown.

    From the file where it carries one (FLIR CameraInfo ``field_of_view_deg``), else from the
    per-model table of :mod:`irpatrol.diagnosis.measurability` (DJI) when the frame has the
    table's width.
    """
    fov = _extra_number(info, "field_of_view_deg")
    if fov is not None and fov < 180:
        return Optics(fov_deg=fov, width_px=width_px, source="file")
    cam = camera_model(info.camera.make, info.camera.model)
    if cam is not None and cam.width_px == width_px:
        return Optics(fov_deg=cam.hfov_deg, width_px=width_px, source="table")
    return None


def target_distance(info: FrameInfo, params: Any, conditions: Conditions) -> tuple[float | None, str | None]:
    """Camera-to-target distance (m) and its source for the measurability checks.

    ``conditions.distance_m`` first, then a DJI laser-rangefinder reading (status Normal),
    then the file's object distance (FLIR CameraInfo, DJI parameters).  A point's own
    ``distance_m`` overrides all of them (:func:`check_measurability`).
    """
    if conditions.distance_m is not None:
        return conditions.distance_m, "conditions"
    lrf = _extra_number(info, "lrf_distance_m")
    if lrf is not None and str(info.extra.get("lrf_status", "")).casefold() == "normal":
        return lrf, "laser-rangefinder"
    file_distance = getattr(params, "distance_m", None)
    if isinstance(file_distance, int | float) and math.isfinite(file_distance) and file_distance > 0:
        return float(file_distance), "file"
    dji = _extra_number(info, "dji_distance_m")
    return (dji, "file") if dji is not None else (None, None)


def _target_area(
    a: Assessment, analysis: FrameAnalysis, thermogram: Thermogram, point: InspectionPoint | None
) -> HotArea | None:
    """The hot area around T1's pixel (half its excess over T2, T0 or the ring background)."""
    spots = analysis.hotspots
    cmp = a.comparison
    if cmp is None:
        return None
    if point is None:
        spot = next((s for s in spots.spots if f"spot {s.rank}" == cmp.hot_label), None)
        if spot is None:
            return None
        peak_xy, reference = spot.peak_xy, spot.background_c
    else:
        region = next(
            (r for r in analysis.regions if r.point_id == point.id and r.name == cmp.hot_label), None
        )
        if region is None or region.stats.max_xy is None:
            return None
        peak_xy = region.stats.max_xy
        reference = next((x for x in (cmp.t2_c, cmp.t0_c) if x is not None), spots.background_c)
    return hot_area(thermogram.celsius, thermogram.valid, peak_xy, reference)


def check_measurability(
    analysis: FrameAnalysis,
    thermogram: Thermogram,
    points: Sequence[InspectionPoint] = (),
    *,
    optics: Optics | None,
    distance_m: float | None,
    distance_source: str | None = None,
    emissivity: float | None = None,
) -> FrameAnalysis:
    """``analysis`` with the measurability flags on its findings (see the module docstring).

    Size: a point's ``target_mm`` against 3 × the pixel footprint at the distance (the
    point's ``distance_m``, else ``distance_m`` here), otherwise the hot area seen around T1
    against 3 pixels.  Material: a point whose ``material`` class has low emissivity.  A
    flagged finding gets the flag, a note with the numbers and (per the table) a tentative
    grade; an ungraded assessment gets the flag only.  Measurable targets are left unchanged.
    """
    by_id = {p.id: p for p in points}
    out = []
    for a in analysis.assessments:
        point = by_id.get(a.subject)
        flagged: list[tuple[str, dict[str, Any], bool]] = []
        distance, source = distance_m, distance_source
        if point is not None and point.distance_m is not None:
            distance, source = point.distance_m, "point"
        if point is not None and point.target_mm is not None:
            size = check_size(
                optics=optics, distance_m=distance, distance_source=source, target_mm=point.target_mm
            )
        else:
            area = _target_area(a, analysis, thermogram, point)
            size = check_size(optics=optics, distance_m=distance, distance_source=source, area=area)
        if size is not None and not size.measurable:
            flagged.append((SIZE_FLAG, size.params(), True))
        if point is not None and point.material is not None:
            cls = material(point.material)
            if cls.low_emissivity:
                flagged.append((MATERIAL_FLAG, material_params(cls, emissivity), cls.tentative))
        finding = a.finding
        flags = a.flags
        for flag, facts, tentative in flagged:
            if finding is not None:
                finding = with_flag(finding, flag, facts, tentative=tentative)
            elif flag not in flags:
                flags = (*flags, flag)
        out.append(a if not flagged else replace(a, finding=finding, flags=flags))
    return replace(analysis, assessments=tuple(out))


__all__ = [
    "Conditions",
    "Inspection",
    "ReferenceFolder",
    "ReferenceLoader",
    "camera_optics",
    "check_measurability",
    "inspect_frames",
    "inspect_image",
    "load_thermogram",
    "open_source",
    "target_distance",
]
