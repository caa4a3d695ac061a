"""CLI info/temps/render/demo through click's runner: exit codes, outputs and the one error line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from click.testing import CliRunner
from PIL import Image

from irpatrol.cli import cli
from tests.conftest import DEMO, REFS, sample_path


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_info_json_reports_constants(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["info", "--json", str(DEMO / "flir_e40.jpg")])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc[0]["camera"]["model"] == "FLIR E40"
    assert doc[0]["width"] == 160
    assert doc[0]["calibration"]["object_distance_m"] == pytest.approx(2.0)
    assert doc[0]["calibration"]["planck"]["o"] == -5859


def test_info_text(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["info", str(DEMO / "flir_t640_fuses.jpg")])
    assert result.exit_code == 0
    assert "FLIR T640" in result.stdout
    assert "640x480  raw png" in result.stdout


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".tiff"])
def test_temps_single_file_formats(runner: CliRunner, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"e40{suffix}"
    result = runner.invoke(cli, ["temps", str(DEMO / "flir_e40.jpg"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    if suffix == ".npy":
        arr = np.load(out)
    elif suffix == ".csv":
        arr = np.loadtxt(out, delimiter=",", dtype=np.float32)
    else:
        arr = tifffile.imread(out)
    ref = np.load(REFS / "flir_e40.jpg.temp_c.npy") if REFS.exists() else None
    assert arr.shape == (120, 160)
    assert arr.dtype == np.float32
    if ref is not None:
        assert np.max(np.abs(arr - ref)) <= 0.01
    assert "max 24.70 °C" in result.stdout


def test_temps_override_changes_result(runner: CliRunner, tmp_path: Path) -> None:
    base, low = tmp_path / "a.npy", tmp_path / "b.npy"
    runner.invoke(cli, ["temps", str(DEMO / "flir_t640_fuses.jpg"), "-o", str(base)])
    result = runner.invoke(
        cli,
        [
            "temps",
            str(DEMO / "flir_t640_fuses.jpg"),
            "-o",
            str(low),
            "--emissivity",
            "0.7",
            "--humidity",
            "80",
        ],
    )
    assert result.exit_code == 0
    assert np.load(low).max() > np.load(base).max() + 5.0


def test_batch_goes_on_past_bad_files_and_lists_them(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.jpg").write_bytes((DEMO / "flir_ax8.jpg").read_bytes())
    (folder / "broken.jpg").write_bytes((DEMO / "flir_ax8.jpg").read_bytes()[:5000])
    (folder / "plain.jpg").write_bytes(
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
    )
    result = runner.invoke(cli, ["temps", str(folder), "-o", str(tmp_path / "out"), "--workers", "2"])
    assert result.exit_code == 4
    assert (tmp_path / "out" / "good.npy").exists()
    assert "2 of 3 files failed" in result.stderr
    assert "broken.jpg" in result.stderr
    assert "plain.jpg: not a radiometric image" in result.stderr


def test_single_bad_file_prints_one_line_and_exits_3(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "noise.bin"
    bad.write_bytes(bytes(range(256)) * 4)
    result = runner.invoke(cli, ["temps", str(bad), "-o", str(tmp_path / "x.npy")])
    assert result.exit_code == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "noise.bin" in lines[0]


def test_missing_file_is_a_clear_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["info", str(tmp_path / "nope.jpg")])
    assert result.exit_code == 3
    assert "nope.jpg: no such file or folder" in result.stderr


def test_render_png_with_scale_bar(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "t640.png"
    result = runner.invoke(
        cli,
        [
            "render",
            str(DEMO / "flir_t640_fuses.jpg"),
            "-o",
            str(out),
            "--palette",
            "rainbow",
            "--range",
            "20:80",
        ],
    )
    assert result.exit_code == 0, result.output
    with Image.open(out) as img:
        assert img.height == 480
        assert img.width > 640  # scale bar beside the image
        assert img.getpixel((5, 5)) != (255, 255, 255)


@pytest.mark.parametrize("bad", ["80:20", "abc", "1:2:3"])
def test_render_rejects_bad_range(runner: CliRunner, tmp_path: Path, bad: str) -> None:
    result = runner.invoke(
        cli, ["render", str(DEMO / "flir_e40.jpg"), "-o", str(tmp_path / "x.png"), "--range", bad]
    )
    assert result.exit_code == 2
    assert "--range" in result.stderr


def test_seq_all_frames(runner: CliRunner, tmp_path: Path) -> None:
    seq = sample_path("flir_sc660_sample.seq")
    result = runner.invoke(cli, ["temps", str(seq), "-o", str(tmp_path), "--all-frames", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert len(doc["images"][0]["outputs"]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "flir_sc660_sample_f0000.npy",
        "flir_sc660_sample_f0001.npy",
    ]


def test_demo_analysis_half(runner: CliRunner, tmp_path: Path) -> None:
    """The library half alone (the whole system: tests/cli/test_demo_system.py)."""
    result = runner.invoke(cli, ["demo", "-o", str(tmp_path), "--no-system"])
    assert result.exit_code == 0, result.output
    assert "flir_t640_fuses.jpg: min 25.46 °C  max 97.85 °C" in result.stdout
    assert (tmp_path / "flir_t640_fuses.png").exists()
    assert np.load(tmp_path / "dji_zenmuse_xtr.npy").shape == (512, 640)


def test_integer_tiff_needs_and_takes_a_scale(runner: CliRunner, tmp_path: Path) -> None:
    counts = (np.arange(12, dtype=np.uint16).reshape(3, 4) + 29315).astype(np.uint16)  # K × 100
    tifffile.imwrite(tmp_path / "k100.tif", counts)
    out = tmp_path / "c.npy"
    r = runner.invoke(cli, ["temps", str(tmp_path / "k100.tif"), "-o", str(out)])
    assert r.exit_code == 3
    assert "tiff_scale" in r.stderr
    r = runner.invoke(
        cli,
        [
            "temps",
            str(tmp_path / "k100.tif"),
            "-o",
            str(out),
            "--tiff-scale",
            "0.01",
            "--tiff-offset",
            "-273.15",
        ],
    )
    assert r.exit_code == 0, r.output
    np.testing.assert_allclose(np.load(out), counts * 0.01 - 273.15, atol=1e-4)


def test_overrides_on_a_temperature_format_are_refused_not_ignored(runner: CliRunner, tmp_path: Path) -> None:
    np.save(tmp_path / "t.npy", np.full((4, 5), 30.0, dtype=np.float32))
    r = runner.invoke(
        cli, ["temps", str(tmp_path / "t.npy"), "-o", str(tmp_path / "o.npy"), "--emissivity", "0.8"]
    )
    assert r.exit_code != 0
    assert "stores temperatures, not raw counts" in r.stderr
