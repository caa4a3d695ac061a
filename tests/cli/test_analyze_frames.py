"""``analyze`` over the frames of a sequence: per-frame results, series per point, damaged tails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from irpatrol.cli import cli
from irpatrol.diagnosis.rulepack import load_rule_pack
from irpatrol.errors import ParameterError
from irpatrol.pipeline import inspect_frames, inspect_image
from tests.conftest import sample_path

POINTS = """\
version: 1
points:
  - id: joint
    device: "Test object"
    part: connector
    heating_type: current
    images: ["*.seq"]
    phases:
      A: {box: [270, 240, 310, 280]}
      B: {box: [100, 100, 140, 140]}
      C: {box: [500, 100, 540, 140]}
    ambient_c: 20
"""


def _analyze(*args: str) -> tuple[int, dict]:
    r = CliRunner().invoke(cli, ["analyze", *args, "--json"])
    return r.exit_code, (json.loads(r.stdout) if r.stdout.strip().startswith("{") else {"output": r.output})


def test_every_frame_and_the_series_of_a_point(tmp_path: Path) -> None:
    seq = sample_path("flir_sc660_sample.seq")
    points = tmp_path / "points.yaml"
    points.write_text(POINTS, encoding="utf-8")
    code, doc = _analyze(str(seq), "--all-frames", "--points", str(points))
    assert code == 0, doc
    frames = doc["images"]
    assert [f["frame"] for f in frames] == [0, 1]
    series = doc["series"][str(seq)]["joint"]
    assert [s["frame"] for s in series] == [0, 1]
    for s, f in zip(series, frames, strict=True):
        joint = next(x for x in f["findings"] if x["subject"] == "joint")
        assert s["t1_c"] == joint["comparison"]["t1_c"]
        assert s["delta_pct"] == joint["comparison"]["delta_pct"]
        assert s["grade"] == joint["finding"]["grade"]
    assert series[0]["t1_c"] != series[1]["t1_c"]  # two real frames, two readings
    # frame 0 is what the single-image analysis reports
    code, single = _analyze(str(seq), "--points", str(points))
    assert code == 0
    assert {**single["images"][0], "frame": 0} == {**frames[0], "frame": 0}


def test_frame_selection() -> None:
    seq = sample_path("flir_sc660_sample.seq")
    code, doc = _analyze(str(seq), "--frames", "1:2")
    assert code == 0
    assert [f["frame"] for f in doc["images"]] == [1]
    code, doc = _analyze(str(seq), "--frames", "5:")
    assert code == 0
    assert doc["images"] == []
    r = CliRunner().invoke(cli, ["analyze", str(seq), "--frames", "a:b"])
    assert r.exit_code == 2
    r = CliRunner().invoke(cli, ["analyze", str(seq), "--all-frames", "--annotate", "x.png"])
    assert r.exit_code == 2


def test_a_damaged_last_frame_costs_only_that_frame(tmp_path: Path) -> None:
    seq = sample_path("flir_sc660_sample.seq")
    data = seq.read_bytes()
    cut = tmp_path / "cut.seq"
    cut.write_bytes(data[: len(data) - 5000])
    r = CliRunner().invoke(cli, ["analyze", str(cut), "--all-frames", "--json"])
    assert r.exit_code == 4, r.output  # partial, not "bad file"
    doc = json.loads(r.stdout)
    assert [f["frame"] for f in doc["images"]] == [0]
    assert doc["damaged"][0]["frame"] == 1
    assert "frame 1" in r.stderr
    whole = inspect_image(seq, pack=load_rule_pack("dlt664-2016")).to_dict()
    assert {**doc["images"][0], "file": "x"} == {**whole, "file": "x"}


def test_inspect_frames_checks_its_selection() -> None:
    seq = sample_path("flir_sc660_sample.seq")
    pack = load_rule_pack("dlt664-2016")
    with pytest.raises(ParameterError):
        list(inspect_frames(seq, frames=(0, None, 0), pack=pack))
    got = [i.frame_index for i in inspect_frames(seq, frames=(0, None, 2), pack=pack)]
    assert got == [0]
