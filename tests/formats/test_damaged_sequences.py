"""A damaged SEQ/CSQ costs only its damaged frame: complete frames read whole, the damage reported."""

from __future__ import annotations

import numpy as np
import pytest

from irpatrol.errors import CorruptFileError, DamagedFrameError
from irpatrol.formats import fff as fff_mod
from irpatrol.formats import open_thermal
from tests.conftest import sample_path
from tests.formats.fff_builder import camera_info, fff_block, raw_record

SC660 = "flir_sc660_sample.seq"


def read_all(data: bytes, name: str) -> tuple[list[np.ndarray], DamagedFrameError | None]:
    """Raw counts of every frame the iteration yields, and the damage that ended it (if any)."""
    raws: list[np.ndarray] = []
    with open_thermal(data, name=name) as tf:
        try:
            for frame in tf.frames():
                raws.append(frame.raw())
        except DamagedFrameError as exc:
            return raws, exc
    return raws, None


def _cuts_in_block(start: int, block: fff_mod.FffBlock) -> list[int]:
    """Cut points inside a frame: in its header, directory, CameraInfo, raw data and last byte."""
    first_rec = min(r.offset for r in block.records)
    raw = block.find(fff_mod.REC_RAW)
    assert raw is not None
    return [
        start + 1,
        start + 4,
        start + 40,
        start + fff_mod.HEADER_SIZE + 10,
        first_rec + 100,
        raw.offset + 10,
        raw.offset + raw.length // 2,
        block.end - 1,
    ]


@pytest.mark.samples
def test_real_seq_with_its_last_frame_cut() -> None:
    data = sample_path(SC660).read_bytes()
    whole, damage = read_all(data, SC660)
    assert damage is None
    assert len(whole) == 2
    last = fff_mod.parse_block(data, fff_mod.parse_block(data, 0, path=SC660).end, path=SC660)
    for cut in _cuts_in_block(last.start, last):
        raws, damage = read_all(data[:cut], f"cut{cut}.seq")
        assert len(raws) == 1, cut
        assert np.array_equal(raws[0], whole[0]), cut
        assert damage is not None, cut
        assert damage.frame_index == 1
        assert damage.frame_offset == last.start
        assert damage.data_size == cut
        assert damage.offset is not None
        assert last.start <= damage.offset <= cut
        assert f"cut{cut}.seq: frame 1 (from byte {last.start}) is damaged" in str(damage)


@pytest.mark.samples
def test_real_seq_cut_between_frames_is_whole() -> None:
    data = sample_path(SC660).read_bytes()
    end = fff_mod.parse_block(data, 0, path=SC660).end
    raws, damage = read_all(data[:end], "first.seq")
    assert len(raws) == 1
    assert damage is None


RAWS = [(np.arange(48 * 64, dtype=np.uint16).reshape(48, 64) * 7 + 9000 + 300 * i) for i in range(5)]


def synthetic_sequence(subtype: int) -> bytes:
    """Five frames of 64x48: JPEG-LS raw (subtype 4, a CSQ) or bare uint16 (subtype 2, a SEQ)."""
    return b"".join(
        fff_block(
            [(32, 1, camera_info(64, 48)), (1, subtype, raw_record(r, subtype=subtype))],
            order="<",
            creator=b"RTP",
        )
        for r in RAWS
    )


@pytest.mark.parametrize(("subtype", "name"), [(4, "synthetic.csq"), (2, "synthetic.seq")])
def test_synthetic_sequence_with_its_last_frame_cut(subtype: int, name: str) -> None:
    data = synthetic_sequence(subtype)
    whole, damage = read_all(data, name)
    assert damage is None
    assert all(np.array_equal(a, b) for a, b in zip(whole, RAWS, strict=True))
    blocks = []
    pos = 0
    for _ in RAWS:
        blocks.append(fff_mod.parse_block(data, pos, path=name))
        pos = blocks[-1].end
    last = blocks[-1]
    for cut in _cuts_in_block(last.start, last):
        raws, damage = read_all(data[:cut], name)
        assert len(raws) == 4, cut
        for got, want in zip(raws, whole[:4], strict=True):
            assert np.array_equal(got, want), cut
        assert damage is not None, cut
        assert (damage.frame_index, damage.frame_offset, damage.data_size) == (4, last.start, cut)


def test_frame_with_damaged_pixels_costs_only_itself() -> None:
    """Headers whole, JPEG-LS data garbage: the iteration goes on; only that frame fails to decode."""
    frames = [raw_record(r, subtype=4) for r in RAWS[:3]]
    frames[1] = frames[1][:32] + bytes(len(frames[1]) - 32)
    data = b"".join(
        fff_block([(32, 1, camera_info(64, 48)), (1, 4, rec)], order="<", creator=b"RTP") for rec in frames
    )
    with open_thermal(data, name="pixels.csq") as tf:
        got = list(tf.frames())
        assert len(got) == 3
        assert np.array_equal(got[0].raw(), RAWS[0])
        with pytest.raises(CorruptFileError):
            got[1].raw()
        assert np.array_equal(got[2].raw(), RAWS[2])


def test_damage_in_the_first_frame_fails_the_open() -> None:
    data = synthetic_sequence(2)
    with pytest.raises(CorruptFileError, match="truncated"):
        open_thermal(data[:500], name="first.seq")
