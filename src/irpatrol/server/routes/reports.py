"""One-click reports (一键生成报告): a patrol execution, a station over a time range, one defect.

Each answers the file itself (PDF, DOCX or self-contained HTML) in Chinese or English,
built by :func:`irpatrol.server.report_data.build_report` and printed by
:func:`irpatrol.report.render.render_report`; ``read`` scope.  Layout and labels come
from ``IRPATROL_REPORT_TEMPLATES`` over the built-in templates.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from irpatrol.report.render import MEDIA_TYPES, render_report
from irpatrol.report.templates import TemplateSet
from irpatrol.server.report_data import ReportRequest, build_report
from irpatrol.server.security import RT, Reader
from irpatrol.server.trend import trend_params

router = APIRouter(tags=["reports"])

Format = Annotated[Literal["pdf", "docx", "html"], Query(description="pdf, docx (editable) or html")]
Lang = Annotated[Literal["zh", "en"], Query(description="zh: State Grid forms; en: NETA/ASTM E1934 style")]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]

_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {m.split(";")[0]: {} for m in MEDIA_TYPES.values()}, "description": "The report file"},
    404: {"description": "No such execution, finding or station"},
}


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII ``filename`` and the exact UTF-8 name in ``filename*`` (RFC 6266).

    Station codes may be Chinese or hold quotes; a header must stay Latin-1 and unbroken.
    """
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


async def _answer(rt: RT, request: ReportRequest, fmt: str, lang: str, stem: str) -> Response:
    def build() -> bytes:
        templates = TemplateSet(rt.settings.report_templates)
        with rt.read_sessions() as s:
            report = build_report(
                s,
                rt.blobs,
                request,
                lang=lang,
                templates=templates,
                palette=rt.settings.palette,
                trend_params=trend_params(rt.settings),
                rules=rt.settings.rules,
            )
        return render_report(report, fmt, templates=templates)  # type: ignore[arg-type]

    body = await run_in_threadpool(build)
    return Response(
        content=body,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": content_disposition(f"{stem}-{lang}.{fmt}")},
    )


@router.get(
    "/executions/{execution_id}/report",
    summary="Report of a patrol execution (红外热像检测报告)",
    response_class=Response,
    responses=_RESPONSES,
)
async def execution_report_file(
    execution_id: Id, rt: RT, who: Reader, format: Format = "pdf", lang: Lang = "zh"
) -> Response:
    """Header, summary (counts by grade, defects, missed points, failed captures), then every capture."""
    request = ReportRequest(execution_id=execution_id)
    return await _answer(rt, request, format, lang, f"execution-{execution_id}")


@router.get(
    "/findings/{finding_id}/report",
    summary="Report of one defect (红外热像检测异常报告)",
    response_class=Response,
    responses=_RESPONSES,
)
async def finding_report_file(
    finding_id: Id, rt: RT, who: Reader, format: Format = "pdf", lang: Lang = "zh"
) -> Response:
    """The finding's capture, numbers, grade, rule, analysis, recommendation and the point's trend."""
    return await _answer(rt, ReportRequest(finding_id=finding_id), format, lang, f"defect-{finding_id}")


@router.get(
    "/stations/{code}/report",
    summary="Report of a station over a time range",
    response_class=Response,
    responses=_RESPONSES,
)
async def station_report_file(
    code: Annotated[str, Path(min_length=1, max_length=128)],
    rt: RT,
    who: Reader,
    since: Annotated[datetime | None, Query(description="captures taken at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="captures taken before (ISO 8601)")] = None,
    format: Format = "pdf",
    lang: Lang = "zh",
) -> Response:
    """Every capture of the station taken in [since, until), oldest first."""
    request = ReportRequest(station=code, since=since, until=until)
    return await _answer(rt, request, format, lang, f"station-{code}")
