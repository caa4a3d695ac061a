"""Captures: upload (idempotent, analysed in the background), read one, list, the °C matrix, the file."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from starlette.datastructures import UploadFile

from irpatrol.errors import ParameterError
from irpatrol.server.errors import ApiError, get_or_404
from irpatrol.server.routes.viewer import MatrixParams, matrix_params, thermogram_overrides
from irpatrol.server.routes.viewer import router as viewer_router
from irpatrol.server.schemas import CaptureAccepted, CaptureOut, FindingOut, Page
from irpatrol.server.security import DB, RT, Reader, Uploader
from irpatrol.server.views import capture_out, json_response
from irpatrol.store.captures import CaptureFields, PreparedCapture, prepare_capture
from irpatrol.store.findings import count_rows
from irpatrol.store.models import Capture

router = APIRouter(tags=["captures"])

FORM_FIELDS: dict[str, Any] = {
    "point_id": int,
    "execution_id": int,
    "taken_at": datetime,
    "lat": float,
    "lon": float,
    "fix_quality": str,
    "ambient_c": float,
    "humidity": float,
    "wind_ms": float,
    "distance_m": float,
    "load_current_a": float,
    "load_ratio": float,
}

_UPLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "point_id": {"type": "integer"},
                        "execution_id": {"type": "integer"},
                        "taken_at": {"type": "string", "format": "date-time"},
                        "lat": {"type": "number", "minimum": -90, "maximum": 90},
                        "lon": {"type": "number", "minimum": -180, "maximum": 180},
                        "fix_quality": {
                            "type": "string",
                            "enum": [
                                "none",
                                "single",
                                "dgps",
                                "rtk_fixed",
                                "rtk_float",
                                "estimated",
                                "manual",
                            ],
                        },
                        "ambient_c": {"type": "number"},
                        "humidity": {"type": "number", "minimum": 0, "maximum": 100},
                        "wind_ms": {"type": "number", "minimum": 0},
                        "distance_m": {
                            "type": "number",
                            "exclusiveMinimum": 0,
                            "maximum": 1000,
                            "description": "Camera-to-target distance, m (for the measurability check)",
                        },
                        "load_current_a": {"type": "number", "minimum": 0},
                        "load_ratio": {"type": "number", "minimum": 0},
                    },
                }
            }
        },
    },
    "responses": {
        "200": {"description": "The same Idempotency-Key was used before: the existing capture"},
        "413": {"description": "Upload larger than the limit"},
        "415": {"description": "Not multipart/form-data"},
        "422": {"description": "Not a readable radiometric image, or a bad field"},
    },
}


_ADAPTERS = {name: TypeAdapter(typ) for name, typ in FORM_FIELDS.items()}
"""Built once: a TypeAdapter costs more to make than to use."""


def _parse_fields(form: Any) -> CaptureFields:
    values: dict[str, Any] = {}
    for name, typ in FORM_FIELDS.items():
        raw = form.get(name)
        if raw is None or raw == "":
            continue
        if not isinstance(raw, str):
            raise ApiError(422, "invalid", f"form field {name!r} must be text, not a file")
        try:
            values[name] = _ADAPTERS[name].validate_python(raw if typ is not str else raw.strip())
        except ValidationError as exc:
            raise ApiError(422, "invalid", f"form field {name!r}: {exc.errors()[0]['msg']}") from None
    return CaptureFields(**values)


@router.post(
    "/captures",
    status_code=201,
    response_model=CaptureAccepted,
    openapi_extra=_UPLOAD_SCHEMA,
    summary="Upload a thermal image for analysis",
)
async def upload_capture(
    request: Request,
    rt: RT,
    who: Uploader,
    idempotency_key: Annotated[str | None, Header(max_length=256, pattern=r"^[\x21-\x7e]+$")] = None,
) -> Any:
    """Store a radiometric image and queue its analysis; answer at once with its id.

    Send an ``Idempotency-Key`` header to make retries safe: the same key answers
    200 with the same id and creates nothing new.
    """
    ctype = request.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/form-data"):
        raise ApiError(
            415, "unsupported_media_type", "send the image as multipart/form-data with a field 'file'"
        )
    async with request.form(max_files=1, max_fields=len(FORM_FIELDS) + 2) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ApiError(422, "invalid", "multipart field 'file' with the image is missing")
        fields = _parse_fields(form)
        data = await upload.read()
        filename = upload.filename or ""

    def prepare() -> PreparedCapture:
        return prepare_capture(
            rt.blobs,
            data,
            filename=filename,
            fields=fields,
            idempotency_key=idempotency_key,
            user_id=who.user_id,
        )

    prepared = await run_in_threadpool(prepare)  # check, hash, store (fsync): off the event loop
    try:  # then the row, committed with the other uploads waiting (server/group_commit.py)
        cap = await asyncio.wrap_future(rt.committer.submit(prepared))
    except ParameterError as exc:
        if exc.parameter == "Idempotency-Key":
            raise ApiError(409, "conflict", str(exc)) from None
        raise
    created = cap.created
    body = CaptureAccepted(id=cap.id, sha256=cap.sha256, status=cap.status).model_dump()
    return JSONResponse(body, status_code=201 if created else 200)


@router.get("/captures/{capture_id}", response_model=CaptureOut, summary="A capture with its findings")
def get_capture(
    capture_id: int, db: DB, who: Reader, lang: Annotated[Literal["zh", "en"], Query()] = "zh"
) -> CaptureOut:
    """Status (``pending``, ``analyzed``, ``failed``), conditions, measurements and findings."""
    cap = get_or_404(db, Capture, capture_id, "capture")
    return capture_out(cap, lang=lang, with_findings=True)


@router.get("/captures", response_model=Page[CaptureOut], summary="List captures")
def list_captures(
    db: DB,
    who: Reader,
    status: Literal["pending", "analyzed", "failed"] | None = None,
    point_id: int | None = None,
    execution_id: int | None = None,
    station_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """Newest first; filter by status, point, execution, station and reception time."""
    q = select(Capture)
    if status:
        q = q.where(Capture.status == status)
    if point_id is not None:
        q = q.where(Capture.point_id == point_id)
    if execution_id is not None:
        q = q.where(Capture.execution_id == execution_id)
    if station_id is not None:
        q = q.where(Capture.station_id == station_id)
    if since is not None:
        q = q.where(Capture.received_at >= since)
    if until is not None:
        q = q.where(Capture.received_at < until)
    total = count_rows(db, q)
    rows = db.scalars(q.order_by(Capture.id.desc()).limit(limit).offset(offset)).all()
    page = Page[CaptureOut](
        total=total, limit=limit, offset=offset, items=[capture_out(c, with_findings=False) for c in rows]
    )
    return json_response(page)


@router.get(
    "/captures/{capture_id}/matrix",
    summary="The capture's °C matrix as little-endian float32",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "row-major float32 °C"}},
)
def capture_matrix(
    capture_id: int,
    db: DB,
    rt: RT,
    who: Reader,
    params: Annotated[MatrixParams, Depends(matrix_params)],
) -> Response:
    """Row-major little-endian float32 °C, ``X-Width``/``X-Height`` headers; invalid pixels are NaN.

    Optional object parameters (``emissivity``, ``distance_m``, ``reflected_c``,
    ``atmospheric_c`` °C, ``humidity`` fraction) recompute the temperatures with the
    camera's own model; a file that stores temperatures, or a camera range, refuses them (422).
    """
    from irpatrol.formats import open_thermal

    cap = get_or_404(db, Capture, capture_id, "capture")
    with open_thermal(rt.blobs.get(cap.sha256), name=cap.filename) as tf:
        frame = tf.first_frame()
        t = frame.thermogram(**thermogram_overrides(frame, params))
    celsius = np.where(t.valid, t.celsius, np.nan).astype("<f4", copy=False)
    h, w = celsius.shape
    return Response(
        content=celsius.tobytes(),
        media_type="application/octet-stream",
        headers={"X-Width": str(w), "X-Height": str(h), "Cache-Control": "private, max-age=3600"},
    )


@router.get(
    "/captures/{capture_id}/file",
    summary="The uploaded file, byte for byte",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "the original file"}},
)
def capture_file(capture_id: int, db: DB, rt: RT, who: Reader) -> Response:
    """The original radiometric file as uploaded (its SHA-256 in ``ETag``)."""
    cap = get_or_404(db, Capture, capture_id, "capture")
    return Response(
        content=rt.blobs.get(cap.sha256),
        media_type="application/octet-stream",
        headers={
            "ETag": f'"{cap.sha256}"',
            "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(cap.filename)}",
        },
    )


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


_ = FindingOut  # re-exported through CaptureOut

router.include_router(viewer_router)  # /captures/{id}/radiometry and /visible, for the dashboard's viewer
