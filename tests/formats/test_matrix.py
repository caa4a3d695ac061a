"""Temperature matrices: CSV (°C per cell) and NPY (float arrays)."""

from __future__ import annotations

import numpy as np
import pytest

from irpatrol.errors import CorruptFileError, UnsupportedFormatError
from irpatrol.formats import open_thermal
from irpatrol.formats.matrix import CsvReader, NpyReader
from irpatrol.formats.writers import temperature_bytes
from tests.formats.synth import make_csv, make_npy

T = np.array([[-12.5, 0.0, 21.125], [36.5, 99.999, -0.25]])


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("header", [False, True])
def test_csv_delimiters_and_header(delimiter: str, header: bool) -> None:
    data = make_csv(T, delimiter=delimiter, header=header)
    with open_thermal(data, name="m.csv") as tf:
        assert tf.format_name == "csv"
        frame = tf.first_frame()
        assert (frame.info.width, frame.info.height) == (3, 2)
        np.testing.assert_allclose(frame.celsius(), T, atol=1e-4)


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_csv_decimal_comma(delimiter: str) -> None:
    data = make_csv(T, delimiter=delimiter, decimal_comma=True)
    np.testing.assert_allclose(open_thermal(data, name="m.csv").first_frame().celsius(), T, atol=1e-4)


def test_csv_trailing_separators_crlf_bom_and_blank_lines() -> None:
    data = b"\xef\xbb\xbf" + make_csv(T, delimiter=";", trailing=True).replace(b"\n", b"\r\n\r\n")
    np.testing.assert_allclose(open_thermal(data, name="m.csv").first_frame().celsius(), T, atol=1e-4)


def test_csv_round_trip_with_the_project_writer_including_nan() -> None:
    t = T.astype(np.float32).copy()
    t[0, 2] = np.nan
    th = open_thermal(temperature_bytes(t, "csv"), name="w.csv").first_frame().thermogram()
    np.testing.assert_allclose(th.celsius, t, atol=1e-3)
    assert th.n_undefined == 1


def test_csv_wide_header_longer_than_the_prefix() -> None:
    wide = np.arange(300, dtype=float).reshape(1, 300)
    data = make_csv(wide, header=True)
    assert open_thermal(data, name="wide.csv").first_frame().info.width == 300


def test_csv_ragged_row_names_the_line() -> None:
    data = b"1,2,3\n4,5,6\n7,8\n"
    frame = open_thermal(data, name="r.csv").first_frame()  # open counts lines only
    with pytest.raises(CorruptFileError, match=r"r\.csv: CSV line 3 has 2 values, line 1 has 3"):
        frame.celsius()


def test_csv_non_number_names_line_and_column() -> None:
    data = b"a,b,c\n1,2,3\n4,oops,6\n"
    with pytest.raises(CorruptFileError, match=r"n\.csv: CSV line 3, column 2: 'oops' is not a number"):
        open_thermal(data, name="n.csv").first_frame().celsius()


def test_csv_header_only() -> None:
    with pytest.raises(UnsupportedFormatError, match="text that is not a temperature matrix"):
        open_thermal(b"x,y,z\n\n", name="h.csv")
    with pytest.raises(CorruptFileError, match=r"header \(line 1\) but no data rows"):
        CsvReader().open(b"x,y,z\n\n", path="h.csv")


@pytest.mark.parametrize(
    "text",
    [b"Hello, world.\nThis is prose, not numbers.\n", b"# README\n\nSome text\n", b"x\n", b"{}\n"],
)
def test_text_files_are_not_csv(text: bytes) -> None:
    assert not CsvReader().accept(text)
    with pytest.raises(UnsupportedFormatError, match=r"unsupported format: text"):
        open_thermal(text, name="notes.txt")


def test_npy_float32_and_float64() -> None:
    for dtype in (np.float32, np.float64, ">f8", np.float16):
        arr = T.astype(dtype)
        with open_thermal(make_npy(arr), name="m.npy") as tf:
            assert tf.format_name == "npy"
            np.testing.assert_allclose(tf.first_frame().celsius(), arr.astype(np.float32))


def test_npy_fortran_order() -> None:
    arr = np.asfortranarray(T)
    np.testing.assert_allclose(open_thermal(make_npy(arr), name="f.npy").first_frame().celsius(), T)


def test_npy_stack_is_a_sequence() -> None:
    stack = np.stack([T, T + 1, T + 2]).astype(np.float32)
    with open_thermal(make_npy(stack), name="s.npy") as tf:
        assert tf.format_name == "npy-stack"
        assert tf.frame_count() == 3
        np.testing.assert_allclose([f.celsius()[0, 0] for f in tf.frames()], [-12.5, -11.5, -10.5])


def test_npy_round_trip_with_the_project_writer() -> None:
    t = T.astype(np.float32)
    got = open_thermal(temperature_bytes(t, "npy"), name="w.npy").first_frame().celsius()
    np.testing.assert_array_equal(got, t)


def test_npy_object_array_refused_without_unpickling() -> None:
    arr = np.empty((2, 2), dtype=object)
    with pytest.raises(UnsupportedFormatError, match=r"Python objects .* pickle"):
        open_thermal(make_npy(arr), name="o.npy")


@pytest.mark.parametrize("dtype", [np.uint16, np.int32, np.uint8, np.bool_])
def test_npy_integer_arrays_refused(dtype: type) -> None:
    with pytest.raises(UnsupportedFormatError, match=r"i\.npy: NPY holds .* no calibration"):
        open_thermal(make_npy(np.zeros((3, 3), dtype=dtype)), name="i.npy")


@pytest.mark.parametrize(
    "arr", [np.zeros(5), np.zeros((2, 2, 2, 2)), np.zeros((0, 3)), np.zeros(3, dtype=[("a", "f4")])]
)
def test_npy_wrong_shapes_refused(arr: np.ndarray) -> None:
    with pytest.raises((UnsupportedFormatError, CorruptFileError), match=r"w\.npy"):
        open_thermal(make_npy(arr), name="w.npy")


@pytest.mark.parametrize("cut", [6, 9, 11, 40, 127, -1])
def test_npy_truncated(cut: int) -> None:
    data = make_npy(np.zeros((4, 4), dtype=np.float32))[:cut]
    with pytest.raises(CorruptFileError, match=r"t\.npy"):
        open_thermal(data, name="t.npy").first_frame().celsius()


def test_npy_accept() -> None:
    assert NpyReader().accept(make_npy(T)[:16])
    assert not NpyReader().accept(b"\x93NUMPZ")
