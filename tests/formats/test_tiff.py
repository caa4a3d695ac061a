"""Radiometric TIFF: float °C pages, integer pages with a scale from the caller or the description."""

from __future__ import annotations

import numpy as np
import pytest

from irpatrol.errors import CalibrationError, CorruptFileError, ParameterError, UnsupportedFormatError
from irpatrol.formats import open_thermal
from irpatrol.formats.tiff import open_tiff, scale_from_description
from irpatrol.formats.writers import temperature_bytes
from tests.formats.synth import make_irg, make_tiff

KELVIN_CENTI = np.array([[27315, 29315, 31015], [37315, 27000, 60000]], dtype=np.uint16)
EXPECTED = KELVIN_CENTI * 0.01 - 273.15


def test_float32_tiff_is_celsius() -> None:
    t = np.array([[-5.5, 20.0], [80.25, np.nan]], dtype=np.float32)
    with open_thermal(make_tiff(t), name="f.tif") as tf:
        assert tf.format_name == "tiff"
        frame = tf.first_frame()
        assert (frame.info.width, frame.info.height) == (2, 2)
        th = frame.thermogram()
        np.testing.assert_array_equal(th.celsius, t)
        assert th.n_undefined == 1
        assert not th.valid[1, 1]


def test_round_trip_with_the_project_writer() -> None:
    t = np.linspace(-10, 90, 12, dtype=np.float32).reshape(3, 4)
    got = open_thermal(temperature_bytes(t, "tiff"), name="w.tiff").first_frame().celsius()
    np.testing.assert_array_equal(got, t)


def test_uint16_with_scale_from_caller() -> None:
    data = make_tiff(KELVIN_CENTI)
    got = open_thermal(data, name="u.tif", tiff_scale=0.01, tiff_offset_c=-273.15).first_frame().celsius()
    np.testing.assert_allclose(got, EXPECTED, atol=1e-4)
    got2 = open_tiff(data, scale=0.01, offset_c=-273.15, name="u.tif").first_frame().celsius()
    np.testing.assert_array_equal(got, got2)


def test_open_tiff_from_path(tmp_path) -> None:
    path = tmp_path / "scene.tiff"
    path.write_bytes(make_tiff(KELVIN_CENTI))
    got = open_tiff(path, scale=0.01, offset_c=-273.15).first_frame().celsius()
    np.testing.assert_allclose(got, EXPECTED, atol=1e-4)
    got = open_thermal(path, tiff_scale=0.01, tiff_offset_c=-273.15).first_frame().celsius()
    np.testing.assert_allclose(got, EXPECTED, atol=1e-4)


@pytest.mark.parametrize(
    "description",
    ["scale=0.01 offset=-273.15", "Scale: 0.01; Offset_C: -273.15", '{"scale": 1e-2, "offset": -273.15}'],
)
def test_uint16_with_scale_from_image_description(description: str) -> None:
    data = make_tiff(KELVIN_CENTI, description=description)
    got = open_thermal(data, name="d.tif").first_frame().celsius()
    np.testing.assert_allclose(got, EXPECTED, atol=1e-4)


def test_caller_scale_overrides_description() -> None:
    data = make_tiff(KELVIN_CENTI, description="scale=1 offset=0")
    got = open_thermal(data, name="d.tif", tiff_scale=0.01, tiff_offset_c=-273.15).first_frame().celsius()
    np.testing.assert_allclose(got, EXPECTED, atol=1e-4)


def test_int16_counts() -> None:
    data = make_tiff(np.array([[-100, 0, 250]], dtype=np.int16))
    got = open_thermal(data, name="i.tif", tiff_scale=0.1, tiff_offset_c=0.0).first_frame().celsius()
    np.testing.assert_allclose(got, [[-10.0, 0.0, 25.0]], atol=1e-5)


def test_uint16_without_scale_is_refused_naming_the_option() -> None:
    with pytest.raises(CalibrationError, match=r"u\.tif.*tiff_scale.*tiff_offset_c") as err:
        open_thermal(make_tiff(KELVIN_CENTI), name="u.tif")
    assert err.value.field == "tiff_scale"


def test_half_a_scale_is_refused() -> None:
    with pytest.raises(ParameterError, match="tiff_offset_c"):
        open_thermal(make_tiff(KELVIN_CENTI), name="u.tif", tiff_scale=0.01)


@pytest.mark.parametrize(("scale", "offset"), [(0.0, 0.0), (float("nan"), 0.0), (1.0, float("inf"))])
def test_absurd_scale_is_refused(scale: float, offset: float) -> None:
    with pytest.raises(ParameterError, match=r"u\.tif"):
        open_thermal(make_tiff(KELVIN_CENTI), name="u.tif", tiff_scale=scale, tiff_offset_c=offset)


def test_tiff_options_refused_for_other_formats() -> None:
    with pytest.raises(ParameterError, match=r"x\.irg is not a TIFF"):
        open_thermal(make_irg(np.zeros((2, 2))), name="x.irg", tiff_scale=1.0, tiff_offset_c=0.0)


@pytest.mark.parametrize(
    ("arr", "message"),
    [
        (np.zeros((4, 5), dtype=np.uint8), "8-bit picture is not radiometric"),
        (np.zeros((4, 5, 3), dtype=np.uint8), "not a single-channel"),
        (np.zeros((4, 5, 3), dtype=np.float32), "not a single-channel"),
    ],
)
def test_non_radiometric_tiffs_refused(arr: np.ndarray, message: str) -> None:
    with pytest.raises(UnsupportedFormatError, match=message):
        open_thermal(make_tiff(arr), name="p.tif")


def test_multi_page_tiff_is_a_sequence() -> None:
    import io

    import tifffile

    buf = io.BytesIO()
    with tifffile.TiffWriter(buf) as w:
        for v in (10.0, 20.0, 30.0):
            w.write(np.full((3, 4), v, dtype=np.float32))
    with open_thermal(buf.getvalue(), name="s.tif") as tf:
        assert tf.frame_count() == 3
        assert [float(f.celsius()[0, 0]) for f in tf.frames()] == [10.0, 20.0, 30.0]


@pytest.mark.parametrize("cut", [4, 8, 16, 100, 200, -1])
def test_truncated_tiff(cut: int) -> None:
    data = make_tiff(np.ones((20, 30), dtype=np.float32))[:cut]
    with pytest.raises(CorruptFileError, match=r"t\.tif"):
        open_thermal(data, name="t.tif").first_frame().celsius()


def test_description_parser() -> None:
    assert scale_from_description("") == (None, None)
    assert scale_from_description("scale=0.04 offset_c=-273.15") == (0.04, -273.15)
    assert scale_from_description("irpatrol temperatures, float32, degrees Celsius") == (None, None)


def test_circular_ifd_chain_is_corrupt_not_endless() -> None:
    data = bytearray(make_tiff(np.ones((2, 2), dtype=np.float32)))
    (first,) = np.frombuffer(data, dtype="<u4", count=1, offset=4)
    (count,) = np.frombuffer(data, dtype="<u2", count=1, offset=int(first))
    next_pos = int(first) + 2 + 12 * int(count)
    data[next_pos : next_pos + 4] = int(first).to_bytes(4, "little")  # last IFD points back to the first
    with pytest.raises(CorruptFileError, match=r"loop\.tif: TIFF directory chain loops back"):
        open_thermal(bytes(data), name="loop.tif")
