"""InfiRay IRG: a raw dump from InfiRay-core cameras (C200/C201, P200, rebrands).

Layout (facts from public reverse-engineering notes; no camera SDK involved)::

    header, 128 bytes, little-endian, fields not aligned:
      0  u8[2]  magic: CA AC (C200/C201), BA AB (rebrands, e.g. Vevor), 04 A0 (P200)
      2  u16    header length, 128
      4  u32    coarse (8-bit) image length = width * height
      8  u16    height                10  u16  width
     12  u8     flag: 1 on some CA AC files means 1/10 K steps instead of 1/16 K
     13  u32    fine (16-bit) image length = 2 * width * height
     17  u16    fine height           19  u16  fine width
     22  u32    visible JPEG length (CA AC only; 0 when absent)
     30  u32    emissivity * 10000
     34  u32    reflected temperature, K * 10000
     38  u32    ambient temperature, K * 10000
    126  u8[2]  end marker AC CA (CA AC and BA AB variants)
    then the 8-bit contrast-stretched image (w*h bytes), the 16-bit image (w*h uint16
    LE, absolute temperature in fixed-point kelvin) and an optional visible JPEG.

Temperatures are stored directly (no Planck step): ``T[°C] = v/16 - 273.15`` for the
C200 family; ``v/10 - 273.15`` for the BA AB variant and flagged CA AC files; the
P200 stores ``v/10 - 273.2`` (the vendor's own offset).  The emissivity and
temperatures in the header are what the camera already applied: informational.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from irpatrol.errors import CorruptFileError
from irpatrol.formats.base import CameraIdentity, FrameInfo, ThermalFile, ThermalFrame, check_dimensions

HEADER_SIZE = 128
MAGIC_C200 = b"\xca\xac"
MAGIC_OTHER = b"\xba\xab"
MAGIC_P200 = b"\x04\xa0"
END_MARKER = b"\xac\xca"

_FAMILIES = {
    MAGIC_C200: "InfiRay C200 series",
    MAGIC_OTHER: "InfiRay (rebranded)",
    MAGIC_P200: "InfiRay P200",
}


@dataclass(frozen=True)
class IrgHeader:
    """The facts irpatrol uses from the 128-byte IRG header."""

    magic: bytes
    width: int
    height: int
    scale_k: float
    """Fixed-point steps per kelvin (16 or 10)."""
    zero_c: float
    """Kelvin value of 0 °C used by this variant (273.15, or 273.2 on the P200)."""
    jpeg_length: int | None
    """Bytes of the visible JPEG; ``None`` means "the rest of the file"."""
    emissivity: float | None
    reflected_temp_k: float | None
    ambient_temp_k: float | None


def parse_header(data: bytes | mmap.mmap, *, path: str) -> IrgHeader:
    """Read and check the IRG header; nothing after it is touched except the file size."""
    size = len(data)
    if size < HEADER_SIZE:
        raise CorruptFileError(
            path, f"IRG header truncated: file is {size} bytes, header needs {HEADER_SIZE}"
        )
    head = bytes(data[:HEADER_SIZE])
    magic = head[:2]
    if magic not in _FAMILIES:
        raise CorruptFileError(path, f"not an IRG header (magic {magic.hex(' ')})", offset=0)
    (header_len,) = struct.unpack_from("<H", head, 2)
    if header_len != HEADER_SIZE:
        raise CorruptFileError(path, f"IRG header length field is {header_len}, expected 128", offset=2)
    coarse_len, height, width, flag = struct.unpack_from("<IHHB", head, 4)
    check_dimensions(path, width, height, what="IRG image")
    if coarse_len != width * height:
        raise CorruptFileError(
            path, f"IRG 8-bit image length {coarse_len} does not match {width}x{height}", offset=4
        )
    if magic != MAGIC_P200 and head[126:128] != END_MARKER:
        raise CorruptFileError(
            path, f"IRG header end marker is {head[126:128].hex(' ')}, expected ac ca", offset=126
        )
    fine_len, fine_h, fine_w = struct.unpack_from("<IHH", head, 13)
    # Some writers leave the fine-image fields zero; when present they must agree.
    if fine_len and (fine_len != 2 * width * height or (fine_w, fine_h) != (width, height)):
        raise CorruptFileError(
            path,
            f"IRG 16-bit image is declared {fine_w}x{fine_h} ({fine_len} bytes) "
            f"but the 8-bit image is {width}x{height}",
            offset=13,
        )
    need = HEADER_SIZE + 3 * width * height
    if size < need:
        raise CorruptFileError(
            path, f"IRG file is truncated: {width}x{height} images need {need} bytes, file has {size}"
        )
    (jpeg_len,) = struct.unpack_from("<I", head, 22)
    emis, refl, amb = struct.unpack_from("<III", head, 30)
    if magic == MAGIC_C200:
        scale, zero, jpeg_length = (10.0 if flag == 1 else 16.0), 273.15, jpeg_len
    elif magic == MAGIC_OTHER:
        scale, zero, jpeg_length = 10.0, 273.15, None
    else:
        scale, zero, jpeg_length = 10.0, 273.2, 0
    return IrgHeader(
        magic=magic,
        width=width,
        height=height,
        scale_k=scale,
        zero_c=zero,
        jpeg_length=jpeg_length,
        emissivity=emis / 1e4 if 0 < emis <= 10_000 else None,
        reflected_temp_k=refl / 1e4 if refl else None,
        ambient_temp_k=amb / 1e4 if amb else None,
    )


class IrgReader:
    """InfiRay IRG dumps: one temperature frame, optional visible JPEG."""

    name: str = "infiray-irg"
    extensions: tuple[str, ...] = (".irg",)

    def accept(self, prefix: bytes) -> bool:
        """A known two-byte magic followed by the header length 128 (uint16 LE)."""
        return prefix[:2] in _FAMILIES and prefix[2:4] == b"\x80\x00"

    def open(self, data: bytes | mmap.mmap, *, path: str) -> ThermalFile:
        """Parse the header and check the file is long enough; decode nothing."""
        hdr = parse_header(data, path=path)
        w, h = hdr.width, hdr.height
        fine_start = HEADER_SIZE + w * h
        vis_start = fine_start + 2 * w * h
        vis_len = len(data) - vis_start if hdr.jpeg_length is None else hdr.jpeg_length
        if vis_start + vis_len > len(data):
            raise CorruptFileError(
                path,
                f"IRG visible JPEG ({vis_len} bytes) runs past the end of the file: truncated",
                offset=vis_start,
            )
        has_visible = vis_len > 0 and bytes(data[vis_start : vis_start + 2]) == b"\xff\xd8"

        def temps() -> npt.NDArray[np.float32]:
            fine = np.frombuffer(data, dtype="<u2", count=w * h, offset=fine_start).reshape(h, w)
            return (fine.astype(np.float64) / hdr.scale_k - hdr.zero_c).astype(np.float32)

        def visible() -> bytes | None:
            return bytes(data[vis_start : vis_start + vis_len]) if has_visible else None

        extra: dict[str, float | int | str] = {"irg_variant": hdr.magic.hex(), "kelvin_steps": hdr.scale_k}
        if hdr.emissivity is not None:
            extra["emissivity"] = hdr.emissivity
        if hdr.reflected_temp_k is not None:
            extra["reflected_temp_k"] = hdr.reflected_temp_k
        if hdr.ambient_temp_k is not None:
            extra["ambient_temp_k"] = hdr.ambient_temp_k
        info = FrameInfo(
            width=w,
            height=h,
            raw_encoding=None,
            camera=CameraIdentity(make="InfiRay", model=_FAMILIES[hdr.magic]),
            has_visible_image=has_visible,
            extra=extra,
        )
        frame = ThermalFrame(
            source=path,
            index=0,
            info=info,
            temp_loader=temps,
            visible_loader=visible if has_visible else None,
        )
        closer = data.close if isinstance(data, mmap.mmap) else None
        return ThermalFile(path=path, format_name="infiray-irg", frames=lambda: iter((frame,)), closer=closer)
