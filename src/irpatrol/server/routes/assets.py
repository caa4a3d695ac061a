"""The asset tree and inspection points: bulk import, the tree, one node, points and a point's trend."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import UploadFile

from irpatrol.errors import DataFileError
from irpatrol.server.asset_schemas import AssetDetail, AssetNode, AssetRef, ImportResult, PointOut, PointTrend
from irpatrol.server.errors import ApiError, error_body, get_or_404, not_found
from irpatrol.server.schemas import Page
from irpatrol.server.security import DB, RT, AssetEditor, Reader, audit
from irpatrol.server.trend import trend_document
from irpatrol.store.assets import asset_path, asset_tree, detect_format, import_assets
from irpatrol.store.findings import count_rows
from irpatrol.store.models import Asset, Point

router = APIRouter(tags=["assets"])

_CSV_TYPES = ("text/csv", "application/csv", "application/vnd.ms-excel")
_YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")

_IMPORT_SCHEMA = {
    "requestBody": {
        "required": True,
        "description": "multipart/form-data with the asset file in the field `file`. The format is taken "
        "from the file name (.csv, .yaml/.yml), else from the part's content type (text/csv, "
        "application/yaml), else from its first line. Formats: docs/examples/station.assets.csv, "
        "src/irpatrol/demo/station.assets.yaml.",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    },
    "responses": {
        "409": {"description": "A concurrent import created the same codes; retrying succeeds"},
        "415": {"description": "Not multipart/form-data"},
        "422": {
            "description": "The file is malformed: `error.code` is `bad_data_file` and `error` also holds "
            "`file`, `line` and `field` of the first problem; nothing was imported"
        },
    },
}


def _format_of(upload: UploadFile) -> str | None:
    name = (upload.filename or "").lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".yaml", ".yml", ".json")):
        return "yaml"
    ctype = (upload.content_type or "").split(";")[0].strip().lower()
    if ctype in _CSV_TYPES:
        return "csv"
    if ctype in _YAML_TYPES:
        return "yaml"
    return None


@router.post(
    "/assets/import",
    response_model=ImportResult,
    openapi_extra=_IMPORT_SCHEMA,
    summary="Import or update the asset tree and inspection points from CSV or YAML",
)
async def import_asset_file(request: Request, rt: RT, who: AssetEditor) -> Any:
    """Upsert by codes (a second import of the same file changes nothing); all or nothing.

    Every row is checked before anything is written: part ids against the point's rule
    pack, regions as in a points file.  The first problem answers 422 naming the file,
    line and field.
    """
    ctype = request.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/form-data"):
        raise ApiError(
            415, "unsupported_media_type", "send the file as multipart/form-data with a field 'file'"
        )
    async with request.form(max_files=1, max_fields=2) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ApiError(422, "invalid", "multipart field 'file' with the asset file is missing")
        data = await upload.read()
        filename = upload.filename or "assets"
        fmt = _format_of(upload)

    def run() -> dict[str, Any]:
        with rt.sessions() as s:
            counts = import_assets(s, data, path=filename, fmt=fmt, default_rules=rt.settings.rules)
            audit(s, who, "assets.import", "file", filename, **counts)
            s.commit()
        return counts

    try:
        counts = await run_in_threadpool(run)
    except DataFileError as exc:
        body = error_body("bad_data_file", str(exc), file=exc.path, line=exc.line, field=exc.field)
        return JSONResponse(body, status_code=422)
    except IntegrityError:
        raise ApiError(
            409, "conflict", "another import changed the same assets at the same time; retry"
        ) from None
    detected = detect_format(data[:4096].decode("utf-8", "replace"), filename, fmt)
    return ImportResult.model_validate({"format": detected, **counts})


@router.get("/assets", response_model=list[AssetNode], summary="The asset tree")
def get_tree(db: DB, who: Reader, station_id: int | None = None) -> list[dict[str, Any]]:
    """Stations → areas → bays → devices → components (with their points), nested; one station if asked."""
    if station_id is not None:
        st = db.get(Asset, station_id)
        if st is None or st.kind != "station":
            raise not_found("station", station_id)
    return asset_tree(db, station_id=station_id)


@router.get("/assets/{asset_id}", response_model=AssetDetail, summary="One node of the asset tree")
def get_asset(asset_id: int, db: DB, who: Reader) -> AssetDetail:
    """The node, its ancestors (``path``, station first) and its subtree with points."""
    a = get_or_404(db, Asset, asset_id, "asset")
    sub = asset_tree(db, station_id=a.station_id, root_id=a.id)
    path = [AssetRef(id=x.id, kind=x.kind, code=x.code, name=x.name) for x in asset_path(db, a.parent_id)]
    return AssetDetail.model_validate({**sub[0], "path": path})


def _point_out(db: Any, p: Point, *, with_path: bool) -> PointOut:
    out = PointOut.model_validate(p)
    if with_path:
        out.path = [
            AssetRef(id=x.id, kind=x.kind, code=x.code, name=x.name) for x in asset_path(db, p.component_id)
        ]
    return out


@router.get("/points", response_model=Page[PointOut], summary="List inspection points")
def list_points(
    db: DB,
    who: Reader,
    station_id: int | None = None,
    component_id: int | None = None,
    code: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Page[PointOut]:
    """In id order; filter by station, component or exact code."""
    q = select(Point)
    if station_id is not None:
        q = q.where(Point.station_id == station_id)
    if component_id is not None:
        q = q.where(Point.component_id == component_id)
    if code is not None:
        q = q.where(Point.code == code)
    total = count_rows(db, q)
    rows = db.scalars(q.order_by(Point.id).limit(limit).offset(offset)).all()
    return Page[PointOut](
        total=total, limit=limit, offset=offset, items=[_point_out(db, p, with_path=False) for p in rows]
    )


@router.get("/points/{point_id}", response_model=PointOut, summary="One inspection point")
def get_point(point_id: int, db: DB, who: Reader) -> PointOut:
    """The point with its regions (``spec``) and its place in the tree (``path``, station first)."""
    p = get_or_404(db, Point, point_id, "point")
    return _point_out(db, p, with_path=True)


@router.get("/points/{point_id}/trend", response_model=PointTrend, summary="A point's temperatures over time")
def get_point_trend(
    point_id: int,
    db: DB,
    rt: RT,
    who: Reader,
    since: datetime | None = None,
    until: datetime | None = None,
    lang: Literal["zh", "en"] = "zh",
) -> PointTrend:
    """One entry per analysed capture at the point, oldest first (time taken, else received), and its trend.

    ``max_c`` is the capture maximum (°C), T1/T2/T0 and ΔT/δ those of the point's finding,
    ``norm_rise_k``/``norm_delta_t_k`` on the rated-load basis (K).  ``analysis``: Theil–Sen
    slope with Sen's CI and the warnings (``rising-trend``, ``step-change``,
    ``projected-threshold``) with their evidence, texts in ``lang``; ``chart`` the data to
    plot (docs/trend.md).  ``since`` inclusive, ``until`` exclusive.
    """
    p = get_or_404(db, Point, point_id, "point")
    doc = trend_document(db, p, rt.settings, since=since, until=until, lang=lang)
    return PointTrend.model_validate(doc)
