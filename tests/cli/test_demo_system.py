"""`irpatrol demo`: the whole system on loopback — edge agent → Mosquitto → server → reports.

Real processes throughout (Mosquitto, ``irpatrol serve`` with its MQTT ingest, ``irpatrol
edge run``); the test reads what the server stored and the report it wrote.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from irpatrol.cli import cli
from irpatrol.cli.demo_system import find_mosquitto, read_logins
from irpatrol.geo.local import fit_layout


def test_whole_system_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if find_mosquitto() is None:
        msg = "Mosquitto is not installed (apt-get install mosquitto; scripts/setup.sh all does)"
        if os.environ.get("CI"):
            pytest.fail(f"{msg}: the demo test cannot run in CI")
        pytest.skip(msg)
    monkeypatch.chdir(tmp_path)  # a relative output folder, as the default irpatrol-output is
    result = CliRunner().invoke(cli, ["demo", "-o", "out"])
    tmp_path = tmp_path / "out"
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "edge robot-demo: finished: 4 captures, 4 analysed" in out
    assert "3 of 4 points covered, missed: P-L1-CT (preset 13)" in out
    assert "defects on the server: 1" in out

    system = tmp_path / "system"
    data_dir = system / "server-data"
    login_file = system / "dashboard-login.txt"
    assert stat.S_IMODE(login_file.stat().st_mode) == 0o600
    assert (
        f"dashboard: run  IRPATROL_DATA_DIR={data_dir.resolve()} .venv/bin/irpatrol serve  then open "
        f"http://127.0.0.1:8000/ and log in as demo-operator (password in {login_file.resolve()})"
    ) in out
    logins = read_logins(login_file)
    assert set(logins) == {"demo-operator", "demo-admin"}
    assert len(set(logins.values())) == 2
    assert all(len(pw) >= 16 for pw in logins.values())
    assert logins["demo-operator"] not in out  # the password is in the file only
    _check_dashboard_login(data_dir, logins)

    db = sqlite3.connect(data_dir / "irpatrol.db")
    rows = db.execute(
        "SELECT c.filename, c.lat, c.lon, c.fix_quality, p.code, c.status FROM captures c "
        "LEFT JOIN points p ON p.id = c.point_id ORDER BY c.filename"
    ).fetchall()
    assert [(r[0], r[4], r[5]) for r in rows] == [
        ("01_preset3_flir_t640_fuses.jpg", "P-C3-FUSE", "analyzed"),  # by the preset in its name
        ("02_preset11_flir_e40.jpg", "P-L1-DS-A", "analyzed"),
        ("03_preset12_flir_ax8.jpg", "P-L1-DS-B", "analyzed"),
        ("04_dji_zenmuse_xtr.jpg", "P-L1-DS-B", "analyzed"),  # by its BeiDou position
    ]
    # 07:41:56.3 lies between the log's fixes at 55.799 (31°14.8770') and 56.799 (31°14.8950'):
    # interpolated, not rounded
    lat0 = 31 + 14.8770 / 60
    lat1 = 31 + 14.8950 / 60
    fuses = rows[0]
    assert fuses[1] == pytest.approx(lat0 + (lat1 - lat0) * 0.501, abs=1e-7)
    assert {r[3] for r in rows} == {"single"}
    # S-DEMO's layout: uploaded with its control points, and every capture lies on the image
    width, height, georef = db.execute(
        "SELECT l.width, l.height, l.georef FROM station_layouts l JOIN assets a ON a.id = l.station_id "
        "WHERE a.code = 'S-DEMO'"
    ).fetchone()
    points = json.loads(georef)["control_points"]
    assert len(points) == 4
    fit = fit_layout([(p["lat"], p["lon"]) for p in points], [(p["x"], p["y"]) for p in points])
    assert fit.rms_px < 0.5
    for name, lat, lon, *_ in rows:
        x, y = fit.to_pixel(lat, lon)
        assert 0 < x < width, (name, x)
        assert 0 < y < height, (name, y)
    grades = db.execute(
        "SELECT f.subject, f.grade FROM findings f JOIN captures c ON c.id = f.capture_id "
        "WHERE c.filename LIKE '01_%' AND f.subject = 'P-C3-FUSE'"
    ).fetchall()
    assert grades == [("P-C3-FUSE", "general")]
    db.close()

    report = tmp_path / "patrol-report.pdf"
    assert report.read_bytes().startswith(b"%PDF")
    assert (tmp_path / "patrol-report.docx").stat().st_size > 10_000
    html = (tmp_path / "patrol-report.html").read_text(encoding="utf-8")
    assert "红外热像检测报告" in html
    assert "P-L1-CT" in html  # the missed point is listed
    assert (tmp_path / "defect-report.pdf").read_bytes().startswith(b"%PDF")
    with (tmp_path / "findings.csv").open(encoding="utf-8-sig") as fh:
        assert len(list(csv.reader(fh))) > 1


def _check_dashboard_login(data_dir: Path, logins: dict[str, str]) -> None:
    """The file's passwords log in through the API of a server on the demo's data; others do not."""
    from fastapi.testclient import TestClient

    from irpatrol.config import load_settings
    from irpatrol.server.app import create_app

    app = create_app(load_settings(data_dir=data_dir, database_url=None))
    with TestClient(app) as client:
        for name, password in logins.items():
            r = client.post("/api/v1/auth/login", json={"username": name, "password": password})
            assert r.status_code == 200, r.text
        wrong = client.post(
            "/api/v1/auth/login", json={"username": "demo-operator", "password": "demo-operator"}
        )
        assert wrong.status_code == 401
        token = client.post(
            "/api/v1/auth/login", json={"username": "demo-operator", "password": logins["demo-operator"]}
        ).json()["token"]
        layout = client.get("/api/v1/stations/S-DEMO/layout", headers={"Authorization": f"Bearer {token}"})
        assert layout.status_code == 200
        assert layout.json()["transform"]["kind"] == "affine"
