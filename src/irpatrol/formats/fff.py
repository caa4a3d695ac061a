"""FLIR FFF container: header, record directory, CameraInfo, RawData, GPS, visible photo.

Layout (facts from ExifTool's FLIR tables and the sample files):

* header, 64 bytes: ``"FFF\\0"``, creator (16 bytes), uint32 version (100/101),
  uint32 directory offset, uint32 record count, reserved, checksum.  Byte order is
  not fixed: it is the order in which the version reads 100 or 101.
* directory: 32-byte entries ``uint16 type, uint16 subtype, uint32 version,
  uint32 index, uint32 offset, uint32 length, ...``; offsets from the FFF start.
* records used: 1 RawData, 14 embedded visible photo, 32 CameraInfo, 43 GPS.
  RawData and CameraInfo start with a uint16 ``2`` and the frame width/height in
  the record's own byte order; that order decides how pixels are read.
"""

from __future__ import annotations

import math
import mmap
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from irpatrol.errors import CorruptFileError, UnsupportedFormatError
from irpatrol.formats.base import GeoPosition, check_dimensions
from irpatrol.thermal.radiometry import (
    AtmosphereConstants,
    Calibration,
    ObjectParameters,
    PlanckConstants,
)

MAGIC = b"FFF\0"
HEADER_SIZE = 64
ENTRY_SIZE = 32
_VERSIONS = (100, 101)
_MAX_RECORDS = 4096

REC_RAW = 1
REC_VISIBLE = 14
REC_CAMERA_INFO = 32
REC_GPS = 43

Buffer = bytes | memoryview | mmap.mmap
"""Anything the record parsers can read from: file bytes, a view, or a memory map."""

RAW_BARE = 2
RAW_PNG = 3
RAW_JPEG_LS = 4


class Record(NamedTuple):
    """One directory entry; ``offset`` is absolute in the buffer (a named tuple: cheap to build)."""

    type: int
    subtype: int
    version: int
    offset: int
    length: int


@dataclass(frozen=True)
class FffBlock:
    """A parsed FFF header and directory starting at ``start`` in a buffer."""

    start: int
    creator: str
    byte_order: str
    version: int
    records: tuple[Record, ...]
    end: int

    def find(self, rec_type: int) -> Record | None:
        """The first non-empty record of this type."""
        for rec in self.records:
            if rec.type == rec_type and rec.length > 0:
                return rec
        return None


def _header(buf: Buffer, start: int, path: str) -> tuple[str, str, int, int, int]:
    """Creator, byte order, version, directory offset and record count of the header at ``start``."""
    if start + HEADER_SIZE > len(buf):
        raise CorruptFileError(path, "FFF header truncated", offset=start)
    if bytes(buf[start : start + 4]) != MAGIC:
        raise CorruptFileError(path, "missing FFF magic", offset=start)
    creator = bytes(buf[start + 4 : start + 20]).split(b"\0", 1)[0].decode("latin-1")
    for bo in (">", "<"):
        version, dir_off, count = struct.unpack_from(bo + "III", buf, start + 20)
        if version in _VERSIONS:
            break
    else:
        raise UnsupportedFormatError(
            path, f"FFF version {version} is not one irpatrol knows (expected 100 or 101)", offset=start + 20
        )
    if count > _MAX_RECORDS:
        raise CorruptFileError(path, f"FFF directory claims {count} records", offset=start + 28)
    if dir_off < HEADER_SIZE:
        raise CorruptFileError(
            path, f"FFF record directory offset {dir_off} overlaps the header", offset=start
        )
    return creator, bo, version, dir_off, count


def directory_end(buf: Buffer, *, path: str, start: int = 0) -> int:
    """Where the record directory of the block at ``start`` ends: the bytes :func:`parse_block` needs."""
    _, _, _, dir_off, count = _header(buf, start, path)
    return start + dir_off + count * ENTRY_SIZE


def parse_block(buf: Buffer, start: int, *, path: str, size: int | None = None) -> FffBlock:
    """Parse the FFF header and directory at ``start``; check every record lies inside the data.

    ``size`` is the length of the whole data when ``buf`` holds only its beginning
    (up to :func:`directory_end` at least), as when an R-JPEG's chunks are read lazily.
    """
    if size is None:
        size = len(buf)
    creator, bo, version, dir_off, count = _header(buf, start, path)
    dir_start = start + dir_off
    dir_end = dir_start + count * ENTRY_SIZE
    if dir_end > min(size, len(buf)):
        raise CorruptFileError(
            path, f"FFF record directory ({count} entries at +{dir_off}) lies outside the data", offset=start
        )
    records: list[Record] = []
    end = dir_end
    # the whole directory in one call: 6 fields of each 32-byte entry, 12 bytes skipped
    entries = struct.unpack_from(bo + "HHIIII12x" * count, buf, dir_start)
    for i in range(count):
        rtype, sub, ver, _idx, off, length = entries[6 * i : 6 * i + 6]
        if rtype == 0 or length == 0:
            continue
        abs_off = start + off
        if abs_off + length > size:
            raise CorruptFileError(
                path,
                f"FFF record type {rtype} (+{off}, {length} bytes) runs past the end of the data: "
                "truncated file",
                offset=abs_off,
            )
        records.append(Record(rtype, sub, ver, abs_off, length))
        end = max(end, abs_off + length)
    return FffBlock(start, creator, bo, version, tuple(records), end)


def record_order(data: Buffer, rec: Record, *, path: str) -> tuple[str, int, int]:
    """Byte order, width and height of a CameraInfo/RawData record, from its own header.

    ``data`` is the record's own bytes (from its start); ``rec`` locates it
    in the file for messages.
    """
    if rec.length < 32:
        raise CorruptFileError(
            path, f"FFF record type {rec.type} is only {rec.length} bytes", offset=rec.offset
        )
    for bo in ("<", ">"):
        tag, width, height = struct.unpack_from(bo + "HHH", data, 0)
        if tag == 2:
            return bo, width, height
    raise CorruptFileError(
        path, f"FFF record type {rec.type} does not start with the expected tag 2", offset=rec.offset
    )


def _text(raw: bytes) -> str | None:
    text = raw.split(b"\0", 1)[0].decode("latin-1").strip()
    return text if text and text.isprintable() else None


_CAMERA_INFO_FIELDS: tuple[tuple[str, int, str], ...] = (
    # (name, offset in the record, struct code): ExifTool's FLIR CameraInfo table
    ("emissivity", 0x20, "f"),
    ("distance_m", 0x24, "f"),
    ("reflected_temp_k", 0x28, "f"),
    ("atmospheric_temp_k", 0x2C, "f"),
    ("window_temp_k", 0x30, "f"),
    ("window_transmission", 0x34, "f"),
    ("relative_humidity", 0x3C, "f"),
    ("r1", 0x58, "f"),
    ("b", 0x5C, "f"),
    ("f", 0x60, "f"),
    ("alpha1", 0x70, "f"),
    ("alpha2", 0x74, "f"),
    ("beta1", 0x78, "f"),
    ("beta2", 0x7C, "f"),
    ("x", 0x80, "f"),
    ("range_max_k", 0x90, "f"),
    ("range_min_k", 0x94, "f"),
    ("model", 0xD4, "32s"),
    ("part_number", 0xF4, "16s"),
    ("serial", 0x104, "16s"),
    ("software", 0x114, "16s"),
    ("lens", 0x170, "32s"),
    ("field_of_view_deg", 0x1B4, "f"),
    ("o", 0x308, "i"),
    ("r2", 0x30C, "f"),
    ("raw_min", 0x310, "H"),
    ("raw_max", 0x312, "H"),
    ("raw_median", 0x338, "H"),
    ("raw_range", 0x33C, "H"),
)


def _layout(fields: tuple[tuple[str, int, str], ...]) -> str:
    """A struct format reading ``fields`` (sorted by offset) from offset 0, skipping the gaps."""
    fmt, pos = [], 0
    for _, offset, code in fields:
        fmt.append(f"{offset - pos}x{code}")
        pos = offset + struct.calcsize("<" + code)
    return "".join(fmt)


_CAMERA_INFO = {bo: struct.Struct(bo + _layout(_CAMERA_INFO_FIELDS)) for bo in "<>"}
_CAMERA_INFO_NAMES = tuple(name for name, _, _ in _CAMERA_INFO_FIELDS)
CAMERA_INFO_MIN_LENGTH = _CAMERA_INFO["<"].size
"""Bytes of CameraInfo the constants need (0x33E)."""


def _camera_info_values(buf: Buffer, rec: Record, *, path: str) -> tuple[str, int, int, dict[str, Any]]:
    """Byte order, frame size and every :data:`_CAMERA_INFO_FIELDS` value of a CameraInfo record."""
    bo, width, height = record_order(buf, rec, path=path)
    if rec.length < CAMERA_INFO_MIN_LENGTH:
        raise CorruptFileError(
            path,
            f"CameraInfo record is {rec.length} bytes, shorter than the {CAMERA_INFO_MIN_LENGTH} "
            "the constants need",
            offset=rec.offset,
        )
    values = dict(zip(_CAMERA_INFO_NAMES, _CAMERA_INFO[bo].unpack_from(buf, 0), strict=True))
    return bo, width, height, values


def parse_calibration(buf: Buffer, rec: Record, *, path: str) -> tuple[int, int, Calibration]:
    """Frame width, height and the :class:`Calibration` of a CameraInfo record (``buf``: its bytes).

    Offsets follow ExifTool's FLIR CameraInfo table (:data:`_CAMERA_INFO_FIELDS`); all
    values in the file are K, m, ratios and counts.
    """
    _, width, height, v = _camera_info_values(buf, rec, path=path)
    planck = PlanckConstants(r1=v["r1"], r2=v["r2"], b=v["b"], f=v["f"], o=float(v["o"]))
    atmosphere = AtmosphereConstants(
        alpha1=v["alpha1"], alpha2=v["alpha2"], beta1=v["beta1"], beta2=v["beta2"], x=v["x"]
    )
    params = ObjectParameters(
        emissivity=v["emissivity"],
        distance_m=v["distance_m"],
        reflected_temp_k=v["reflected_temp_k"],
        atmospheric_temp_k=v["atmospheric_temp_k"],
        window_temp_k=v["window_temp_k"],
        window_transmission=v["window_transmission"],
        relative_humidity=v["relative_humidity"],
    )
    tmin, tmax = v["range_min_k"], v["range_max_k"]
    temp_range = (tmin, tmax) if math.isfinite(tmin) and math.isfinite(tmax) and 0 < tmin < tmax else None
    rmin, rmax = v["raw_min"], v["raw_max"]
    calibration = Calibration(
        planck=planck,
        atmosphere=atmosphere,
        params=params,
        temp_range_k=temp_range,
        raw_range=(rmin, rmax) if rmax > rmin else None,
    )
    return width, height, calibration


@dataclass(frozen=True)
class CameraDetails:
    """What CameraInfo says besides the calibration: who, when, and other facts."""

    model: str | None
    serial: str | None
    software: str | None
    lens: str | None
    captured_at: datetime | None
    extra: dict[str, float | int | str]


def parse_camera_details(buf: Buffer, rec: Record, *, path: str) -> CameraDetails:
    """Model, serial, firmware, lens, capture time and other facts of a CameraInfo record."""
    bo, _, _, v = _camera_info_values(buf, rec, path=path)
    extra: dict[str, float | int | str] = {"raw_median": v["raw_median"], "raw_range": v["raw_range"]}
    part = _text(v["part_number"])
    if part:
        extra["camera_part_number"] = part
    fov = v["field_of_view_deg"]
    if math.isfinite(fov) and 0 < fov < 360:
        extra["field_of_view_deg"] = round(fov, 4)
    captured_at = None
    if rec.length >= 0x384 + 10:
        captured_at = _flir_datetime(buf, 0x384, bo)
    if rec.length >= 0x466:
        extra["frame_rate"] = int(struct.unpack_from(bo + "H", buf, 0x464)[0])
    return CameraDetails(
        model=_text(v["model"]),
        serial=_text(v["serial"]),
        software=_text(v["software"]),
        lens=_text(v["lens"]),
        captured_at=captured_at,
        extra=extra,
    )


def _flir_datetime(buf: Buffer, pos: int, bo: str) -> datetime | None:
    """FLIR time stamp: uint32 Unix seconds (UTC), uint32 ms, int16 zone (minutes west of UTC)."""
    seconds, millis, zone = struct.unpack_from(bo + "IIh", buf, pos)
    millis &= 0xFFFF
    if seconds == 0 or millis > 999 or abs(zone) > 14 * 60:
        return None
    tz = timezone(timedelta(minutes=-zone))
    return datetime.fromtimestamp(seconds, tz=UTC).astimezone(tz) + timedelta(milliseconds=millis)


def parse_gps(buf: Buffer, rec: Record) -> GeoPosition | None:
    """FLIR GPS record (type 43; ``buf``: its own bytes), or ``None`` when not valid.

    Layout: uint32 valid flag, hemisphere letters, float64 lat/lon (deg), float32 altitude (m).
    """
    if rec.length < 0x24:
        return None
    o = 0  # buf is the record's own bytes
    for bo in ("<", ">"):
        (valid,) = struct.unpack_from(bo + "I", buf, o)
        if valid in (0, 1):
            break
    if valid != 1:
        return None
    lat_ref = bytes(buf[o + 8 : o + 9])
    lon_ref = bytes(buf[o + 10 : o + 11])
    lat, lon = struct.unpack_from(bo + "dd", buf, o + 0x10)
    (alt,) = struct.unpack_from(bo + "f", buf, o + 0x20)
    if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
        return None
    if lat_ref == b"S" and lat > 0:
        lat = -lat
    if lon_ref == b"W" and lon > 0:
        lon = -lon
    return GeoPosition(
        latitude_deg=lat, longitude_deg=lon, altitude_m=float(alt) if math.isfinite(alt) else None
    )


def raw_encoding(buf: Buffer, rec: Record, *, path: str) -> tuple[str, int, int]:
    """How the RawData record stores pixels, and the frame size from its header."""
    bo, width, height = record_order(buf, rec, path=path)
    check_dimensions(path, width, height, what="raw frame")
    if rec.subtype == RAW_BARE:
        return ("uint16-le" if bo == "<" else "uint16-be"), width, height
    if rec.subtype == RAW_PNG:
        return ("png" if bo == "<" else "png-be"), width, height
    if rec.subtype == RAW_JPEG_LS:
        return "jpeg-ls", width, height
    raise UnsupportedFormatError(
        path, f"FLIR raw data subtype {rec.subtype} is not supported", offset=rec.offset
    )


def decode_raw(
    buf: Buffer, rec: Record, encoding: str, width: int, height: int, *, path: str
) -> npt.NDArray[np.uint16]:
    """Decode the RawData record's pixels (``buf``: the record's bytes) to uint16 counts (rows, cols)."""
    body = 32
    end = rec.length
    if encoding.startswith("uint16"):
        need = width * height * 2
        if end - body < need:
            raise CorruptFileError(
                path,
                f"raw frame needs {need} bytes for {width}x{height}, record holds {end - body}",
                offset=rec.offset + body,
            )
        dtype = "<u2" if encoding == "uint16-le" else ">u2"
        arr = np.frombuffer(buf, dtype=dtype, count=width * height, offset=body).reshape(height, width)
        if isinstance(buf, bytes) and arr.dtype.isnative:
            return arr  # a read-only view of bytes joined for this frame alone: no second copy
        return arr.astype(np.uint16)  # native order, owned copy (never a view of a memory map)
    import imagecodecs

    # decode straight from the buffer (no copy of the compressed bytes); the views
    # are released on return so a memory-mapped file can still be closed
    with memoryview(buf) as whole, whole[body:end] as data:
        return _decode_compressed(imagecodecs, data, encoding, path=path, offset=rec.offset + body)


def _decode_compressed(
    imagecodecs: Any, data: memoryview, encoding: str, *, path: str, offset: int
) -> npt.NDArray[np.uint16]:
    if encoding.startswith("png"):
        if data[:8] != b"\x89PNG\r\n\x1a\n":
            raise CorruptFileError(path, "raw data record should hold a PNG but does not", offset=offset)
        arr = imagecodecs.png_decode(data)
        if arr.dtype != np.uint16 or arr.ndim != 2:
            raise CorruptFileError(
                path,
                f"raw PNG is {arr.dtype} with shape {arr.shape}, expected 16-bit greyscale",
                offset=offset,
            )
        if encoding == "png":  # FLIR writes little-endian samples into a big-endian format
            arr.byteswap(inplace=True)
        return arr
    arr = imagecodecs.jpegls_decode(data)
    if arr.ndim != 2:
        raise CorruptFileError(path, f"raw JPEG-LS frame has shape {arr.shape}, expected 2-D", offset=offset)
    return arr.astype(np.uint16, copy=False)


def visible_jpeg(buf: Buffer, rec: Record) -> bytes | None:
    """The embedded visible photo of record type 14 (``buf``: the record's bytes; JPEG after 32 bytes)."""
    data = bytes(buf[32 : rec.length])
    return data if data[:2] == b"\xff\xd8" else None


def read_span(buf: Buffer, start: int, end: int) -> Buffer:
    """Bytes ``start:end`` of a contiguous buffer: a view of ``bytes``, a copy from a memory map.

    (A view of a memory map would keep it from being closed.)
    """
    if isinstance(buf, bytes):
        return memoryview(buf)[start:end]
    return buf[start:end]
