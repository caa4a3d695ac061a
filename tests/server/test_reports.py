"""One-click reports from the server's data: a patrol execution, a defect, a station over a range."""

from __future__ import annotations

import html
import io
from pathlib import Path
from typing import Any

import docx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from irpatrol.cli import cli
from irpatrol.server.runtime import Runtime
from tests.report.conftest import pdf_images, pdf_text
from tests.server.conftest import E40, auth, drain, make_token, upload
from tests.server.test_assets import API, import_demo
from tests.server.test_plans import make_plan

PDF = "application/pdf"


def _patrol(client: TestClient, rt: Runtime, operator: dict[str, str]) -> dict[str, Any]:
    """The demo station; a plan of three points; an earlier capture of the fuse bank (its history);
    an execution by robot-7 covering the fuse bank and the CT, missing the disconnector."""
    import_demo(client, operator)
    plan = make_plan(client, operator, ["P-C3-FUSE", "P-L1-DS-A", "P-L1-CT"])
    fuse, ct = plan["points"][0]["point_id"], plan["points"][2]["point_id"]
    old = upload(client, operator, key="old", point_id=fuse, taken_at="2026-01-10T08:00:00Z", ambient_c=10)
    assert old.status_code == 201, old.text  # type: ignore[attr-defined]
    r = client.post(
        f"{API}/plans/{plan['id']}/executions",
        json={"executor": "robot-7", "data_source": "robot"},
        headers=operator,
    )
    assert r.status_code == 201, r.text
    ex = r.json()
    up = upload(
        client, operator, key="fuse", point_id=fuse, execution_id=ex["id"], taken_at="2026-06-01T09:30:00Z",
        ambient_c=25, load_ratio=0.6,
    )  # fmt: skip
    assert up.status_code == 201, up.text  # type: ignore[attr-defined]
    up = upload(
        client, operator, E40, key="ct", point_id=ct, execution_id=ex["id"], taken_at="2026-06-01T09:40:00Z"
    )
    assert up.status_code == 201, up.text  # type: ignore[attr-defined]
    drain(rt)
    assert client.post(f"{API}/executions/{ex['id']}/finish", headers=operator).status_code == 200
    return {"execution": ex["id"], "fuse": fuse, "ct": ct}


def _defect_id(client: TestClient, headers: dict[str, str], execution: int) -> int:
    rows = client.get(f"{API}/findings", params={"limit": 100}, headers=headers).json()["items"]
    defects = [f for f in rows if f["defect_status"] == "open" and f["subject"] == "P-C3-FUSE"]
    assert defects, rows
    return int(max(defects, key=lambda f: f["id"])["id"])


def test_execution_report_pdf_zh(
    client: TestClient, rt: Runtime, operator: dict[str, str], viewer: dict[str, str], tmp_path: Path
) -> None:
    ids = _patrol(client, rt, operator)
    r = client.get(f"{API}/executions/{ids['execution']}/report", headers=viewer)  # defaults: pdf, zh
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == PDF
    assert f'filename="execution-{ids["execution"]}-zh.pdf"' in r.headers["content-disposition"]
    text = " ".join(pdf_text(r.content, tmp_path).split())
    for needle in (
        "红外热像检测报告",
        "示范110kV变电站",  # station
        "3号开关柜间隔",  # a bay
        "红外普测",  # the plan's patrol type
        "机器人",  # data source robot
        "robot-7",
        "P-L1-DS-A",  # the missed point, with its name and where it is
        "隔离开关刀口A相",
        "历史趋势",  # the fuse bank has an earlier capture: its trend chart is printed
        "未记录",  # no humidity, no wind, no weather
        "相对温差 δ",
        "一般缺陷",
        "FLIR T640",
    ):
        assert needle in text, needle
    rows = pdf_text(r.content, tmp_path, layout=True)
    assert any("P-C3-FUSE" in ln and "一般缺陷" in ln and "%" in ln for ln in rows.splitlines()), rows
    # logo, 2 thermograms, the T640's visible photo, the trend chart
    assert len(pdf_images(r.content, tmp_path)) >= 5


def test_execution_report_docx_and_html_en(
    client: TestClient, rt: Runtime, operator: dict[str, str], viewer: dict[str, str]
) -> None:
    ids = _patrol(client, rt, operator)
    r = client.get(
        f"{API}/executions/{ids['execution']}/report", params={"format": "docx", "lang": "en"}, headers=viewer
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    doc = docx.Document(io.BytesIO(r.content))
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "Infrared Thermographic Inspection Report" in body
    assert "Points not inspected" in body
    cells = {c.text for t in doc.tables for row in t.rows for c in row.cells}
    assert "P-L1-DS-A" in cells
    assert "Robot" in cells
    assert "robot-7" in cells
    assert "not recorded" in cells
    assert "General" in cells
    assert len(doc.inline_shapes) >= 5  # logo, two thermograms, a photo, the trend
    html = client.get(
        f"{API}/executions/{ids['execution']}/report", params={"format": "html", "lang": "en"}, headers=viewer
    )
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert "Infrared Thermographic Inspection Report" in html.text
    assert html.text.count("data:image/") >= 5
    assert "未记录" not in html.text


def test_defect_report(
    client: TestClient, rt: Runtime, operator: dict[str, str], viewer: dict[str, str], tmp_path: Path
) -> None:
    ids = _patrol(client, rt, operator)
    fid = _defect_id(client, viewer, ids["execution"])
    r = client.get(f"{API}/findings/{fid}/report", headers=viewer)
    assert r.status_code == 200, r.text
    text = " ".join(pdf_text(r.content, tmp_path).split())
    assert "红外热像检测异常报告" in text
    assert "P-C3-FUSE" in text
    assert "一般缺陷" in text
    assert "未消缺 / 未审核" in text  # lifecycle and review state
    assert "DL/T 664" in text  # the clause that decided it
    assert "检查熔丝" in text  # the part's advice in the recommendation
    assert "E40" not in text  # only the defect's own capture
    # a reviewer's corrected grade is what the report prints
    rv = client.post(
        f"{API}/findings/{fid}/review",
        json={"verdict": "corrected", "corrected_grade": "serious", "note": "复核"},
        headers=operator,
    )
    assert rv.status_code == 200, rv.text
    en = client.get(f"{API}/findings/{fid}/report", params={"format": "docx", "lang": "en"}, headers=viewer)
    doc = docx.Document(io.BytesIO(en.content))
    assert "Infrared Thermographic Exception Report" in "\n".join(p.text for p in doc.paragraphs)
    cells = {c.text for t in doc.tables for row in t.rows for c in row.cells}
    assert "Serious" in cells
    assert "Open / Corrected" in cells


def test_station_report_by_range(client: TestClient, rt: Runtime, operator: dict[str, str]) -> None:
    _patrol(client, rt, operator)
    june = {"since": "2026-05-01T00:00:00Z", "until": "2026-07-01T00:00:00", "format": "html"}
    r = client.get(f"{API}/stations/S-DEMO/report", params=june, headers=operator)
    assert r.status_code == 200, r.text
    assert r.text.count('<section class="capture">') == 2  # the January capture is outside
    everything = client.get(f"{API}/stations/S-DEMO/report", params={"format": "html"}, headers=operator)
    assert everything.text.count('<section class="capture">') == 3


def test_report_errors_and_roles(client: TestClient, rt: Runtime, operator: dict[str, str]) -> None:
    _patrol(client, rt, operator)
    for url in (
        f"{API}/executions/999999/report",
        f"{API}/findings/999999/report",
        f"{API}/stations/NOPE/report",
    ):
        r = client.get(url, headers=operator)
        assert r.status_code == 404, r.text
        assert r.json()["error"]["code"] == "not_found"
    bad_range = {"since": "2026-07-01T00:00:00Z", "until": "2026-06-01T00:00:00Z"}
    r = client.get(f"{API}/stations/S-DEMO/report", params=bad_range, headers=operator)
    assert r.status_code == 422, r.text
    r = client.get(f"{API}/executions/1/report", params={"format": "odt"}, headers=operator)
    assert r.status_code == 422
    assert client.get(f"{API}/executions/1/report").status_code == 401
    uploader = auth(make_token(rt, "robot-7", "operator", scopes=("captures:write",)))
    r = client.get(f"{API}/executions/1/report", headers=uploader)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"


def test_cli_reports_from_the_database(
    client: TestClient, rt: Runtime, operator: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``irpatrol report --patrol/--defect/--station`` read the server's database (settings from the env)."""
    ids = _patrol(client, rt, operator)
    monkeypatch.setenv("IRPATROL_DATA_DIR", str(rt.settings.data_dir))
    monkeypatch.setenv("IRPATROL_DATABASE_URL", rt.settings.resolved_database_url())
    runner = CliRunner()
    for fmt in ("pdf", "docx", "html"):
        out = tmp_path / f"patrol.{fmt}"
        done = runner.invoke(
            cli, ["report", "--patrol", str(ids["execution"]), "-o", str(out), "--lang", "en"]
        )
        assert done.exit_code == 0, done.output
        assert "2 capture(s), 1 defect(s), 1 missed point(s), 0 unreadable file(s)" in done.stdout
        assert out.stat().st_size > 10_000
    fid = _defect_id(client, operator, ids["execution"])
    done = runner.invoke(cli, ["report", "--defect", str(fid), "-o", str(tmp_path / "d.html")])
    assert done.exit_code == 0, done.output
    assert "红外热像检测异常报告" in (tmp_path / "d.html").read_text(encoding="utf-8")
    args = ["report", "--station", "S-DEMO", "--since", "2026-05-01", "-o", str(tmp_path / "s.html")]
    done = runner.invoke(cli, args)
    assert done.exit_code == 0, done.output
    assert "2 capture(s)" in done.stdout
    missing = runner.invoke(cli, ["report", "--patrol", "999999", "-o", str(tmp_path / "x.pdf")])
    assert missing.exit_code == 1
    assert "execution 999999 does not exist" in missing.stderr


def test_content_disposition_keeps_the_header_latin1() -> None:
    from irpatrol.server.routes.reports import content_disposition

    value = content_disposition('station-示范"站-zh.pdf')
    value.encode("latin-1")  # what the HTTP layer needs
    assert value.startswith('attachment; filename="station-_-zh.pdf"; ')
    assert value.endswith("filename*=UTF-8''station-%E7%A4%BA%E8%8C%83%22%E7%AB%99-zh.pdf")


def test_failed_capture_and_missing_image_still_give_a_report(
    client: TestClient, rt: Runtime, operator: dict[str, str]
) -> None:
    """A failed capture is listed with its error; one whose stored image is gone keeps its numbers."""
    from sqlalchemy import select

    from irpatrol.store.models import Capture

    ids = _patrol(client, rt, operator)
    with rt.sessions() as s:
        caps = list(
            s.scalars(select(Capture).where(Capture.execution_id == ids["execution"]).order_by(Capture.id))
        )
        fuse, ct = caps
        ct.status, ct.error = "failed", "flir_e40.jpg: damaged FFF record"
        s.commit()
        rt.blobs.path(fuse.sha256).unlink()
    r = client.get(
        f"{API}/executions/{ids['execution']}/report",
        params={"format": "html", "lang": "en"},
        headers=operator,
    )
    assert r.status_code == 200, r.text
    assert "flir_e40.jpg: damaged FFF record" in r.text
    assert r.text.count('<section class="capture">') == 1
    assert "Thermogram: not recorded" in r.text  # the image is gone from the store
    assert "46.6 °C" in r.text  # the stored numbers are still printed


def test_reports_show_the_points_trend_and_early_warnings(
    client: TestClient, rt: Runtime, operator: dict[str, str], viewer: dict[str, str]
) -> None:
    """A point drifting up (issue 11): the defect report draws its rise and says the warnings and
    the comparison with the last healthy reading; the patrol report lists it under early warnings."""
    from irpatrol.store.models import Capture, Finding
    from tests.server.test_assets import point_id
    from tests.server.test_trend import CODE, drift_series, seed_history

    import_demo(client, operator)
    pid = point_id(client, operator, CODE)
    dt, load = drift_series()
    ids = seed_history(rt, pid, dt, load)
    plan = make_plan(client, operator, [CODE])
    ex = client.post(
        f"{API}/plans/{plan['id']}/executions",
        json={"executor": "robot-7", "data_source": "robot"},
        headers=operator,
    ).json()
    with rt.sessions() as s, s.begin():
        last = s.get(Finding, ids[-1])
        assert last is not None
        cap = s.get(Capture, last.capture_id)
        assert cap is not None
        cap.execution_id = ex["id"]
    trend = {
        lang: client.get(f"{API}/points/{pid}/trend", params={"lang": lang}, headers=viewer).json()
        for lang in ("en", "zh")
    }
    warnings = {lang: [w["text"] for w in doc["analysis"]["warnings"]] for lang, doc in trend.items()}
    assert warnings["en"]
    assert warnings["zh"]
    for lang, title in (("en", "Trend of the inspection point"), ("zh", "测点趋势分析")):
        r = client.get(
            f"{API}/findings/{ids[-1]}/report", params={"format": "html", "lang": lang}, headers=viewer
        )
        assert r.status_code == 200, r.text
        page = html.unescape(r.text)
        assert title in page
        for text in warnings[lang]:
            assert text in page
        assert trend[lang]["comparison_text"] in page  # against the last healthy reading
        chart_alt = "Rise over ambient per patrol" if lang == "en" else "历次巡视温升"
        assert '<img src="data:image/png;base64,' in r.text
        assert f'alt="{chart_alt}"' in r.text
    pdf = client.get(f"{API}/findings/{ids[-1]}/report", params={"lang": "en"}, headers=viewer)
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    word = client.get(
        f"{API}/findings/{ids[-1]}/report", params={"format": "docx", "lang": "zh"}, headers=viewer
    )
    paragraphs = "\n".join(p.text for p in docx.Document(io.BytesIO(word.content)).paragraphs)
    assert "测点趋势分析" in paragraphs
    assert warnings["zh"][0] in paragraphs
    patrol = client.get(
        f"{API}/executions/{ex['id']}/report", params={"format": "html", "lang": "en"}, headers=viewer
    )
    assert patrol.status_code == 200, patrol.text
    page = html.unescape(patrol.text)
    assert "Early warnings (trend)" in page
    assert 'class="list early-warnings"' in page
    for text in warnings["en"]:
        assert text in page
    assert "Trend of the inspection point" not in page  # the full section is the defect report's
    quiet = client.get(f"{API}/stations/S-DEMO/report", params={"format": "html", "lang": "en",
                       "until": "2026-03-05T00:00:00Z"}, headers=viewer)  # fmt: skip
    assert quiet.status_code == 200, quiet.text
    assert "No point shows an early warning." in quiet.text  # four patrols: too few to judge
