"""Radiometric TIFF: float pages in °C, or integer pages with a linear scale.

Many cameras and tools export a single-channel TIFF whose pixels are either
temperatures (float32, °C) or integer counts linear in temperature::

    T[°C] = value * scale + offset_c

Integer TIFFs carry no standard tag for ``scale``/``offset_c``.  They are taken, in
order, from the caller (``open_thermal(..., tiff_scale=, tiff_offset_c=)`` or
:func:`open_tiff`), then from the ImageDescription tag when it holds
``scale=<number> offset=<number>`` (``:`` or JSON-style quoting also work).  With
neither, the file is refused with a :class:`~irpatrol.errors.CalibrationError`
naming the option to give.  Each TIFF page is one frame; pixels are decoded by
tifffile only when asked.
"""

from __future__ import annotations

import io
import math
import mmap
import re
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt

from irpatrol.errors import CalibrationError, CorruptFileError, ParameterError, UnsupportedFormatError
from irpatrol.formats.base import (
    CameraIdentity,
    FrameInfo,
    ThermalFile,
    ThermalFrame,
    check_dimensions,
    funnel,
    read_source,
)

_MAGICS = (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")
_KEY = r"[\"']?\s*[=:]\s*[\"']?([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
_SCALE_RE = re.compile(r"\bscale" + _KEY, re.IGNORECASE)
_OFFSET_RE = re.compile(r"\boffset(?:_c)?" + _KEY, re.IGNORECASE)


def scale_from_description(text: str) -> tuple[float | None, float | None]:
    """``(scale, offset_c)`` found in an ImageDescription, each ``None`` when absent.

    >>> scale_from_description("scale=0.01 offset=-273.15")
    (0.01, -273.15)
    """
    s = _SCALE_RE.search(text)
    o = _OFFSET_RE.search(text)
    return (float(s.group(1)) if s else None), (float(o.group(1)) if o else None)


def _check_linear(path: str, scale: float, offset_c: float, *, source: str) -> None:
    if not (math.isfinite(scale) and scale != 0.0):
        name = f"{source}scale"
        raise ParameterError(name, scale, f"a finite non-zero number (°C per count) for {path}")
    if not (math.isfinite(offset_c) and abs(offset_c) < 1e6):
        name = f"{source}offset_c"
        raise ParameterError(name, offset_c, f"a finite offset in °C for {path}")


def check_ifd_chain(data: bytes | mmap.mmap, *, path: str, limit: int = 100_000) -> int:
    """Walk the IFD chain by its next-IFD pointers; refuse loops.  Returns the IFD count.

    Classic TIFF: uint16 entry count, 12-byte entries, uint32 next offset; BigTIFF:
    uint64 count, 20-byte entries, uint64 next offset.  A pointer outside the file
    ends the chain (tifffile does the same).
    """
    bo = "<" if data[:2] == b"II" else ">"
    big = data[2:4] in (b"+\0", b"\0+")
    head, count_fmt, entry, next_fmt = (8, "Q", 20, "Q") if big else (4, "H", 12, "I")
    (offset,) = struct.unpack_from(bo + next_fmt, data, head)
    seen: set[int] = set()
    size = len(data)
    while offset and len(seen) < limit:
        if offset in seen:
            raise CorruptFileError(path, f"TIFF directory chain loops back to offset {offset}", offset=offset)
        seen.add(offset)
        count_size = struct.calcsize(count_fmt)
        if offset + count_size > size:
            break
        (count,) = struct.unpack_from(bo + count_fmt, data, offset)
        nxt = offset + count_size + count * entry
        if nxt + struct.calcsize(next_fmt) > size:
            break
        (offset,) = struct.unpack_from(bo + next_fmt, data, nxt)
    return len(seen)


class TiffReader:
    """Single-channel TIFF pages holding temperatures or linearly scaled counts."""

    name: str = "tiff"
    extensions: tuple[str, ...] = (".tif", ".tiff")

    def accept(self, prefix: bytes) -> bool:
        """Classic or BigTIFF header in either byte order."""
        return prefix[:4] in _MAGICS

    def open(
        self,
        data: bytes | mmap.mmap,
        *,
        path: str,
        scale: float | None = None,
        offset_c: float | None = None,
    ) -> ThermalFile:
        """Read the TIFF directory; refuse integer pages without a known scale.

        ``scale`` and ``offset_c`` (°C) override any ImageDescription values;
        give both or neither.
        """
        import tifffile

        if (scale is None) != (offset_c is None):
            missing = "tiff_offset_c" if offset_c is None else "tiff_scale"
            raise ParameterError(missing, None, f"given together with the other one for {path}")
        check_ifd_chain(data, path=path)
        tif = tifffile.TiffFile(io.BytesIO(data))
        try:
            first = tif.pages.first
            desc_scale, desc_offset = scale_from_description(str(first.description or ""))
            int_linear: tuple[float, float] | None = None
            if scale is not None and offset_c is not None:
                _check_linear(path, scale, offset_c, source="tiff_")
                int_linear = (scale, offset_c)
            elif desc_scale is not None and desc_offset is not None:
                _check_linear(path, desc_scale, desc_offset, source="ImageDescription ")
                int_linear = (desc_scale, desc_offset)
            _frame_for(first, 0, path=path, int_linear=int_linear)  # fail early
        except BaseException:
            tif.close()
            raise

        def frames() -> Iterator[ThermalFrame]:
            # len() walks the IFD chain once and stops at a circular reference;
            # iterating the pages directly follows such a loop forever.
            for i in range(len(tif.pages)):
                yield _frame_for(tif.pages[i], i, path=path, int_linear=int_linear)

        def close() -> None:
            tif.close()
            if isinstance(data, mmap.mmap):
                data.close()

        return ThermalFile(path=path, format_name="tiff", frames=frames, closer=close)


def _frame_for(
    page: object, index: int, *, path: str, int_linear: tuple[float, float] | None
) -> ThermalFrame:
    """One lazy frame for a TIFF page, or a clear refusal of pages that are not temperatures."""
    import tifffile

    if not isinstance(page, tifffile.TiffPage):
        raise UnsupportedFormatError(path, f"TIFF page {index} is not a plain image page")
    width, height = page.imagewidth, page.imagelength
    if not (isinstance(width, int) and isinstance(height, int)):  # a damaged tag holds a tuple or text
        raise CorruptFileError(path, f"TIFF page {index} size tags are not integers: {width!r} x {height!r}")
    check_dimensions(path, width, height, what=f"TIFF page {index}")
    shape = tuple(page.shape)
    if shape != (height, width) or page.samplesperpixel != 1:
        raise UnsupportedFormatError(
            path,
            f"TIFF page {index} has shape {shape} with {page.samplesperpixel} samples per pixel: "
            "not a single-channel temperature image",
        )
    dtype = np.dtype(page.dtype) if page.dtype is not None else None
    if dtype is None:
        raise UnsupportedFormatError(path, f"TIFF page {index} has a sample format irpatrol cannot read")
    if dtype.kind == "f":
        linear = int_linear or (1.0, 0.0)
        encoding = f"float{dtype.itemsize * 8} °C"
    elif dtype.kind in "iu" and dtype.itemsize >= 2:
        if int_linear is None:
            raise CalibrationError(
                path,
                "tiff_scale",
                None,
                f"a temperature scale for this {dtype.itemsize * 8}-bit integer TIFF: give "
                "open_thermal(..., tiff_scale=, tiff_offset_c=) with °C = value * scale + offset, "
                "or store 'scale=<s> offset=<o>' in its ImageDescription",
            )
        linear = int_linear
        encoding = f"{dtype.name} counts"
    else:
        raise UnsupportedFormatError(
            path,
            f"TIFF page {index} holds {dtype.name} samples: an 8-bit picture is not radiometric; "
            "expected float °C or 16-bit counts with a scale",
        )
    gain, off = linear

    def temps() -> npt.NDArray[np.float32]:
        arr = page.asarray()
        if arr.shape != (height, width):
            msg = f"decoded TIFF page {index} is {arr.shape}, header says {(height, width)}"
            raise CorruptFileError(path, msg)
        with np.errstate(over="ignore", invalid="ignore"):  # beyond float32: ±inf, masked invalid
            if gain == 1.0 and off == 0.0:
                return np.asarray(arr, dtype=np.float32)
            return (arr.astype(np.float64) * gain + off).astype(np.float32)

    info = FrameInfo(
        width=width,
        height=height,
        raw_encoding=None,
        camera=CameraIdentity(software=_software(page)),
        extra={"tiff_samples": encoding, "tiff_scale": gain, "tiff_offset_c": off},
    )
    return ThermalFrame(source=path, index=index, info=info, temp_loader=temps)


def _software(page: object) -> str | None:
    tags = getattr(page, "tags", None)
    tag = tags.get("Software") if tags is not None else None
    value = getattr(tag, "value", None)
    return value.strip() or None if isinstance(value, str) else None


def open_tiff(
    source: str | Path | bytes,
    *,
    scale: float | None = None,
    offset_c: float | None = None,
    name: str | None = None,
) -> ThermalFile:
    """Open a radiometric TIFF with an explicit linear scale: ``°C = value * scale + offset_c``.

    ``source`` is a path or the file's bytes (``name`` labels bytes in messages).
    Float TIFFs need no scale (they hold °C).
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data, path = bytes(source), name or "<bytes>"
    else:
        data, path = read_source(source), str(source)
    reader = TiffReader()
    if not reader.accept(data[:4]):
        raise UnsupportedFormatError(path, "not a TIFF file (no II*/MM* header)")
    with funnel(path):
        return reader.open(data, path=path, scale=scale, offset_c=offset_c)
