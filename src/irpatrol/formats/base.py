"""The reader contract: identify from a prefix, parse headers, decode pixels lazily.

A reader module exposes a :class:`FormatReader`: ``accept(prefix)`` looks at the
first bytes only; ``open(source)`` parses headers and metadata and returns a
:class:`ThermalFile` whose frames decode their pixels only when asked.

Low-level parsing accidents that damaged data causes (``struct.error``, a short
buffer's ``IndexError``, numpy's ``ValueError`` on a lying header, a codec error ...)
are turned into :class:`~irpatrol.errors.CorruptFileError` naming the file, in
exactly one place: :func:`funnel`.  Anything else (``TypeError``, ``AttributeError``,
``KeyError``, ``AssertionError`` ...) is a bug in irpatrol and is left to surface,
so that a damaged file and a defect in a reader are never confused.
"""

from __future__ import annotations

import mmap
import os
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Protocol, overload

import numpy as np
import numpy.typing as npt

from irpatrol.errors import (
    CalibrationError,
    CorruptFileError,
    FileAccessError,
    FormatError,
    IrpatrolError,
    ParameterError,
)
from irpatrol.thermal.radiometry import Calibration, Thermogram, thermogram_from_raw

MAX_PIXELS = 64_000_000
"""Largest frame (pixels) a reader will allocate; larger headers are corrupt."""


@dataclass(frozen=True, kw_only=True)
class CameraIdentity:
    """Who made the image: make, model, serial number, lens and firmware where known."""

    make: str | None = None
    model: str | None = None
    serial: str | None = None
    lens: str | None = None
    software: str | None = None


@dataclass(frozen=True, kw_only=True)
class GeoPosition:
    """A position in WGS-84 degrees; altitude in m above sea level where known."""

    latitude_deg: float
    longitude_deg: float
    altitude_m: float | None = None


@dataclass(frozen=True, kw_only=True)
class FrameInfo:
    """Header-level facts about one frame, read without decoding pixels.

    ``raw_encoding`` says how raw counts are stored (``"uint16-le"``,
    ``"uint16-be"``, ``"png"``, ``"png-be"``, ``"jpeg-ls"``) or is ``None`` for
    formats that store temperatures directly; ``calibration`` is ``None`` then too.
    ``extra`` holds further numeric or text facts (frame rate, field of view ...),
    ``warnings`` non-fatal problems met while reading metadata.
    """

    width: int
    height: int
    raw_encoding: str | None
    camera: CameraIdentity = field(default_factory=CameraIdentity)
    captured_at: datetime | None = None
    gps: GeoPosition | None = None
    calibration: Calibration | None = None
    has_visible_image: bool = False
    extra: dict[str, float | int | str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


RawLoader = Callable[[], npt.NDArray[np.uint16]]
TempLoader = Callable[[], npt.NDArray[np.float32]]
BytesLoader = Callable[[], bytes | None]


DAMAGE_ERRORS: tuple[type[Exception], ...] = (
    struct.error,  # a record or header shorter than its layout (all binary readers)
    zlib.error,  # a damaged deflate stream
    EOFError,  # a stream that ends early
    IndexError,  # a byte or list index past the end of a short buffer
    ValueError,  # numpy frombuffer/reshape on a lying header, int()/float()/datetime() of damaged
    # fields, UnicodeDecodeError of damaged text, tifffile's TiffFileError
    OverflowError,  # a size or time stamp too large for its type
    MemoryError,  # a header asking for more than is available
)
"""Exception types that mean "the data is damaged" when raised while parsing a file.

Deliberately absent: ``TypeError``, ``AttributeError``, ``NameError``, ``KeyError``,
``AssertionError``, ``ZeroDivisionError``, ``RuntimeError`` ...: raised by irpatrol's own
code they are bugs.  (Readers that look up data-derived keys check them explicitly.)
"""

PARSER_LIBRARIES = ("tifffile", "imagecodecs", "dji_thermal_cli")
"""Third-party parsers handed untrusted bytes (dji_thermal_cli: the optional DJI back-end).
Fuzzing shows tifffile raising ``TypeError``,
``ZeroDivisionError``, ``NotImplementedError``, ``SyntaxError`` ... on damaged TIFFs, so
whatever is raised *inside* these packages (their own frames or their exception types)
counts as damaged data; a wrong call from irpatrol into them fails before their code runs
and still surfaces as a bug."""


def _raised_in_parser_library(exc: BaseException) -> bool:
    """True when ``exc`` is a parser library's own exception type or was raised in its code."""
    if type(exc).__module__.split(".")[0] in PARSER_LIBRARIES:
        return True
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if isinstance(module, str) and module.split(".")[0] in PARSER_LIBRARIES:
            return True
        tb = tb.tb_next
    return False


def is_damage(exc: BaseException) -> bool:
    """Whether an exception raised while parsing a file means the file is damaged.

    True for :data:`DAMAGE_ERRORS` and for anything raised inside :data:`PARSER_LIBRARIES`;
    false for irpatrol's own errors (already classified) and for everything else (bugs).
    """
    if isinstance(exc, IrpatrolError) or not isinstance(exc, Exception):
        return False
    return isinstance(exc, DAMAGE_ERRORS) or _raised_in_parser_library(exc)


class funnel:
    """Turn the low-level parse errors of damaged data into :class:`CorruptFileError`.

    Parsing code inside may fail in many low-level ways on damaged input (see
    :func:`is_damage`); callers of the library then see :mod:`irpatrol.errors` only.
    Any other exception is a bug and passes through unchanged, so that a worker can
    tell "bad file: fail permanently" from "bug: alert".  A small class rather than a
    generator-based context manager: it wraps every image read.
    """

    __slots__ = ("path",)

    def __init__(self, path: str | Path | None) -> None:
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc is None or not is_damage(exc):
            return  # nothing raised, already ours, a bug, or not ours to translate (KeyboardInterrupt ...)
        if isinstance(exc, MemoryError):
            raise CorruptFileError(self.path, "structure asks for more memory than is available") from exc
        raise CorruptFileError(self.path, f"damaged data ({type(exc).__name__}: {exc})") from exc


class ThermalFrame:
    """One thermal frame: header facts now, pixels on demand.

    Raw-count formats give :meth:`raw` and compute temperatures through the
    calibration, with overridable measurement parameters; temperature formats give
    temperatures directly and refuse overrides.

    ``info`` is a :class:`FrameInfo` or a function returning one: a reader whose
    metadata costs time to gather (EXIF, camera strings, GPS) passes the function,
    together with the frame ``shape`` (rows, cols) and ``calibration`` that
    conversion needs, so converting a file never waits for metadata nobody reads.
    The metadata is still read from headers only, the first time :attr:`info` is used.
    """

    def __init__(
        self,
        *,
        source: str,
        index: int,
        info: FrameInfo | Callable[[], FrameInfo],
        shape: tuple[int, int] | None = None,
        calibration: Calibration | None = None,
        raw_loader: RawLoader | None = None,
        temp_loader: TempLoader | None = None,
        visible_loader: BytesLoader | None = None,
    ) -> None:
        if (raw_loader is None) == (temp_loader is None):
            msg = "a frame needs exactly one of raw_loader and temp_loader"
            raise TypeError(msg)
        self.source = source
        self.index = index
        if isinstance(info, FrameInfo):
            self._info: FrameInfo | None = info
            self._info_loader: Callable[[], FrameInfo] | None = None
            self.shape = (info.height, info.width)
            self.calibration = info.calibration
        else:
            if shape is None:
                msg = "a frame with lazy info needs its shape"
                raise TypeError(msg)
            self._info = None
            self._info_loader = info
            self.shape = shape
            self.calibration = calibration
        self._raw_loader = raw_loader
        self._temp_loader = temp_loader
        self._visible_loader = visible_loader
        self._raw: npt.NDArray[np.uint16] | None = None

    def __repr__(self) -> str:
        return f"<ThermalFrame {self.source}#{self.index} {self.shape[1]}x{self.shape[0]}>"

    @property
    def info(self) -> FrameInfo:
        """Header-level facts: camera, time, GPS, calibration, sizes (no pixel decoded)."""
        if self._info is None:
            assert self._info_loader is not None
            with funnel(self.source):
                self._info = self._info_loader()
            self._info_loader = None
        return self._info

    @property
    def has_raw(self) -> bool:
        """True when the frame stores raw counts (and so takes parameter overrides)."""
        return self._raw_loader is not None

    def raw(self) -> npt.NDArray[np.uint16]:
        """Raw counts, uint16 (rows, cols), exactly as the camera stored them."""
        if self._raw_loader is None:
            raise FormatError(self.source, "this format stores temperatures, not raw counts")
        if self._raw is None:
            with funnel(self.source):
                raw = self._raw_loader()
            if raw.shape != self.shape:
                raise CorruptFileError(
                    self.source,
                    f"raw frame is {raw.shape[1]}x{raw.shape[0]} pixels but the header says "
                    f"{self.shape[1]}x{self.shape[0]}",
                )
            self._raw = raw
        return self._raw

    def thermogram(
        self,
        *,
        emissivity: float | None = None,
        distance_m: float | None = None,
        reflected_temp_k: float | None = None,
        atmospheric_temp_k: float | None = None,
        window_temp_k: float | None = None,
        window_transmission: float | None = None,
        relative_humidity: float | None = None,
    ) -> Thermogram:
        """Temperatures in °C with a validity mask; any measurement parameter overridable.

        Overrides: ``emissivity`` (0..1], ``distance_m`` (m), ``reflected_temp_k``,
        ``atmospheric_temp_k``, ``window_temp_k`` (K), ``window_transmission`` (0..1],
        ``relative_humidity`` (fraction 0..1).  ``None`` keeps the file's value.
        """
        overrides = {
            "emissivity": emissivity,
            "distance_m": distance_m,
            "reflected_temp_k": reflected_temp_k,
            "atmospheric_temp_k": atmospheric_temp_k,
            "window_temp_k": window_temp_k,
            "window_transmission": window_transmission,
            "relative_humidity": relative_humidity,
        }
        if self._temp_loader is not None:
            if any(v is not None for v in overrides.values()):
                raise ParameterError(
                    "overrides",
                    {k: v for k, v in overrides.items() if v is not None},
                    f"none: {self.source} stores temperatures, not raw counts",
                )
            with funnel(self.source):
                temps = self._temp_loader()
            valid = np.isfinite(temps)
            n_nan = int(valid.size - np.count_nonzero(valid))
            return Thermogram(temps, valid, n_nan, 0, 0)
        cal = self.calibration
        if cal is None:
            raise CalibrationError(self.source, "CameraInfo", None, "a calibration record")
        try:  # the file's own constants (checked once: a calibration remembers success)
            cal.validate()
        except ParameterError as exc:
            raise CalibrationError(self.source, exc.parameter, exc.value, exc.expected) from exc
        calibration = cal
        if any(v is not None for v in overrides.values()):
            calibration = cal.with_params(**overrides)
            calibration.params.validate()
        return thermogram_from_raw(self.raw(), calibration=calibration)

    def celsius(self, **overrides: float | None) -> npt.NDArray[np.float32]:
        """Temperatures in °C (float32, rows × cols); see :meth:`thermogram` for overrides."""
        return self.thermogram(**overrides).celsius

    def visible_image(self) -> bytes | None:
        """The embedded visible-light photo (JPEG bytes), or ``None`` when absent."""
        if self._visible_loader is None:
            return None
        with funnel(self.source):
            return self._visible_loader()


class ThermalFile:
    """An opened thermal file: one or many frames, walked lazily.

    ``format_name`` is a short id (``"flir-rjpeg"``, ``"flir-seq"`` ...).  Use as a
    context manager, or call :meth:`close`, to release a memory map.
    """

    def __init__(
        self,
        *,
        path: str,
        format_name: str,
        frames: Callable[[], Iterator[ThermalFrame]],
        closer: Callable[[], None] | None = None,
    ) -> None:
        self.path = path
        self.format_name = format_name
        self._frames = frames
        self._closer = closer
        self._first: ThermalFrame | None = None

    def __enter__(self) -> ThermalFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<ThermalFile {self.path} {self.format_name}>"

    def close(self) -> None:
        """Release the underlying file or memory map."""
        if self._closer is not None:
            self._closer()
            self._closer = None

    def frames(self) -> Iterator[ThermalFrame]:
        """Iterate the frames in file order, parsing each header as it is reached.

        A damaged sequence costs only its damaged part.  Every complete frame before
        the damage is yielded first; a frame whose headers are cut short or broken
        (a SEQ/CSQ whose last frame was cut, say) then ends the iteration with
        :class:`~irpatrol.errors.DamagedFrameError`, which names the frame
        (``frame_index``, also the number of frames read), the byte where it starts
        (``frame_offset``), the byte where it breaks (``offset``) and the data size.
        The iteration cannot go past such a frame: only its own headers say where the
        next one starts.  A frame whose headers are whole but whose pixels are
        damaged is still yielded; it raises :class:`~irpatrol.errors.CorruptFileError`
        when decoded, so a caller can skip it and go on to the next frame.
        """
        it = self._frames()
        while True:
            with funnel(self.path):
                frame = next(it, None)
            if frame is None:
                return
            yield frame

    def first_frame(self) -> ThermalFrame:
        """The first frame (the only one for still images)."""
        if self._first is None:
            frame = next(self.frames(), None)
            if frame is None:
                raise CorruptFileError(self.path, "holds no thermal frame")
            self._first = frame
        return self._first

    def frame_count(self) -> int:
        """Number of frames, counted from headers only."""
        return sum(1 for _ in self.frames())


class FormatReader(Protocol):
    """A file-format plugin."""

    name: str
    extensions: tuple[str, ...]

    def accept(self, prefix: bytes) -> bool:
        """Cheap identification from the first bytes of a file."""
        ...

    def open(self, data: bytes | mmap.mmap, *, path: str) -> ThermalFile:
        """Parse headers and metadata; decode nothing."""
        ...


def check_dimensions(path: str, width: int, height: int, *, what: str = "frame") -> None:
    """Refuse absurd frame sizes before anything is allocated."""
    if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
        raise CorruptFileError(path, f"{what} size {width}x{height} is not a plausible image size")


class _ReadBuffer(threading.local):
    """One reusable read buffer per thread (see :func:`read_source`)."""

    buf: bytearray | None = None


_READ_BUFFER = _ReadBuffer()
POOLED_READ_MAX = 16 * 1024 * 1024
"""Largest JPEG (bytes) read into the reusable buffer; larger ones are read as before."""


def _in_use(buf: bytearray) -> bool:
    """True while views of ``buf`` are alive: a bytearray with exports refuses to change size."""
    try:
        buf.append(0)
    except BufferError:
        return True
    del buf[-1]
    return False


def _read_pooled(fd: int, size: int) -> memoryview | None:
    """The file read into this thread's reusable buffer, as a read-only view; ``None`` when in use.

    The buffer's pages were touched by earlier reads, so reading a file into it takes no
    fresh memory pages (a fresh ``bytes`` of a 640-wide R-JPEG costs ~200 page faults, and
    the allocations after it another ~600 once glibc has trimmed the heap).  Every
    reader keeps views of the data it was given, so while a file's frames live the buffer
    has exports and the next file is read into a new buffer instead: nothing is overwritten.
    """
    buf = _READ_BUFFER.buf
    if buf is None:
        buf = _READ_BUFFER.buf = bytearray()
    elif _in_use(buf):
        return None
    if len(buf) < size + 1:
        buf.extend(bytes(size + 1 - len(buf)))
    view = memoryview(buf)
    got = os.readv(fd, [view[: size + 1]])
    if got != size:  # the file changed size while being read: read it the plain way
        view.release()
        return None
    return view[:size].toreadonly()


@overload
def read_source(path: str | Path) -> bytes: ...
@overload
def read_source(path: str | Path, *, mmap_above: int) -> bytes | mmap.mmap: ...
@overload
def read_source(path: str | Path, *, mmap_above: int, pool_jpeg: bool) -> bytes | memoryview | mmap.mmap: ...
def read_source(
    path: str | Path, *, mmap_above: int | None = None, pool_jpeg: bool = False
) -> bytes | memoryview | mmap.mmap:
    """Read a whole file, translating OS errors into :class:`FileAccessError`.

    With ``mmap_above`` (bytes), a larger file is memory-mapped instead of read.  With
    ``pool_jpeg``, a JPEG is read into a per-thread buffer reused from file to file while
    nothing uses the previous one (a read-only ``memoryview``; see :func:`_read_pooled`),
    so a program converting R-JPEGs in a loop does not pay fresh memory pages per image;
    the process's allocator settings are left alone.
    os-level calls, not Path/BufferedReader: this runs once per image.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            size = os.fstat(fd).st_size
            if mmap_above is not None and size > mmap_above:
                return mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
            if pool_jpeg and 0 < size <= POOLED_READ_MAX and os.pread(fd, 3, 0) == b"\xff\xd8\xff":
                pooled = _read_pooled(fd, size)
                if pooled is not None:
                    return pooled
                os.lseek(fd, 0, os.SEEK_SET)
            data = os.read(fd, size + 1)  # asking one byte more tells that the end was reached
            if len(data) == size:
                return data
            parts = [data]  # the file is growing or the read was short: read to the end
            while chunk := os.read(fd, 1 << 20):
                parts.append(chunk)
            return b"".join(parts)
        finally:
            os.close(fd)
    except IsADirectoryError as exc:
        raise FileAccessError(path, "is a folder, not a file") from exc
    except FileNotFoundError as exc:
        raise FileAccessError(path, "no such file") from exc
    except OSError as exc:
        raise FileAccessError(path, f"cannot be read ({exc.strerror or exc})") from exc
