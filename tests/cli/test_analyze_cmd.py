"""``irpatrol analyze`` in process: table, JSON, CSV, annotated PNG, batches with bad files."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from irpatrol.cli import ExitStatus, cli
from tests.conftest import REPO, sample_path

POINTS = str(REPO / "src/irpatrol/demo/flir_t640_fuses.points.yaml")


@pytest.mark.samples
def test_json_with_points(tmp_path: Path) -> None:
    img = sample_path("flir_t640_fuses.jpg")
    out_csv = tmp_path / "out.csv"
    out_png = tmp_path / "ann.png"
    r = CliRunner().invoke(
        cli,
        [
            "analyze",
            str(img),
            "--points",
            POINTS,
            "--json",
            "--csv",
            str(out_csv),
            "--annotate",
            str(out_png),
        ],
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    (image,) = doc["images"]
    assert image["hotspots"][0]["peak_c"] > 90
    (finding,) = image["findings"]
    assert finding["comparison"]["hot"] == "B"
    assert finding["comparison"]["delta_pct"] == pytest.approx(41.9, abs=0.1)
    assert finding["finding"]["grade"] == "general"
    assert finding["finding"]["rule_id"]
    assert {r["name"] for r in image["regions"]} == {"A", "B", "C", "ambient"}
    rows = list(csv.DictReader(out_csv.read_text().splitlines()))
    assert rows[0]["grade"] == "general"
    assert rows[0]["hot"] == "B"
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.samples
def test_table_automatic_mode() -> None:
    r = CliRunner().invoke(
        cli,
        ["analyze", str(sample_path("flir_c2_afci_breakers.jpg")), "--ambient", "10", "--rules", "neta-mts"],
    )
    assert r.exit_code == 0, r.output
    assert "hot spot  1  (  51,   36)" in r.output
    assert "spot 1" in r.output


@pytest.mark.samples
def test_folder_with_bad_file_goes_on(tmp_path: Path) -> None:
    shutil.copy(sample_path("flir_c2_afci_breakers.jpg"), tmp_path / "good.jpg")
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    ann = tmp_path / "ann"
    r = CliRunner().invoke(
        cli, ["analyze", str(tmp_path), "--json", "--workers", "1", "--annotate", str(ann)]
    )
    assert r.exit_code == ExitStatus.PARTIAL
    doc = json.loads(r.stdout)
    assert [Path(i["file"]).name for i in doc["images"]] == ["good.jpg"]
    assert Path(doc["failed"][0]["file"]).name == "bad.jpg"
    assert "1 of 2 files failed" in r.stderr
    assert (ann / "good.annotated.png").exists()


def test_malformed_points_file(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("points:\n  - id: x\n    part: fuse\n    phases: {A: {box: [1, 2]}}\n")
    img = tmp_path / "x.npy"
    img.write_bytes(b"")
    r = CliRunner().invoke(cli, ["analyze", str(img), "--points", str(bad)])
    assert r.exit_code == ExitStatus.BAD_DATA_FILE
    assert f"{bad}:4: field `points[x].phases.A.box`" in r.stderr


def test_unknown_rule_pack(tmp_path: Path) -> None:
    img = tmp_path / "x.npy"
    img.write_bytes(b"")
    r = CliRunner().invoke(cli, ["analyze", str(img), "--rules", "no-such-pack"])
    assert r.exit_code != 0
    assert "irpatrol: error:" in r.stderr


@pytest.mark.samples
def test_two_workers_grade_every_file(tmp_path: Path) -> None:
    # the job (rule pack, points) crosses to worker processes: it must pickle
    for name in ("flir_t640_fuses.jpg", "flir_c2_afci_breakers.jpg"):
        shutil.copy(sample_path(name), tmp_path / name)
    r = CliRunner().invoke(cli, ["analyze", str(tmp_path), "--points", POINTS, "--json", "--workers", "2"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    by_name = {Path(i["file"]).name: i for i in doc["images"]}
    assert set(by_name) == {"flir_t640_fuses.jpg", "flir_c2_afci_breakers.jpg"}
    fuses = by_name["flir_t640_fuses.jpg"]["findings"][0]
    assert fuses["subject"] == "cabinet-3-fuses"
    assert fuses["comparison"]["hot"] == "B"
    assert fuses["finding"]["grade"] == "general"
