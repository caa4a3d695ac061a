"""One frame in, hot spots + measured regions + comparisons + findings out (pure).

:func:`analyze_frame` is what ``irpatrol analyze`` runs per image:

* hot spots by :func:`~irpatrol.diagnosis.hotspots.find_hotspots` (sky excluded, ranked
  by local excess over their own structure; ``to_dict`` says so in ``ranked_by`` and
  gives ``sky_fraction`` and ``mostly_sky``);
* for each configured inspection point: re-register against its reference frame
  when it has one (a failed alignment is flagged and *not graded*), measure the
  phase and ambient regions, compare phases (T1/T2/T0, ΔT, δ) and grade;
* without points: the top hot spots are compared with an automatically chosen
  reference (similar structure or background, stated in the result) and graded
  as ``default_part``.

Grading uses a rule pack from :mod:`irpatrol.diagnosis.grading`; with
``pack=None`` comparisons are made but nothing is graded.  Nothing here reads
files: reference frames are passed in as thermograms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from irpatrol.diagnosis.compare import Comparison, auto_reference, compare_phases
from irpatrol.diagnosis.grading import Finding, Reading, grade
from irpatrol.diagnosis.hotspots import HotSpotResult, find_hotspots
from irpatrol.diagnosis.points import InspectionPoint
from irpatrol.diagnosis.registration import Alignment, register_frames
from irpatrol.diagnosis.rulepack import RulePack
from irpatrol.errors import ParameterError
from irpatrol.thermal.measure import Region, RegionStats, measure_region
from irpatrol.thermal.radiometry import Thermogram

REFERENCE_REACH = 8.0
"""Unconfigured T2: a similar spot at most this many spot sizes away (the parallel phase)."""
REFERENCE_BACKGROUND_K = 5.0
"""Unconfigured T2: on a structure whose ring background is within this many kelvin."""


@dataclass(frozen=True, kw_only=True)
class RegionResult:
    """A measured region: which point and role (phase id or ``"ambient"``), where, and its stats."""

    point_id: str
    name: str
    region: Region
    stats: RegionStats

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready dict."""
        return {
            "point": self.point_id,
            "name": self.name,
            "shape": region_to_dict(self.region),
            **self.stats.to_dict(),
        }


@dataclass(frozen=True, kw_only=True)
class Assessment:
    """A comparison and its grading for one inspection point or one hot spot.

    ``finding`` is ``None`` when nothing was graded (no rule pack, alignment
    failed, no valid pixels); ``flags`` say why.
    """

    subject: str
    device: str
    part: str
    heating_type: str
    comparison: Comparison | None
    finding: Finding | None
    flags: tuple[str, ...] = ()
    alignment: Alignment | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        out: dict[str, Any] = {
            "subject": self.subject,
            "device": self.device,
            "part": self.part,
            "heating_type": self.heating_type,
            "comparison": self.comparison.to_dict() if self.comparison else None,
            "finding": self.finding.to_dict() if self.finding is not None else None,
            "flags": list(self.flags),
        }
        if self.alignment is not None:
            out["alignment"] = self.alignment.to_dict()
        return out


@dataclass(frozen=True, kw_only=True)
class FrameAnalysis:
    """Everything found in one frame."""

    hotspots: HotSpotResult
    regions: tuple[RegionResult, ...]
    assessments: tuple[Assessment, ...]
    n_pixels: int
    n_excluded: int

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        hs = self.hotspots
        return {
            "background_c": round(hs.background_c, 2),
            "noise_k": round(hs.noise_k, 3),
            "n_pixels": self.n_pixels,
            "n_excluded": self.n_excluded,
            "sky_fraction": round(hs.sky_fraction, 4),
            "mostly_sky": hs.mostly_sky,
            "ranked_by": hs.ranked_by,
            "hotspots": [s.to_dict() for s in hs.spots],
            "regions": [r.to_dict() for r in self.regions],
            "findings": [a.to_dict() for a in self.assessments],
        }


def region_to_dict(region: Region) -> dict[str, Any]:
    """A region as ``{"type": ..., coordinates}`` (px)."""
    return {"type": type(region).__name__.lower(), **asdict(region)}


def _as_arrays(
    frame: Thermogram | npt.ArrayLike, valid: npt.ArrayLike | None
) -> tuple[npt.NDArray[np.floating], npt.NDArray[np.bool_]]:
    if isinstance(frame, Thermogram):
        t = frame.celsius
        v = frame.valid if valid is None else np.asarray(valid, dtype=bool) & frame.valid
    else:
        t = np.asarray(frame)
        v = np.isfinite(t) if valid is None else np.asarray(valid, dtype=bool)
    if t.ndim != 2 or t.size == 0:
        raise ParameterError("frame", t.shape, "a non-empty 2-D temperature array (°C)")
    if v.shape != t.shape:
        raise ParameterError("valid", v.shape, f"a bool mask of the frame's shape {t.shape}")
    return t, v & np.isfinite(t)


@dataclass(frozen=True, kw_only=True)
class _GradeContext:
    """What grading needs besides the comparison: the pack and the capture conditions."""

    pack: RulePack | None
    load_ratio: float | None
    load_exponent: float
    wind_m_s: float | None = None
    humidity_pct: float | None = None


def _grade(ctx: _GradeContext, *, part: str, comparison: Comparison) -> Finding | None:
    if ctx.pack is None:
        return None
    reading = Reading(
        part=part,
        t1_c=comparison.t1_c,
        t2_c=comparison.t2_c,
        t0_c=comparison.t0_c,
        load_ratio=ctx.load_ratio,
        wind_m_s=ctx.wind_m_s,
        humidity_pct=ctx.humidity_pct,
    )
    return grade(reading, pack=ctx.pack, load_exponent=ctx.load_exponent)


def _assess_point(
    point: InspectionPoint,
    t: npt.NDArray[np.floating],
    v: npt.NDArray[np.bool_],
    *,
    reference: Thermogram | None,
    ctx: _GradeContext,
    ambient_c: float | None,
    background_c: float,
) -> tuple[list[RegionResult], Assessment]:
    flags: list[str] = []
    alignment: Alignment | None = None
    phases = list(point.phases)
    ambient = point.ambient
    if point.reference_image is not None:
        if reference is None:
            flags.append("reference-missing")
        else:
            alignment = register_frames(reference.celsius, t, reference_valid=reference.valid, moving_valid=v)
            if alignment.ok:
                phases = [(name, alignment.apply(r)) for name, r in phases]
                ambient = alignment.apply(ambient) if ambient is not None else None
            else:
                flags.append("alignment-failed")
    results = [
        RegionResult(point_id=point.id, name=name, region=r, stats=measure_region(t, r, valid=v))
        for name, r in phases
    ]
    amb_result = None
    if ambient is not None:
        amb_result = RegionResult(
            point_id=point.id, name="ambient", region=ambient, stats=measure_region(t, ambient, valid=v)
        )
    for r in results:
        if r.stats.n_valid == 0:
            flags.append(f"phase-{r.name}-no-valid-pixels")
        elif r.stats.n_excluded:
            flags.append(f"phase-{r.name}-excluded-{r.stats.n_excluded}px")
    all_regions = results + ([amb_result] if amb_result else [])
    given_ambient = point.ambient_c if point.ambient_c is not None else ambient_c

    def assessment(
        comparison: Comparison | None, finding: Finding | None, flags: tuple[str, ...]
    ) -> Assessment:
        return Assessment(
            subject=point.id,
            device=point.device,
            part=point.part,
            heating_type=point.heating_type,
            comparison=comparison,
            finding=finding,
            flags=flags,
            alignment=alignment,
        )

    if (
        "alignment-failed" in flags
        or "reference-missing" in flags
        or all(r.stats.n_valid == 0 for r in results)
    ):
        return all_regions, assessment(None, None, (*flags, "not-graded"))
    comparison = compare_phases(
        {r.name: r.stats for r in results},
        ambient=amb_result.stats if amb_result else None,
        ambient_c=given_ambient,
        background_c=background_c,
    )
    finding = _grade(ctx, part=point.part, comparison=comparison)
    return all_regions, assessment(comparison, finding, tuple(flags))


def analyze_frame(
    frame: Thermogram | npt.ArrayLike,
    *,
    valid: npt.ArrayLike | None = None,
    points: Sequence[InspectionPoint] = (),
    references: Mapping[str, Thermogram] | None = None,
    pack: RulePack | None = None,
    ambient_c: float | None = None,
    load_ratio: float | None = None,
    load_exponent: float = 2.0,
    wind_m_s: float | None = None,
    humidity_pct: float | None = None,
    default_part: str = "connector",
    graded_spots: int = 3,
    min_excess_k: float = 2.0,
    min_area_px: int = 4,
    max_spots: int = 10,
) -> FrameAnalysis:
    """Analyse one frame: hot spots, configured regions, comparisons and grades.

    Parameters
    ----------
    frame : Thermogram or ndarray of shape (M, N)
        Temperatures (°C) with their validity mask.
    points : sequence of InspectionPoint
        Configured inspection points for this frame; none means automatic mode.
    references : mapping of reference-image name to Thermogram, optional
        Reference frames for points with a ``reference_image``.
    pack : RulePack, optional
        Rule pack to grade with; ``None`` compares without grading.
    ambient_c : float, optional
        Ambient temperature (°C) used where a point has no ambient region or value;
        also helps recognise the sky (smooth areas more than 5 K below it).
    load_ratio : float, optional
        Present load / rated load, passed to grading.
    load_exponent : float
        n in ΔT·(I_rated/I)^n, passed to grading (default 2).
    wind_m_s, humidity_pct : float, optional
        Wind speed (m/s) and relative humidity (%) at capture, checked against the
        pack's environment limits where it has them.
    default_part : str
        Rule-pack part id for unconfigured hot spots (default ``"connector"``).
    graded_spots : int
        In automatic mode, how many of the top hot spots are compared and graded.
    min_excess_k, min_area_px, max_spots
        Passed to :func:`~irpatrol.diagnosis.hotspots.find_hotspots`.
    """
    if graded_spots < 0:
        raise ParameterError("graded_spots", graded_spots, "an integer >= 0")
    t, v = _as_arrays(frame, valid)
    hs = find_hotspots(
        t,
        valid=v,
        ambient_c=ambient_c,
        min_excess_k=min_excess_k,
        min_area_px=min_area_px,
        max_spots=max_spots,
    )
    regions: list[RegionResult] = []
    assessments: list[Assessment] = []
    refs = references or {}
    ctx = _GradeContext(
        pack=pack,
        load_ratio=load_ratio,
        load_exponent=load_exponent,
        wind_m_s=wind_m_s,
        humidity_pct=humidity_pct,
    )
    for point in points:
        ref = refs.get(point.reference_image) if point.reference_image else None
        rr, assessment = _assess_point(
            point,
            t,
            v,
            reference=ref,
            ctx=ctx,
            ambient_c=ambient_c,
            background_c=hs.background_c,
        )
        regions.extend(rr)
        assessments.append(assessment)
    if not points:
        for spot in hs.spots[:graded_spots]:
            comparison = auto_reference(
                spot,
                hs.spots,
                background_c=hs.background_c,
                ambient_c=ambient_c,
                max_distance=REFERENCE_REACH,
                max_background_diff_k=REFERENCE_BACKGROUND_K,
            )
            finding = _grade(ctx, part=default_part, comparison=comparison)
            assessments.append(
                Assessment(
                    subject=f"spot {spot.rank}",
                    device="(unconfigured)",
                    part=default_part,
                    heating_type="current",
                    comparison=comparison,
                    finding=finding,
                    flags=(f"reference-{comparison.reference_source}",),
                )
            )
    return FrameAnalysis(
        hotspots=hs,
        regions=tuple(regions),
        assessments=tuple(assessments),
        n_pixels=int(t.size),
        n_excluded=int(t.size - np.count_nonzero(v)),
    )
