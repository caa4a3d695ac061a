"""Findings exports: CSV (UTF-8 with BOM) and Excel, names beside the SGCC codes."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from irpatrol.server.runtime import Runtime
from irpatrol.store import sgcc
from irpatrol.store.exports import COLUMNS
from tests.server.conftest import drain
from tests.server.test_assets import API, import_demo, point_id, send
from tests.server.test_plans import make_plan

SGCC_COLUMNS = (
    "recognition_type",
    "file_type",
    "data_type",
    "phase_type",
    "device_type",
    "valid",
    "defect_state",
    "defect_state_name",
    "check_status",
    "check_man",
    "check_time",
    "corrected_value",
)


@pytest.fixture
def analysed(client: TestClient, rt: Runtime, operator: dict[str, str]) -> dict[str, Any]:
    """The demo station, one drone run with a capture at the fuse bank, one capture outside any run."""
    import_demo(client, operator)
    plan = make_plan(client, operator, ["P-C3-FUSE"])
    ex = client.post(
        f"{API}/plans/{plan['id']}/executions",
        json={"executor": "uav-1", "data_source": "drone"},
        headers=operator,
    ).json()
    fuse = point_id(client, operator, "P-C3-FUSE")
    r1 = send(client, operator, point_id=fuse, execution_id=ex["id"], taken_at="2024-06-01T08:00:00Z")
    r2 = send(client, operator, point_id=fuse, taken_at="2024-06-02T08:00:00Z")
    assert r1.status_code == 201
    assert r2.status_code == 201
    drain(rt)
    return {"execution": ex, "point_id": fuse, "captures": [r1.json()["id"], r2.json()["id"]]}


def _csv(client: TestClient, headers: dict[str, str], **params: Any) -> tuple[Any, list[dict[str, str]]]:
    r = client.get(f"{API}/exports/findings.csv", params=params, headers=headers)
    assert r.status_code == 200, r.text
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    return r, rows


def test_csv_has_names_and_sgcc_codes(
    client: TestClient, operator: dict[str, str], viewer: dict[str, str], analysed: dict[str, Any]
) -> None:
    r, rows = _csv(client, viewer)
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="irpatrol-findings-' in r.headers["content-disposition"]
    assert r.headers["content-disposition"].endswith('.csv"')
    assert rows
    assert list(rows[0]) == [k for k, _ in COLUMNS]
    assert set(SGCC_COLUMNS) <= set(rows[0])
    assert int(r.headers["X-Total-Count"]) == len(rows)
    point_rows = [row for row in rows if row["point_code"] == "P-C3-FUSE" and row["subject"] == "P-C3-FUSE"]
    assert len(point_rows) == 2
    by_capture = {int(row["capture_id"]): row for row in point_rows}
    in_run, outside = (by_capture[c] for c in analysed["captures"])
    for row in point_rows:
        assert row["station_name"] == "示范110kV变电站"
        assert row["area_name"] == "10kV配电室"
        assert row["bay_name"] == "3号开关柜间隔"
        assert row["device_name"] == "3号开关柜"
        assert row["component_name"] == "熔断器组"
        assert row["point_name"] == "3号柜熔断器三相"
        assert row["recognition_type"] == "4"
        assert row["recognition_type_name"] == "红外测温"
        assert row["file_type"] == "1"
        assert row["file_type_name"] == "红外图谱"
        assert row["phase_type"] == "0"
        assert row["phase_name"] == "三相"
        assert row["device_type"] == "5"
        assert row["device_type_name"] == "开关柜"
        assert row["heating_type"] == "电流致热型"
        assert row["grade_name"] == sgcc.GRADE_NAMES[row["grade"]]
        assert row["valid"] == ("1" if row["grade"] == "normal" else "3")
        assert float(row["t1_c"]) > float(row["t2_c"])
        assert row["check_status"] == "0"
        assert row["check_status_name"] == "未审核"
        if row["grade"] != "normal":
            assert row["defect_state"] == "0"
            assert row["defect_state_name"] == "未消缺"
    assert in_run["data_type"] == "4"
    assert in_run["data_type_name"] == "无人机"
    assert in_run["executor"] == "uav-1"
    assert outside["data_type"] == "2"
    assert outside["taken_at"].startswith("2024-06-02T08:00:00")
    assert "+00:00" in outside["taken_at"]


def test_review_and_lifecycle_show_up(
    client: TestClient, operator: dict[str, str], analysed: dict[str, Any]
) -> None:
    _, rows = _csv(client, operator)
    a, b = (int(row["finding_id"]) for row in rows[:2])
    r = client.post(
        f"{API}/findings/{a}/review", json={"verdict": "false_alarm", "note": "反光"}, headers=operator
    )
    assert r.status_code == 200, r.text
    r = client.post(
        f"{API}/findings/{b}/review",
        json={"verdict": "corrected", "corrected_value_c": 47.5, "corrected_grade": "serious"},
        headers=operator,
    )
    assert r.status_code == 200, r.text
    _, rows = _csv(client, operator, header="code", tz="Asia/Shanghai")
    got = {int(row["finding_id"]): row for row in rows}
    assert got[a]["valid"] == "10"
    assert got[a]["valid_name"] == "误报"
    assert got[a]["check_status"] == "1"
    assert got[a]["check_man"] == "operator"
    assert got[a]["check_time"].endswith("+08:00")
    assert got[a]["review_note"] == "反光"
    assert got[b]["valid"] == "3"
    assert got[b]["grade"] == "serious"
    assert got[b]["grade_code"] == "2"
    assert got[b]["grade_name"] == "严重缺陷"
    assert got[b]["corrected_value"] == "47.5"
    assert got[b]["corrected_grade"] == "严重缺陷"


def test_filters_match_findings_list(
    client: TestClient, operator: dict[str, str], analysed: dict[str, Any]
) -> None:
    params = {"point_id": analysed["point_id"], "min_grade": 1}
    listed = client.get(f"{API}/findings", params=params, headers=operator).json()
    _, rows = _csv(client, operator, **params)
    assert sorted(int(r["finding_id"]) for r in rows) == sorted(f["id"] for f in listed["items"])
    _, none = _csv(client, operator, since="2030-01-01T00:00:00Z")
    assert none == []
    bad = client.get(f"{API}/exports/findings.csv", params={"tz": "Mars/Olympus"}, headers=operator)
    assert bad.status_code == 422


def test_chinese_headers(client: TestClient, operator: dict[str, str], analysed: dict[str, Any]) -> None:
    r = client.get(f"{API}/exports/findings.csv", params={"header": "zh"}, headers=operator)
    header = next(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert header == [zh for _, zh in COLUMNS]
    assert "变电站" in header


def test_xlsx_opens_with_openpyxl(
    client: TestClient, operator: dict[str, str], analysed: dict[str, Any]
) -> None:
    from openpyxl import load_workbook

    r = client.get(f"{API}/exports/findings.xlsx", params={"header": "zh"}, headers=operator)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert r.headers["content-disposition"].endswith('.xlsx"')
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb.active
    assert ws.freeze_panes == "A2"
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == [zh for _, zh in COLUMNS]
    assert len(rows) - 1 == int(r.headers["X-Row-Count"])
    col = {zh: i for i, (_, zh) in enumerate(COLUMNS)}
    data = rows[1:]
    assert {row[col["变电站"]] for row in data} == {"示范110kV变电站"}
    assert {row[col["识别类型编码"]] for row in data} == {4}
    assert {row[col["文件类型"]] for row in data} == {"红外图谱"}
    assert ws.column_dimensions["A"].width >= 10


def test_formula_like_names_stay_text(client: TestClient, rt: Runtime, operator: dict[str, str]) -> None:
    from openpyxl import load_workbook

    from tests.server.test_assets import import_file

    text = (
        "station_code,station_name,area_code,area_name,bay_code,bay_name,device_code,device_name,"
        "component_code,component_name,point_code,point_name,part\n"
        'S1,"=HYPERLINK(""http://x"")",A1,a,B1,b,D1,d,C1,c,P1,p,fuse\n'
    )
    assert import_file(client, operator, text, "evil.csv").status_code == 200
    pid = point_id(client, operator, "P1")
    assert send(client, operator, point_id=pid).status_code == 201
    drain(rt)
    _, rows = _csv(client, operator)
    assert rows[0]["station_name"] == '\'=HYPERLINK("http://x")'
    r = client.get(f"{API}/exports/findings.xlsx", headers=operator)
    ws = load_workbook(io.BytesIO(r.content)).active
    idx = [k for k, _ in COLUMNS].index("station_name")
    cell = ws.cell(row=2, column=idx + 1)
    assert cell.data_type == "s"
    assert cell.value == '=HYPERLINK("http://x")'


def test_exports_refuse_anonymous_and_tokens_without_read(client: TestClient, rt: Runtime) -> None:
    from tests.server.conftest import auth, make_token

    no_read = auth(make_token(rt, "uploader", "operator", ("captures:write",)))
    for kind in ("csv", "xlsx"):
        assert client.get(f"{API}/exports/findings.{kind}").status_code == 401
        r = client.get(f"{API}/exports/findings.{kind}", headers=no_read)
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "forbidden"
