"""The funnel: damaged data becomes CorruptFileError, a reader's own bug surfaces unchanged."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

import numpy as np
import pytest

from irpatrol.errors import CorruptFileError, FormatError, ParameterError
from irpatrol.formats import registry
from irpatrol.formats.base import FrameInfo, ThermalFile, ThermalFrame, funnel, is_damage

MAGIC = b"FAKE-IR\0"


class _FakeReader:
    """A reader for ``MAGIC`` files whose parsing step runs ``fail`` (header or pixels)."""

    name = "fake"
    extensions = (".fake",)

    def __init__(self, fail: Callable[[], None], *, lazy: bool = False) -> None:
        self.fail = fail
        self.lazy = lazy

    def accept(self, prefix: bytes) -> bool:
        return prefix.startswith(MAGIC)

    def open(self, data: object, *, path: str) -> ThermalFile:
        if not self.lazy:
            self.fail()

        def temps() -> np.ndarray:
            self.fail()
            return np.zeros((2, 2), np.float32)

        info = FrameInfo(width=2, height=2, raw_encoding=None)
        frame = ThermalFrame(source=path, index=0, info=info, temp_loader=temps)
        return ThermalFile(path=path, format_name="fake", frames=lambda: iter([frame]))


def _raiser(exc: BaseException) -> Callable[[], None]:
    def fail() -> None:
        raise exc

    return fail


def _open_and_read(monkeypatch: pytest.MonkeyPatch, reader: _FakeReader) -> None:
    monkeypatch.setattr(registry, "READERS", [reader, *registry.READERS])
    with registry.open_thermal(MAGIC + b"\0" * 32, name="x.fake") as tf:
        tf.first_frame().thermogram()


BUGS = [
    TypeError("unsupported operand"),
    AttributeError("'NoneType' object has no attribute 'shape'"),
    NameError("name 'widht' is not defined"),
    KeyError("our own table"),
    AssertionError("invariant"),
    ZeroDivisionError("division by zero"),
]
DAMAGE = [
    struct.error("unpack_from requires a buffer of at least 8 bytes"),
    zlib.error("invalid stored block lengths"),
    EOFError("stream ended"),
    IndexError("index out of range"),
    ValueError("cannot reshape array of size 7 into shape (2,2)"),
    UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
    OverflowError("date value out of range"),
    MemoryError(),
]


@pytest.mark.parametrize("lazy", [False, True], ids=["open", "pixels"])
@pytest.mark.parametrize("exc", BUGS, ids=lambda e: type(e).__name__)
def test_a_reader_bug_is_not_a_damaged_file(
    monkeypatch: pytest.MonkeyPatch, exc: Exception, lazy: bool
) -> None:
    with pytest.raises(type(exc)) as info:
        _open_and_read(monkeypatch, _FakeReader(_raiser(exc), lazy=lazy))
    assert not isinstance(info.value, FormatError)
    assert info.value is exc


@pytest.mark.parametrize("lazy", [False, True], ids=["open", "pixels"])
@pytest.mark.parametrize("exc", DAMAGE, ids=lambda e: type(e).__name__)
def test_low_level_parse_errors_become_corrupt_file(
    monkeypatch: pytest.MonkeyPatch, exc: Exception, lazy: bool
) -> None:
    with pytest.raises(CorruptFileError) as info:
        _open_and_read(monkeypatch, _FakeReader(_raiser(exc), lazy=lazy))
    assert info.value.path == "x.fake"
    assert info.value.__cause__ is exc


def test_irpatrol_errors_pass_through_unchanged() -> None:
    err = ParameterError("emissivity", 2.0, "a number in (0, 1]")
    with pytest.raises(ParameterError) as info, funnel("a.jpg"):
        raise err
    assert info.value is err


def test_keyboard_interrupt_is_not_translated() -> None:
    with pytest.raises(KeyboardInterrupt), funnel("a.jpg"):
        raise KeyboardInterrupt


def _raised_inside(module: str, exc: Exception) -> Exception:
    """``exc`` raised from a function whose module is ``module`` (as if in that library)."""
    namespace: dict[str, object] = {"__name__": module, "exc": exc}
    exec("def parse():\n    raise exc\n", namespace)  # a fixed one-line stand-in
    parse = namespace["parse"]
    assert callable(parse)
    try:
        parse()
    except Exception as caught:
        return caught
    raise AssertionError("not raised")


def test_anything_raised_inside_a_parser_library_is_damage() -> None:
    """Fuzzing showed tifffile raising TypeError, ZeroDivisionError ... on damaged TIFFs."""
    assert is_damage(_raised_inside("tifffile.tifffile", TypeError("'>' not supported")))
    assert is_damage(_raised_inside("imagecodecs._png", RuntimeError("IDAT: bad data")))
    assert not is_damage(_raised_inside("irpatrol.formats.fake", TypeError("'>' not supported")))
    exc = _raised_inside("tifffile.tifffile", ZeroDivisionError("division by zero"))
    with pytest.raises(CorruptFileError, match="ZeroDivisionError"), funnel("a.tif"):
        raise exc
