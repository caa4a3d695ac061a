"""JPEG dispatch: FLIR and DJI R-JPEG open; proprietary trailers and plain JPEGs are refused.

A JPEG is radiometric only if it carries data a reader understands; the refusals
say what the file is and why it cannot be read, so a user knows it is not a bug.
"""

from __future__ import annotations

import mmap
from functools import partial

from irpatrol.errors import UnsupportedFormatError
from irpatrol.formats.base import ThermalFile
from irpatrol.formats.dji import is_dji_rjpeg, open_dji
from irpatrol.formats.exif import ExifFacts, parse_exif
from irpatrol.formats.flir import flir_chunks, open_rjpeg
from irpatrol.formats.jpeg import APP1, JpegLayout, is_jpeg, walk_jpeg

_TRAILER_LIMIT = 4096
"""More bytes than this after EOI, not another JPEG, is a proprietary trailer."""


def _exif(layout: JpegLayout) -> ExifFacts:
    for seg in layout.app(APP1):
        if seg.payload[:6] == b"Exif\0\0":
            return parse_exif(seg.payload)
    return ExifFacts()


class JpegReader:
    """All JPEG files: decides between FLIR R-JPEG, DJI R-JPEG and a clear refusal."""

    name = "jpeg"
    extensions: tuple[str, ...] = (".jpg", ".jpeg")

    def accept(self, prefix: bytes) -> bool:
        """A JPEG starts with FF D8 FF."""
        return is_jpeg(prefix)

    def open(self, data: bytes | memoryview | mmap.mmap, *, path: str) -> ThermalFile:
        """Open a FLIR or DJI R-JPEG, or raise :class:`UnsupportedFormatError` saying what the JPEG is."""
        layout = walk_jpeg(data, path=path)
        chunks = flir_chunks(layout)
        if chunks:  # the chunks are views of ``data`` (a memory map stays open while they live)
            return open_rjpeg(layout, chunks, path=path, exif=partial(_exif, layout))
        buf = bytes(data)
        if not isinstance(data, bytes):  # release the map or the read buffer; go on with a copy
            data.close() if isinstance(data, mmap.mmap) else data.release()
            layout = walk_jpeg(buf, path=path)
        exif = _exif(layout)
        if is_dji_rjpeg(layout):
            return open_dji(layout, buf, path=path, exif=lambda: exif)
        camera = " ".join(x for x in (exif.make, exif.model) if x) or "unknown camera"
        if layout.trailer_offset is not None:
            trailer = len(buf) - layout.trailer_offset
            if (
                trailer > _TRAILER_LIMIT
                and buf[layout.trailer_offset : layout.trailer_offset + 2] != b"\xff\xd8"
            ):
                raise UnsupportedFormatError(
                    path,
                    f"unsupported radiometric format: palette JPEG ({camera}) with a {trailer}-byte "
                    "proprietary trailer after the image (e.g. Guide TP series); no open specification",
                )
        raise UnsupportedFormatError(
            path, f"not a radiometric image: a plain JPEG ({camera}) with no FLIR APP1 thermal data"
        )
