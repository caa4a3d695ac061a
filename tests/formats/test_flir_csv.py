"""FLIR Tools / Thermal Studio CSV exports: header lines, labelled frames, units, damage.

No real export is in the shared samples, so the files are written here in the layout the
tools write (``File:`` line, empty line, ``Parameters:`` block, ``Frame N`` rows).
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irpatrol.errors import CorruptFileError, IrpatrolError
from irpatrol.formats import open_thermal
from irpatrol.formats.flir_csv import FlirCsvReader
from irpatrol.formats.matrix import CsvReader
from irpatrol.formats.registry import identify

PARAMS = (
    "Parameters:,Emissivity:,0.95\n"
    ",Reflected temperature:,20 °C\n"
    ",Distance:,1.5 m\n"
    ",Relative humidity:,50 %\n"
    ",Atmospheric temperature:,20 °C\n"
    ",External optics temperature:,20 °C\n"
    ",External optics transmission:,1\n"
)


def _export(
    frames: list[np.ndarray], *, params: str = PARAMS, sep: str = ",", trailing: bool = True
) -> bytes:
    lines = [f"File:{sep}C:\\Users\\me\\Pictures\\FLIR0123.jpg", ""]
    if params:
        lines += [*params.replace(",", sep).splitlines(), ""]
    for n, frame in enumerate(frames, start=1):
        for r, row in enumerate(frame):
            cells = [f"{v:.2f}".replace(".", "," if sep != "," else ".") for v in row]
            label = f"Frame {n}" if r == 0 else ""
            lines.append(sep.join([label, *cells]) + (sep if trailing else ""))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _read_all(data: bytes, name: str) -> None:
    with open_thermal(data, name=name) as tf:
        for frame in tf.frames():
            frame.celsius()
            _ = frame.info


FRAME = np.arange(12, dtype=np.float32).reshape(3, 4) * 1.25 + 20.0


def test_single_frame_with_parameters() -> None:
    data = _export([FRAME])
    assert isinstance(identify(data[:512], path="x.csv"), FlirCsvReader)
    with open_thermal(data, name="x.csv") as tf:
        assert tf.format_name == "flir-csv"
        frame = tf.first_frame()
        assert frame.shape == (3, 4)
        np.testing.assert_allclose(frame.celsius(), FRAME, atol=0.005)
        extra = frame.info.extra
    assert extra["csv_emissivity"] == pytest.approx(0.95)
    assert extra["csv_file"] == "C:\\Users\\me\\Pictures\\FLIR0123.jpg"
    assert extra["csv_distance"] == "1.5 m"
    assert extra["csv_external_optics_transmission"] == pytest.approx(1.0)


def test_sequence_export_gives_every_frame() -> None:
    frames = [FRAME, FRAME + 1.0, FRAME + 2.5]
    with open_thermal(_export(frames, params=""), name="seq.csv") as tf:
        got = [f.celsius() for f in tf.frames()]
    assert len(got) == 3
    for a, b in zip(got, frames, strict=True):
        np.testing.assert_allclose(a, b, atol=0.005)


@pytest.mark.parametrize(("sep", "trailing"), [(";", True), ("\t", False), (",", False)])
def test_separators_decimal_comma_and_no_trailing_separator(sep: str, trailing: bool) -> None:
    data = _export([FRAME], sep=sep, trailing=trailing)
    frame = open_thermal(data, name="x.csv").first_frame()
    np.testing.assert_allclose(frame.celsius(), FRAME, atol=0.005)
    assert frame.info.extra["csv_emissivity"] == pytest.approx(0.95)


def test_fahrenheit_export_is_converted_and_said() -> None:
    fahrenheit = FRAME * 9.0 / 5.0 + 32.0
    data = _export([fahrenheit], params=PARAMS.replace("20 °C", "68 °F"))
    frame = open_thermal(data, name="x.csv").first_frame()
    np.testing.assert_allclose(frame.celsius(), FRAME, atol=0.01)
    assert frame.info.warnings == ("values exported in °F, converted to °C",)


def test_without_label_column() -> None:
    body = "File:,x.jpg\n\n" + "\n".join(",".join(f"{v:.2f}" for v in row) for row in FRAME) + "\n"
    frame = open_thermal(body.encode(), name="x.csv").first_frame()
    np.testing.assert_allclose(frame.celsius(), FRAME, atol=0.005)


def test_plain_csv_is_still_the_plain_reader() -> None:
    data = b"1.0,2.0\n3.0,4.0\n"
    assert isinstance(identify(data, path="m.csv"), CsvReader)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda t: t.split("Frame 1")[0], "no temperature rows"),
        (lambda t: t.replace("21.25", "hot", 1), r"line \d+, column 3: 'hot' is not a number"),
        (lambda t: t.replace("Frame 2", "Frame 2,99.0", 1).rsplit("\n", 2)[0] + "\n", "frame 2 .* is "),
        (lambda t: t.replace(",26.25", "", 1), r"line \d+ has 3 values, expected 4"),
        (lambda t: t.replace("\n,", "\nnoise,", 1), "neither a value nor a frame label"),
    ],
)
def test_damaged_exports_give_one_clear_line(mutate: object, match: str) -> None:
    text = _export([FRAME, FRAME], params="").decode()
    damaged = mutate(text)  # type: ignore[operator]
    with pytest.raises(CorruptFileError, match=match) as err:
        _read_all(damaged.encode(), "bad.csv")
    assert str(err.value).startswith("bad.csv: ")
    assert "\n" not in str(err.value)


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(
        st.text(alphabet=st.sampled_from(list("0123456789.,;-: \tFrameFile°Cx")), max_size=30), max_size=12
    )
)
def test_fuzzed_exports_raise_only_irpatrol_errors(lines: list[str]) -> None:
    data = ("File:,x.jpg\n\n" + "\n".join(lines) + "\n").encode()
    with contextlib.suppress(IrpatrolError):
        _read_all(data, "f.csv")
