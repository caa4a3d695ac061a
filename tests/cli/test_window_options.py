"""`--window-temp` (°C) and `--window-transmission` reach the radiometric model as it says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from irpatrol.cli import cli
from irpatrol.formats import open_thermal
from irpatrol.thermal.radiometry import celsius_to_kelvin, kelvin_to_raw
from tests.formats.fff_builder import camera_info, fff_block, raw_record

OBJECT_C, WINDOW_C, WINDOW_T = 80.0, 40.0, 0.7


def _fff(raw: np.ndarray) -> bytes:
    return fff_block([(32, 1, camera_info(16, 12)), (1, 2, raw_record(raw, subtype=2))], order="<")


@pytest.fixture
def behind_window(tmp_path: Path) -> Path:
    """A frame of an 80 °C object seen through a 40 °C window of transmission 0.7.

    The file's own CameraInfo says "no window" (transmission 1), as a camera set up
    without one would; the raw counts come from the model's inverse with the window.
    """
    cal = open_thermal(_fff(np.zeros((12, 16), np.uint16)), name="probe.fff").first_frame().calibration
    assert cal is not None
    assert cal.params.window_transmission == 1.0
    through = cal.with_params(window_temp_k=celsius_to_kelvin(WINDOW_C), window_transmission=WINDOW_T)
    counts = float(kelvin_to_raw(celsius_to_kelvin(OBJECT_C), calibration=through))
    path = tmp_path / "window.fff"
    path.write_bytes(_fff(np.full((12, 16), round(counts), np.uint16)))
    return path


def _temps(runner: CliRunner, path: Path, out: Path, *extra: str) -> np.ndarray:
    result = runner.invoke(cli, ["temps", str(path), "-o", str(out), *extra])
    assert result.exit_code == 0, result.output
    return np.load(out)


def test_window_overrides_recover_the_object_temperature(behind_window: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    plain = _temps(runner, behind_window, tmp_path / "plain.npy")
    both = _temps(
        runner,
        behind_window,
        tmp_path / "window.npy",
        "--window-temp",
        str(WINDOW_C),
        "--window-transmission",
        str(WINDOW_T),
    )
    np.testing.assert_allclose(both, OBJECT_C, atol=0.05)  # one raw count is ~0.02 K here
    assert float(plain.mean()) < OBJECT_C - 5.0  # without the window the object reads far colder
    # the window temperature alone changes nothing while the transmission is 1 (the model's (1 - W) term)
    temp_only = _temps(runner, behind_window, tmp_path / "temp_only.npy", "--window-temp", str(WINDOW_C))
    np.testing.assert_allclose(temp_only, plain, atol=1e-4)
    # a warmer window, at the same transmission, leaves less of the signal to the object
    warmer = _temps(
        runner,
        behind_window,
        tmp_path / "warmer.npy",
        "--window-temp",
        str(WINDOW_C + 20.0),
        "--window-transmission",
        str(WINDOW_T),
    )
    assert float(warmer.mean()) < float(both.mean()) - 1.0


@pytest.mark.parametrize("value", ["0", "1.5", "-0.2"])
def test_window_transmission_outside_0_1_is_refused(behind_window: Path, tmp_path: Path, value: str) -> None:
    result = CliRunner().invoke(
        cli, ["temps", str(behind_window), "-o", str(tmp_path / "x.npy"), "--window-transmission", value]
    )
    assert result.exit_code == 2
    assert "--window-transmission" in result.output
