"""A point's judgment over time through the server (issue 11): stored normalised series, history
facts, ``GET /points/{id}/trend``'s analysis and ``irpatrol trend`` — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from irpatrol.cli import cli
from irpatrol.config import Settings
from irpatrol.diagnosis.grading import Reading, grade, load_rule_pack
from irpatrol.server.runtime import Runtime
from irpatrol.server.trend import series_params
from irpatrol.store.models import Capture, Point
from irpatrol.store.results import finding_rows
from irpatrol.store.series import record_series
from tests.server.conftest import drain
from tests.server.test_assets import import_demo, point_id, send

API = "/api/v1"
CODE = "P-C3-FUSE"
T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
HEALTHY_RISE_K = 5.0
PACK = load_rule_pack("dlt664-2016")


def seed_history(
    rt: Runtime,
    pid: int,
    delta_t_rated: np.ndarray,
    load: np.ndarray,
    alignments: list[dict[str, Any]] | None = None,
) -> list[int]:
    """Store one analysed capture per patrol (daily) with the point's finding, as the worker does.

    ``delta_t_rated`` is the ΔT at rated load (K) over a healthy phase rising 5 K at rated load
    above a 25 °C ambient; the camera sees rises × load² (n = 2).  Answers the finding ids.
    """
    ids = []
    with rt.sessions() as s, s.begin():
        point = s.get(Point, pid)
        assert point is not None
        for i, (dt_rated, x) in enumerate(zip(delta_t_rated, load, strict=True)):
            t0 = 25.0
            t2 = t0 + HEALTHY_RISE_K * x**2  # the healthy phase heats with the load too
            t1 = t2 + float(dt_rated * x**2)
            dt = t1 - t2
            cap = Capture(
                sha256=f"{i:064x}",
                filename=f"p{i}.jpg",
                size_bytes=1,
                point_id=pid,
                station_id=point.station_id,
                taken_at=T0 + timedelta(days=i),
                ambient_c=t0,
                load_ratio=float(x),
                status="analyzed",
                max_c=t1,
            )
            s.add(cap)
            s.flush()
            comparison = {"t1_c": t1, "t2_c": t2, "t0_c": t0, "delta_t_k": dt, "rise_k": t1 - t0,
                          "delta_pct": 100 * dt / (t1 - t0)}  # fmt: skip
            graded = grade(Reading(part="fuse", t1_c=t1, t2_c=t2, t0_c=t0, load_ratio=float(x)), pack=PACK)
            finding = {"subject": CODE, "device": "fuses", "part": "fuse", "heating_type": "current",
                       "comparison": comparison, "finding": graded.to_dict()}  # fmt: skip
            if alignments is not None:
                finding["alignment"] = alignments[i]
            doc = {"findings": [{**finding, "flags": []}]}
            rows = finding_rows(cap, doc)
            record_series(s, cap, rows, series_params(rt.settings))
            s.add_all(rows)
            s.flush()
            ids.append(rows[0].id)
    return ids


def drift_series() -> tuple[np.ndarray, np.ndarray]:
    """10 flat patrols then +1 K/patrol of ΔT at rated load for 8 patrols; load 50–100 %."""
    rng = np.random.default_rng(4)
    n = 18
    load = rng.uniform(0.5, 1.0, n)
    dt = 4.0 + np.r_[np.zeros(10), np.arange(1.0, n - 9)] + rng.normal(0, 0.2, n)
    return dt, load


def test_uploads_are_stored_normalised_and_compared_with_the_last_patrol(
    client: TestClient, rt: Runtime, operator: dict[str, str]
) -> None:
    import_demo(client, operator)
    pid = point_id(client, operator, CODE)
    assert (
        send(client, operator, point_id=pid, taken_at="2026-03-01T02:00:00Z", load_ratio=0.5).status_code
        == 201
    )
    assert send(client, operator, point_id=pid, taken_at="2026-03-02T02:00:00Z").status_code == 201  # no load
    drain(rt)
    doc = client.get(f"{API}/points/{pid}/trend", headers=operator).json()
    first, second = doc["items"]
    assert first["normalised"] is True
    assert first["load_ratio"] == 0.5
    assert first["norm_delta_t_k"] == pytest.approx(first["delta_t_k"] * 4, abs=0.01)  # (1/0.5)^2
    assert first["norm_rise_k"] == pytest.approx(first["rise_k"] * 4, abs=0.01)
    assert second["normalised"] is False  # load unknown: the raw values, marked
    assert second["norm_delta_t_k"] == pytest.approx(second["delta_t_k"], abs=0.001)
    assert doc["basis"] == "rated-load"
    assert doc["excluded_finding_ids"] == [second["finding_id"]]
    assert doc["analysis"]["status"] == "insufficient-history"
    history = client.get(f"{API}/findings/{second['finding_id']}", headers=operator).json()["facts"][
        "history"
    ]
    assert history["n_before"] == 1
    assert history["previous"]["finding_id"] == first["finding_id"]
    assert doc["comparison"] == history
    assert isinstance(doc["comparison_text"], str)
    assert doc["chart"]["x"][0].startswith("2026-03-01")
    assert doc["chart"]["series"]["norm_delta_t_k"][0] == first["norm_delta_t_k"]


def test_trend_warns_on_a_drift_with_its_evidence(
    client: TestClient, rt: Runtime, operator: dict[str, str], viewer: dict[str, str]
) -> None:
    import_demo(client, operator)
    pid = point_id(client, operator, CODE)
    dt, load = drift_series()
    ids = seed_history(rt, pid, dt, load)
    quiet = client.get(f"{API}/points/{pid}/trend", params={"until": "2026-03-11T00:00:00Z"}, headers=viewer)
    assert quiet.status_code == 200
    assert quiet.json()["analysis"]["warnings"] == []  # the 10 flat patrols, whatever the load
    doc = client.get(f"{API}/points/{pid}/trend", params={"lang": "en"}, headers=viewer).json()
    assert doc["basis"] == "rated-load"
    fit = doc["analysis"]["trends"]["rise_k"]
    assert fit["ci_low_per_day"] > 0
    codes = [w["code"] for w in doc["analysis"]["warnings"]]
    assert "rising-trend" in codes or "step-change" in codes, doc["analysis"]
    for w in doc["analysis"]["warnings"]:
        assert {p["finding_id"] for p in w["points"]} <= set(ids)
        assert w["since_finding_id"] in ids
        assert w["text"][0].isascii()
    zh = client.get(f"{API}/points/{pid}/trend", headers=viewer).json()
    assert not zh["analysis"]["warnings"][0]["text"].isascii()
    assert len(doc["chart"]["x"]) == len(ids)
    assert doc["chart"]["fit"]["rise_k"]["x"][1].startswith("2026-03-18")
    last = client.get(f"{API}/findings/{ids[-1]}", headers=viewer).json()["facts"]["history"]
    assert last["n_before"] == len(ids) - 1
    healthy = [i for i, e in enumerate(doc["items"][:-1]) if e["grade_value"] == 0][-1]  # graded normal
    assert last["last_healthy"]["finding_id"] == ids[healthy]
    assert last["delta_vs_healthy"]["basis"] == "rated-load"
    assert last["delta_vs_healthy"]["delta_t_k"] == pytest.approx(dt[-1] - dt[healthy], abs=0.01)


def _cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("IRPATROL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("IRPATROL_DATABASE_URL", settings.resolved_database_url())


def test_cli_trend_by_id_and_code_same_json_as_the_api(
    client: TestClient,
    rt: Runtime,
    settings: Settings,
    operator: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import_demo(client, operator)
    pid = point_id(client, operator, CODE)
    dt, load = drift_series()
    seed_history(rt, pid, dt, load)
    _cli_env(monkeypatch, settings)
    runner = CliRunner()
    by_code = runner.invoke(cli, ["trend", "--point", CODE, "--json", "--lang", "en"])
    assert by_code.exit_code == 0, by_code.output
    api: dict[str, Any] = client.get(
        f"{API}/points/{pid}/trend", params={"lang": "en"}, headers=operator
    ).json()
    assert json.loads(by_code.stdout) == api
    by_id = runner.invoke(cli, ["trend", "--point", str(pid), "--json", "--lang", "en"])
    assert json.loads(by_id.stdout) == api
    table = runner.invoke(cli, ["trend", "--point", CODE, "--lang", "en"])
    assert table.exit_code == 0, table.output
    assert CODE in table.stdout
    assert "ΔT@rated" in table.stdout
    assert api["analysis"]["warnings"][0]["text"] in table.stdout
    assert "patrols): slope" in table.stdout
    zh = runner.invoke(
        cli, ["trend", "--point", CODE]
    )  # Chinese by default: the words too, not only the warnings
    assert zh.exit_code == 0, zh.output
    assert "额定温差" in zh.stdout
    assert "次巡检）：斜率" in zh.stdout
    assert "ΔT@rated" not in zh.stdout
    assert "依据结果" in zh.stdout
    head, first = zh.stdout.splitlines()[1:3]  # columns line up in terminal cells (CJK is two wide)
    cells = [sum(2 if ord(c) >= 0x2E80 else 1 for c in line) for line in (head, first)]
    assert cells[0] == cells[1], (head, first)
    missing = runner.invoke(cli, ["trend", "--point", "NO-SUCH-POINT"])
    assert missing.exit_code != 0
    assert "point NO-SUCH-POINT does not exist" in missing.output


def test_history_notes_the_reference_frame_registration(
    client: TestClient, rt: Runtime, operator: dict[str, str]
) -> None:
    import_demo(client, operator)
    pid = point_id(client, operator, CODE)
    with rt.sessions() as s, s.begin():
        point = s.get(Point, pid)
        assert point is not None
        point.spec = {**(point.spec or {}), "reference_image": "capture:1"}
    frames = [
        {"dx": 1.0, "dy": 2.0, "rotation_deg": 0.0, "scale": 1.0, "ncc": 0.9, "overlap": 0.98, "ok": True,
         "reason": ""},
        {"dx": 4.0, "dy": -2.0, "rotation_deg": 0.5, "scale": 1.0, "ncc": 0.8, "overlap": 0.95, "ok": True,
         "reason": ""},
    ]  # fmt: skip
    ids = seed_history(rt, pid, np.array([3.0, 3.5]), np.array([0.8, 0.6]), alignments=frames)
    history = client.get(f"{API}/findings/{ids[1]}", headers=operator).json()["facts"]["history"]
    frame = history["frame"]
    assert frame["reference_image"] == "capture:1"
    assert (frame["dx"], frame["dy"], frame["ncc"]) == (4.0, -2.0, 0.8)
    assert frame["shift_vs_healthy_px"] == pytest.approx(5.0)  # (3, -4) px since the healthy patrol
    assert history["delta_vs_healthy"]["delta_t_k"] == pytest.approx(0.5, abs=0.01)
    doc = client.get(f"{API}/points/{pid}/trend", params={"lang": "en"}, headers=operator).json()
    assert "Against the last healthy reading" in doc["comparison_text"]
    assert "offset (+4.0, -2.0) px" in doc["comparison_text"]
    assert "NCC 0.80" in doc["comparison_text"]


def test_findings_from_before_the_migration_are_analysed_raw(
    client: TestClient, rt: Runtime, operator: dict[str, str]
) -> None:
    from sqlalchemy import update

    from irpatrol.store.models import Finding

    import_demo(client, operator)
    pid = point_id(client, operator, CODE)
    dt, _ = drift_series()
    seed_history(rt, pid, dt, np.ones(dt.size))
    with rt.sessions() as s, s.begin():  # as migration 0003 leaves older rows
        s.execute(update(Finding).values(norm_rise_k=None, norm_delta_t_k=None, normalised=False))
    doc = client.get(f"{API}/points/{pid}/trend", headers=operator).json()
    assert doc["basis"] == "raw"
    assert all(e["norm_rise_k"] is None for e in doc["items"])
    assert doc["analysis"]["status"] == "ok"
    assert doc["analysis"]["trends"]["rise_k"]["ci_low_per_day"] > 0
    assert doc["analysis"]["warnings"]


def test_history_reads_earlier_patrols_in_batches(
    client: TestClient, rt: Runtime, operator: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import irpatrol.store.series as series

    monkeypatch.setattr(series, "HISTORY_BATCH", 2)
    import_demo(client, operator)
    pid = point_id(client, operator, CODE)
    dt, load = drift_series()
    ids = seed_history(rt, pid, dt, load)
    doc = client.get(f"{API}/points/{pid}/trend", headers=operator).json()
    grades = [e["grade_value"] for e in doc["items"]]
    for k in range(1, len(ids)):
        history = client.get(f"{API}/findings/{ids[k]}", headers=operator).json()["facts"]["history"]
        assert history["n_before"] == k
        assert history["previous"]["finding_id"] == ids[k - 1]
        normal = [i for i in range(k) if grades[i] == 0]
        expected = ids[normal[-1]] if normal else None
        assert (history["last_healthy"] or {}).get("finding_id") == expected
