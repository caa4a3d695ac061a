"""``irpatrol trend --point ID``: a point's history, its trend and its early warnings.

Thin: opens the server's runtime from the settings (``IRPATROL_DATA_DIR``,
``IRPATROL_DATABASE_URL``), asks :func:`irpatrol.server.trend.trend_document` (the same
answer as ``GET /api/v1/points/{id}/trend``) and prints a table, or the JSON with ``--json``.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

import click

from irpatrol.cli.app import handle_errors
from irpatrol.errors import RecordNotFoundError


def _num(x: Any, fmt: str) -> str:
    return format(x, fmt) if isinstance(x, int | float) and not isinstance(x, bool) else "—"


_WORDS: dict[str, dict[str, Any]] = {
    "en": {
        "head": (
            "taken (UTC)",
            "finding",
            "grade",
            "load %",
            "T1 °C",
            "rise K",
            "ΔT K",
            "rise@rated",
            "ΔT@rated",
        ),
        "trend": "trend ({basis}, {quantity}, {n} patrols): slope {per_patrol} {unit}/patrol, "
        "{per_day} {unit}/day, CI [{low}, {high}] /day",
        "short": "{status}: {n} < {need} patrols",
        "findings": "findings",
    },
    "zh": {
        "head": (
            "拍摄时间 (UTC)",
            "结果号",
            "等级",
            "负荷%",
            "T1 °C",
            "温升 K",
            "温差 K",
            "额定温升",
            "额定温差",
        ),
        "trend": "趋势（{basis}，{quantity}，{n} 次巡检）：斜率 {per_patrol} {unit}/次，"
        "{per_day} {unit}/天，置信区间 [{low}, {high}] /天",
        "short": "{status}：{n} < {need} 次巡检",
        "findings": "依据结果",
    },
}
"""The table's words per language (numbers and codes are the same in both)."""

_COLUMNS = ((17, "<"), (8, ">"), (9, "<"), (6, ">"), (7, ">"), (7, ">"), (7, ">"), (10, ">"), (9, ">"))
"""Width (terminal cells) and alignment of each column."""


def _cells(text: str) -> int:
    """Terminal cells ``text`` takes: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _row(values: tuple[str, ...]) -> str:
    out = []
    for value, (width, align) in zip(values, _COLUMNS, strict=True):
        pad = " " * max(0, width - _cells(value))
        out.append(value + pad if align == "<" else pad + value)
    return " ".join(out)


def _table(doc: dict[str, Any], lang: str) -> str:
    zh = lang == "zh"
    words = _WORDS[lang]
    lines = [f"{doc['code']}  {doc['name']}  (id {doc['point_id']})"]
    lines.append(_row(words["head"]))
    for e in doc["items"]:
        t = e["taken_at"]
        when = t.strftime("%Y-%m-%d %H:%M") if isinstance(t, datetime) else str(t)[:16].replace("T", " ")
        mark = "" if e["normalised"] or e["finding_id"] is None else "*"
        lines.append(
            _row(
                (
                    when,
                    _num(e["finding_id"], "d"),
                    e["grade"] or "—",
                    _num(e["load_ratio"] * 100 if e["load_ratio"] is not None else None, ".0f"),
                    _num(e["t1_c"], ".1f"),
                    _num(e["rise_k"], ".1f"),
                    _num(e["delta_t_k"], ".1f"),
                    _num(e["norm_rise_k"], ".1f") + mark,
                    _num(e["norm_delta_t_k"], ".1f") + mark,
                )
            )
        )
    lines.append("* 未折算（负荷未知或过低）" if zh else "* not normalised (load unknown or too low)")
    a = doc["analysis"]
    fit = a["trends"].get("rise_k") or a["trends"].get("delta_t_k")
    basis = doc["basis"]
    if fit:
        lines.append(
            words["trend"].format(
                basis=basis,
                quantity=fit["quantity"],
                n=fit["n"],
                unit=fit["unit"],
                per_patrol=_num(fit["slope_per_patrol"], "+.3f"),
                per_day=_num(fit["slope_per_day"], "+.4f"),
                low=_num(fit["ci_low_per_day"], "+.4f"),
                high=_num(fit["ci_high_per_day"], "+.4f"),
            )
        )
    if a["status"] != "ok":
        lines.append(words["short"].format(status=a["status"], n=a["n"], need=a["min_history"]))
    elif not a["warnings"]:
        lines.append("无预警" if zh else "no warning")
    for w in a["warnings"]:
        ids = ", ".join(str(p["finding_id"]) for p in w["points"])
        lines.append(f"[{w['code']}] {w['text']}")
        lines.append(f"    {words['findings']}: {ids}")
    if doc.get("comparison_text"):
        lines.append(doc["comparison_text"])
    return "\n".join(lines)


@click.command("trend")
@click.option("--point", "point", required=True, help="The inspection point: its numeric id or its code.")
@click.option("--since", type=click.DateTime(), default=None, help="From this time on (UTC), inclusive.")
@click.option("--until", type=click.DateTime(), default=None, help="Before this time (UTC).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="The API's JSON (GET /api/v1/points/{id}/trend).")
@handle_errors
def trend(point: str, since: datetime | None, until: datetime | None, lang: str, as_json: bool) -> None:
    """A point's temperature history at rated load, its trend and its early warnings (docs/trend.md)."""
    from datetime import UTC

    from irpatrol.cli.server_cmds import _runtime
    from irpatrol.server.asset_schemas import PointTrend
    from irpatrol.server.trend import trend_document
    from irpatrol.store.series import find_point

    rt = _runtime(migrate=False)
    try:
        with rt.read_sessions() as s:
            p = find_point(s, point)
            if p is None:
                raise RecordNotFoundError("point", point)
            doc = trend_document(
                s,
                p,
                rt.settings,
                since=since.replace(tzinfo=UTC) if since else None,
                until=until.replace(tzinfo=UTC) if until else None,
                lang=lang,
            )
    finally:
        rt.close()
    if as_json:
        click.echo(PointTrend.model_validate(doc).model_dump_json(indent=2))
    else:
        click.echo(_table(doc, lang))


def register(group: click.Group) -> None:
    """Add ``trend`` to the command group."""
    group.add_command(trend)
