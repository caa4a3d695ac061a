"""``analyze`` over the frames of a sequence: per-frame results, series per point, damaged tails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from irpatrol.cli import cli
from irpatrol.diagnosis.rulepack import load_rule_pack
from irpatrol.errors import ParameterError
from irpatrol.formats.selection import FrameSelection
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
        FrameSelection.parse("0::0")
    got = [i.frame_index for i in inspect_frames(seq, frames=FrameSelection.parse("::2"), pack=pack)]
    assert got == [0]
    # by time: the two SC660 frames are 3.967 s apart
    assert [i.frame_index for i in inspect_frames(seq, frames=FrameSelection.parse("1s:10s"), pack=pack)] == [
        1
    ]
    assert [
        i.frame_index for i in inspect_frames(seq, frames=FrameSelection.parse("0s:10s:5s"), pack=pack)
    ] == [0]
    assert [
        i.frame_index for i in inspect_frames(seq, frames=FrameSelection.parse("0s:10s:3s"), pack=pack)
    ] == [0, 1]


def test_render_and_temps_select_frames_by_time(tmp_path: Path) -> None:
    seq = sample_path("flir_sc660_sample.seq")
    r = CliRunner().invoke(cli, ["render", str(seq), "--all-frames", "-o", str(tmp_path / "png")])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "png").iterdir()) == [
        "flir_sc660_sample_f0000.png",
        "flir_sc660_sample_f0001.png",
    ]
    r = CliRunner().invoke(cli, ["temps", str(seq), "--frames", "1s:", "-o", str(tmp_path / "npy")])
    assert r.exit_code == 0, r.output
    assert [p.name for p in (tmp_path / "npy").iterdir()] == ["flir_sc660_sample_f0001.npy"]
    for bad in ("1s:5", "3s", "-1s:2s", "x"):
        r = CliRunner().invoke(cli, ["temps", str(seq), "--frames", bad, "-o", str(tmp_path / "bad")])
        assert r.exit_code == 2, (bad, r.output)
