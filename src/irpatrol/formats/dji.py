"""DJI radiometric JPEG (R-JPEG): raw frame in APP3, parameters in APP4, calibration in APP5.

Layout (M2EA, H20T/H20N, H30T, M30T, M3T/M3TD, M4T): APP1 EXIF (and XMP ``drone-dji``
with GPS, gimbal and flight attitude, laser rangefinder), APP3 the raw uint16
little-endian frame split over segments, APP4 the measurement parameters (whose
header names the SDK plugin: dirp, iirp, girp, hirp; :mod:`irpatrol.formats.dji_params`),
APP5 the camera's calibration block, APP7 ``DJI-DBG`` (sensor id).  The Zenmuse XT S
swaps the two: raw frame in APP4, 32 KB in APP3.  The main JPEG image is the camera's
palette rendering, not a visible-light photo.

Everything that needs no calibration is read here, natively.  Temperatures need DJI's
calibration: :class:`DjiFrame` hands the file to a back-end
(:mod:`irpatrol.formats.dji_backends`), or refuses with how to enable one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import numpy as np
import numpy.typing as npt

from irpatrol.errors import CorruptFileError, ParameterError, UnsupportedFormatError
from irpatrol.formats.base import CameraIdentity, FrameInfo, GeoPosition, ThermalFile, ThermalFrame, funnel
from irpatrol.formats.dji_backends import (
    HOW_TO_ENABLE,
    DjiBackend,
    Measurement,
    check_overrides,
    select_backend,
)
from irpatrol.formats.dji_params import PLUGIN_RANGES, DjiParams, ParamRanges, parse_params, plugin_of
from irpatrol.formats.exif import ExifFacts
from irpatrol.formats.jpeg import APP1, APP3, APP4, JpegLayout
from irpatrol.thermal.radiometry import KELVIN_OFFSET, Thermogram

APP5, APP7 = 0xE5, 0xE7
_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\0"
_XMP_FIELD = re.compile(rb'drone-dji:(\w+)\s*=\s*"([^"]*)"|<drone-dji:(\w+)>([^<]*)</drone-dji:')
_SENSOR_ID = re.compile(rb"\[sensor_id:([0-9A-Za-z]{4,40})")
_FRAME_SIZES = {w * h * 2: (w, h) for w, h in ((640, 512), (1280, 1024), (320, 256), (160, 120), (640, 480))}
"""Raw frame bytes -> (width, height) of the thermal cores DJI ships."""
_INVALID_BELOW_C = -273.0
"""A back-end's value at or below this (°C) means "no temperature" (DJI's no-data marker)."""


def is_dji_rjpeg(layout: JpegLayout) -> bool:
    """True when a JPEG (without FLIR APP1 data) has DJI's APP3 + APP4 thermal segments."""
    return bool(layout.app(APP3)) and bool(layout.app(APP4))


def _join(layout: JpegLayout, marker: int) -> bytes:
    return b"".join(bytes(s.payload) for s in layout.app(marker))


def parse_xmp(layout: JpegLayout) -> dict[str, str]:
    """The ``drone-dji:`` XMP fields (attributes or elements) as text, by name; empty when absent."""
    out: dict[str, str] = {}
    for seg in layout.app(APP1):
        p = bytes(seg.payload)
        if not p.startswith(_XMP_HEADER):
            continue
        for m in _XMP_FIELD.finditer(p):
            name = m.group(1) or m.group(3)
            value = m.group(2) if m.group(1) else m.group(4)
            out[name.decode("ascii")] = value.decode("utf-8", "replace").strip()
    return out


def _float(xmp: dict[str, str], name: str) -> float | None:
    text = xmp.get(name)
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if np.isfinite(value) else None


_XMP_NUMBERS = {  # drone-dji field -> FrameInfo.extra key (units in the key)
    "AbsoluteAltitude": "altitude_abs_m",
    "RelativeAltitude": "altitude_rel_m",
    "GimbalRollDegree": "gimbal_roll_deg",
    "GimbalYawDegree": "gimbal_yaw_deg",
    "GimbalPitchDegree": "gimbal_pitch_deg",
    "FlightRollDegree": "flight_roll_deg",
    "FlightYawDegree": "flight_yaw_deg",
    "FlightPitchDegree": "flight_pitch_deg",
    "LRFTargetDistance": "lrf_distance_m",
    "LRFTargetLat": "lrf_target_lat_deg",
    "LRFTargetLon": "lrf_target_lon_deg",
    "LRFTargetAbsAlt": "lrf_target_alt_m",
}


def lrf_distance_m(xmp: dict[str, str]) -> float | None:
    """The laser rangefinder distance (m) when the XMP says the reading is valid, else ``None``."""
    status = xmp.get("LRFStatus")
    dist = _float(xmp, "LRFTargetDistance")
    if dist is None or dist <= 0 or (status is not None and status.lower() != "normal"):
        return None
    return dist


class DjiFrame(ThermalFrame):
    """A DJI R-JPEG frame: raw counts natively; temperatures through a back-end.

    ``thermogram()`` uses the file's embedded parameters (as DJI's own tools do) unless
    overridden; overrides outside DJI's allowed range for the camera are refused with
    the range.  Pixels the back-end gives no temperature are NaN and invalid.
    """

    def __init__(
        self,
        *,
        data: bytes,
        plugin: str,
        params: DjiParams | None,
        backend: DjiBackend | None,
        lrf_m: float | None,
        source: str,
        info: Callable[[], FrameInfo],
        shape: tuple[int, int],
        raw_loader: Callable[[], npt.NDArray[np.uint16]],
    ) -> None:
        super().__init__(source=source, index=0, info=info, shape=shape, raw_loader=raw_loader)
        self._data = data
        self.plugin = plugin
        self.params = params
        self.backend = backend
        self.lrf_distance_m = lrf_m
        self.last_measurement: Measurement | None = None

    @property
    def allowed_ranges(self) -> ParamRanges:
        """DJI's allowed (min, max) per parameter: the back-end's answer once measured, else the table
        (for the layouts decoded natively; empty for others until measured)."""
        if self.last_measurement is not None:
            return self.last_measurement.ranges
        return PLUGIN_RANGES.get(self.plugin, {}) if self.params is not None else {}

    def thermogram(
        self,
        *,
        emissivity: float | None = None,
        distance_m: float | None = None,
        reflected_temp_k: float | None = None,
        atmospheric_temp_k: float | None = None,
        window_temp_k: float | None = None,
        window_transmission: float | None = None,
        relative_humidity: float | None = None,
    ) -> Thermogram:
        """Temperatures in °C through the back-end; see :class:`ThermalFrame` for the overrides.

        ``relative_humidity`` is a fraction (0..1) here as everywhere in irpatrol; DJI
        takes %.  DJI has no IR-window parameters: ``window_*`` overrides are refused.
        """
        for name, value in (("window_temp_k", window_temp_k), ("window_transmission", window_transmission)):
            if value is not None:
                raise ParameterError(name, value, "not set: DJI cameras have no IR-window parameters")
        overrides: dict[str, float] = {}
        if emissivity is not None:
            overrides["emissivity"] = emissivity
        if distance_m is not None:
            overrides["distance_m"] = distance_m
        if reflected_temp_k is not None:
            overrides["reflected_c"] = reflected_temp_k - KELVIN_OFFSET
        if atmospheric_temp_k is not None:
            overrides["ambient_c"] = atmospheric_temp_k - KELVIN_OFFSET
        if relative_humidity is not None:
            overrides["humidity_pct"] = relative_humidity * 100.0
        if overrides and self.params is not None and self.plugin in PLUGIN_RANGES:
            check_overrides(overrides, PLUGIN_RANGES[self.plugin])  # fail before the back-end's work
        if self.backend is None:
            raise UnsupportedFormatError(self.source, f"DJI R-JPEG ({self.plugin}): {HOW_TO_ENABLE}")
        with funnel(self.source):
            m = self.backend.measure(self._data, overrides=overrides, path=self.source)
        if m.celsius.shape != self.shape:
            raise CorruptFileError(
                self.source,
                f"the DJI back-end measured {m.celsius.shape[1]}x{m.celsius.shape[0]} pixels, "
                f"the raw frame is {self.shape[1]}x{self.shape[0]}",
            )
        self.last_measurement = m
        return _flag_invalid(m.celsius)


def _flag_invalid(celsius: npt.NDArray[np.float32]) -> Thermogram:
    """NaN and invalid where the back-end gave no temperature (non-finite, or <= -273 °C)."""
    bad = ~np.isfinite(celsius) | (celsius <= _INVALID_BELOW_C)
    n_bad = int(np.count_nonzero(bad))
    if n_bad:
        celsius = celsius.copy()
        celsius[bad] = np.nan
    return Thermogram(celsius, ~bad, n_bad, 0, 0)


def open_dji(
    layout: JpegLayout,
    buf: bytes,
    *,
    path: str,
    exif: Callable[[], ExifFacts],
    backend: DjiBackend | None = None,
    auto_backend: bool = True,
) -> ThermalFile:
    """Open a DJI R-JPEG: plugin, parameters and frame size now; raw counts on demand.

    ``backend`` converts raw to °C; by default (``auto_backend``) one is selected with
    :func:`~irpatrol.formats.dji_backends.select_backend`.  Raises
    :class:`CorruptFileError` for a cut or damaged file (missing or short raw frame,
    damaged APP4 block).
    """
    facts = exif()
    app4 = _join(layout, APP4)
    xt_s = facts.model == "XT S"
    plugin = plugin_of(app4, facts.model)
    if plugin == "unknown":
        raise CorruptFileError(
            path,
            "DJI APP4 parameter block has no known header: damaged, or a DJI camera irpatrol does not know",
        )
    raw_marker = APP4 if xt_s else APP3
    raw_bytes = sum(len(s.payload) for s in layout.app(raw_marker))
    size = _FRAME_SIZES.get(raw_bytes)
    if size is None:
        raise CorruptFileError(
            path,
            f"DJI R-JPEG raw frame is {raw_bytes} bytes, not a whole 640x512 or 1280x1024 frame: "
            "the file is truncated or damaged",
        )
    width, height = size
    params = None if xt_s else parse_params(app4, plugin, path=path)
    if backend is None and auto_backend:
        backend = select_backend()
    xmp = parse_xmp(layout)
    lrf = lrf_distance_m(xmp)

    def raw() -> npt.NDArray[np.uint16]:
        frame = np.frombuffer(_join(layout, raw_marker), dtype="<u2").reshape(height, width)
        return frame.astype(np.uint16, copy=False)

    def info() -> FrameInfo:
        return _info(
            layout, facts, xmp, plugin=plugin, params=params, backend=backend, width=width, height=height
        )

    frame = DjiFrame(
        data=buf,
        plugin=plugin,
        params=params,
        backend=backend,
        lrf_m=lrf,
        source=path,
        info=info,
        shape=(height, width),
        raw_loader=raw,
    )
    return ThermalFile(path=path, format_name=f"dji-rjpeg-{plugin}", frames=lambda: iter((frame,)))


def _info(
    layout: JpegLayout,
    facts: ExifFacts,
    xmp: dict[str, str],
    *,
    plugin: str,
    params: DjiParams | None,
    backend: DjiBackend | None,
    width: int,
    height: int,
) -> FrameInfo:
    """Header facts of a DJI frame: camera, serial, time, GPS, attitude, LRF, parameters, back-end."""
    serial = None
    for marker in (APP7, APP1):
        for seg in layout.app(marker):
            m = _SENSOR_ID.search(bytes(seg.payload))
            if m:
                serial = m.group(1).decode("ascii")
                break
        if serial:
            break
    serial = serial or xmp.get("CameraSerialNumber") or xmp.get("DroneSerialNumber") or None
    extra: dict[str, float | int | str] = {"dji_plugin": plugin}
    extra["dji_backend"] = f"{backend.name} {backend.version}" if backend is not None else "none"
    for field, key in _XMP_NUMBERS.items():
        value = _float(xmp, field)
        if value is not None:
            extra[key] = value
    if "LRFStatus" in xmp:
        extra["lrf_status"] = xmp["LRFStatus"]
    if params is not None:
        for name, value in params.as_dict().items():
            if value is not None:
                extra[f"dji_{name}"] = round(value, 6)
    if params is not None:  # the table holds the ranges of the layouts decoded here
        for name, (lo, hi) in PLUGIN_RANGES.get(plugin, {}).items():
            extra[f"dji_{name}_range"] = f"{lo:g}..{hi:g}"
    if layout.app(APP5):
        extra["dji_calibration_bytes"] = sum(len(s.payload) for s in layout.app(APP5))
    warnings = [facts.warning] if facts.warning else []
    if backend is None:
        warnings.append(f"no temperatures: {HOW_TO_ENABLE}")
    if params is None and plugin != "unknown":
        warnings.append(f"DJI {plugin} parameter layout not decoded natively; the back-end reads it")
    gps = facts.gps
    lat, lon = _float(xmp, "GpsLatitude"), _float(xmp, "GpsLongitude") or _float(xmp, "GpsLongtitude")
    if gps is None and lat is not None and lon is not None and abs(lat) <= 90 and abs(lon) <= 180:
        gps = GeoPosition(latitude_deg=lat, longitude_deg=lon, altitude_m=_float(xmp, "AbsoluteAltitude"))
    captured: datetime | None = facts.captured_at
    return FrameInfo(
        width=width,
        height=height,
        raw_encoding="uint16-le",
        camera=CameraIdentity(make=facts.make or "DJI", model=facts.model, serial=serial),
        captured_at=captured,
        gps=gps,
        calibration=None,
        has_visible_image=False,
        extra=extra,
        warnings=tuple(warnings),
    )
