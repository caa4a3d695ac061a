"""The radiometric model: hand-checked values, inverse, overrides, masks, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irpatrol.errors import ParameterError
from irpatrol.thermal.radiometry import (
    KELVIN_OFFSET,
    AtmosphereConstants,
    Calibration,
    ObjectParameters,
    PlanckConstants,
    atmospheric_transmission,
    blackbody_raw,
    kelvin_to_raw,
    raw_to_kelvin,
    thermogram_from_raw,
)

# FLIR T640 constants (flir_t640_fuses.jpg CameraInfo)
T640 = PlanckConstants(r1=15848.853515625, r2=0.0145331118255854, b=1414.90002441406, f=1.0, o=-4405.0)


def _cal(**params: float) -> Calibration:
    return Calibration(planck=T640, params=ObjectParameters(**params))


def test_transmission_matches_thermimage_value() -> None:
    # refs/flir_t640_fuses.jpg.json: raw2temp tau = 0.995722 for d=1 m, RH 50 %, 20 °C
    tau = atmospheric_transmission(
        distance_m=1.0, relative_humidity=0.5, atmospheric_temp_k=293.15, atmosphere=AtmosphereConstants()
    )
    assert tau == pytest.approx(0.995722, abs=1e-6)


def test_zero_distance_is_perfect_transmission() -> None:
    tau = atmospheric_transmission(
        distance_m=0.0, relative_humidity=0.9, atmospheric_temp_k=303.15, atmosphere=AtmosphereConstants()
    )
    assert tau == 1.0


def test_blackbody_emissivity_one_no_path_returns_planck_inverse() -> None:
    # E=1, d=0, W=1: raw_obj == raw, so T = B / ln(R1/(R2 (raw+O)) + F) exactly
    cal = _cal(emissivity=1.0, distance_m=0.0)
    raw = 20000.0
    expected = T640.b / math.log(T640.r1 / (T640.r2 * (raw + T640.o)) + T640.f)
    assert float(raw_to_kelvin(raw, calibration=cal)) == pytest.approx(expected, rel=1e-12)


def test_hand_worked_value_with_reflection() -> None:
    # E=0.9, d=0, Trefl=293.15 K: raw_obj = raw/0.9 - (0.1/0.9) * rawT(293.15)
    cal = _cal(emissivity=0.9, distance_m=0.0, reflected_temp_k=293.15)
    r_refl = T640.r1 / (T640.r2 * (math.exp(T640.b / 293.15) - 1.0)) - T640.o
    raw = 18000.0
    raw_obj = raw / 0.9 - 0.1 / 0.9 * r_refl
    expected = T640.b / math.log(T640.r1 / (T640.r2 * (raw_obj + T640.o)) + 1.0)
    assert float(raw_to_kelvin(raw, calibration=cal)) == pytest.approx(expected, rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    temp_c=st.floats(-30.0, 400.0),
    emissivity=st.floats(0.3, 1.0),
    distance_m=st.floats(0.0, 100.0),
    humidity=st.floats(0.0, 1.0),
    window=st.floats(0.5, 1.0),
)
def test_inverse_round_trips(
    temp_c: float, emissivity: float, distance_m: float, humidity: float, window: float
) -> None:
    cal = _cal(
        emissivity=emissivity,
        distance_m=distance_m,
        relative_humidity=humidity,
        window_transmission=window,
        atmospheric_temp_k=300.0,
        window_temp_k=290.0,
    )
    t_k = temp_c + KELVIN_OFFSET
    raw = kelvin_to_raw(t_k, calibration=cal)
    assert float(raw_to_kelvin(raw, calibration=cal)) == pytest.approx(t_k, abs=1e-6)


def test_temperature_increases_with_counts() -> None:
    temps = raw_to_kelvin(np.arange(10000, 60000, 7, dtype=np.float64), calibration=_cal())
    assert np.all(np.diff(temps) > 0)


def test_lower_emissivity_reads_hotter_above_reflected() -> None:
    raw = kelvin_to_raw(373.15, calibration=_cal(emissivity=0.95))
    hot = float(raw_to_kelvin(raw, calibration=_cal(emissivity=0.5)))
    assert hot > 373.15 + 20


def test_thermogram_flags_undefined_and_out_of_range() -> None:
    cal = Calibration(
        planck=T640,
        params=ObjectParameters(emissivity=1.0, distance_m=0.0),
        temp_range_k=(233.15, 423.15),
        raw_range=(5835, 54660),
    )
    raw = np.array([[100, 4405], [16940, 60000]], dtype=np.uint16)
    t = thermogram_from_raw(raw, calibration=cal)
    assert t.celsius.dtype == np.float32
    assert np.isnan(t.celsius[0, 0])  # raw + O < 0: no real answer
    assert np.isnan(t.celsius[0, 1])  # raw + O == 0
    assert t.valid.tolist() == [[False, False], [True, False]]
    assert t.n_undefined == 2
    assert t.n_above_range == 1
    assert t.n_invalid == 3
    assert float(t.celsius[1, 0]) == pytest.approx(
        float(raw_to_kelvin(16940, calibration=cal)) - KELVIN_OFFSET, abs=1e-4
    )


def test_thermogram_lut_equals_direct_formula() -> None:
    rng = np.random.default_rng(7)
    raw = rng.integers(12000, 30000, size=(64, 80), dtype=np.uint16)
    cal = _cal(emissivity=0.8, distance_m=5.0)
    t = thermogram_from_raw(raw, calibration=cal)
    direct = raw_to_kelvin(raw.astype(np.float64), calibration=cal) - KELVIN_OFFSET
    assert np.max(np.abs(t.celsius - direct)) < 1e-4
    assert t.valid.all()


@pytest.mark.parametrize(
    ("field", "value", "name"),
    [
        ("emissivity", 0.0, "emissivity"),
        ("emissivity", 1.3, "emissivity"),
        ("distance_m", -1.0, "distance_m"),
        ("distance_m", float("nan"), "distance_m"),
        ("relative_humidity", 1.5, "relative_humidity"),
        ("reflected_temp_k", 0.0, "reflected_temp_k"),
        ("window_transmission", 0.0, "window_transmission"),
    ],
)
def test_parameter_validation_names_the_parameter(field: str, value: float, name: str) -> None:
    with pytest.raises(ParameterError, match=f"`{name}`") as info:
        raw_to_kelvin(20000, calibration=_cal(**{field: value}))
    assert info.value.parameter == name


@pytest.mark.parametrize("bad", [{"r1": float("nan")}, {"b": -1.0}, {"r2": 0.0}, {"f": 50.0}])
def test_absurd_planck_constants_are_refused(bad: dict[str, float]) -> None:
    planck = PlanckConstants(**{**T640.__dict__, **bad})
    with pytest.raises(ParameterError, match="planck"):
        raw_to_kelvin(20000, calibration=Calibration(planck=planck))


def test_with_params_rejects_unknown_names() -> None:
    with pytest.raises(ParameterError, match="overrides"):
        _cal().with_params(emisivity=0.9)


def test_blackbody_raw_of_hotter_body_is_larger() -> None:
    assert float(blackbody_raw(350.0, planck=T640)) > float(blackbody_raw(300.0, planck=T640))
