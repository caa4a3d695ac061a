"""Which reader opens a file: identify by content first, never by extension alone.

:data:`READERS` is the ordered list of format plugins; :func:`open_thermal` is the
one entry point.  A new format is a module with a reader object added here.
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt

from irpatrol.errors import ParameterError, UnsupportedFormatError
from irpatrol.formats.base import FormatReader, ThermalFile, funnel, read_source
from irpatrol.formats.flir import FffReader
from irpatrol.formats.flir_csv import FlirCsvReader
from irpatrol.formats.infiray import IrgReader
from irpatrol.formats.jpeg_reader import JpegReader
from irpatrol.formats.matrix import CsvReader, NpyReader
from irpatrol.formats.tiff import TiffReader

READERS: list[FormatReader] = [
    JpegReader(),
    FffReader(),
    IrgReader(),
    TiffReader(),
    NpyReader(),
    FlirCsvReader(),
    CsvReader(),
]
"""Content-identified readers, tried in order (CSV, the loosest test, last; FLIR's CSV exports first)."""

_KNOWN_OTHERS = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"GIF8", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"RIFF", "a RIFF (WebP/AVI/WAV) file"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\xffIRB", "an InfraTec IRB file"),
)


def _what_is(prefix: bytes) -> str:
    """A short guess at what an unidentified file is, for the refusal message."""
    for magic, what in _KNOWN_OTHERS:
        if prefix.startswith(magic):
            return what
    sample = prefix[:256]
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        return "binary data"
    return "text that is not a temperature matrix" if b"\0" not in sample else "binary data"


MMAP_THRESHOLD = 32 * 1024 * 1024
"""Files larger than this (bytes) are memory-mapped instead of read (long SEQ/CSQ)."""

PREFIX_SIZE = 512


def identify(prefix: bytes, *, path: str = "<bytes>") -> FormatReader | None:
    """The reader that accepts these first bytes, trying extension-matched readers first."""
    suffix = os.path.splitext(path)[1].lower()
    for matched in (True, False):
        for reader in READERS:
            if (suffix in reader.extensions) == matched and reader.accept(prefix):
                return reader
    return None


def open_thermal(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    tiff_scale: float | None = None,
    tiff_offset_c: float | None = None,
) -> ThermalFile:
    """Open a thermal file (path or bytes): headers and metadata now, pixels on demand.

    Raises :class:`~irpatrol.errors.UnsupportedFormatError` for files no reader
    accepts, :class:`~irpatrol.errors.CorruptFileError` for damaged files and
    :class:`~irpatrol.errors.FileAccessError` when the file cannot be read.
    ``name`` labels in-memory data in messages (and selects by extension).
    ``tiff_scale`` and ``tiff_offset_c`` give integer TIFFs their temperature scale,
    ``°C = value * tiff_scale + tiff_offset_c``; they are refused for other formats.
    """
    pooled: memoryview | None = None
    if isinstance(source, bytes | bytearray | memoryview):
        data: bytes | mmap.mmap = bytes(source)
        path = name or "<bytes>"
    else:
        path = str(source)
        read = read_source(source, mmap_above=MMAP_THRESHOLD, pool_jpeg=True)
        if isinstance(read, memoryview):  # a JPEG in the reusable read buffer
            pooled = read
            reader = identify(bytes(read[:PREFIX_SIZE]), path=path)
            if isinstance(reader, JpegReader) and not (tiff_scale is not None or tiff_offset_c is not None):
                with funnel(path):
                    return reader.open(pooled, path=path)
            read = bytes(read)
            pooled.release()
        data = read
    if len(data) == 0:
        raise UnsupportedFormatError(path, "empty file")
    reader = identify(bytes(data[:PREFIX_SIZE]), path=path)
    if reader is None:
        if isinstance(data, mmap.mmap):
            data.close()
        raise UnsupportedFormatError(
            path,
            f"unsupported format: {_what_is(bytes(data[:PREFIX_SIZE]))}, not a FLIR R-JPEG/FFF/SEQ/CSQ, "
            "InfiRay IRG, radiometric TIFF, CSV or NPY temperature file",
        )
    tiff_options = tiff_scale is not None or tiff_offset_c is not None
    if tiff_options and not isinstance(reader, TiffReader):
        if isinstance(data, mmap.mmap):
            data.close()
        option = "tiff_scale" if tiff_scale is not None else "tiff_offset_c"
        raise ParameterError(option, tiff_scale, f"omitted: {path} is not a TIFF ({reader.name})")
    with funnel(path):
        if tiff_options and isinstance(reader, TiffReader):
            return reader.open(data, path=path, scale=tiff_scale, offset_c=tiff_offset_c)
        return reader.open(data, path=path)


def read_celsius(source: str | Path | bytes, **overrides: float | None) -> npt.NDArray[np.float32]:
    """Convenience: the first frame's temperatures in °C (float32)."""
    with open_thermal(source) as tf:
        return tf.first_frame().celsius(**overrides)
