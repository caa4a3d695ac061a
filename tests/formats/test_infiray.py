"""InfiRay IRG reader, on files synthesised from the documented layout (no sample exists)."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from irpatrol.errors import CorruptFileError, ParameterError, UnsupportedFormatError
from irpatrol.formats import open_thermal
from irpatrol.formats.infiray import IrgReader
from tests.formats.synth import make_irg, tiny_jpeg

TEMPS = np.array([[-20.0, 0.0, 21.5], [36.6, 100.0, 250.25]])


def test_c200_temperatures_are_v_over_16_minus_27315() -> None:
    data = make_irg(TEMPS)
    with open_thermal(data, name="cam.irg") as tf:
        assert tf.format_name == "infiray-irg"
        frame = tf.first_frame()
        assert (frame.info.width, frame.info.height) == (3, 2)
        assert frame.info.raw_encoding is None
        assert not frame.has_raw
        th = frame.thermogram()
        assert th.celsius.dtype == np.float32
        np.testing.assert_allclose(th.celsius, TEMPS, atol=1 / 32)
        assert th.valid.all()
        assert tf.frame_count() == 1
        assert frame.info.extra["emissivity"] == pytest.approx(0.95)


def test_exact_fixed_point_formula() -> None:
    data = bytearray(make_irg(np.zeros((1, 2))))
    struct.pack_into("<HH", data, 128 + 2, 4370, 16 * 300)  # the 16-bit image starts after w*h bytes
    t = open_thermal(bytes(data), name="x.irg").first_frame().celsius()
    np.testing.assert_allclose(t[0], [4370 / 16 - 273.15, 300 - 273.15], atol=1e-4)


@pytest.mark.parametrize(("variant", "flag"), [("c200", True), ("other", False), ("p200", False)])
def test_tenth_kelvin_variants(variant: str, flag: bool) -> None:
    data = make_irg(TEMPS, variant=variant, tenth_kelvin_flag=flag, visible=tiny_jpeg())
    t = open_thermal(data, name="v.irg").first_frame().celsius()
    np.testing.assert_allclose(t, TEMPS, atol=0.051)


def test_visible_jpeg() -> None:
    jpeg = tiny_jpeg()
    frame = open_thermal(make_irg(TEMPS, visible=jpeg), name="v.irg").first_frame()
    assert frame.info.has_visible_image
    assert frame.visible_image() == jpeg
    bare = open_thermal(make_irg(TEMPS), name="b.irg").first_frame()
    assert not bare.info.has_visible_image
    assert bare.visible_image() is None


def test_identified_by_content_not_extension() -> None:
    assert open_thermal(make_irg(TEMPS), name="renamed.bin").format_name == "infiray-irg"
    assert IrgReader().accept(make_irg(TEMPS)[:16])
    assert not IrgReader().accept(b"\xca\xac\x40\x00")


def test_overrides_refused_for_temperature_format() -> None:
    frame = open_thermal(make_irg(TEMPS), name="o.irg").first_frame()
    with pytest.raises(ParameterError, match=r"o\.irg stores temperatures"):
        frame.thermogram(emissivity=0.9)
    with pytest.raises(Exception, match="temperatures, not raw counts"):
        frame.raw()


@pytest.mark.parametrize("cut", [0, 1, 4, 64, 127, 128, 129, 128 + 6, 128 + 6 + 11, 128 + 6 + 12 - 1])
def test_truncated(cut: int) -> None:
    data = make_irg(TEMPS)[:cut]
    with pytest.raises((CorruptFileError, UnsupportedFormatError), match=r"cut\.irg"):
        open_thermal(data, name="cut.irg").first_frame().thermogram()


def test_truncated_visible_jpeg() -> None:
    data = make_irg(TEMPS, visible=tiny_jpeg())
    with pytest.raises(CorruptFileError, match=r"visible JPEG .* truncated"):
        open_thermal(data[:-10], name="t.irg")


def _patched(offset: int, fmt: str, *values: int) -> bytes:
    data = bytearray(make_irg(TEMPS))
    struct.pack_into(fmt, data, offset, *values)
    return bytes(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_patched(4, "<I", 7), "8-bit image length 7 does not match 3x2"),
        (_patched(8, "<HH", 0, 3), "not a plausible image size"),
        (_patched(8, "<HH", 60000, 60000), "not a plausible image size"),
        (_patched(8, "<HH", 3, 2), "16-bit image is declared 3x2 .* 8-bit image is 2x3"),
        (_patched(13, "<I", 99), "16-bit image is declared"),
        (_patched(17, "<HH", 2, 2), "16-bit image is declared 2x2"),
        (_patched(126, "<H", 0), "end marker"),
        (_patched(4, "<IHHBI", 600, 20, 30, 0, 0), "truncated: 30x20 images need 1928 bytes"),
    ],
)
def test_wrong_sizes_and_fields(data: bytes, message: str) -> None:
    with pytest.raises(CorruptFileError, match=message) as err:
        open_thermal(data, name="bad.irg")
    assert err.value.path == "bad.irg"


def test_wrong_header_length_is_not_an_irg() -> None:
    with pytest.raises(UnsupportedFormatError, match="unsupported format"):
        open_thermal(_patched(2, "<H", 64), name="bad.irg")
