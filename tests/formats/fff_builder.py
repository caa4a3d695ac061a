"""Build FLIR FFF blocks and R-JPEGs in memory, to reach reader branches no sample has.

Layout as documented in irpatrol.formats.fff: 64-byte header, 32-byte directory
entries, CameraInfo (type 32) and RawData (type 1) records starting with tag 2.
"""

from __future__ import annotations

import struct

import imagecodecs
import numpy as np

T640_CONSTANTS = {
    0x20: 0.95,
    0x24: 1.0,
    0x28: 293.15,
    0x2C: 293.15,
    0x30: 293.15,
    0x34: 1.0,
    0x3C: 0.5,
    0x58: 15848.853515625,
    0x5C: 1414.9,
    0x60: 1.0,
    0x70: 0.006569,
    0x74: 0.01262,
    0x78: -0.002276,
    0x7C: -0.00667,
    0x80: 1.9,
    0x90: 423.15,
    0x94: 233.15,
    0x30C: 0.0145331118255854,
}


def camera_info(
    width: int,
    height: int,
    *,
    order: str = "<",
    planck_o: int = -4405,
    floats: dict[int, float] | None = None,
    model: bytes = b"FLIR TEST",
) -> bytes:
    """A 2476-byte CameraInfo record with T640 constants (some replaceable)."""
    rec = bytearray(2476)
    struct.pack_into(order + "HHH", rec, 0, 2, width, height)
    for off, value in {**T640_CONSTANTS, **(floats or {})}.items():
        struct.pack_into(order + "f", rec, off, value)
    struct.pack_into(order + "i", rec, 0x308, planck_o)
    struct.pack_into(order + "HH", rec, 0x310, 5835, 54660)
    rec[0xD4 : 0xD4 + len(model)] = model
    return bytes(rec)


def raw_record(raw: np.ndarray, *, subtype: int, order: str = "<", png_be_samples: bool = False) -> bytes:
    """RawData record: 32-byte header (tag 2, width, height in ``order``) then the pixels."""
    h, w = raw.shape
    head = bytearray(32)
    struct.pack_into(order + "HHH", head, 0, 2, w, h)
    if subtype == 2:
        body = raw.astype(order + "u2").tobytes()
    elif subtype == 3:
        # FLIR writes little-endian samples into the PNG unless the header is big-endian
        samples = raw if png_be_samples else raw.byteswap()
        body = imagecodecs.png_encode(np.ascontiguousarray(samples.astype(np.uint16)))
    elif subtype == 4:
        body = imagecodecs.jpegls_encode(raw.astype(np.uint16))
    else:
        body = b""
    return bytes(head) + body


def fff_block(records: list[tuple[int, int, bytes]], *, order: str = ">", creator: bytes = b"") -> bytes:
    """An FFF block holding ``records`` as (type, subtype, payload)."""
    dir_off = 64
    data_off = dir_off + 32 * len(records)
    header = bytearray(64)
    header[0:4] = b"FFF\0"
    header[4 : 4 + len(creator)] = creator
    struct.pack_into(order + "III", header, 20, 100, dir_off, len(records))
    directory = bytearray()
    payload = bytearray()
    for i, (rtype, sub, data) in enumerate(records):
        directory += struct.pack(order + "HHIIII", rtype, sub, 100, i + 1, data_off + len(payload), len(data))
        directory += bytes(12)
        payload += data
    return bytes(header + directory + payload)


def rjpeg(fff: bytes, *, chunk: int = 60000, drop: int | None = None) -> bytes:
    """Wrap an FFF block into a minimal JPEG as APP1 "FLIR" chunks (optionally dropping one)."""
    parts = [fff[i : i + chunk] for i in range(0, len(fff), chunk)] or [b""]
    last = len(parts) - 1
    out = bytearray(b"\xff\xd8")
    for idx, part in enumerate(parts):
        if idx == drop:
            continue
        seg = b"FLIR\0\x01" + bytes([idx, last]) + part
        out += b"\xff\xe1" + struct.pack(">H", len(seg) + 2) + seg
    out += b"\xff\xd9"
    return bytes(out)
