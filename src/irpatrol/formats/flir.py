"""FLIR readers: radiometric JPEG (APP1 "FLIR" chunks), bare FFF frames, SEQ and CSQ.

All four hold the same FFF container (see :mod:`irpatrol.formats.fff`).  An R-JPEG
splits one FFF block over APP1 segments that start ``"FLIR\\0"``, a version byte
``0x01``, the chunk index and the last index; SEQ/CSQ files are FFF blocks back to
back, one per frame (CSQ frames hold JPEG-LS raw data).
"""

from __future__ import annotations

import bisect
import itertools
import mmap
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path

from irpatrol.errors import CorruptFileError, DamagedFrameError
from irpatrol.formats import fff
from irpatrol.formats.base import CameraIdentity, FrameInfo, ThermalFile, ThermalFrame
from irpatrol.formats.exif import ExifFacts
from irpatrol.formats.jpeg import APP1, JpegLayout

FLIR_APP1 = b"FLIR\0"
_CHUNK_HEADER = 8


def flir_chunks(layout: JpegLayout) -> list[tuple[int, int, memoryview]]:
    """The APP1 "FLIR" chunks as (index, last index, payload) in file order.

    Payloads are views of the segment bytes (no copy: :func:`assemble_fff` joins them).
    """
    out = []
    for seg in layout.app(APP1):
        p = seg.payload
        if p[:5] == FLIR_APP1 and len(p) >= _CHUNK_HEADER:
            out.append((p[6], p[7], memoryview(p)[_CHUNK_HEADER:]))
    return out


def ordered_chunks(
    chunks: Sequence[tuple[int, int, bytes | memoryview]], *, path: str
) -> list[bytes | memoryview]:
    """The FLIR APP1 chunk payloads in index order.

    Raises :class:`CorruptFileError` when a chunk is missing or repeated (a cut file).
    """
    last = chunks[0][1]
    by_index: dict[int, bytes | memoryview] = {}
    for index, chunk_last, payload in chunks:
        if chunk_last != last or index > last:
            raise CorruptFileError(
                path, f"FLIR APP1 chunk {index} claims {chunk_last + 1} chunks, others {last + 1}"
            )
        if index in by_index:
            raise CorruptFileError(path, f"FLIR APP1 chunk {index} appears twice")
        by_index[index] = payload
    missing = [i for i in range(last + 1) if i not in by_index]
    if missing:
        raise CorruptFileError(
            path, f"FLIR APP1 chunks {missing[:5]} of {last + 1} are missing: the file is truncated or cut"
        )
    return [by_index[i] for i in range(last + 1)]


def assemble_fff(chunks: Sequence[tuple[int, int, bytes | memoryview]], *, path: str) -> bytes:
    """The whole FFF block of an R-JPEG as one ``bytes`` (the reader itself joins only what it needs)."""
    return b"".join(ordered_chunks(chunks, path=path))


class ChunkedFff:
    """An R-JPEG's FFF block as its APP1 chunk payloads, read span by span.

    Only the spans asked for are joined (header and directory, CameraInfo, the raw
    frame); the embedded visible photo, often most of the file, is never copied
    unless it is asked for.  A span inside one chunk is a view, not a copy.
    """

    def __init__(self, parts: Sequence[bytes | memoryview]) -> None:
        self.parts = list(parts)
        self.starts = [0, *itertools.accumulate(len(p) for p in self.parts)]
        self.size = self.starts[-1]

    def span(self, start: int, end: int) -> bytes | memoryview:
        """Bytes ``start:end`` of the block (clipped to its size)."""
        end = min(end, self.size)
        if start >= end:
            return b""
        first = bisect.bisect_right(self.starts, start) - 1
        if end <= self.starts[first + 1]:
            base = self.starts[first]
            return self.parts[first][start - base : end - base]
        pieces = []
        pos = start
        i = first
        while pos < end:
            base, stop = self.starts[i], min(end, self.starts[i + 1])
            pieces.append(self.parts[i][pos - base : stop - base])
            pos = stop
            i += 1
        return b"".join(pieces)


SpanReader = Callable[[int, int], fff.Buffer]
"""Gives bytes ``start:end`` of the data an FFF block was parsed from."""


def _record(read: SpanReader, rec: fff.Record) -> fff.Buffer:
    return read(rec.offset, rec.offset + rec.length)


def frame_from_block(
    read: SpanReader,
    block: fff.FffBlock,
    *,
    path: str,
    index: int,
    exif: Callable[[], ExifFacts] | None = None,
) -> ThermalFrame:
    """Build a lazy :class:`ThermalFrame` from a parsed FFF block (headers only).

    ``read(start, end)`` gives bytes of the underlying data.  What conversion needs
    (frame size, raw encoding, calibration) is read and checked now; the rest of the
    metadata (camera identity, time, GPS, ``exif``: a function giving the JPEG's EXIF
    facts) when :attr:`ThermalFrame.info` is first used; the raw frame and the
    visible photo when their loaders run.
    """
    raw_rec = block.find(fff.REC_RAW)
    if raw_rec is None:
        raise CorruptFileError(path, f"FFF frame {index} has no RawData record", offset=block.start)
    info_rec = block.find(fff.REC_CAMERA_INFO)
    if info_rec is None:
        raise CorruptFileError(path, f"FFF frame {index} has no CameraInfo record", offset=block.start)
    encoding, width, height = fff.raw_encoding(read(raw_rec.offset, raw_rec.offset + 32), raw_rec, path=path)
    info_bytes = _record(read, info_rec)
    cam_width, cam_height, calibration = fff.parse_calibration(info_bytes, info_rec, path=path)
    if (cam_width, cam_height) != (width, height):
        raise CorruptFileError(
            path,
            f"RawData says {width}x{height} but CameraInfo says {cam_width}x{cam_height}",
            offset=raw_rec.offset,
        )
    vis_rec = block.find(fff.REC_VISIBLE)

    def info() -> FrameInfo:
        details = fff.parse_camera_details(info_bytes, info_rec, path=path)
        gps_rec = block.find(fff.REC_GPS)
        gps = fff.parse_gps(_record(read, gps_rec), gps_rec) if gps_rec is not None else None
        facts = exif() if exif is not None else ExifFacts()
        creator = block.creator
        extra = dict(details.extra)
        extra["fff_creator"] = creator
        extra["fff_byte_order"] = "big-endian" if block.byte_order == ">" else "little-endian"
        camera = CameraIdentity(
            make=facts.make or ("FLIR Systems" if creator in ("", "FLIR", "ResearchIR") else creator or None),
            model=details.model or facts.model,
            serial=details.serial,
            lens=details.lens,
            software=details.software,
        )
        return FrameInfo(
            width=width,
            height=height,
            raw_encoding=encoding,
            camera=camera,
            captured_at=details.captured_at or facts.captured_at,
            gps=facts.gps or gps,
            calibration=calibration,
            has_visible_image=vis_rec is not None,
            extra=extra,
            warnings=(facts.warning,) if facts.warning else (),
        )

    return ThermalFrame(
        source=path,
        index=index,
        info=info,
        shape=(height, width),
        calibration=calibration,
        raw_loader=lambda: fff.decode_raw(
            _record(read, raw_rec), raw_rec, encoding, width, height, path=path
        ),
        visible_loader=(lambda: fff.visible_jpeg(_record(read, vis_rec), vis_rec))
        if vis_rec is not None
        else None,
    )


def open_rjpeg(
    layout: JpegLayout,
    chunks: list[tuple[int, int, memoryview]],
    *,
    path: str,
    exif: Callable[[], ExifFacts],
) -> ThermalFile:
    """Open a FLIR radiometric JPEG whose APP1 "FLIR" chunks were found (``exif``: read when needed)."""
    blob = ChunkedFff(ordered_chunks(chunks, path=path))
    head = blob.span(0, 4096)
    need = fff.directory_end(head, path=path)
    if need > len(head):
        head = blob.span(0, need)
    block = fff.parse_block(head, 0, path=path, size=blob.size)
    frame = frame_from_block(blob.span, block, path=path, index=0, exif=exif)
    return ThermalFile(path=path, format_name="flir-rjpeg", frames=lambda: iter((frame,)))


def iter_blocks(buf: bytes | mmap.mmap, *, path: str) -> Iterator[fff.FffBlock]:
    """Walk FFF blocks back to back by header and directory extents (never by magic alone).

    A damaged block ends the walk with :class:`DamagedFrameError` after every complete
    block before it was yielded: a block whose header, directory or records run past
    the end of the data (a cut file) or whose header is broken.  The walk cannot go
    on past such a block, since only its directory says where the next one starts.
    """
    pos = 0
    size = len(buf)
    index = 0
    while pos + fff.HEADER_SIZE <= size:
        if buf[pos : pos + 4] != fff.MAGIC:
            nxt = buf.find(fff.MAGIC, pos)
            if nxt < 0:
                return
            pos = nxt
        try:
            block = fff.parse_block(buf, pos, path=path)
        except CorruptFileError as exc:
            raise _damaged(exc, path=path, index=index, start=pos, size=size) from exc
        yield block
        index += 1
        pos = max(block.end, pos + fff.HEADER_SIZE)
    tail = bytes(buf[pos : pos + 4])
    if tail and fff.MAGIC.startswith(tail):  # a block's header cut short
        raise DamagedFrameError(
            path,
            f"FFF header cut short ({size - pos} of {fff.HEADER_SIZE} bytes): truncated file",
            frame_index=index,
            frame_offset=pos,
            offset=size,
            data_size=size,
        )


def _damaged(exc: CorruptFileError, *, path: str, index: int, start: int, size: int) -> DamagedFrameError:
    return DamagedFrameError(
        path, exc.detail, frame_index=index, frame_offset=start, offset=exc.offset, data_size=size
    )


RELEASE_EVERY = 1024 * 1024
"""Bytes of a memory-mapped sequence walked between two :func:`release_pages` calls."""


def release_pages(data: mmap.mmap, released: int, upto: int) -> int:
    """Drop the mapped pages of ``data[released:upto]`` from this process; return the new mark.

    Walking a long memory-mapped SEQ/CSQ would otherwise leave every page it read
    resident, so the process would grow with the file.  The map is read-only and
    file-backed: a dropped page is read again from the file if it is touched again,
    so frames already yielded stay valid.  Works in steps of :data:`RELEASE_EVERY`.
    """
    end = upto - upto % mmap.PAGESIZE
    if end - released < RELEASE_EVERY or not hasattr(mmap, "MADV_DONTNEED"):
        return released
    data.madvise(mmap.MADV_DONTNEED, released, end - released)
    return end


class FffReader:
    """Bare FFF frames and FLIR SEQ/CSQ sequences (FFF blocks back to back)."""

    name = "flir-fff"
    extensions: tuple[str, ...] = (".fff", ".seq", ".csq")

    def accept(self, prefix: bytes) -> bool:
        """An FFF file starts with the magic ``FFF\\0``."""
        return prefix[:4] == fff.MAGIC

    def open(self, data: bytes | mmap.mmap, *, path: str) -> ThermalFile:
        """Parse the first block now (so a broken file fails early); later ones on iteration."""
        suffix = Path(path).suffix.lower()
        first = fff.parse_block(data, 0, path=path)
        fmt = {".seq": "flir-seq", ".csq": "flir-csq"}.get(suffix, "flir-fff")
        raw_rec = first.find(fff.REC_RAW)
        if raw_rec is not None and raw_rec.subtype == fff.RAW_JPEG_LS:
            fmt = "flir-csq"

        def frames() -> Iterator[ThermalFrame]:
            read = partial(fff.read_span, data)
            released = 0
            for i, block in enumerate(iter_blocks(data, path=path)):
                try:
                    frame = frame_from_block(read, block, path=path, index=i)
                except CorruptFileError as exc:
                    raise _damaged(exc, path=path, index=i, start=block.start, size=len(data)) from exc
                yield frame
                if isinstance(data, mmap.mmap):
                    released = release_pages(data, released, block.end)

        closer = data.close if isinstance(data, mmap.mmap) else None
        return ThermalFile(path=path, format_name=fmt, frames=frames, closer=closer)
