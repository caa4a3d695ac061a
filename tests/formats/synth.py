"""Build small thermal files in memory for tests: IRG, TIFF, CSV, NPY, and patched FLIR data.

Each builder follows the layout documented in the reader module it feeds; nothing
here comes from a real camera file except where a sample is passed in.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from irpatrol.formats import fff
from irpatrol.formats.flir import assemble_fff, flir_chunks
from irpatrol.formats.jpeg import walk_jpeg

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "thermal"
"""The shared real sample files (may be absent)."""


def sample(name: str) -> bytes:
    """Bytes of a shared sample file (callers skip when :data:`SAMPLES` is absent)."""
    return (SAMPLES / name).read_bytes()


def tiny_jpeg(width: int = 16, height: int = 12) -> bytes:
    """A plain (non-radiometric) baseline JPEG made with Pillow."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buf, format="JPEG")
    return buf.getvalue()


# --------------------------------------------------------------------------- IRG


def make_irg(
    celsius: npt.ArrayLike,
    *,
    variant: str = "c200",
    visible: bytes | None = None,
    tenth_kelvin_flag: bool = False,
    emissivity: float = 0.95,
) -> bytes:
    """An InfiRay IRG file holding ``celsius`` (rows, cols).

    ``variant``: ``"c200"`` (magic CA AC, 1/16 K, or 1/10 K with the flag),
    ``"other"`` (BA AB, 1/10 K, JPEG = rest of file) or ``"p200"`` (04 A0, 1/10 K,
    vendor zero 273.2 K).
    """
    t = np.asarray(celsius, dtype=np.float64)
    h, w = t.shape
    magic, steps, zero = {
        "c200": (b"\xca\xac", 10.0 if tenth_kelvin_flag else 16.0, 273.15),
        "other": (b"\xba\xab", 10.0, 273.15),
        "p200": (b"\x04\xa0", 10.0, 273.2),
    }[variant]
    fine = np.round((t + zero) * steps).astype("<u2")
    lo, hi = float(t.min()), float(t.max())
    coarse = np.zeros_like(t, dtype=np.uint8) if hi == lo else ((t - lo) / (hi - lo) * 255).astype(np.uint8)
    vis = visible or b""
    head = bytearray(128)
    head[0:2] = magic
    struct.pack_into("<HIHHB", head, 2, 128, w * h, h, w, 1 if tenth_kelvin_flag else 0)
    struct.pack_into("<IHHB", head, 13, 2 * w * h, h, w, 1)
    struct.pack_into("<IHH", head, 22, len(vis) if variant == "c200" else 0, h, w)
    struct.pack_into(
        "<IIIIIII", head, 30, round(emissivity * 1e4), 2_930_000, 2_930_000, 2500, 4000, 10000, 0
    )
    if variant != "p200":
        head[126:128] = b"\xac\xca"
    tail = vis if variant != "p200" else b'{"roi":[]}'
    return bytes(head) + coarse.tobytes() + fine.tobytes() + tail


# --------------------------------------------------------------------------- TIFF, CSV, NPY


def make_tiff(arr: npt.ArrayLike, *, description: str | None = None) -> bytes:
    """A TIFF of ``arr`` (any dtype tifffile writes), optionally with an ImageDescription."""
    import tifffile

    a = np.asarray(arr)
    photometric = "rgb" if a.ndim == 3 and a.shape[-1] in (3, 4) else "minisblack"
    buf = io.BytesIO()
    tifffile.imwrite(buf, a, description=description, metadata=None, photometric=photometric)
    return buf.getvalue()


def make_csv(
    arr: npt.ArrayLike,
    *,
    delimiter: str = ",",
    header: bool = False,
    decimal_comma: bool = False,
    trailing: bool = False,
) -> bytes:
    """A CSV of ``arr`` (°C), one row per line."""
    a = np.asarray(arr, dtype=np.float64)
    lines = []
    if header:
        lines.append(delimiter.join(f"col{c}" for c in range(a.shape[1])))
    for row in a:
        cells = ["" if not np.isfinite(v) else f"{v:.3f}" for v in row]
        if decimal_comma:
            cells = [c.replace(".", ",") for c in cells]
        lines.append(delimiter.join(cells) + (delimiter if trailing else ""))
    return ("\n".join(lines) + "\n").encode()


def make_npy(arr: npt.ArrayLike) -> bytes:
    """An ``.npy`` file of ``arr`` (saved without pickle unless the dtype is object)."""
    a = np.asarray(arr)
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=a.dtype.hasobject)
    return buf.getvalue()


# --------------------------------------------------------------------------- FLIR surgery


def fff_from_rjpeg(data: bytes) -> bytes:
    """The FFF block assembled from an R-JPEG's APP1 "FLIR" chunks."""
    return assemble_fff(flir_chunks(walk_jpeg(data, path="<test>")), path="<test>")


def rjpeg_from_fff(blob: bytes, *, chunk: int = 60_000) -> bytes:
    """A minimal FLIR R-JPEG: SOI, the FFF split into APP1 "FLIR" chunks, EOI."""
    parts = [blob[i : i + chunk] for i in range(0, len(blob), chunk)]
    out = bytearray(b"\xff\xd8")
    for i, part in enumerate(parts):
        payload = b"FLIR\0\x01" + bytes([i, len(parts) - 1]) + part
        out += b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return bytes(out + b"\xff\xd9")


def _record(blob: bytes, rec_type: int) -> tuple[fff.FffBlock, fff.Record, int]:
    block = fff.parse_block(blob, 0, path="<test>")
    for i, rec in enumerate(block.records):
        if rec.type == rec_type:
            return block, rec, i
    raise LookupError(rec_type)


def replace_record(blob: bytes, rec_type: int, payload: bytes) -> bytes:
    """Append ``payload`` to an FFF block and point the first ``rec_type`` entry at it."""
    block = fff.parse_block(blob, 0, path="<test>")
    bo = block.byte_order
    _, dir_off, count = struct.unpack_from(bo + "III", blob, 20)
    out = bytearray(blob)
    new_off = len(out)
    out += payload
    for i in range(count):
        pos = dir_off + i * fff.ENTRY_SIZE
        (rtype,) = struct.unpack_from(bo + "H", out, pos)
        if rtype == rec_type:
            struct.pack_into(bo + "II", out, pos + 12, new_off, len(payload))
            return bytes(out)
    raise LookupError(rec_type)


def raw_png_record(blob: bytes, width: int, height: int) -> bytes:
    """A RawData payload: the original 32-byte record header, then a 16-bit PNG of another size."""
    import imagecodecs

    _, rec, _ = _record(blob, fff.REC_RAW)
    png = imagecodecs.png_encode(np.full((height, width), 3000, dtype=np.uint16))
    return blob[rec.offset : rec.offset + 32] + png


CAMERA_INFO_FIELDS = {
    "emissivity": 0x20,
    "distance_m": 0x24,
    "reflected_temp_k": 0x28,
    "atmospheric_temp_k": 0x2C,
    "window_temp_k": 0x30,
    "window_transmission": 0x34,
    "relative_humidity": 0x3C,
    "planck.r1": 0x58,
    "planck.b": 0x5C,
    "planck.f": 0x60,
    "atmosphere.alpha1": 0x70,
    "atmosphere.alpha2": 0x74,
    "atmosphere.beta1": 0x78,
    "atmosphere.beta2": 0x7C,
    "atmosphere.x": 0x80,
    "planck.r2": 0x30C,
}
"""Float32 CameraInfo fields by name (offsets from ExifTool's FLIR CameraInfo table)."""


def patch_camera_info(blob: bytes, field: str, value: float) -> bytes:
    """Overwrite one float32 of CameraInfo (see :data:`CAMERA_INFO_FIELDS`) in an FFF block."""
    _, rec, _ = _record(blob, fff.REC_CAMERA_INFO)
    bo, _, _ = fff.record_order(fff.read_span(blob, rec.offset, rec.offset + rec.length), rec, path="<test>")
    out = bytearray(blob)
    struct.pack_into(bo + "f", out, rec.offset + CAMERA_INFO_FIELDS[field], value)
    return bytes(out)


# --------------------------------------------------------------------------- mutation (fuzzing)

_INTERESTING = (0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF)


def mutate(data: bytes, rand: Callable[[int, int], int], *, head: int = 4096) -> bytes:
    """Apply 1..4 random edits to ``data``; ``rand(lo, hi)`` draws an int in [lo, hi].

    Edits: bit flips, byte sets, interesting 16/32-bit values (either byte order),
    truncation, insertion, deletion and swapping two chunks.  Positions fall in the
    first ``head`` bytes (where headers live) three times in four.
    """
    buf = bytearray(data)

    def pos(extra: int = 0) -> int:
        limit = len(buf) + extra - 1
        if limit <= 0:
            return 0
        return rand(0, min(limit, head) if rand(0, 3) else limit)

    for _ in range(rand(1, 4)):
        op = rand(0, 7)
        if not buf:
            buf += bytes(rand(1, 16))
            continue
        if op == 0:
            p = pos()
            buf[p] ^= 1 << rand(0, 7)
        elif op == 1:
            buf[pos()] = rand(0, 255)
        elif op == 2:
            width = 2 if rand(0, 1) else 4
            value = _INTERESTING[rand(0, len(_INTERESTING) - 1)] & ((1 << (8 * width)) - 1)
            p = min(pos(), max(0, len(buf) - width))
            buf[p : p + width] = value.to_bytes(width, "little" if rand(0, 1) else "big")
        elif op == 3:
            del buf[pos() :]
        elif op == 4:
            p = pos(1)
            buf[p:p] = bytes(rand(0, 255) for _ in range(rand(1, 64)))
        elif op == 5:
            p = pos()
            del buf[p : p + rand(1, 256)]
        else:
            n = rand(1, 512)
            a, b = pos(), pos()
            chunk_a, chunk_b = bytes(buf[a : a + n]), bytes(buf[b : b + n])
            if len(chunk_a) == len(chunk_b):
                buf[a : a + n], buf[b : b + n] = chunk_b, chunk_a
    return bytes(buf)
