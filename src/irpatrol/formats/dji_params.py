"""DJI R-JPEG measurement parameters: the APP4 block of each SDK plugin, read natively.

DJI's Thermal SDK picks a camera-specific pipeline ("plugin") per file and keeps the
measurement parameters (object distance, relative humidity, emissivity, reflected
and ambient temperature) in APP4.  The layouts below were worked out from real files
(``../shared/samples/thermal``), checking each field against the values DJI's SDK
reports for the same file; nothing here is taken from DJI's or anyone else's code.

=========  ==========================================  =====================================
plugin     APP4 starts                                 parameters (little-endian)
=========  ==========================================  =====================================
``dirp``   ``AA 55 12 06`` (H20T, XT S)                uint16 at 68: distance m, humidity %,
                                                       emissivity %, reflected °C x 10,
                                                       ambient °C (unused by the SDK)
``iirp``   224 bytes of float32 (M2EA layout)          ambient °C, distance m, emissivity,
                                                       humidity (fraction), reflected °C
``girp``   ``FF D2 D1 FF "girp"``, ``AA 55`` at 32      uint16 at 36: humidity %,
                                                       distance m x 10, emissivity %,
                                                       reflected °C x 10
``hirp``   ``FF D2 D1 FF "hirp"``                      Q13 fixed point (value x 8192):
                                                       int32 at 88 emissivity, 92 distance,
                                                       96 reflected °C, 132 ambient °C;
                                                       uint32 at 116 humidity % x 1000
=========  ==========================================  =====================================

Newer iirp files (``FF D2 D1 FF "iirp"``: H20N, M3T, H30T, some M30T/M4T) keep their
parameters in a layout not decoded here; their values then come from the back-end.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from irpatrol.errors import CorruptFileError

TAGGED_APP4 = b"\xff\xd2\xd1\xff"
"""APP4 blocks that name their plugin start with these 4 bytes, then an ASCII tag."""
DIRP_APP4 = b"\xaa\x55\x12\x06"
"""APP4 header of the oldest (dirp) layout, H20T."""
PLUGINS = ("dirp", "iirp", "girp", "hirp")
_DIRP_MODELS = ("ZH20T", "XT S")
M2EA_MODEL = "MAVIC2-ENTERPRISE-ADVANCED"
_Q13 = 8192.0


@dataclass(frozen=True, kw_only=True)
class DjiParams:
    """DJI measurement parameters in DJI's own units.

    ``distance_m`` object distance (m); ``humidity_pct`` relative humidity (%);
    ``emissivity`` (0..1]; ``reflected_c`` reflected apparent temperature (°C);
    ``ambient_c`` ambient (atmospheric) temperature (°C), ``None`` when the plugin
    does not use it.
    """

    distance_m: float
    humidity_pct: float
    emissivity: float
    reflected_c: float
    ambient_c: float | None = None

    def as_dict(self) -> dict[str, float | None]:
        """The parameters by name (units in the names)."""
        return {
            "distance_m": self.distance_m,
            "humidity_pct": self.humidity_pct,
            "emissivity": self.emissivity,
            "reflected_c": self.reflected_c,
            "ambient_c": self.ambient_c,
        }


ParamRanges = dict[str, tuple[float, float]]
"""Allowed (min, max) per parameter name of :class:`DjiParams`."""

PLUGIN_RANGES: dict[str, ParamRanges] = {
    "dirp": {
        "distance_m": (1.0, 25.0),
        "humidity_pct": (20.0, 100.0),
        "emissivity": (0.1, 1.0),
        "reflected_c": (-40.0, 500.0),
    },
    "girp": {
        "distance_m": (1.0, 25.0),
        "humidity_pct": (20.0, 100.0),
        "emissivity": (0.1, 1.0),
        "reflected_c": (-40.0, 500.0),
    },
    "iirp": {
        "distance_m": (1.0, 25.0),
        "humidity_pct": (1.0, 100.0),
        "emissivity": (0.1, 1.0),
        "reflected_c": (-40.0, 100.0),
        "ambient_c": (-40.0, 80.0),
    },
    "hirp": {
        "distance_m": (0.0, 1000.0),
        "humidity_pct": (0.0, 100.0),
        "emissivity": (0.1, 1.0),
        "reflected_c": (-40.0, 1000.0),
        "ambient_c": (-100.0, 100.0),
    },
}
"""DJI Thermal SDK 1.8's allowed ranges per plugin (as the SDK reports them for the sample
files).  A back-end's own answer for a file wins over this table."""


def plugin_of(app4: bytes, model: str | None) -> str:
    """The SDK plugin a file needs: the APP4 tag when there is one, else the camera model.

    Returns ``"dirp"``, ``"iirp"``, ``"girp"``, ``"hirp"`` or another tag as written
    (a newer plugin), or ``"unknown"``.
    """
    if app4[:4] == TAGGED_APP4 and len(app4) > 8:
        tag = app4[4:12].split(b"\0", 1)[0]
        if tag and all(0x21 <= c < 0x7F for c in tag):
            return tag.decode("ascii")
    if model in _DIRP_MODELS or app4[:4] == DIRP_APP4:
        return "dirp"
    if model == M2EA_MODEL or len(app4) == 224:
        return "iirp"
    return "unknown"


def _check(path: str, params: DjiParams) -> DjiParams:
    """Refuse parameter values no camera writes: the APP4 block is damaged then."""
    checks = (
        ("distance", params.distance_m, 0.0, 10_000.0),
        ("humidity", params.humidity_pct, 0.0, 100.0),
        ("emissivity", params.emissivity, 0.001, 1.0),
        ("reflected temperature", params.reflected_c, -273.15, 5000.0),
        ("ambient temperature", params.ambient_c if params.ambient_c is not None else 0.0, -273.15, 500.0),
    )
    for name, value, lo, hi in checks:
        if not (math.isfinite(value) and lo <= value <= hi):
            raise CorruptFileError(
                path, f"DJI APP4 parameter block is damaged: {name} {value!r} is not in [{lo:g}, {hi:g}]"
            )
    return params


def parse_params(app4: bytes, plugin: str, *, path: str) -> DjiParams | None:
    """The measurement parameters of an APP4 block, or ``None`` for a layout not decoded here.

    Raises :class:`CorruptFileError` when the block is too short for its layout or its
    values are impossible (a damaged block).
    """
    if plugin == "dirp" and app4[:4] == DIRP_APP4:
        dist, hum, emis, refl10, amb = struct.unpack_from("<HHHhh", app4, 68)
        params = DjiParams(
            distance_m=float(dist),
            humidity_pct=float(hum),
            emissivity=emis / 100.0,
            reflected_c=refl10 / 10.0,
        )
        del amb  # stored, but DJI's SDK ignores it for dirp (allowed range [0, 0])
    elif plugin == "iirp" and app4[:4] != TAGGED_APP4:
        amb_f, dist_f, emis_f, hum_f, refl_f = struct.unpack_from("<5f", app4, 0)
        params = DjiParams(
            distance_m=dist_f,
            humidity_pct=hum_f * 100.0,
            emissivity=emis_f,
            reflected_c=refl_f,
            ambient_c=amb_f,
        )
    elif plugin == "girp":
        if app4[32:34] != b"\xaa\x55":
            raise CorruptFileError(path, "DJI APP4 parameter block is damaged: no girp parameter header")
        hum, dist10, emis, refl10 = struct.unpack_from("<HHHh", app4, 36)
        params = DjiParams(
            distance_m=dist10 / 10.0,
            humidity_pct=float(hum),
            emissivity=emis / 100.0,
            reflected_c=refl10 / 10.0,
        )
    elif plugin == "hirp":
        emis_q, dist_q, refl_q = struct.unpack_from("<iii", app4, 88)
        (hum_m,) = struct.unpack_from("<I", app4, 116)
        (amb_q,) = struct.unpack_from("<i", app4, 132)
        params = DjiParams(
            distance_m=dist_q / _Q13,
            humidity_pct=hum_m / 1000.0,
            emissivity=emis_q / _Q13,
            reflected_c=refl_q / _Q13,
            ambient_c=amb_q / _Q13,
        )
    else:
        return None
    return _check(path, params)
