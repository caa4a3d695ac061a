"""``irpatrol analyze`` shows the measurability figures and flags in its table and JSON."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from irpatrol.cli import ExitStatus, cli
from tests.conftest import DEMO

FUSES = str(DEMO / "flir_t640_fuses.jpg")


def _points(tmp_path: Path, extra: str) -> str:
    text = (DEMO / "flir_t640_fuses.points.yaml").read_text(encoding="utf-8")
    path = tmp_path / "fuses.points.yaml"
    path.write_text(text.replace("    heating_type: current\n", f"    heating_type: current\n{extra}", 1))
    return str(path)


def test_table_shows_footprint_and_flag(tmp_path: Path) -> None:
    points = _points(tmp_path, "    target_mm: 6\n    material: polished_metal\n")
    r = CliRunner().invoke(cli, ["analyze", FUSES, "--points", points, "--distance", "12"])
    assert r.exit_code == 0, r.output
    assert "IFOV 0.68 mrad (file), at 12 m (conditions) one pixel covers 8.2 mm" in r.output
    assert "smallest measurable target 25 mm" in r.output
    assert "below-measurable-size" in r.output
    assert "low-emissivity-material" in r.output
    assert "one pixel covers 8.2 mm at 12 m, 3×3 px needed" in r.output
    assert "polished metal (typical emissivity 0.02–0.1)" in r.output


def test_json_has_measurability_and_facts(tmp_path: Path) -> None:
    points = _points(tmp_path, "    target_mm: 6\n    distance_m: 12\n")
    r = CliRunner().invoke(cli, ["analyze", FUSES, "--points", points, "--json"])
    assert r.exit_code == 0, r.output
    (image,) = json.loads(r.output)["images"]
    assert image["measurability"]["ifov_mrad"] == 0.6815
    assert image["measurability"]["distance_m"] == 1.0  # the file's; the point says 12 m
    (finding,) = image["findings"]
    g = finding["finding"]
    assert g["tentative"] is True
    assert "below-measurable-size" in g["flags"]
    (note,) = [n for n in g["notes"] if n["code"] == "below-measurable-size"]
    assert note["params"]["distance_m"] == 12.0
    assert "目标 6 mm 小于可准确测温的最小尺寸 25 mm" in g["explanation_zh"]


def test_distance_must_be_positive() -> None:
    r = CliRunner().invoke(cli, ["analyze", FUSES, "--distance", "0"])
    assert r.exit_code == ExitStatus.USAGE, r.output
    assert "--distance" in r.output
