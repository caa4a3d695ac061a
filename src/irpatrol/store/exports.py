"""Findings as flat rows for CSV and Excel: readable names beside the SGCC codes.

One row per finding.  Names come from the asset tree (station … point), codes from
:mod:`irpatrol.store.sgcc` (recognition_type 4, file_type 1, data_type from the
execution's data source, phase_type, device_type, valid/status from grade and review,
defect state), review fields under their SGCC names (check_status, check_man,
check_time, corrected_value).  Temperatures °C, differences K, δ in %.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from irpatrol.store import sgcc
from irpatrol.store.findings import FindingFilter, count_rows, filter_findings
from irpatrol.store.models import Asset, Capture, Execution, Finding, Point

COLUMNS: tuple[tuple[str, str], ...] = (
    ("finding_id", "缺陷/结果编号"),
    ("capture_id", "图谱编号"),
    ("taken_at", "拍摄时间"),
    ("station_code", "变电站编码"),
    ("station_name", "变电站"),
    ("area_name", "区域"),
    ("bay_name", "间隔"),
    ("device_name", "设备"),
    ("device_type", "设备类型编码"),
    ("device_type_name", "设备类型"),
    ("component_name", "部件"),
    ("point_code", "点位编码"),
    ("point_name", "点位"),
    ("preset_id", "预置位"),
    ("subject", "对象"),
    ("part", "部位"),
    ("phase_type", "相别编码"),
    ("phase_name", "相别"),
    ("recognition_type", "识别类型编码"),
    ("recognition_type_name", "识别类型"),
    ("file_type", "文件类型编码"),
    ("file_type_name", "文件类型"),
    ("data_type", "数据来源编码"),
    ("data_type_name", "数据来源"),
    ("heating_type", "致热类型"),
    ("t1_c", "T1热点温度(°C)"),
    ("t2_c", "T2正常对应点温度(°C)"),
    ("t0_c", "T0环境参照温度(°C)"),
    ("delta_t_k", "温差ΔT(K)"),
    ("rise_k", "温升(K)"),
    ("delta_pct", "相对温差δ(%)"),
    ("grade", "缺陷等级代号"),
    ("grade_code", "缺陷等级编码"),
    ("grade_name", "缺陷等级"),
    ("tentative", "暂定"),
    ("valid", "巡视结论编码"),
    ("valid_name", "巡视结论"),
    ("defect_state", "缺陷状态编码"),
    ("defect_state_name", "缺陷状态"),
    ("rule_pack", "判据"),
    ("rule_id", "判据条目"),
    ("clause", "标准条款"),
    ("flags", "标记"),
    ("check_status", "审核状态编码"),
    ("check_status_name", "审核状态"),
    ("review", "审核结论"),
    ("check_man", "审核人"),
    ("check_time", "审核时间"),
    ("corrected_value", "修正值(°C)"),
    ("corrected_grade", "修正等级"),
    ("review_note", "审核意见"),
    ("execution_id", "任务执行编号"),
    ("executor", "执行者"),
    ("filename", "文件名"),
)
"""(key, Chinese label) of every export column, in order."""

MAX_ROWS = 100_000


def _fmt_time(t: datetime | None, tz: ZoneInfo | None) -> str | None:
    if t is None:
        return None
    if tz is not None:
        t = t.astimezone(tz)
    return t.isoformat(timespec="seconds")


def finding_rows(
    session: Session, flt: FindingFilter, *, limit: int = MAX_ROWS, tz: ZoneInfo | None = None
) -> tuple[int, Iterator[dict[str, Any]]]:
    """(total matching, rows) of the findings matching ``flt``, oldest taken first, at most ``limit``.

    Related rows are fetched in batches (captures, executions, points, assets), so the
    cost does not grow with one query per finding.  Times in ``tz`` (UTC when ``None``).
    """

    q = filter_findings(flt)
    total = count_rows(session, q)
    findings = list(session.scalars(q.order_by(Finding.taken_at, Finding.id).limit(limit)))
    cap_ids = {f.capture_id for f in findings}
    caps = _by_id(session, Capture, cap_ids)
    execs = _by_id(session, Execution, {c.execution_id for c in caps.values() if c.execution_id is not None})
    point_ids = {f.point_id for f in findings if f.point_id is not None}
    points = _by_id(session, Point, point_ids)
    station_ids = {p.station_id for p in points.values()} | {f.station_id for f in findings if f.station_id}
    assets = (
        {a.id: a for a in session.scalars(select(Asset).where(Asset.station_id.in_(station_ids)))}
        if station_ids
        else {}
    )

    def rows() -> Iterator[dict[str, Any]]:
        for f in findings:
            yield _row(f, caps.get(f.capture_id), execs, points, assets, tz)

    return total, rows()


def _by_id(session: Session, model: Any, ids: Iterable[int]) -> dict[int, Any]:
    ids = list(ids)
    out: dict[int, Any] = {}
    for i in range(0, len(ids), 1000):
        out.update({r.id: r for r in session.scalars(select(model).where(model.id.in_(ids[i : i + 1000])))})
    return out


def _row(
    f: Finding,
    cap: Capture | None,
    execs: dict[int, Execution],
    points: dict[int, Point],
    assets: dict[int, Asset],
    tz: ZoneInfo | None,
) -> dict[str, Any]:
    point = points.get(f.point_id) if f.point_id is not None else None
    path: dict[str, Asset] = {}
    a = assets.get(point.component_id) if point is not None else None
    while a is not None:
        path[a.kind] = a
        a = assets.get(a.parent_id) if a.parent_id is not None else None
    if "station" not in path and f.station_id is not None and f.station_id in assets:
        path["station"] = assets[f.station_id]
    ex = execs.get(cap.execution_id) if cap is not None and cap.execution_id is not None else None
    source = ex.data_source if ex is not None else sgcc.DEFAULT_DATA_SOURCE
    device = path.get("device")
    dtype = device.device_type if device is not None else (point.device_type if point else None)
    phase_code = sgcc.phase_type_code(point.phase if point else None)
    effective = sgcc.effective_grade(f.grade, f.review_status, f.corrected_grade)
    valid = sgcc.valid_code(f.grade, f.review_status, f.corrected_grade)
    state_code, state_name = sgcc.defect_state(f.defect_status)
    reviewed = f.review_status != "unreviewed"

    def name(kind: str) -> str | None:
        return path[kind].name if kind in path else None

    return {
        "finding_id": f.id,
        "capture_id": f.capture_id,
        "taken_at": _fmt_time(f.taken_at, tz),
        "station_code": path["station"].code if "station" in path else None,
        "station_name": name("station"),
        "area_name": name("area"),
        "bay_name": name("bay"),
        "device_name": name("device") or (f.device or None),
        "device_type": sgcc.device_type_code(dtype),
        "device_type_name": sgcc.device_type_name(dtype),
        "component_name": name("component"),
        "point_code": point.code if point else None,
        "point_name": point.name if point else None,
        "preset_id": point.preset_id if point else None,
        "subject": f.subject,
        "part": f.part,
        "phase_type": phase_code,
        "phase_name": sgcc.PHASE_NAMES.get(phase_code) if phase_code is not None else None,
        "recognition_type": sgcc.RECOGNITION_INFRARED,
        "recognition_type_name": sgcc.RECOGNITION_TYPES[sgcc.RECOGNITION_INFRARED],
        "file_type": sgcc.FILE_INFRARED,
        "file_type_name": sgcc.FILE_TYPES[sgcc.FILE_INFRARED],
        "data_type": sgcc.data_type_code(source),
        "data_type_name": sgcc.DATA_SOURCE_NAMES.get(source, source),
        "heating_type": sgcc.HEATING_TYPE_NAMES.get(f.heating_type or "", f.heating_type),
        "t1_c": f.t1_c,
        "t2_c": f.t2_c,
        "t0_c": f.t0_c,
        "delta_t_k": f.delta_t_k,
        "rise_k": f.rise_k,
        "delta_pct": f.delta_pct,
        "grade": effective,
        "grade_code": f.grade_value if effective == f.grade else _GRADE_VALUES.get(effective, -1),
        "grade_name": sgcc.GRADE_NAMES.get(effective, effective),
        "tentative": int(f.tentative),
        "valid": valid,
        "valid_name": sgcc.VALID_CODES[valid],
        "defect_state": state_code,
        "defect_state_name": state_name,
        "rule_pack": f.rule_pack,
        "rule_id": f.rule_id,
        "clause": f.clause,
        "flags": " ".join(str(x) for x in f.flags or []),
        "check_status": int(reviewed),
        "check_status_name": sgcc.CHECK_STATUSES[int(reviewed)],
        "review": sgcc.REVIEW_NAMES.get(f.review_status, f.review_status),
        "check_man": f.reviewed_by,
        "check_time": _fmt_time(f.reviewed_at, tz),
        "corrected_value": f.corrected_value_c,
        "corrected_grade": sgcc.GRADE_NAMES.get(f.corrected_grade) if f.corrected_grade else None,
        "review_note": f.review_note,
        "execution_id": ex.id if ex is not None else None,
        "executor": ex.executor if ex is not None else None,
        "filename": cap.filename if cap is not None else None,
    }


_GRADE_VALUES = {"normal": 0, "general": 1, "serious": 2, "critical": 3, "not_graded": -1}


def header(labels: str) -> list[str]:
    """The header row: column keys (``code``) or Chinese labels (``zh``)."""
    return [zh if labels == "zh" else key for key, zh in COLUMNS]


def to_csv(rows: Iterable[dict[str, Any]], *, labels: str = "code") -> bytes:
    """UTF-8 CSV with a BOM (so Excel shows Chinese correctly), CRLF line ends."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header(labels))
    for r in rows:
        w.writerow(["" if r[k] is None else _cell(r[k]) for k, _ in COLUMNS])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


_WIDTHS = {
    "taken_at": 20,
    "check_time": 20,
    "station_name": 18,
    "bay_name": 18,
    "device_name": 18,
    "point_name": 22,
    "component_name": 14,
    "clause": 24,
    "flags": 24,
    "review_note": 24,
    "filename": 22,
}


def to_xlsx(rows: Iterable[dict[str, Any]], *, labels: str = "code") -> bytes:
    """An Excel workbook: bold header row, frozen below it, autofilter and readable column widths."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "findings"
    ws.append(header(labels))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    n = 1
    for r in rows:
        ws.append([r[k] for k, _ in COLUMNS])
        n += 1
        for cell in ws[n]:
            if cell.data_type == "f":  # text that looks like a formula stays text
                cell.data_type = "s"
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{n}"
    for i, (key, zh) in enumerate(COLUMNS, start=1):
        title = zh if labels == "zh" else key
        width = max(_WIDTHS.get(key, 10), min(30, len(title.encode("gbk", "replace")) + 2))
        ws.column_dimensions[get_column_letter(i)].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _cell(v: Any) -> Any:
    """A CSV value; text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") and not _is_number(v):
        return "'" + v  # never let a cell text become a formula in Excel
    return v


def _is_number(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True
