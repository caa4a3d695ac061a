"""A station's layout image (site plan) with its georeference, to draw capture positions on it.

``PUT /stations/{code}/layout`` (admin) takes the image (PNG, JPEG or WebP) and two or
more control points tying pixels to the ground; the server fits the map from local
metres to pixels (:func:`irpatrol.geo.local.fit_layout`) and keeps the image in the
blob store.  ``GET .../layout`` answers the georeference as JSON, ``GET .../layout/image``
the image.  No internet map tiles are involved: an intranet has none.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from starlette.datastructures import UploadFile

from irpatrol.errors import ParameterError
from irpatrol.geo.local import fit_layout
from irpatrol.server.errors import ApiError
from irpatrol.server.security import DB, RT, Admin, Reader, audit
from irpatrol.store.models import Asset, StationLayout, utcnow

router = APIRouter(tags=["stations"])

Code = Annotated[str, Path(min_length=1, max_length=128, description="The station's code")]

MAX_SIDE_PX = 16_384
"""Largest accepted image side, pixels (a site plan, not a mosaic)."""

_MEDIA = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


class ControlPoint(BaseModel):
    """A position on the ground (degrees) and the image pixel showing it (x right, y down)."""

    model_config = ConfigDict(extra="forbid")

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    x: float = Field(ge=0, le=MAX_SIDE_PX)
    y: float = Field(ge=0, le=MAX_SIDE_PX)


class LayoutTransform(BaseModel):
    """Local metres (east ``E``, north ``N`` of the origin) → pixels: x = a·E + b·N + c, y = d·E + e·N + f."""

    kind: str = Field(description="similarity (two points) or affine (three or more)")
    origin_lat: float
    origin_lon: float
    a: float
    b: float
    c: float
    d: float
    e: float
    f: float
    rms_px: float = Field(description="Root mean square misfit at the control points, pixels")
    m_per_px: float = Field(description="Mean ground size of one pixel, metres")


class LayoutOut(BaseModel):
    """A station's layout: the image's size and type, the control points and the fitted transform."""

    station_id: int
    code: str
    media_type: str
    width: int
    height: int
    image_sha256: str
    control_points: list[ControlPoint]
    transform: LayoutTransform
    updated_at: datetime
    updated_by: str | None


_PUT_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["image", "control_points"],
                    "properties": {
                        "image": {"type": "string", "format": "binary", "description": "PNG, JPEG or WebP"},
                        "control_points": {
                            "type": "string",
                            "description": 'JSON list of at least two {"lat", "lon", "x", "y"} objects: '
                            "degrees and image pixels (x right, y down from the top-left corner)",
                        },
                    },
                }
            }
        },
    },
    "responses": {
        "404": {"description": "No station with this code"},
        "413": {"description": "Upload larger than the limit"},
        "415": {"description": "Not multipart/form-data"},
        "422": {"description": "Not an image, or control points missing, malformed or degenerate"},
    },
}


def _station(db: Any, code: str) -> Asset:
    st = db.scalar(select(Asset).where(Asset.parent_id.is_(None), Asset.code == code))
    if st is None or st.kind != "station":
        raise ApiError(404, "not_found", f"station {code} does not exist")
    return st


def _layout(db: Any, code: str) -> tuple[Asset, StationLayout]:
    st = _station(db, code)
    row = db.get(StationLayout, st.id)
    if row is None:
        raise ApiError(404, "not_found", f"station {code} has no layout image")
    return st, row


def _out(st: Asset, row: StationLayout) -> LayoutOut:
    return LayoutOut(
        station_id=st.id,
        code=st.code,
        media_type=row.media_type,
        width=row.width,
        height=row.height,
        image_sha256=row.image_sha256,
        control_points=[ControlPoint(**p) for p in row.georef["control_points"]],
        transform=LayoutTransform(**row.georef["transform"]),
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def _image_info(data: bytes) -> tuple[str, int, int]:
    """Media type and size (px) of an image; 422 when it is not a PNG, JPEG or WebP."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt, (width, height) = im.format or "", im.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ApiError(422, "invalid", "the layout image is not a readable PNG, JPEG or WebP") from None
    if fmt not in _MEDIA:
        raise ApiError(422, "invalid", f"the layout image must be PNG, JPEG or WebP, not {fmt or 'unknown'}")
    if not (1 <= width <= MAX_SIDE_PX and 1 <= height <= MAX_SIDE_PX):
        raise ApiError(422, "invalid", f"the layout image must be at most {MAX_SIDE_PX} px a side")
    return _MEDIA[fmt], width, height


def _control_points(raw: str, width: int, height: int) -> list[ControlPoint]:
    try:
        items = json.loads(raw)
    except ValueError:
        raise ApiError(422, "invalid", "control_points must be a JSON list of {lat, lon, x, y}") from None
    if not isinstance(items, list) or not 2 <= len(items) <= 100:
        raise ApiError(422, "invalid", "control_points must be a JSON list of 2 to 100 {lat, lon, x, y}")
    try:
        points = [ControlPoint.model_validate(p) for p in items]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ()))
        raise ApiError(422, "invalid", f"control_points: {where or 'item'}: {first['msg']}") from None
    for i, p in enumerate(points):
        if p.x > width or p.y > height:
            raise ApiError(
                422, "invalid", f"control point {i + 1} ({p.x}, {p.y}) is outside the {width}×{height} image"
            )
    return points


@router.put(
    "/stations/{code}/layout",
    response_model=LayoutOut,
    openapi_extra=_PUT_SCHEMA,
    summary="Set a station's layout image and its georeference",
)
async def put_layout(code: Code, request: Request, rt: RT, who: Admin) -> LayoutOut:
    """Replace the station's layout: multipart ``image`` and ``control_points`` (JSON).

    Two control points fit a similarity (scale, rotation, shift), three or more an affine
    map by least squares; the answer gives the fit and its misfit (``rms_px``).
    """
    ctype = request.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/form-data"):
        raise ApiError(
            415, "unsupported_media_type", "send multipart/form-data with fields 'image' and 'control_points'"
        )
    async with request.form(max_files=1, max_fields=2) as form:
        upload = form.get("image")
        raw = form.get("control_points")
        if not isinstance(upload, UploadFile):
            raise ApiError(422, "invalid", "multipart field 'image' with the layout image is missing")
        if not isinstance(raw, str):
            raise ApiError(422, "invalid", "multipart text field 'control_points' is missing")
        data = await upload.read()

    def store() -> LayoutOut:
        media_type, width, height = _image_info(data)
        points = _control_points(raw, width, height)
        try:
            fit = fit_layout([(p.lat, p.lon) for p in points], [(p.x, p.y) for p in points])
        except ParameterError as exc:
            raise ApiError(422, "invalid", str(exc)) from None
        with rt.sessions() as s:
            st = _station(s, code)
            digest = rt.blobs.put(data)
            georef = {"control_points": [p.model_dump() for p in points], "transform": asdict(fit)}
            row = s.get(StationLayout, st.id)
            if row is None:
                row = StationLayout(station_id=st.id)
                s.add(row)
            row.image_sha256 = digest
            row.media_type = media_type
            row.width = width
            row.height = height
            row.georef = georef
            row.updated_at = utcnow()
            row.updated_by = who.name
            audit(
                s,
                who,
                "station.layout",
                "station",
                st.id,
                points=len(points),
                kind=fit.kind,
                rms_px=fit.rms_px,
            )
            s.commit()
            return _out(st, row)

    return await run_in_threadpool(store)


@router.get("/stations/{code}/layout", response_model=LayoutOut, summary="A station's layout georeference")
def get_layout(code: Code, db: DB, who: Reader) -> LayoutOut:
    """The image's size and type, its control points and the metres → pixels map; 404 without a layout."""
    st, row = _layout(db, code)
    return _out(st, row)


@router.get(
    "/stations/{code}/layout/image",
    summary="A station's layout image",
    response_class=Response,
    responses={200: {"content": {m: {} for m in _MEDIA.values()}, "description": "The image as uploaded"}},
)
def get_layout_image(code: Code, db: DB, rt: RT, who: Reader, request: Request) -> Response:
    """The image byte for byte; its SHA-256 is the ``ETag`` (``If-None-Match`` answers 304)."""
    _, row = _layout(db, code)
    etag = f'"{row.image_sha256}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(content=rt.blobs.get(row.image_sha256), media_type=row.media_type, headers=headers)
