"""The few EXIF facts a thermal reader wants: make, model, capture time, GPS.

A small TIFF-IFD walker over the ``Exif\\0\\0`` APP1 payload.  EXIF is auxiliary in
radiometric files: damage here becomes a warning, never an error.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from irpatrol.formats.base import GeoPosition

_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8, 11: 4, 12: 8}


@dataclass(frozen=True)
class ExifFacts:
    """What irpatrol reads from EXIF; every field may be absent."""

    make: str | None = None
    model: str | None = None
    captured_at: datetime | None = None
    gps: GeoPosition | None = None
    warning: str | None = None


_IFD0_TAGS = frozenset({0x010F, 0x0110, 0x8769, 0x8825})
_EXIF_TAGS = frozenset({0x9003, 0x9011})
_GPS_TAGS = frozenset({1, 2, 3, 4, 5, 6})


def _ifd(tiff: bytes, offset: int, bo: str, wanted: frozenset[int]) -> dict[int, object]:
    """Decode the ``wanted`` tags of the IFD at ``offset`` (others are skipped unread)."""
    (count,) = struct.unpack_from(bo + "H", tiff, offset)
    if count > 1000:
        msg = f"IFD at {offset} claims {count} entries"
        raise ValueError(msg)
    entries = struct.unpack_from(bo + "HHII" * count, tiff, offset + 2)
    out: dict[int, object] = {}
    for i, tag in enumerate(entries[0::4]):
        if tag not in wanted:
            continue
        typ, n, value_off = entries[4 * i + 1 : 4 * i + 4]
        size = _TYPE_SIZES.get(typ)
        if size is None:
            continue
        total = size * n
        start = offset + 2 + 12 * i + 8 if total <= 4 else value_off
        raw = tiff[start : start + total]
        if len(raw) < total:
            continue
        if typ == 2:
            out[tag] = raw.split(b"\0", 1)[0].decode("latin-1").strip()
        elif typ in (5, 10):
            fmt = bo + ("I" if typ == 5 else "i") * (2 * n)
            vals = struct.unpack(fmt, raw)
            out[tag] = [vals[2 * k] / vals[2 * k + 1] if vals[2 * k + 1] else float("nan") for k in range(n)]
        elif typ == 3:
            out[tag] = list(struct.unpack(bo + "H" * n, raw))
        elif typ == 4:
            out[tag] = list(struct.unpack(bo + "I" * n, raw))
        elif typ in (1, 7):
            out[tag] = raw
    return out


def _first_int(value: object) -> int | None:
    if isinstance(value, list) and value and isinstance(value[0], int):
        return value[0]
    return None


def _dms(value: object) -> float | None:
    if isinstance(value, list) and len(value) == 3:
        d, m, s = (float(v) for v in value)
        return d + m / 60.0 + s / 3600.0
    return None


def _datetime(text: object, offset: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:  # "YYYY:MM:DD HH:MM:SS", sliced by hand (strptime costs more than the rest of EXIF)
        year, month, day = int(text[0:4]), int(text[5:7]), int(text[8:10])
        dt = datetime(year, month, day, int(text[11:13]), int(text[14:16]), int(text[17:19]))
    except ValueError:
        return None
    if isinstance(offset, str) and len(offset) == 6 and offset[0] in "+-":
        try:
            sign = 1 if offset[0] == "+" else -1
            delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
            dt = dt.replace(tzinfo=timezone(sign * delta))
        except ValueError:
            pass
    return dt


def parse_exif(payload: bytes | memoryview) -> ExifFacts:
    """Parse an APP1 Exif payload (starting ``Exif\\0\\0``); never raises."""
    try:
        tiff = bytes(payload[6:])
        bo = {b"II": "<", b"MM": ">"}[tiff[:2]]
        (ifd0_off,) = struct.unpack_from(bo + "I", tiff, 4)
        ifd0 = _ifd(tiff, ifd0_off, bo, _IFD0_TAGS)
        make = ifd0.get(0x010F)
        model = ifd0.get(0x0110)
        captured_at = None
        exif_off = _first_int(ifd0.get(0x8769))
        if exif_off:
            exif = _ifd(tiff, exif_off, bo, _EXIF_TAGS)
            captured_at = _datetime(exif.get(0x9003), exif.get(0x9011))
        gps = None
        gps_off = _first_int(ifd0.get(0x8825))
        warning = None
        if gps_off:
            try:
                g = _ifd(tiff, gps_off, bo, _GPS_TAGS)
                lat, lon = _dms(g.get(2)), _dms(g.get(4))
                if lat is not None and lon is not None and abs(lat) <= 90 and abs(lon) <= 180:
                    if g.get(1) == "S":
                        lat = -lat
                    if g.get(3) == "W":
                        lon = -lon
                    alt_v = g.get(6)
                    alt = float(alt_v[0]) if isinstance(alt_v, list) and alt_v else None
                    ref = g.get(5)
                    if alt is not None and isinstance(ref, bytes) and ref[:1] == b"\x01":
                        alt = -alt
                    gps = GeoPosition(latitude_deg=lat, longitude_deg=lon, altitude_m=alt)
            except (struct.error, ValueError, IndexError, KeyError) as exc:
                warning = f"EXIF GPS directory unreadable ({exc})"
        return ExifFacts(
            make=make if isinstance(make, str) and make else None,
            model=model if isinstance(model, str) and model else None,
            captured_at=captured_at,
            gps=gps,
            warning=warning,
        )
    except (struct.error, ValueError, IndexError, KeyError, TypeError) as exc:
        return ExifFacts(warning=f"EXIF unreadable ({type(exc).__name__}: {exc})")
