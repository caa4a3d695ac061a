"""What the dashboard's capture viewer needs beside the °C matrix: the file's radiometric
parameters (to prefill the recompute form), the overrides the matrix endpoint accepts,
and the embedded visible-light photo.

Recomputing with other object parameters is the library's job (the vendor's formula in
:mod:`irpatrol.thermal.radiometry` for FLIR, DJI's SDK through its back-end for DJI):
the viewer never converts temperatures itself, it asks ``/captures/{id}/matrix`` again
with the parameters as query values (:func:`matrix_params`, :func:`thermogram_overrides`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from irpatrol.formats.base import ThermalFrame
from irpatrol.formats.dji import DjiFrame
from irpatrol.server.errors import ApiError, get_or_404
from irpatrol.server.security import DB, RT, Reader
from irpatrol.store.models import Capture
from irpatrol.thermal.radiometry import KELVIN_OFFSET

router = APIRouter(tags=["captures"])

RANGES: dict[str, tuple[float, float]] = {
    "emissivity": (0.01, 1.0),
    "distance_m": (0.0, 10_000.0),
    "reflected_c": (-100.0, 1000.0),
    "atmospheric_c": (-60.0, 100.0),
    "humidity": (0.0, 1.0),
}
"""What ``/captures/{id}/matrix`` accepts per parameter (inclusive; °C, m, fractions).
A camera may accept less (DJI's SDK ranges): the answer is then 422 with the camera's range."""

_DECIMALS = {"emissivity": 4, "distance_m": 3, "reflected_c": 3, "atmospheric_c": 3, "humidity": 4}
"""Decimals the file's values are given with.  The files keep float32 (0.95 is
0.949999988…); a value sent back within half a last digit of the file's counts as the
file's own, so an unchanged form gives the file's temperatures byte for byte."""


@dataclass(frozen=True)
class MatrixParams:
    """Object parameters asked for on the matrix endpoint; ``None`` keeps the file's value.

    ``emissivity`` 0.01–1, ``distance_m`` object distance (m), ``reflected_c`` reflected
    apparent temperature (°C), ``atmospheric_c`` air temperature (°C), ``humidity``
    relative humidity as a fraction 0–1.
    """

    emissivity: float | None = None
    distance_m: float | None = None
    reflected_c: float | None = None
    atmospheric_c: float | None = None
    humidity: float | None = None

    def given(self) -> dict[str, float]:
        """The parameters that were sent, by name."""
        return {k: v for k, v in vars(self).items() if v is not None}


def _q(name: str, what: str) -> Any:
    lo, hi = RANGES[name]
    return Query(ge=lo, le=hi, description=f"{what}; {lo:g}–{hi:g}; absent: the file's value")


def matrix_params(
    emissivity: Annotated[float | None, _q("emissivity", "Emissivity")] = None,
    distance_m: Annotated[float | None, _q("distance_m", "Object distance, m")] = None,
    reflected_c: Annotated[float | None, _q("reflected_c", "Reflected apparent temperature, °C")] = None,
    atmospheric_c: Annotated[float | None, _q("atmospheric_c", "Atmospheric temperature, °C")] = None,
    humidity: Annotated[float | None, _q("humidity", "Relative humidity as a fraction (0.5 = 50 %)")] = None,
) -> MatrixParams:
    """The matrix endpoint's optional query parameters (a FastAPI dependency; NaN/inf refused)."""
    return MatrixParams(emissivity, distance_m, reflected_c, atmospheric_c, humidity)


def file_parameters(frame: ThermalFrame) -> dict[str, float | None]:
    """The file's own object parameters in the API's names and units (°C, m, fraction).

    Values the file does not hold are ``None``: temperature formats (TIFF, CSV) hold
    none, DJI layouts not decoded natively hold theirs only for DJI's SDK.
    """
    out: dict[str, float | None] = dict.fromkeys(RANGES)
    cal = frame.calibration
    dji = frame.params if isinstance(frame, DjiFrame) else None  # DJI's own units, or None
    if frame.has_raw and cal is not None:
        p = cal.params
        out.update(
            emissivity=p.emissivity,
            distance_m=p.distance_m,
            reflected_c=p.reflected_temp_k - KELVIN_OFFSET,
            atmospheric_c=p.atmospheric_temp_k - KELVIN_OFFSET,
            humidity=p.relative_humidity,
        )
    elif dji is not None:
        out.update(
            emissivity=dji.emissivity,
            distance_m=dji.distance_m,
            reflected_c=dji.reflected_c,
            atmospheric_c=dji.ambient_c,
            humidity=dji.humidity_pct / 100.0,
        )
    return {k: None if v is None else round(float(v), _DECIMALS[k]) for k, v in out.items()}


def camera_ranges(frame: ThermalFrame) -> dict[str, tuple[float, float]]:
    """Accepted (min, max) per parameter: :data:`RANGES`, narrowed to DJI's for DJI files.

    A DJI camera's SDK plugin that does not take a parameter leaves it out.
    """
    dji_ranges = frame.allowed_ranges if isinstance(frame, DjiFrame) else None
    if not dji_ranges:
        return dict(RANGES)
    names = {"emissivity": "emissivity", "distance_m": "distance_m", "reflected_c": "reflected_c"}
    names |= {"atmospheric_c": "ambient_c", "humidity": "humidity_pct"}
    out = {}
    for ours, theirs in names.items():
        if theirs in dji_ranges:
            lo, hi = dji_ranges[theirs]
            if theirs == "humidity_pct":
                lo, hi = lo / 100.0, hi / 100.0
            out[ours] = (max(lo, RANGES[ours][0]), min(hi, RANGES[ours][1]))
    return out


def thermogram_overrides(frame: ThermalFrame, params: MatrixParams) -> dict[str, float]:
    """Keyword overrides for :meth:`ThermalFrame.thermogram` (K, fraction) from ``params``.

    A value equal to the file's own (within half of the last decimal the file's values
    are given with, see :func:`file_parameters`) is left out, so the file's parameters
    sent back give exactly the file's temperatures.
    """
    given = params.given()
    if not given:
        return {}
    own = file_parameters(frame)
    changed = {}
    for name, value in given.items():
        mine = own[name]
        half_digit = 0.5 * 10.0 ** -_DECIMALS[name]
        if mine is not None and math.isclose(value, mine, rel_tol=0.0, abs_tol=half_digit):
            continue
        changed[name] = value
    kelvin = {"reflected_c": "reflected_temp_k", "atmospheric_c": "atmospheric_temp_k"}
    out = {}
    for name, value in changed.items():
        if name in kelvin:
            out[kelvin[name]] = value + KELVIN_OFFSET
        elif name == "humidity":
            out["relative_humidity"] = value
        else:
            out[name] = value
    return out


class Radiometry(BaseModel):
    """A capture's measurement parameters as stored in its file, for the recompute form.

    ``parameters``: emissivity, ``distance_m`` (m), ``reflected_c`` and ``atmospheric_c``
    (°C), ``humidity`` (fraction 0–1); ``None`` where the file holds none.  ``adjustable``
    is false for files that store temperatures (no recompute possible).  ``ranges``: what
    the matrix endpoint accepts for this file.
    """

    capture_id: int
    format: str
    width: int
    height: int
    adjustable: bool
    parameters: dict[str, float | None]
    ranges: dict[str, tuple[float, float]]
    has_visible: bool


def _capture(db: DB, capture_id: int) -> Capture:
    cap = get_or_404(db, Capture, capture_id, "capture")
    return cap


@router.get(
    "/captures/{capture_id}/radiometry",
    response_model=Radiometry,
    summary="The file's measurement parameters (emissivity, distance, temperatures, humidity)",
)
def capture_radiometry(capture_id: int, db: DB, rt: RT, who: Reader) -> Radiometry:
    """The object parameters the file was converted with, and the ranges the matrix endpoint takes."""
    from irpatrol.formats import open_thermal

    cap = _capture(db, capture_id)
    with open_thermal(rt.blobs.get(cap.sha256), name=cap.filename) as tf:
        frame = tf.first_frame()
        dji = isinstance(frame, DjiFrame)
        return Radiometry(
            capture_id=cap.id,
            format=tf.format_name,
            width=frame.shape[1],
            height=frame.shape[0],
            adjustable=frame.has_raw and (frame.calibration is not None or dji),
            parameters=file_parameters(frame),
            ranges=camera_ranges(frame),
            has_visible=frame.info.has_visible_image,
        )


@router.get(
    "/captures/{capture_id}/visible",
    summary="The visible-light photo embedded in the file",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}, "image/png": {}}, "description": "the embedded photo"},
        404: {"description": "no such capture, or its file holds no visible photo"},
    },
)
def capture_visible(capture_id: int, db: DB, rt: RT, who: Reader) -> Response:
    """The embedded visible photo (JPEG or PNG) as the camera stored it; 404 when the file has none."""
    from irpatrol.formats import open_thermal

    cap = _capture(db, capture_id)
    with open_thermal(rt.blobs.get(cap.sha256), name=cap.filename) as tf:
        photo = tf.first_frame().visible_image()
    if not photo:
        raise ApiError(404, "not_found", f"capture {capture_id}'s file holds no visible photo")
    photo = bytes(photo)
    media = "image/png" if photo.startswith(b"\x89PNG") else "image/jpeg"
    return Response(
        content=photo,
        media_type=media,
        headers={"ETag": f'"{cap.sha256}-visible"', "Cache-Control": "private, max-age=3600"},
    )
