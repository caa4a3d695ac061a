"""Findings exported as CSV (UTF-8 with BOM) or Excel, with readable names and SGCC codes side by side."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from irpatrol.server.errors import ApiError
from irpatrol.server.filters import FindingQuery
from irpatrol.server.security import RT, Reader
from irpatrol.store.exports import MAX_ROWS, finding_rows, to_csv, to_xlsx
from irpatrol.store.findings import FindingFilter

router = APIRouter(tags=["exports"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _tz(name: str) -> ZoneInfo | None:
    if name.upper() == "UTC":
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError(
            422, "invalid", f"tz: unknown time zone {name!r} (an IANA name like Asia/Shanghai)"
        ) from None


async def _export(
    rt: RT,
    kind: Literal["csv", "xlsx"],
    flt: FindingFilter,
    *,
    header: str,
    tz: str,
    limit: int,
) -> Response:
    zone = _tz(tz)

    def build() -> tuple[int, int, bytes]:
        with rt.sessions() as s:
            total, rows = finding_rows(s, flt, limit=limit, tz=zone)
            materialised = list(rows)
        body = to_csv(materialised, labels=header) if kind == "csv" else to_xlsx(materialised, labels=header)
        return total, len(materialised), body

    total, n, body = await run_in_threadpool(build)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Response(
        content=body,
        media_type="text/csv; charset=utf-8" if kind == "csv" else XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="irpatrol-findings-{stamp}.{kind}"',
            "X-Total-Count": str(total),
            "X-Row-Count": str(n),
        },
    )


_DOC = """One row per finding, oldest taken first: station/area/bay/device/component/point names
beside the SGCC codes (recognition_type 4, file_type 1, data_type, phase_type, device_type,
valid/status, defect state, check_status/check_man/check_time/corrected_value), T1/T2/T0 °C,
ΔT K, δ %, grade (code and Chinese label), rule and clause.  Same filters as GET /findings.
``header=zh`` writes Chinese column titles instead of the keys; ``tz`` sets the zone of the
times (default UTC).  ``X-Total-Count`` says how many findings matched, ``X-Row-Count`` how
many were written (at most ``limit``)."""


@router.get(
    "/exports/findings.csv",
    summary="Findings as CSV (UTF-8 with BOM)",
    description=_DOC,
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "the CSV file"}},
)
async def export_csv(
    rt: RT,
    who: Reader,
    flt: FindingQuery,
    header: Literal["code", "zh"] = "code",
    tz: Annotated[str, Query(max_length=64)] = "UTC",
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = MAX_ROWS,
) -> Response:
    return await _export(rt, "csv", flt, header=header, tz=tz, limit=limit)


@router.get(
    "/exports/findings.xlsx",
    summary="Findings as an Excel workbook",
    description=_DOC,
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "the workbook"}},
)
async def export_xlsx(
    rt: RT,
    who: Reader,
    flt: FindingQuery,
    header: Literal["code", "zh"] = "code",
    tz: Annotated[str, Query(max_length=64)] = "UTC",
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = MAX_ROWS,
) -> Response:
    return await _export(rt, "xlsx", flt, header=header, tz=tz, limit=limit)
