"""`irpatrol info` and `temps --all-frames` on a sequence whose last frame is cut: partial, not failed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from irpatrol.cli import cli
from irpatrol.cli.app import ExitStatus
from irpatrol.formats import fff
from tests.conftest import sample_path
from tests.formats.test_damaged_sequences import RAWS, synthetic_sequence

SC660 = "flir_sc660_sample.seq"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cut_seq(tmp_path: Path) -> tuple[Path, int, int]:
    """The SC660 sample with its second (last) frame cut in its raw data: (path, frame start, cut)."""
    data = sample_path(SC660).read_bytes()
    start = fff.parse_block(data, 0, path=SC660).end
    cut = start + 300_000
    path = tmp_path / "cut.seq"
    path.write_bytes(data[:cut])
    return path, start, cut


@pytest.mark.samples
def test_info_shows_readable_frames_and_where_the_file_is_cut(
    runner: CliRunner, cut_seq: tuple[Path, int, int]
) -> None:
    path, start, cut = cut_seq
    result = runner.invoke(cli, ["info", str(path)])
    assert result.exit_code == ExitStatus.PARTIAL, result.output
    assert "flir-seq (1 frame readable)" in result.stdout
    assert f"damaged       frame 1 (from byte {start}) breaks at byte" in result.stdout
    assert f"the data ends at byte {cut}" in result.stdout
    assert "irpatrol: warning:" in result.stderr
    assert "frame 1" in result.stderr

    doc = json.loads(runner.invoke(cli, ["info", "--json", str(path)]).stdout)
    assert doc[0]["frames"] == 1
    assert doc[0]["damaged"][0]["frame"] == 1
    assert doc[0]["damaged"][0]["frame_offset"] == start
    assert doc[0]["damaged"][0]["data_size"] == cut


@pytest.mark.samples
def test_temps_all_frames_writes_every_complete_frame(
    runner: CliRunner, cut_seq: tuple[Path, int, int], tmp_path: Path
) -> None:
    path, _, _ = cut_seq
    whole_dir, cut_dir = tmp_path / "whole", tmp_path / "cut"
    ok = runner.invoke(cli, ["temps", str(sample_path(SC660)), "--all-frames", "-o", str(whole_dir)])
    assert ok.exit_code == 0, ok.output
    result = runner.invoke(cli, ["temps", str(path), "--all-frames", "-o", str(cut_dir), "--json"])
    assert result.exit_code == ExitStatus.PARTIAL, result.output
    assert [p.name for p in cut_dir.iterdir()] == ["cut_f0000.npy"]
    np.testing.assert_array_equal(
        np.load(cut_dir / "cut_f0000.npy"), np.load(whole_dir / "flir_sc660_sample_f0000.npy")
    )
    doc = json.loads(result.stdout)
    assert doc["images"][0]["damaged"][0]["frame"] == 1
    assert "frame 1" in result.stderr


def test_temps_synthetic_csq_cut_in_its_last_frame(runner: CliRunner, tmp_path: Path) -> None:
    data = synthetic_sequence(4)
    whole, cut = tmp_path / "whole.csq", tmp_path / "cut.csq"
    whole.write_bytes(data)
    cut.write_bytes(data[:-1000])
    assert runner.invoke(cli, ["temps", str(whole), "--all-frames", "-o", str(tmp_path / "w")]).exit_code == 0
    result = runner.invoke(cli, ["temps", str(cut), "--all-frames", "-o", str(tmp_path / "c")])
    assert result.exit_code == ExitStatus.PARTIAL, result.output
    written = sorted(p.name for p in (tmp_path / "c").iterdir())
    assert written == [f"cut_f{i:04d}.npy" for i in range(len(RAWS) - 1)]
    for i in range(len(RAWS) - 1):
        np.testing.assert_array_equal(
            np.load(tmp_path / "c" / f"cut_f{i:04d}.npy"), np.load(tmp_path / "w" / f"whole_f{i:04d}.npy")
        )
    assert "frame 4" in result.stderr


def test_frames_selects_start_stop_step(runner: CliRunner, tmp_path: Path) -> None:
    seq = tmp_path / "s.csq"
    seq.write_bytes(synthetic_sequence(4))
    result = runner.invoke(cli, ["temps", str(seq), "--frames", "1::2", "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["s_f0001.npy", "s_f0003.npy"]
    one = runner.invoke(cli, ["temps", str(seq), "--frames", "2", "-o", str(tmp_path / "one")])
    assert one.exit_code == 0, one.output
    assert [p.name for p in (tmp_path / "one").iterdir()] == ["s_f0002.npy"]


@pytest.mark.parametrize("text", ["a:b", "1:2:3:4", "-1:", "0:10:0", ""])
def test_frames_refuses_bad_selections(runner: CliRunner, tmp_path: Path, text: str) -> None:
    seq = tmp_path / "s.csq"
    seq.write_bytes(synthetic_sequence(4))
    result = runner.invoke(cli, ["temps", str(seq), "--frames", text, "-o", str(tmp_path / "o")])
    assert result.exit_code == ExitStatus.USAGE, result.output
    assert "--frames" in result.stderr
