"""Raw sensor counts to temperature and back: the FLIR/Thermimage radiometric model.

The camera measures a signal ``raw`` (counts, linear in received radiance).  The
radiance of a blackbody at temperature ``T`` (K) in counts is the Planck curve fitted
per camera::

    rawT(T) = R1 / (R2 * (exp(B / T) - F)) - O

The object's own radiance is recovered by removing, in order, the reflected
radiance, the atmosphere between object and window, the window's own emission and
the atmosphere between window and camera (window reflectivity taken as 0, the same
atmospheric transmission ``tau`` for both halves of the path)::

    raw_obj = raw / (E tau W tau)
            - (1 - E) / E * rawT(T_refl)
            - (1 - tau) / (E tau) * rawT(T_atm)
            - (1 - W) / (E tau W) * rawT(T_win)
            - (1 - tau) / (E tau W tau) * rawT(T_atm)
    T = B / ln(R1 / (R2 (raw_obj + O)) + F)

with the atmospheric transmission from distance ``d`` (m), relative humidity and
atmospheric temperature (the water-vapour model of FLIR's documentation)::

    h2o = RH * exp(1.5587 + 0.06939 Ta - 0.00027816 Ta^2 + 0.00000068455 Ta^3)   (Ta in °C)
    tau = X exp(-sqrt(d/2) (a1 + b1 sqrt(h2o))) + (1 - X) exp(-sqrt(d/2) (a2 + b2 sqrt(h2o)))

All arithmetic is float64; results are returned as float32 °C.  Pixels where the
logarithm has no real answer are NaN and flagged; pixels outside the camera's
calibrated temperature or raw range are kept but flagged in the validity mask.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from irpatrol.errors import ParameterError

KELVIN_OFFSET = 273.15
"""0 °C in kelvin."""


@dataclass(frozen=True, kw_only=True)
class PlanckConstants:
    """A camera's fitted Planck curve (counts ↔ K): R1, R2, B (K), F, O (counts)."""

    r1: float
    r2: float
    b: float
    f: float
    o: float

    def validate(self) -> None:
        """Raise :class:`ParameterError` naming the first absurd constant."""
        _finite_positive("planck.r1", self.r1)
        _finite_positive("planck.r2", self.r2)
        _finite_positive("planck.b", self.b)
        if not (math.isfinite(self.f) and 0.0 <= self.f <= 10.0):
            raise ParameterError("planck.f", self.f, "a finite number in [0, 10]")
        if not (math.isfinite(self.o) and abs(self.o) < 1e6):
            raise ParameterError("planck.o", self.o, "a finite number of counts, |O| < 1e6")


@dataclass(frozen=True, kw_only=True)
class AtmosphereConstants:
    """Coefficients of the two-band atmospheric transmission model (per m^0.5)."""

    alpha1: float = 0.006569
    alpha2: float = 0.01262
    beta1: float = -0.002276
    beta2: float = -0.00667
    x: float = 1.9

    def validate(self) -> None:
        """Raise :class:`ParameterError` naming the first absurd constant."""
        for name, value in (
            ("alpha1", self.alpha1),
            ("alpha2", self.alpha2),
            ("beta1", self.beta1),
            ("beta2", self.beta2),
            ("x", self.x),
        ):
            if not (math.isfinite(value) and abs(value) < 100.0):
                raise ParameterError(f"atmosphere.{name}", value, "a finite number, |v| < 100")


@dataclass(frozen=True, kw_only=True)
class ObjectParameters:
    """Measurement conditions, all overridable after capture.

    Temperatures in K, distance in m, humidity as a fraction (0..1), emissivity and
    window transmission as ratios (0..1].
    """

    emissivity: float = 0.95
    distance_m: float = 1.0
    reflected_temp_k: float = 293.15
    atmospheric_temp_k: float = 293.15
    window_temp_k: float = 293.15
    window_transmission: float = 1.0
    relative_humidity: float = 0.5

    def validate(self) -> None:
        """Raise :class:`ParameterError` naming the first value out of its domain."""
        if not (math.isfinite(self.emissivity) and 0.0 < self.emissivity <= 1.0):
            raise ParameterError("emissivity", self.emissivity, "in (0, 1]")
        if not (math.isfinite(self.distance_m) and 0.0 <= self.distance_m <= 100_000.0):
            raise ParameterError("distance_m", self.distance_m, "in [0, 100000] m")
        for name in ("reflected_temp_k", "atmospheric_temp_k", "window_temp_k"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 50.0 <= value <= 2000.0):
                raise ParameterError(name, value, "in [50, 2000] K")
        if not (math.isfinite(self.window_transmission) and 0.0 < self.window_transmission <= 1.0):
            raise ParameterError("window_transmission", self.window_transmission, "in (0, 1]")
        if not (math.isfinite(self.relative_humidity) and 0.0 <= self.relative_humidity <= 1.0):
            raise ParameterError("relative_humidity", self.relative_humidity, "a fraction in [0, 1]")


@dataclass(frozen=True, kw_only=True)
class Calibration:
    """Everything needed to turn a camera's raw counts into temperature.

    ``temp_range_k`` is the camera's calibrated range (K) and ``raw_range`` the
    calibrated raw-count range; either may be ``None`` when the file does not say.
    """

    planck: PlanckConstants
    atmosphere: AtmosphereConstants = field(default_factory=AtmosphereConstants)
    params: ObjectParameters = field(default_factory=ObjectParameters)
    temp_range_k: tuple[float, float] | None = None
    raw_range: tuple[int, int] | None = None

    def with_params(self, **overrides: float | None) -> Calibration:
        """Return a copy with some :class:`ObjectParameters` replaced (``None`` keeps the value)."""
        given = {k: v for k, v in overrides.items() if v is not None}
        unknown = set(given) - {f.name for f in fields(ObjectParameters)}
        if unknown:
            raise ParameterError("overrides", sorted(unknown), "names of ObjectParameters fields")
        return replace(self, params=replace(self.params, **given))

    def validate(self) -> None:
        """Raise :class:`ParameterError` naming the first absurd constant.

        The object is immutable, so a successful check is remembered (in the instance
        ``__dict__``, outside the dataclass fields) and not repeated.
        """
        if self.__dict__.get("_validated"):
            return
        self.planck.validate()
        self.atmosphere.validate()
        self.params.validate()
        p = self.params
        atmospheric_transmission(
            distance_m=p.distance_m,
            relative_humidity=p.relative_humidity,
            atmospheric_temp_k=p.atmospheric_temp_k,
            atmosphere=self.atmosphere,
        )
        self.__dict__["_validated"] = True


@dataclass(frozen=True)
class Thermogram:
    """A temperature image with its validity mask.

    ``celsius``: float32 array (rows, cols) in °C; NaN where the model has no real
    answer.  ``valid``: bool array, False where the pixel is NaN or outside the
    camera's calibrated temperature/raw range.  The counts say why pixels are invalid.
    """

    celsius: npt.NDArray[np.float32]
    valid: npt.NDArray[np.bool_]
    n_undefined: int
    n_below_range: int
    n_above_range: int

    @property
    def n_invalid(self) -> int:
        """Number of pixels that must not be reported as a measurement."""
        return int(self.valid.size - np.count_nonzero(self.valid))


def _finite_positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0.0):
        raise ParameterError(name, value, "a finite number > 0")


def atmospheric_transmission(
    *,
    distance_m: float,
    relative_humidity: float,
    atmospheric_temp_k: float,
    atmosphere: AtmosphereConstants,
) -> float:
    """Atmospheric transmission tau (0..1] over ``distance_m`` (m) for one path half.

    >>> round(atmospheric_transmission(distance_m=1.0, relative_humidity=0.5,
    ...     atmospheric_temp_k=293.15, atmosphere=AtmosphereConstants()), 6)
    0.995722
    """
    ta_c = atmospheric_temp_k - KELVIN_OFFSET
    a = atmosphere
    try:
        h2o = relative_humidity * math.exp(
            1.5587 + 0.06939 * ta_c - 0.00027816 * ta_c**2 + 0.00000068455 * ta_c**3
        )
        root_d = math.sqrt(distance_m / 2.0)
        root_h = math.sqrt(h2o)
        tau = a.x * math.exp(-root_d * (a.alpha1 + a.beta1 * root_h)) + (1.0 - a.x) * math.exp(
            -root_d * (a.alpha2 + a.beta2 * root_h)
        )
    except OverflowError:  # far outside the model's range (e.g. air at hundreds of °C)
        tau = math.inf
    if not (math.isfinite(tau) and tau > 0.0):
        name = "atmospheric_transmission"
        raise ParameterError(
            name,
            tau,
            f"a finite value > 0; the water-vapour model has none for atmospheric_temp_k="
            f"{atmospheric_temp_k}, relative_humidity={relative_humidity}, distance_m={distance_m}",
        )
    return tau


def blackbody_raw(
    temp_k: float | npt.NDArray[np.float64], *, planck: PlanckConstants
) -> npt.NDArray[np.float64]:
    """Counts a blackbody at ``temp_k`` (K) produces on this camera."""
    t = np.asarray(temp_k, dtype=np.float64)
    with np.errstate(over="ignore", divide="ignore"):
        return planck.r1 / (planck.r2 * (np.exp(planck.b / t) - planck.f)) - planck.o


def _blackbody_raw_scalar(temp_k: float, planck: PlanckConstants) -> float:
    """:func:`blackbody_raw` for one temperature, without NumPy's per-call overhead."""
    try:
        return planck.r1 / (planck.r2 * (math.exp(planck.b / temp_k) - planck.f)) - planck.o
    except (OverflowError, ZeroDivisionError):  # the array version's inf/0 semantics
        return float(blackbody_raw(temp_k, planck=planck))


def _path_terms(cal: Calibration) -> tuple[float, float]:
    """Return (gain, offset) so that raw_obj = raw * gain - offset."""
    p = cal.params
    tau = atmospheric_transmission(
        distance_m=p.distance_m,
        relative_humidity=p.relative_humidity,
        atmospheric_temp_k=p.atmospheric_temp_k,
        atmosphere=cal.atmosphere,
    )
    e, w = p.emissivity, p.window_transmission
    r_refl = _blackbody_raw_scalar(p.reflected_temp_k, cal.planck)
    r_atm = _blackbody_raw_scalar(p.atmospheric_temp_k, cal.planck)
    r_win = _blackbody_raw_scalar(p.window_temp_k, cal.planck)
    gain = 1.0 / (e * tau * w * tau)
    offset = (
        (1.0 - e) / e * r_refl
        + (1.0 - tau) / (e * tau) * r_atm
        + (1.0 - w) / (e * tau * w) * r_win
        + (1.0 - tau) / (e * tau * w * tau) * r_atm
    )
    return gain, offset


def raw_to_kelvin(raw: npt.ArrayLike, *, calibration: Calibration) -> npt.NDArray[np.float64]:
    """Object temperature (K, float64) for raw counts of any shape; NaN where undefined.

    >>> cal = Calibration(planck=PlanckConstants(r1=15848.85, r2=0.014533, b=1414.9, f=1.0, o=-4405.0))
    >>> float(np.round(raw_to_kelvin(16940, calibration=cal) - KELVIN_OFFSET, 2))  # default parameters
    44.14
    """
    scale, shift = _planck_terms(calibration)
    pl = calibration.planck
    # R2 (raw_obj + O) with raw_obj = raw * gain - offset, folded into one multiply-add
    x = np.asarray(raw, dtype=np.float64) * scale + shift
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        temps = pl.b / np.log(pl.r1 / x + pl.f)
    bad = ~np.isfinite(temps) | (x <= 0.0) | (temps <= 0.0)
    return np.where(bad, np.nan, temps)


def _planck_terms(calibration: Calibration) -> tuple[float, float]:
    """``(scale, shift)`` with ``R2 (raw_obj + O) = raw * scale + shift`` (R2 > 0, so same sign)."""
    calibration.validate()
    gain, offset = _path_terms(calibration)
    pl = calibration.planck
    return gain * pl.r2, (pl.o - offset) * pl.r2


def kelvin_to_raw(temp_k: npt.ArrayLike, *, calibration: Calibration) -> npt.NDArray[np.float64]:
    """Raw counts (float64) the camera reports for an object at ``temp_k`` (K): the inverse."""
    calibration.validate()
    gain, offset = _path_terms(calibration)
    raw_obj = blackbody_raw(np.asarray(temp_k, dtype=np.float64), planck=calibration.planck)
    return (raw_obj + offset) / gain


def _kelvin_span(lo: int, hi: int, calibration: Calibration) -> tuple[npt.NDArray[np.float64], bool]:
    """Temperatures (K) of the counts ``lo..hi``, and whether every one of them is defined.

    The operations of :func:`raw_to_kelvin` in the same order (so the same values),
    done in place on one buffer.  The model is monotonic in the count, so the first
    and last entries tell whether all entries have a real, positive answer; when
    not, :func:`raw_to_kelvin` itself gives the NaNs.
    """
    scale, shift = _planck_terms(calibration)
    pl = calibration.planck
    t = np.arange(lo, hi + 1, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t *= scale
        t += shift  # R2 (raw_obj + O)
        positive = bool(t[0] > 0.0)  # the smallest: it grows with the count
        np.divide(pl.r1, t, out=t)
        t += pl.f
        np.log(t, out=t)
        np.divide(pl.b, t, out=t)
    first, last = float(t[0]), float(t[-1])
    if positive and math.isfinite(first) and math.isfinite(last) and first > 0.0 and last > 0.0:
        return t, True
    return raw_to_kelvin(np.arange(lo, hi + 1, dtype=np.float64), calibration=calibration), False


_G = TypeVar("_G", bound=np.generic)
_GATHER_CHUNK = 16_000
"""Pixels per :func:`numpy.take` call: its index copy (8 bytes a pixel) stays small and reused."""


def _gather(lut: npt.NDArray[_G], raw: npt.NDArray[np.uint16]) -> npt.NDArray[_G]:
    """``lut[raw]`` for a table at least ``raw.max() + 1`` long, in chunks.

    ``np.take`` is about twice as fast as fancy indexing but turns the whole index
    array into intp first; chunking keeps that temporary small (no fresh pages per
    frame).  ``mode="wrap"`` skips the bounds checks: every index is in range.
    """
    out = np.empty(raw.shape, dtype=lut.dtype)
    flat_out = out.reshape(-1)
    flat_raw = raw.reshape(-1)
    n = flat_raw.size
    for i in range(0, n, _GATHER_CHUNK):
        lut.take(flat_raw[i : i + _GATHER_CHUNK], mode="wrap", out=flat_out[i : i + _GATHER_CHUNK])
    return out


def thermogram_from_raw(raw: npt.NDArray[np.uint16], *, calibration: Calibration) -> Thermogram:
    """Convert a uint16 raw frame to a :class:`Thermogram` in °C.

    Raw counts are integers, so the model is evaluated once per distinct count in
    the frame's span (a look-up table, float64) and gathered: exact, and fast.  The
    table is indexed by the count itself (entries below the frame's minimum are
    allocated but never written or read), and when the whole span is defined and in
    the calibrated range the mask is all True without a second gather.
    """
    if raw.dtype != np.uint16:
        raise ParameterError("raw.dtype", str(raw.dtype), "uint16 counts")
    if raw.size == 0:
        raise ParameterError("raw.shape", raw.shape, "a non-empty array")
    lo = int(raw.min())
    hi = int(raw.max())
    kelvin, defined = _kelvin_span(lo, hi, calibration)
    lut_c = np.empty(hi + 1, dtype=np.float32)
    np.subtract(kelvin, KELVIN_OFFSET, out=lut_c[lo:], casting="same_kind")
    celsius = _gather(lut_c, raw)
    all_valid = defined
    if all_valid and calibration.temp_range_k is not None:  # kelvin grows with the count
        tmin, tmax = calibration.temp_range_k
        all_valid = tmin <= kelvin[0] and kelvin[-1] <= tmax
    if all_valid and calibration.raw_range is not None:
        rmin, rmax = calibration.raw_range
        all_valid = rmax <= rmin or (rmin <= lo and hi <= rmax)
    if all_valid:
        return Thermogram(celsius, np.ones(raw.shape, dtype=bool), 0, 0, 0)
    counts = np.arange(lo, hi + 1, dtype=np.float64)
    undefined = np.isnan(kelvin)
    below = np.zeros(counts.shape, dtype=bool)
    above = np.zeros(counts.shape, dtype=bool)
    if calibration.temp_range_k is not None:
        tmin, tmax = calibration.temp_range_k
        with np.errstate(invalid="ignore"):
            below |= kelvin < tmin
            above |= kelvin > tmax
    if calibration.raw_range is not None:
        rmin, rmax = calibration.raw_range
        if rmax > rmin:
            below |= counts < rmin
            above |= counts > rmax
    lut_valid = np.zeros(hi + 1, dtype=bool)
    lut_valid[lo:] = ~(undefined | below | above)
    valid = _gather(lut_valid, raw)
    hist = np.bincount(raw.ravel(), minlength=hi + 1)[lo:]
    return Thermogram(
        celsius,
        valid,
        int(hist[undefined].sum()),
        int(hist[below & ~undefined].sum()),
        int(hist[above & ~undefined].sum()),
    )


def celsius_to_kelvin(temp_c: float) -> float:
    """°C → K."""
    return temp_c + KELVIN_OFFSET
