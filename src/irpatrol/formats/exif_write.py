"""Write a GNSS position into a copy of a JPEG's EXIF without touching anything else.

Radiometric JPEGs (FLIR R-JPEG, DJI Zenmuse XT) carry their raw data in APP1
``"FLIR"`` segments; re-saving through an image library drops them.  This module
works on marker segments instead: only the ``Exif`` APP1 segment is rebuilt (or
inserted after SOI/JFIF when there is none); every other byte of the file is
copied as it is.

Inside the EXIF block nothing is moved either.  EXIF offsets are absolute from the
start of the TIFF header, so the new GPS IFD and a copy of IFD0 (its entries as
they were, minus the old GPS pointer, plus the new one) are appended at the end of
the block and the header's IFD0 offset is pointed at the copy.  Maker notes,
thumbnails and every other directory keep their offsets; the old IFD0 and GPS IFD
stay behind as unreferenced bytes.

Tags written (EXIF 2.32 GPS IFD): GPSVersionID 2.3.0.0, GPSLatitudeRef/GPSLatitude
and GPSLongitudeRef/GPSLongitude (degrees, minutes, seconds with a 1e-6 s
denominator, about 3e-5 m), GPSAltitudeRef/GPSAltitude (m above sea level, mm
resolution), GPSTimeStamp and GPSDateStamp (UTC of the fix, not of the camera
clock), GPSMeasureMode (3 with an altitude, else 2), GPSDOP (HDOP, when known),
GPSMapDatum ``WGS-84``, GPSProcessingMethod (``"GNSS RTK FIXED"`` ...),
GPSDifferential (1 for DGPS/RTK), GPSHPositioningError (σ from GST, m), and
GPSImgDirectionRef/GPSImgDirection when a camera direction is given.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import struct
import tempfile
from pathlib import Path
from typing import Protocol

from irpatrol.errors import CorruptFileError, FileAccessError, ParameterError, UnsupportedFormatError
from irpatrol.formats.jpeg import APP1, is_jpeg, walk_jpeg

_EXIF_HEADER = b"Exif\0\0"
_GPS_POINTER = 0x8825
_MAX_PAYLOAD = 65_533  # a segment length field counts itself: 65535 - 2
_DIFFERENTIAL = frozenset({"dgps", "rtk_fixed", "rtk_float"})
# TIFF field types
_BYTE, _ASCII, _SHORT, _LONG, _RATIONAL, _UNDEFINED = 1, 2, 3, 4, 5, 7
_TYPE_SIZE = {_BYTE: 1, _ASCII: 1, _SHORT: 2, _LONG: 4, _RATIONAL: 8, _UNDEFINED: 1}


class _Labelled(Protocol):
    @property
    def label(self) -> str: ...


class GpsFix(Protocol):
    """What :func:`write_gps_copy` needs from a fix: :class:`irpatrol.geo.PositionFix` has it.

    ``lat``/``lon`` decimal degrees, ``alt_m`` metres above sea level or ``None``,
    ``quality`` anything with a ``label`` (``"rtk_fixed"`` ...), ``sigma_m``
    horizontal 1-σ error in metres or ``None``, ``time`` the UTC instant of the fix.
    An ``hdop`` attribute, if present, becomes GPSDOP.
    """

    @property
    def lat(self) -> float: ...
    @property
    def lon(self) -> float: ...
    @property
    def alt_m(self) -> float | None: ...
    @property
    def quality(self) -> _Labelled: ...
    @property
    def sigma_m(self) -> float | None: ...
    @property
    def time(self) -> dt.datetime: ...


def _rational(value: float, denominator: int) -> tuple[int, int]:
    num = round(value * denominator)
    if not 0 <= num < 2**32:
        msg = f"value {value!r} does not fit an EXIF rational with denominator {denominator}"
        raise ValueError(msg)
    return num, denominator


def _dms(value_deg: float) -> list[tuple[int, int]]:
    """|value| as degrees, minutes, seconds rationals (seconds in micro-seconds of arc)."""
    total_us = round(abs(value_deg) * 3600 * 1_000_000)
    degrees, rest = divmod(total_us, 3600 * 1_000_000)
    minutes, micro_s = divmod(rest, 60 * 1_000_000)
    return [(degrees, 1), (minutes, 1), (micro_s, 1_000_000)]


def _check_finite(name: str, value: float | None, limit: float | None = None) -> None:
    if value is None:
        return
    if not math.isfinite(value) or (limit is not None and abs(value) > limit):
        expected = f"a finite number within ±{limit}" if limit is not None else "a finite number"
        raise ParameterError(name, value, expected)


def gps_entries(
    fix: GpsFix, *, img_direction_deg: float | None = None
) -> list[tuple[int, int, list[int] | list[tuple[int, int]] | bytes]]:
    """The GPS IFD entries for ``fix`` as (tag, TIFF type, values), sorted by tag."""
    _check_finite("fix.lat", fix.lat, 90.0)
    _check_finite("fix.lon", fix.lon, 180.0)
    _check_finite("fix.alt_m", fix.alt_m, 1e6)
    _check_finite("fix.sigma_m", fix.sigma_m, 1e6)
    _check_finite("img_direction_deg", img_direction_deg)
    t = fix.time
    if t.tzinfo is None or t.utcoffset() is None:
        raise ParameterError("fix.time", t, "a timezone-aware datetime (UTC)")
    t = t.astimezone(dt.UTC)
    label = fix.quality.label
    entries: list[tuple[int, int, list[int] | list[tuple[int, int]] | bytes]] = [
        (0x0000, _BYTE, [2, 3, 0, 0]),
        (0x0001, _ASCII, b"N\0" if fix.lat >= 0 else b"S\0"),
        (0x0002, _RATIONAL, _dms(fix.lat)),
        (0x0003, _ASCII, b"E\0" if fix.lon >= 0 else b"W\0"),
        (0x0004, _RATIONAL, _dms(fix.lon)),
    ]
    if fix.alt_m is not None:
        entries.append((0x0005, _BYTE, [0 if fix.alt_m >= 0 else 1]))
        entries.append((0x0006, _RATIONAL, [_rational(abs(fix.alt_m), 1000)]))
    seconds = t.second + t.microsecond / 1e6
    entries.append((0x0007, _RATIONAL, [(t.hour, 1), (t.minute, 1), _rational(seconds, 1000)]))
    entries.append((0x000A, _ASCII, b"3\0" if fix.alt_m is not None else b"2\0"))
    hdop = getattr(fix, "hdop", None)
    if isinstance(hdop, int | float) and math.isfinite(hdop) and 0 <= hdop < 1e6:
        entries.append((0x000B, _RATIONAL, [_rational(float(hdop), 100)]))
    if img_direction_deg is not None:
        entries.append((0x0010, _ASCII, b"T\0"))
        entries.append((0x0011, _RATIONAL, [_rational(img_direction_deg % 360.0, 100)]))
    entries.append((0x0012, _ASCII, b"WGS-84\0"))
    method = "GNSS " + label.upper().replace("_", " ")
    entries.append((0x001B, _UNDEFINED, b"ASCII\0\0\0" + method.encode("ascii", "replace")))
    entries.append((0x001D, _ASCII, t.strftime("%Y:%m:%d").encode("ascii") + b"\0"))
    entries.append((0x001E, _SHORT, [1 if label in _DIFFERENTIAL else 0]))
    if fix.sigma_m is not None:
        entries.append((0x001F, _RATIONAL, [_rational(abs(fix.sigma_m), 1000)]))
    return entries


def _pack_values(bo: str, typ: int, values: list[int] | list[tuple[int, int]] | bytes) -> tuple[int, bytes]:
    """(count, packed bytes) of one entry's values."""
    if isinstance(values, bytes):
        return len(values), values
    if typ == _RATIONAL:
        flat = [v for pair in values for v in pair]  # type: ignore[union-attr]
        return len(values), struct.pack(bo + "I" * len(flat), *flat)
    code = {_BYTE: "B", _SHORT: "H", _LONG: "I"}[typ]
    return len(values), struct.pack(bo + code * len(values), *values)


def _build_ifd(
    bo: str,
    offset: int,
    entries: list[tuple[int, int, list[int] | list[tuple[int, int]] | bytes]],
    next_ifd: int = 0,
) -> bytes:
    """An IFD placed at TIFF offset ``offset``, its out-of-line values right after it."""
    head = struct.pack(bo + "H", len(entries))
    data_start = offset + 2 + 12 * len(entries) + 4
    table = bytearray()
    data = bytearray()
    for tag, typ, values in entries:
        count, packed = _pack_values(bo, typ, values)
        if len(packed) <= 4:
            table += struct.pack(bo + "HHI", tag, typ, count) + packed.ljust(4, b"\0")
        else:
            if (data_start + len(data)) % 2:
                data += b"\0"
            table += struct.pack(bo + "HHII", tag, typ, count, data_start + len(data))
            data += packed
    return head + bytes(table) + struct.pack(bo + "I", next_ifd) + bytes(data)


def _with_gps(tiff: bytes, gps: list[tuple[int, int, list[int] | list[tuple[int, int]] | bytes]]) -> bytes:
    """``tiff`` (a TIFF header and its IFDs) with a new GPS IFD and a re-pointed copy of IFD0 appended."""
    bo = {b"II": "<", b"MM": ">"}[tiff[:2]]
    (ifd0,) = struct.unpack_from(bo + "I", tiff, 4)
    (count,) = struct.unpack_from(bo + "H", tiff, ifd0)
    if count > 1000 or ifd0 + 2 + 12 * count + 4 > len(tiff):
        msg = f"IFD0 at {ifd0} with {count} entries runs past the end of the EXIF block"
        raise ValueError(msg)
    raw_entries = [tiff[ifd0 + 2 + 12 * i : ifd0 + 14 + 12 * i] for i in range(count)]
    (next_ifd,) = struct.unpack_from(bo + "I", tiff, ifd0 + 2 + 12 * count)
    out = bytearray(tiff)
    if len(out) % 2:
        out += b"\0"
    gps_offset = len(out)
    out += _build_ifd(bo, gps_offset, gps)
    if len(out) % 2:
        out += b"\0"
    new_ifd0 = len(out)
    kept = [e for e in raw_entries if struct.unpack_from(bo + "H", e)[0] != _GPS_POINTER]
    kept.append(struct.pack(bo + "HHII", _GPS_POINTER, _LONG, 1, gps_offset))
    kept.sort(key=lambda e: struct.unpack_from(bo + "H", e)[0])
    out += struct.pack(bo + "H", len(kept)) + b"".join(kept) + struct.pack(bo + "I", next_ifd)
    struct.pack_into(bo + "I", out, 4, new_ifd0)
    return bytes(out)


_EMPTY_TIFF = b"II*\0" + struct.pack("<I", 8) + struct.pack("<HI", 0, 0)


def with_gps_exif(data: bytes, fix: GpsFix, *, img_direction_deg: float | None = None, path: str) -> bytes:
    """The bytes of JPEG ``data`` with ``fix`` written into its EXIF GPS IFD (see the module docstring).

    Raises :class:`UnsupportedFormatError` for a non-JPEG or when the EXIF block would
    exceed one segment (64 KiB), :class:`CorruptFileError` for an unreadable EXIF block.
    """
    if not is_jpeg(data[:3]):
        raise UnsupportedFormatError(path, "not a JPEG file: GPS EXIF can only be written into a JPEG")
    layout = walk_jpeg(data, path=path)
    gps = gps_entries(fix, img_direction_deg=img_direction_deg)
    exif = next(
        (s for s in layout.segments if s.marker == APP1 and bytes(s.payload[:6]) == _EXIF_HEADER), None
    )
    if exif is not None:
        start, end = exif.offset, exif.offset + 4 + len(exif.payload)
        try:
            tiff = _with_gps(bytes(exif.payload[6:]), gps)
        except (KeyError, ValueError, IndexError, struct.error) as exc:
            raise CorruptFileError(path, f"EXIF block cannot be extended ({exc})", offset=start) from exc
    else:  # no EXIF: a new segment after SOI, or after a leading JFIF APP0
        first = layout.segments[0] if layout.segments else None
        jfif = first is not None and first.offset == 2 and first.marker == 0xE0
        start = end = first.offset + 4 + len(first.payload) if first is not None and jfif else 2
        tiff = _with_gps(_EMPTY_TIFF, gps)
    payload = _EXIF_HEADER + tiff
    if len(payload) > _MAX_PAYLOAD:
        raise UnsupportedFormatError(
            path, f"the EXIF block with GPS would be {len(payload)} bytes, over one JPEG segment (65533)"
        )
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return data[:start] + segment + data[end:]


def write_gps_copy(
    src: str | Path, dst: str | Path, fix: GpsFix, *, img_direction_deg: float | None = None
) -> Path:
    """Copy JPEG ``src`` to ``dst`` with ``fix`` in its EXIF GPS IFD; every other segment byte-identical.

    ``img_direction_deg`` (degrees true, e.g. robot heading + PTZ pan) adds
    GPSImgDirection.  ``dst`` is written atomically (a temporary file renamed);
    it must differ from ``src``.  Returns ``dst``.
    """
    src_p, dst_p = Path(src), Path(dst)
    if src_p.resolve() == dst_p.resolve():
        raise ParameterError("dst", str(dst), "a path other than `src` (the original is never modified)")
    try:
        data = src_p.read_bytes()
    except OSError as exc:
        raise FileAccessError(src_p, f"cannot be read ({exc.strerror or exc})") from exc
    out = with_gps_exif(data, fix, img_direction_deg=img_direction_deg, path=str(src_p))
    try:
        fd, tmp = tempfile.mkstemp(prefix=dst_p.name + ".", suffix=".tmp", dir=dst_p.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(out)
            os.replace(tmp, dst_p)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise FileAccessError(dst_p, f"cannot be written ({exc.strerror or exc})") from exc
    return dst_p


__all__ = ["GpsFix", "gps_entries", "with_gps_exif", "write_gps_copy"]
