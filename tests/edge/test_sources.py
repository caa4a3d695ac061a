"""Capture sources: a watched folder (incomplete files, files there at start, sidecars) and the replay."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from irpatrol.edge.sources import Capture, ReplaySource, WatchedFolder, read_sidecar, sequence_frames
from irpatrol.errors import FileAccessError, ParameterError
from irpatrol.pipeline import inspect_image
from tests.conftest import DEMO, sample_path
from tests.edge.conftest import hot_npy


def collect(source: WatchedFolder, stop: threading.Event, out: list[Capture]) -> threading.Thread:
    def run() -> None:
        for c in source.captures(stop):
            out.append(c)

    t = threading.Thread(target=run)
    t.start()
    return t


def wait_for(pred: object, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def test_watched_folder_takes_files_there_at_start_and_new_ones_once_complete(tmp_path: Path) -> None:
    folder = tmp_path / "cam"
    folder.mkdir()
    early = hot_npy(60.0, seed=1)
    (folder / "early.npy").write_bytes(early)
    (folder / "early.json").write_text(json.dumps({"preset": 4, "x_m": 1.5, "y_m": -2.0}), encoding="utf-8")
    (folder / "notes.txt").write_text("not an image", encoding="utf-8")
    source = WatchedFolder(folder, patterns=["*.npy", "*.jpg"], settle_s=0.3, rescan_s=0.5)
    stop = threading.Event()
    got: list[Capture] = []
    t = collect(source, stop, got)
    try:
        assert wait_for(lambda: len(got) == 1)
        assert got[0].file_name == "early.npy"
        assert got[0].data == early
        assert got[0].preset == "4"
        assert got[0].local_xy == (1.5, -2.0)
        # the camera writes a big image in two halves with a pause: taken once, whole
        data = (DEMO / "flir_t640_fuses.jpg").read_bytes()
        with (folder / "IR_0002.jpg").open("wb") as f:
            f.write(data[: len(data) // 2])
            f.flush()
            time.sleep(0.8)  # longer than settle_s: the half file must fail the header check
            f.write(data[len(data) // 2 :])
        assert wait_for(lambda: len(got) == 2)
        assert hashlib.sha256(got[1].data).digest() == hashlib.sha256(data).digest()
        time.sleep(0.8)
        assert len(got) == 2  # not taken twice
    finally:
        stop.set()
        t.join(timeout=10)
    assert not t.is_alive()


def test_watched_folder_must_exist(tmp_path: Path) -> None:
    with pytest.raises(FileAccessError, match="does not exist"):
        next(WatchedFolder(tmp_path / "nope").captures(threading.Event()))


def test_replay_of_a_seq_file_gives_standalone_frames_at_the_rate() -> None:
    seq = sample_path("flir_sc660_sample.seq")
    frames = list(sequence_frames(seq))
    assert [i for i, _ in frames] == [0, 1]
    for _, fff in frames:
        ins = inspect_image(fff, name="frame.fff", pack=None)
        assert (ins.width, ins.height) == (640, 480)
    src = ReplaySource(seq, rate_hz=10, loop=True, limit=5)
    stop = threading.Event()
    t0 = time.monotonic()
    got = list(src.captures(stop))
    elapsed = time.monotonic() - t0
    assert [c.frame_index for c in got] == [0, 1, 0, 1, 0]
    assert got[0].file_name == "flir_sc660_sample.f00000.fff"
    assert got[0].data == got[2].data  # a loop replays the same bytes (so the same keys)
    assert 0.35 <= elapsed < 5.0  # 5 frames at 10 Hz: 4 intervals of 0.1 s


def test_replay_of_a_folder_in_name_order(tmp_path: Path) -> None:
    for name in ("b.npy", "a.npy", "c.json"):
        (tmp_path / name).write_bytes(hot_npy(50.0, seed=len(name)))
    got = list(ReplaySource(tmp_path, rate_hz=1000).captures(threading.Event()))
    assert [c.file_name for c in got] == ["a.npy", "b.npy"]
    with pytest.raises(ParameterError, match="rate_hz"):
        ReplaySource(tmp_path, rate_hz=0)
    with pytest.raises(FileAccessError):
        ReplaySource(tmp_path / "missing", rate_hz=1)


def test_replay_stops_when_asked(tmp_path: Path) -> None:
    (tmp_path / "a.npy").write_bytes(hot_npy(50.0))
    src = ReplaySource(tmp_path, rate_hz=0.5, loop=True)
    stop = threading.Event()
    it: Iterator[Capture] = src.captures(stop)
    assert next(it).file_name == "a.npy"
    threading.Timer(0.3, stop.set).start()
    t0 = time.monotonic()
    assert list(it) == []  # the next frame is 2 s away; stop ends the wait
    assert time.monotonic() - t0 < 1.5


def test_sidecars(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    img = tmp_path / "x.jpg"
    assert read_sidecar(img) == {}
    (tmp_path / "x.jpg.json").write_text(
        json.dumps(
            {
                "preset": "12",
                "point": "P-1",
                "lat": 31.5,
                "lon": 121.25,
                "taken_at": "2026-12-02T10:00:00+08:00",
                "execution_id": 3,
                "x_m": "not a number",
            }
        ),
        encoding="utf-8",
    )
    got = read_sidecar(img)
    assert got["preset"] == "12"
    assert got["point_code"] == "P-1"
    assert got["latlon"] == (31.5, 121.25)
    assert got["taken_at"].isoformat() == "2026-12-02T02:00:00+00:00"
    assert got["execution_id"] == 3
    assert "local_xy" not in got
    (tmp_path / "x.jpg.json").write_text("{broken", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert read_sidecar(img) == {}
    assert "not JSON" in caplog.text
