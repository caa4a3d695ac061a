"""`temps --all-frames` streams a sequence: peak memory does not grow with its length."""

from __future__ import annotations

import io
import json
import mmap
import sys
from pathlib import Path

import numpy as np
import pytest

from irpatrol.cli.options import InputOptions
from irpatrol.cli.read_cmds import _temps_job
from irpatrol.formats import flir, open_thermal, registry
from irpatrol.formats.selection import FrameSelection
from tests.cli.sequence_probe import measure, write_sequence


@pytest.mark.slow
def test_long_sequence_peak_memory_is_flat(tmp_path: Path) -> None:
    """5,000 frames against 10: peak RSS within 1.5x, and no frame data kept (BENCHMARKS.md has the figures).

    What does grow is the list of output names the command reports (about 100 bytes a
    frame); one 64x48 frame's raw counts alone are 6 kB.
    """
    short = measure(write_sequence(tmp_path / "short.seq", 10), tmp_path / "short", trace=True)
    long = measure(write_sequence(tmp_path / "long.seq", 5000), tmp_path / "long", trace=True)
    assert short["exit"] == 0
    assert long["exit"] == 0
    assert len(list((tmp_path / "long").iterdir())) == 5000
    assert long["maxrss_kb"] <= 1.5 * short["maxrss_kb"], (short, long)
    assert (long["traced_peak"] - short["traced_peak"]) / 1990 < 500, (short, long)


@pytest.mark.slow
def test_analyze_over_a_long_sequence_keeps_no_frame_in_memory(tmp_path: Path) -> None:
    """`analyze --all-frames --json`: per-frame results go through a spool file, not a list.

    Before the spool, 1,000 frames took 44.7 MiB traced (10: 8.7 MiB); the JSON still
    lists every frame.
    """
    short = measure(write_sequence(tmp_path / "short.seq", 10), tmp_path / "short.json", trace=True,
                    command="analyze")  # fmt: skip
    long = measure(write_sequence(tmp_path / "long.seq", 2000), tmp_path / "long.json", trace=True,
                   command="analyze")  # fmt: skip
    assert short["exit"] == 0
    assert long["exit"] == 0
    doc = json.loads((tmp_path / "long.json").read_text(encoding="utf-8"))
    assert [f["frame"] for f in doc["images"]] == list(range(2000))
    assert long["maxrss_kb"] <= 1.5 * short["maxrss_kb"], (short, long)
    assert long["traced_peak"] - short["traced_peak"] < 2 * 2**20, (short, long)


def test_released_pages_of_a_mapped_sequence_still_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages dropped while walking a memory-mapped SEQ are read again when an old frame is decoded."""
    seq = write_sequence(tmp_path / "s.seq", 40)
    monkeypatch.setattr(registry, "MMAP_THRESHOLD", 1024)
    monkeypatch.setattr(flir, "RELEASE_EVERY", mmap.PAGESIZE)
    with open_thermal(seq) as tf:
        frames = list(tf.frames())  # every page walked and released
        assert len(frames) == 40
        first = frames[0].raw()
        assert all(np.array_equal(f.raw(), first) for f in frames[1:])


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_temps_shows_progress_over_frames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seq = write_sequence(tmp_path / "s.seq", 12)
    err = _Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    out = tmp_path / "out"
    out.mkdir()
    result = _temps_job(
        seq,
        out=out,
        fmt="npy",
        selection=FrameSelection.parse("::3"),
        overrides={},
        inputs=InputOptions(),
        progress=True,
    )
    assert len(result["outputs"]) == 4
    assert "s.seq: 4frame" in err.getvalue()


def test_render_and_analyze_show_progress_over_frames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from irpatrol.cli.analyze_cmd import analyze_frames
    from irpatrol.cli.read_cmds import _render_job
    from irpatrol.diagnosis.rulepack import load_rule_pack

    seq = write_sequence(tmp_path / "s.seq", 12)
    err = _Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    out = tmp_path / "out"
    out.mkdir()
    rendered = _render_job(
        seq,
        out=out,
        batch=True,
        palette="iron",
        span=None,
        overrides={},
        inputs=InputOptions(),
        selection=FrameSelection.parse("::2"),
        progress=True,
    )
    assert len(rendered["outputs"]) == 6
    assert "s.seq: 6frame" in err.getvalue()
    analysed = analyze_frames(
        seq,
        points=None,
        points_dir=None,
        pack=load_rule_pack("dlt664-2016"),
        conditions=None,
        frames=FrameSelection.parse("::4"),
        progress=True,
    )
    assert len(analysed["frames"]) == 3
    assert "s.seq: 3frame" in err.getvalue()


def test_no_progress_bar_when_stderr_is_not_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from irpatrol.cli.read_cmds import _render_job

    seq = write_sequence(tmp_path / "s.seq", 4)
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    _render_job(
        seq,
        out=tmp_path,
        batch=True,
        palette="iron",
        span=None,
        overrides={},
        inputs=InputOptions(),
        selection=FrameSelection(),
        progress=True,
    )
    assert err.getvalue() == ""
