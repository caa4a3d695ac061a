"""Bad input: every damaged, foreign or absurd file raises a typed irpatrol error naming file and problem."""

from __future__ import annotations

import numpy as np
import pytest

from irpatrol.errors import (
    CalibrationError,
    CorruptFileError,
    FileAccessError,
    FormatError,
    IrpatrolError,
    UnsupportedFormatError,
)
from irpatrol.formats import fff, open_thermal
from tests.conftest import FLIR_SAMPLES, sample_path
from tests.formats.synth import (
    fff_from_rjpeg,
    patch_camera_info,
    raw_png_record,
    replace_record,
    rjpeg_from_fff,
    tiny_jpeg,
)


def exercise(data: bytes, name: str) -> None:
    """Everything a caller does with a file: open, first frame, raw, temperatures, photo, count."""
    with open_thermal(data, name=name) as tf:
        frame = tf.first_frame()
        if frame.has_raw:
            frame.raw()
        frame.thermogram()
        frame.visible_image()
        tf.frame_count()


def _cut_points(size: int) -> list[int]:
    fixed = [1, 2, 3, 4, 8, 20, 64, 100, 200, 500, 1000, 4000]
    return sorted({c for c in fixed if c < size} | {size * k // 16 for k in range(1, 16)} | {size - 1})


@pytest.mark.samples
@pytest.mark.parametrize("name", FLIR_SAMPLES)
def test_truncated_real_files(name: str) -> None:
    data = sample_path(name).read_bytes()
    fff_end = _thermal_data_end(data, name)
    raised = 0
    for cut in _cut_points(len(data)):
        label = f"{name}@{cut}"
        error = _outcome(data[:cut], label)
        if error is None:
            # a cut only in the trailing visible photo (or after a whole SEQ frame) leaves data readable
            assert cut >= fff_end, f"{label}: cut inside the thermal data but no error"
            continue
        assert isinstance(error, FormatError), f"{label}: {error!r}"
        assert error.path == label
        assert error.detail
        raised += 1
    assert raised >= 5


def _outcome(data: bytes, label: str) -> IrpatrolError | None:
    try:
        exercise(data, label)
    except IrpatrolError as exc:
        return exc
    return None


def _thermal_data_end(data: bytes, name: str) -> int:
    """Bytes needed for the first frame's thermal data: the last FLIR APP1 chunk, or the first FFF block."""
    if name.endswith(".seq"):
        return fff.parse_block(data, 0, path=name).end
    last = data.rfind(b"FLIR\0\x01")
    (length,) = np.frombuffer(data, dtype=">u2", count=1, offset=last - 2)
    return last - 2 + int(length)


def test_plain_jpeg_made_with_pillow_is_refused() -> None:
    with pytest.raises(UnsupportedFormatError, match=r"photo\.jpg: not a radiometric image: a plain JPEG"):
        open_thermal(tiny_jpeg(), name="photo.jpg")


def test_jpeg_with_big_trailer_is_refused() -> None:
    data = tiny_jpeg() + np.random.default_rng(0).integers(0, 256, 20_000, dtype=np.uint8).tobytes()
    with pytest.raises(
        UnsupportedFormatError, match=r"guide\.jpg: unsupported radiometric format: .*trailer"
    ):
        open_thermal(data, name="guide.jpg")


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("size", [1, 3, 17, 512, 5000])
def test_random_bytes_are_refused(seed: int, size: int) -> None:
    data = np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()
    with pytest.raises(FormatError, match=r"rand\.bin: ") as err:
        exercise(data, "rand.bin")
    assert err.value.path == "rand.bin"


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "a PNG image"),
        (b"GIF89a" + bytes(100), "a GIF image"),
        (b"%PDF-1.7\n", "a PDF document"),
        (b"PK\x03\x04" + bytes(40), "a ZIP archive"),
        (b"Dear operator,\nthe transformer is hot.\n", "text that is not a temperature matrix"),
        (b"\x00\x01\x02\x03" * 10, "binary data"),
    ],
)
def test_unknown_formats_say_what_they_are(data: bytes, what: str) -> None:
    with pytest.raises(UnsupportedFormatError, match=rf"x\.dat: unsupported format: {what}, not a FLIR"):
        open_thermal(data, name="x.dat")


def test_empty_file_and_missing_file(tmp_path) -> None:
    with pytest.raises(UnsupportedFormatError, match=r"e\.jpg: empty file"):
        open_thermal(b"", name="e.jpg")
    with pytest.raises(FileAccessError, match="no such file"):
        open_thermal(tmp_path / "absent.jpg")
    with pytest.raises(FileAccessError, match="is a folder"):
        open_thermal(tmp_path)


@pytest.fixture
def t640_fff() -> bytes:
    return fff_from_rjpeg(sample_path("flir_t640_fuses.jpg").read_bytes())


@pytest.mark.samples
@pytest.mark.parametrize(("width", "height"), [(320, 240), (640, 479), (1, 1)])
def test_png_of_wrong_size_in_raw_record(t640_fff: bytes, width: int, height: int) -> None:
    blob = replace_record(t640_fff, fff.REC_RAW, raw_png_record(t640_fff, width, height))
    for data, name in ((blob, "wrong.fff"), (rjpeg_from_fff(blob), "wrong.jpg")):
        frame = open_thermal(data, name=name).first_frame()
        assert (frame.info.width, frame.info.height) == (640, 480)
        with pytest.raises(
            CorruptFileError, match=rf"{name}: raw frame is {width}x{height} pixels .* 640x480"
        ):
            frame.raw()
        with pytest.raises(CorruptFileError, match=name):
            frame.thermogram()


@pytest.mark.samples
@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("emissivity", 0.0, "emissivity"),
        ("emissivity", float("nan"), "emissivity"),
        ("planck.r1", float("nan"), "planck.r1"),
        ("planck.b", -1400.0, "planck.b"),
        ("planck.r2", 0.0, "planck.r2"),
        ("planck.f", float("inf"), "planck.f"),
        ("atmospheric_temp_k", 1500.0, "atmospheric_transmission"),
    ],
)
def test_absurd_calibration_constants(t640_fff: bytes, field: str, value: float, named: str) -> None:
    blob = patch_camera_info(t640_fff, field, value)
    for data, name in ((blob, "absurd.fff"), (rjpeg_from_fff(blob), "absurd.jpg")):
        frame = open_thermal(data, name=name).first_frame()  # header-level open still works
        with pytest.raises(CalibrationError, match=rf"{name}: calibration constant {named}=") as err:
            frame.thermogram()
        assert err.value.field == named


@pytest.mark.samples
def test_fff_surgery_round_trip_is_faithful(t640_fff: bytes) -> None:
    """The helpers used above do not themselves damage the file."""
    ref = open_thermal(sample_path("flir_t640_fuses.jpg")).first_frame().celsius()
    got = open_thermal(rjpeg_from_fff(t640_fff), name="same.jpg").first_frame().celsius()
    np.testing.assert_array_equal(got, ref)
