"""JPEG marker-segment walking: the APP segments before the image data, and the trailer.

Radiometric JPEGs carry their data in APPn segments (FLIR: APP1 ``"FLIR\\0"``; DJI:
APP3/APP4) before the start-of-scan marker; some vendors append a proprietary
trailer after the end-of-image marker.  Only headers are walked here; no pixel is
decoded.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from irpatrol.errors import CorruptFileError

SOI = b"\xff\xd8"
APP1, APP2, APP3, APP4 = 0xE1, 0xE2, 0xE3, 0xE4
_SOS = 0xDA
_EOI = 0xD9
_STANDALONE = {0x01, *range(0xD0, 0xD8)}
_FLIR_CHUNK = b"FLIR\0"


class Segment(NamedTuple):
    """One APPn marker segment: ``marker`` (0xE1 = APP1 ...), ``offset`` of its 0xFF byte, ``payload``.

    Only application segments are kept (other markers carry no thermal data); a
    named tuple because a radiometric JPEG can have hundreds of them.

    ``payload`` is a copy (``bytes``), except for FLIR APP1 chunks (``"FLIR\\0"``),
    which are a ``memoryview`` of the file: they are only ever concatenated, and a
    radiometric JPEG is mostly made of them.
    """

    marker: int
    offset: int
    payload: bytes | memoryview


@dataclass(frozen=True)
class JpegLayout:
    """The header segments of a JPEG, where its scan starts and how many bytes trail its end.

    ``trailer_offset`` (where bytes after the end-of-image marker start, or ``None``)
    is looked for on first use only: finding it scans the entropy-coded data, which
    readers of APP segments never need.
    """

    segments: tuple[Segment, ...]
    scan_offset: int | None
    _data: bytes | memoryview | mmap.mmap = field(default=b"", repr=False, compare=False)
    _eoi_end: int | None = field(default=None, repr=False, compare=False)

    def app(self, marker: int) -> list[Segment]:
        """All segments with this marker, in file order."""
        return [s for s in self.segments if s.marker == marker]

    @cached_property
    def trailer_offset(self) -> int | None:
        """Offset of the first byte after the end-of-image marker, or ``None`` when nothing follows."""
        if self._eoi_end is not None or self.scan_offset is None:
            return self._eoi_end
        data = self._data
        if isinstance(data, memoryview):
            found = bytes(data[self.scan_offset :]).find(b"\xff\xd9")
            eoi = found + self.scan_offset if found >= 0 else -1
        else:
            eoi = data.find(b"\xff\xd9", self.scan_offset)
        if eoi >= 0 and eoi + 2 < len(data):
            return eoi + 2
        return None


def is_jpeg(prefix: bytes | memoryview) -> bool:
    """True when ``prefix`` starts with a JPEG start-of-image marker."""
    return prefix[:3] == b"\xff\xd8\xff"


def walk_jpeg(data: bytes | memoryview | mmap.mmap, *, path: str) -> JpegLayout:
    """Walk the marker segments up to the first scan, then find the end-of-image marker.

    ``data`` may be a memory map or a read-only view (the reusable read buffer): FLIR
    chunks and other payloads are then views of it.

    Raises :class:`CorruptFileError` when a segment length runs past the end of the file.
    """
    if not is_jpeg(data[:3]):
        raise CorruptFileError(path, "does not start with a JPEG SOI marker")
    pos = 2
    view = memoryview(data)
    size = len(data)
    segments: list[Segment] = []
    scan_offset: int | None = None
    while pos + 4 <= size:
        if data[pos] != 0xFF:
            raise CorruptFileError(path, f"expected a JPEG marker, found byte 0x{data[pos]:02x}", offset=pos)
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker == _EOI:
            return JpegLayout(tuple(segments), None, data, pos + 2 if pos + 2 < size else None)
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if length < 2 or pos + 2 + length > size:
            raise CorruptFileError(
                path,
                f"JPEG segment 0x{marker:02x} of {length} bytes runs past the end of the file",
                offset=pos,
            )
        if marker == _SOS:
            scan_offset = pos
            break
        start, end = pos + 4, pos + 2 + length
        if 0xE0 <= marker <= 0xEF:  # APPn; tables and frame headers are not kept
            flir = marker == APP1 and data[start : start + 5] == _FLIR_CHUNK
            segments.append(Segment(marker, pos, view[start:end] if flir else data[start:end]))
        pos += 2 + length
    return JpegLayout(tuple(segments), scan_offset, data)
