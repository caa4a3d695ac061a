"""The reusable per-thread read buffer for JPEGs: reused when free, never overwritten while in use."""

from __future__ import annotations

import resource
import threading

import numpy as np
import pytest

from irpatrol.formats import base, open_thermal
from tests.conftest import REFS, sample_path

pytestmark = pytest.mark.samples

XTR = "dji_zenmuse_xtr.jpg"
T640 = "flir_t640_fuses.jpg"


def _ref_raw(name: str) -> np.ndarray:
    return np.load(REFS / f"{name}.raw.npy")


def test_live_frames_keep_their_data_while_other_files_are_read() -> None:
    first = open_thermal(sample_path(XTR)).first_frame()  # nothing decoded yet: only views of the buffer
    second = open_thermal(sample_path(T640)).first_frame()
    third = open_thermal(sample_path(XTR)).first_frame()
    assert np.array_equal(second.raw(), _ref_raw(T640))
    assert np.array_equal(first.raw(), _ref_raw(XTR))
    assert np.array_equal(third.raw(), _ref_raw(XTR))
    assert first.info.camera.make == "DJI"  # lazy metadata, read after the other files
    assert second.info.camera.model == "FLIR T640"
    assert second.visible_image() is not None


def test_buffer_is_reused_once_the_frames_are_gone() -> None:
    frame = open_thermal(sample_path(XTR)).first_frame()
    buf = base._READ_BUFFER.buf
    assert buf is not None
    assert base._in_use(buf)
    del frame
    assert not base._in_use(buf)
    open_thermal(sample_path(XTR)).first_frame().celsius()
    assert base._READ_BUFFER.buf is buf


def test_no_fresh_pages_per_image_in_a_loop() -> None:
    """The issue-10 floor: after warm-up, converting a 640x512 uint16 R-JPEG faults almost no page."""
    path = sample_path(XTR)
    for _ in range(5):
        open_thermal(path).first_frame().celsius()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        open_thermal(path).first_frame().celsius()
    per_image = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20
    assert per_image < 100  # ~800 when the file is read into a fresh bytes object each time


def test_each_thread_has_its_own_buffer() -> None:
    results: dict[str, bool] = {}

    def work(name: str) -> None:
        for _ in range(5):
            raw = open_thermal(sample_path(name)).first_frame().raw()
            results[name] = bool(np.array_equal(raw, _ref_raw(name)))

    threads = [threading.Thread(target=work, args=(n,)) for n in (XTR, T640)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {XTR: True, T640: True}


def test_read_source_gives_the_whole_jpeg(tmp_path: object) -> None:
    data = sample_path(XTR).read_bytes()
    path = f"{tmp_path}/x.jpg"
    with open(path, "wb") as f:
        f.write(data)
    out = base.read_source(path, mmap_above=1 << 30, pool_jpeg=True)
    assert bytes(out) == data
