"""The demo's second half: the whole system on one machine, as it runs at a substation.

Starts a Mosquitto broker and ``irpatrol serve`` (API, background workers and the MQTT
ingest) on free loopback ports with a fresh data folder; imports the demo station's asset
tree and makes a patrol plan of four of its points; gives the dashboard's users random
passwords (``system/dashboard-login.txt``, mode 0600) and uploads a site plan of the
station drawn around the captures' positions as its layout; lays the bundled images out as a
robot's patrol (file names carrying the camera preset, sidecars carrying the capture time);
then runs ``irpatrol edge run`` on it as the robot would: the agent downloads the plan,
analyses each image on site, positions it from a real BeiDou NMEA log, commits every result
to its durable outbox and forwards it over MQTT (records) and HTTP (images).  Once the agent
has drained, the demo reads the patrol back through the REST API, writes the patrol report
(PDF, Word, HTML) and a defect report, exports the findings as CSV, prints where to look
(the dashboard too) and stops everything it started; :func:`serve_dashboard` then serves
the dashboard on that data when asked (``irpatrol demo --serve``).

Every step is a real component: the same processes, protocols and files a deployment uses.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import click

from irpatrol.errors import FileAccessError, SettingsError

STARTUP_TIMEOUT_S = 30.0
AGENT_TIMEOUT_S = 180.0
NMEA_LOG = "beidou-bd.nmea"
"""A real receiver log with BeiDou (``BD``) talkers, bundled with the demo (provenance: demo/README.md)."""


@dataclass(frozen=True)
class PatrolStop:
    """One stop of the demo patrol: which image, how the robot names it, what it reports."""

    image: str
    preset: str | None
    taken_at: str
    """ISO 8601 UTC, inside the NMEA log so that the GNSS track positions the capture."""
    point: str
    """The plan's point the capture is for (by its preset, or by its position)."""


PATROL = (
    PatrolStop("flir_t640_fuses.jpg", "3", "2015-02-25T07:41:56.3Z", "P-C3-FUSE"),
    PatrolStop("flir_e40.jpg", "11", "2015-02-25T07:41:57.1Z", "P-L1-DS-A"),
    PatrolStop("flir_ax8.jpg", "12", "2015-02-25T07:41:58.2Z", "P-L1-DS-B"),
    PatrolStop("dji_zenmuse_xtr.jpg", None, "2015-02-25T07:41:59.5Z", "P-L1-DS-B"),
)
"""The patrol: three captures name their preset; the last is matched by its GNSS position.

The plan also holds P-L1-CT (preset 13), which no capture covers: the execution reports it
missed.
"""

DASHBOARD_USERS = (("demo-operator", "operator"), ("demo-admin", "admin"))
"""The people of the demo's dashboard: name and role (passwords are drawn at each run)."""

LOGIN_FILE = "dashboard-login.txt"
"""Where in ``<out>/system/`` the demo writes the dashboard passwords (mode 0600)."""

DASHBOARD_PORT = 8000
"""The port ``irpatrol serve`` listens on by default, and ``demo --serve`` tries first."""

PLAN_POINTS = ("P-C3-FUSE", "P-L1-DS-A", "P-L1-DS-B", "P-L1-CT")
GNSS_POINT = ("P-L1-DS-B", 31.2482383, 121.5874067)
"""Where the robot stands for P-L1-DS-B (lat, lon in degrees): the log's last BeiDou fix."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _demo_file(name: str) -> Path:
    return Path(str(resources.files("irpatrol") / "demo" / name))


def find_mosquitto() -> Path | None:
    """The Mosquitto broker binary (Debian installs it in /usr/sbin, off most users' PATH)."""
    for candidate in (shutil.which("mosquitto"), "/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"):
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise FileAccessError(log, f"{what} exited ({proc.returncode}); see its log")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise FileAccessError(log, f"{what} did not listen on 127.0.0.1:{port} within {STARTUP_TIMEOUT_S:g} s")


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def _broker(folder: Path) -> Iterator[int]:
    """A Mosquitto on a free loopback port with persistence in ``folder``; yields its port."""
    binary = find_mosquitto()
    if binary is None:
        raise SettingsError(
            "mosquitto",
            "the whole-system demo needs the Mosquitto MQTT broker (scripts/setup.sh all installs "
            "Debian's package); run `irpatrol demo --no-system` for the analysis alone",
        )
    data = folder / "mosquitto-data"
    data.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    conf = folder / "mosquitto.conf"
    log = folder / "mosquitto.log"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
        f"persistence_location {data}/\nmax_queued_messages 0\n"
        f"log_type error\nlog_type warning\nlog_dest file {log}\n",
        encoding="utf-8",
    )
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # started as root, Mosquitto drops to "mosquitto"
        log.touch()
        with contextlib.suppress(KeyError, LookupError, OSError):
            shutil.chown(data, user="mosquitto")
            shutil.chown(log, user="mosquitto")
    proc = subprocess.Popen(
        [str(binary), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_port(port, proc, log, "mosquitto")
        yield port
    finally:
        _stop(proc)


def _bootstrap(data_dir: Path, login_file: Path) -> dict[str, Any]:
    """Database, users with tokens, the demo station, and a patrol plan.

    The dashboard's two people, ``demo-operator`` and ``demo-admin`` (who uploads the
    station layout), get fresh random passwords, written only to ``login_file`` (mode
    0600): a demo left running must not open with a password anyone can read in the code.
    """
    from sqlalchemy import select

    from irpatrol.config import load_settings
    from irpatrol.server.runtime import open_runtime
    from irpatrol.store.accounts import create_token, create_user
    from irpatrol.store.assets import import_assets
    from irpatrol.store.models import Asset, Point
    from irpatrol.store.plans import create_plan

    rt = open_runtime(load_settings(data_dir=data_dir, database_url=None))
    try:
        assets = _demo_file("station.assets.yaml")
        passwords = {name: secrets.token_urlsafe(12) for name, _ in DASHBOARD_USERS}
        with rt.sessions() as s:
            users = {name: create_user(s, name, role, passwords[name]) for name, role in DASHBOARD_USERS}
            op_token, _ = create_token(s, users["demo-operator"], name="demo")
            admin_token, _ = create_token(s, users["demo-admin"], name="demo-layout")
            robot = create_user(s, "robot-demo", "operator", None)
            robot_token, _ = create_token(s, robot, scopes=("read", "captures:write"), name="robot-demo")
            import_assets(s, assets.read_bytes(), path=str(assets), default_rules=rt.settings.rules)
            s.flush()
            station = s.scalar(select(Asset).where(Asset.kind == "station", Asset.code == "S-DEMO"))
            if station is None:
                raise FileAccessError(assets, "has no station S-DEMO")
            points = {p.code: p for p in s.scalars(select(Point).where(Point.code.in_(PLAN_POINTS)))}
            plan = create_plan(
                s,
                name="示范站红外普测 / demo infrared patrol",
                station_id=station.id,
                patrol_type="infrared",
                point_ids=[points[c].id for c in PLAN_POINTS],
            )
            s.commit()
            plan_id = plan.id
    finally:
        rt.close()
    _write_logins(login_file, data_dir, passwords)
    return {
        "operator_token": op_token,
        "admin_token": admin_token,
        "robot_token": robot_token,
        "plan_id": plan_id,
    }


def _write_logins(path: Path, data_dir: Path, passwords: dict[str, str]) -> None:
    """The dashboard logins, readable by the demo's user alone (created 0600, never wider)."""
    lines = [
        "# irpatrol demo: dashboard logins, random for this run (user name, then password).",
        f"# Serve: IRPATROL_DATA_DIR={data_dir} irpatrol serve, then open http://127.0.0.1:8000/",
        *(f"{name} {pw}" for name, pw in passwords.items()),
    ]
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    path.chmod(0o600)  # whatever the umask


def read_logins(path: Path) -> dict[str, str]:
    """User name → password from a login file written by the demo."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, pw = line.partition(" ")
            out[name] = pw.strip()
    return out


def _upload_layout(http: Any, folder: Path) -> None:
    """Draw S-DEMO's site plan around the patrol's capture positions and upload it as its layout.

    The positions are where the NMEA log puts each capture (as the agent will); the plan
    spans their bounding box plus a margin, so the dashboard draws every capture on it.
    The upload goes through ``PUT /stations/S-DEMO/layout`` as an admin's would.
    """
    from irpatrol.cli.demo_layout import Stop, capture_positions, draw_station_plan

    positions = capture_positions(_demo_file(NMEA_LOG), [stop.taken_at for stop in PATROL])
    stops = [Stop(stop.point, lat, lon) for stop, (lat, lon) in zip(PATROL, positions, strict=True)]
    plan = draw_station_plan(stops, title="S-DEMO 示范110kV变电站")
    image = folder / "station-layout.png"
    image.write_bytes(plan.png)
    r = http.put(
        "/stations/S-DEMO/layout",
        files={"image": (image.name, plan.png, "image/png")},
        data={"control_points": json.dumps(plan.control_points)},
    )
    r.raise_for_status()
    fit = r.json()["transform"]
    click.echo(
        f"layout: {image.name} ({plan.width}×{plan.height} px, {fit['m_per_px']:.4f} m/px, "
        f"{len(plan.control_points)} control points) uploaded for S-DEMO"
    )


def _lay_out_patrol(folder: Path) -> Path:
    """The bundled images as the robot's camera leaves them: preset in the name, a sidecar each."""
    patrol = folder / "patrol"
    patrol.mkdir(parents=True, exist_ok=True)
    for n, stop in enumerate(PATROL, start=1):
        stem = f"{n:02d}" + (f"_preset{stop.preset}" if stop.preset else "") + f"_{Path(stop.image).stem}"
        target = patrol / f"{stem}.jpg"
        # the sidecar first, as a robot writes it (the agent reads it with the image)
        (patrol / f"{stem}.json").write_text(json.dumps({"taken_at": stop.taken_at}), encoding="utf-8")
        shutil.copyfile(_demo_file(stop.image), target)
    return patrol


def _edge_config(
    folder: Path, *, patrol: Path, server: str, token: str, plan_id: int, mqtt_port: int
) -> Path:
    code, lat, lon = GNSS_POINT
    text = f"""# Written by irpatrol demo: the robot's settings for this patrol (docs/edge.md).
robot_id = "robot-demo"
station = "S-DEMO"
outbox_dir = {json.dumps(str(folder / "edge-outbox"))}
source = "replay"
replay_path = {json.dumps(str(patrol))}
replay_rate_hz = 4.0
rules = "dlt664-2016"
ambient_c = 25.0
nmea_source = "file"
nmea_file = {json.dumps(str(_demo_file(NMEA_LOG)))}
position_max_age_s = 2.0
match_radius_m = 5.0
server_url = {json.dumps(server)}
server_token = {json.dumps(token)}
plan_id = {plan_id}
mqtt_host = "127.0.0.1"
mqtt_port = {mqtt_port}
drain_on_finish_s = 60.0
telemetry_interval_s = 1.0

[[points]]
code = "{code}"
lat = {lat}
lon = {lon}
"""
    path = folder / "edge.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_system_demo(files: Sequence[Path], out: Path) -> dict[str, Any]:
    """Run the whole system on the demo patrol; return what the server holds (also printed)."""
    import httpx

    out = out.resolve()  # the agent's settings file resolves relative paths against its own folder
    folder = out / "system"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    data_dir = folder / "server-data"
    login_file = folder / LOGIN_FILE
    boot = _bootstrap(data_dir, login_file)
    patrol = _lay_out_patrol(folder)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {boot['operator_token']}"}
    with _broker(folder) as mqtt_port:
        click.echo(f"broker: Mosquitto on 127.0.0.1:{mqtt_port}")
        env = {
            **os.environ,
            "IRPATROL_DATA_DIR": str(data_dir),
            "IRPATROL_HOST": "127.0.0.1",
            "IRPATROL_PORT": str(port),
            "IRPATROL_WORKERS": "1",
            "IRPATROL_MQTT_HOST": "127.0.0.1",
            "IRPATROL_MQTT_PORT": str(mqtt_port),
        }
        env.pop("IRPATROL_DATABASE_URL", None)
        server_log = folder / "server.log"
        with server_log.open("wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "irpatrol", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            _wait_port(port, server, server_log, "irpatrol serve")
            click.echo(f"server: irpatrol serve on {base}/ (API {base}/docs; data {data_dir})")
            admin = {"Authorization": f"Bearer {boot['admin_token']}"}
            with httpx.Client(base_url=f"{base}/api/v1", headers=admin, timeout=60.0) as http:
                _upload_layout(http, folder)
            config = _edge_config(
                folder,
                patrol=patrol,
                server=base,
                token=boot["robot_token"],
                plan_id=boot["plan_id"],
                mqtt_port=mqtt_port,
            )
            click.echo(
                f"robot: irpatrol edge run --config {config} ({len(PATROL)} captures, NMEA {NMEA_LOG})"
            )
            _run_agent(config, folder / "edge.log")
            execution_id = _latest_execution(data_dir, boot["plan_id"])
            with httpx.Client(base_url=f"{base}/api/v1", headers=headers, timeout=60.0) as http:
                summary = _read_back(http, execution_id, out)
        finally:
            _stop(server)
    click.echo(f"\nwhere to look: {summary['report']} (patrol report; also .docx and .html beside it)")
    if summary.get("defect_report"):
        click.echo(f"               {summary['defect_report']} (the worst defect's report)")
    click.echo(f"               {out / 'findings.csv'} (findings with State Grid field codes)")
    click.echo(f"               {folder}/ (server data, robot outbox, logs; the services have stopped)")
    click.echo(
        f"dashboard: run  IRPATROL_DATA_DIR={data_dir} .venv/bin/irpatrol serve  then open "
        f"http://127.0.0.1:{DASHBOARD_PORT}/ and log in as demo-operator (password in {login_file})"
    )
    click.echo("           (or run `irpatrol demo --serve`, which keeps it running for you)")
    return {**summary, "data_dir": data_dir, "login_file": login_file}


def serve_dashboard(data_dir: Path, login_file: Path) -> None:
    """``irpatrol serve`` on the demo's data until Ctrl-C, with the URL and login printed.

    Port :data:`DASHBOARD_PORT` when free, another free loopback port otherwise; no MQTT
    ingest (the demo's broker has stopped), so it is the dashboard and the REST API.
    """
    port = DASHBOARD_PORT
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            port = _free_port()
    env = {
        **os.environ,
        "IRPATROL_DATA_DIR": str(data_dir),
        "IRPATROL_HOST": "127.0.0.1",
        "IRPATROL_PORT": str(port),
        "IRPATROL_WORKERS": "1",
    }
    for name in ("IRPATROL_DATABASE_URL", "IRPATROL_MQTT_HOST", "IRPATROL_MQTT_PORT"):
        env.pop(name, None)
    log_path = login_file.parent / "dashboard-server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "irpatrol", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_port(port, server, log_path, "irpatrol serve")
        click.echo(
            f"\ndashboard: http://127.0.0.1:{port}/  log in as demo-operator (password in {login_file}; "
            "demo-admin's too)"
        )
        click.echo(f"           server log {log_path}; press Ctrl-C to stop it")
        with contextlib.suppress(KeyboardInterrupt):
            server.wait()
        if server.returncode not in (None, 0, -signal.SIGINT, -signal.SIGTERM):
            raise FileAccessError(log_path, f"irpatrol serve exited ({server.returncode}); see its log")
    finally:
        _stop(server)
        click.echo("dashboard server stopped")


def _run_agent(config: Path, log_path: Path) -> None:
    """``irpatrol edge run``: replays the patrol, then drains its outbox; its summary is echoed."""
    with log_path.open("wb") as log:
        agent = subprocess.Popen(
            [sys.executable, "-m", "irpatrol", "edge", "run", "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            agent.wait(timeout=AGENT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _stop(agent)
            raise FileAccessError(
                log_path, f"the edge agent did not finish in {AGENT_TIMEOUT_S:g} s"
            ) from None
    text = log_path.read_text(encoding="utf-8", errors="replace")
    for line in text.splitlines():
        if line.startswith(("edge ", "plan ")):
            click.echo(f"  {line}")
    if agent.returncode != 0:
        raise FileAccessError(log_path, f"the edge agent exited with status {agent.returncode}; see its log")


def _latest_execution(data_dir: Path, plan_id: int) -> int:
    """The id of the plan's newest execution (the one the agent just ran)."""
    from sqlalchemy import select

    from irpatrol.config import load_settings
    from irpatrol.server.runtime import open_runtime
    from irpatrol.store.models import Execution

    rt = open_runtime(load_settings(data_dir=data_dir, database_url=None))
    try:
        with rt.read_sessions() as s:
            ex_id = s.scalar(
                select(Execution.id).where(Execution.plan_id == plan_id).order_by(Execution.id.desc())
            )
    finally:
        rt.close()
    if ex_id is None:
        raise FileAccessError(data_dir, f"the agent started no execution of plan {plan_id}; see edge.log")
    return int(ex_id)


def _read_back(http: Any, execution_id: int, out: Path) -> dict[str, Any]:
    """The patrol as the server holds it: execution, captures with positions, findings, reports."""
    ex = http.get(f"/executions/{execution_id}").json()
    missed = ", ".join(f"{m['code']} (preset {m['preset_id']})" for m in ex["missed"]) or "none"
    click.echo(f"  execution {ex['id']}: {ex['counts']['covered']} of {ex['counts']['planned']} points "
               f"covered, missed: {missed}")  # fmt: skip
    captures = http.get("/captures", params={"execution_id": ex["id"], "limit": 100}).json()["items"]
    for c in sorted(captures, key=lambda c: c["id"]):
        full = http.get(f"/captures/{c['id']}").json()
        where = (
            f"{full['lat']:.6f}, {full['lon']:.6f} ({full['fix_quality']})"
            if full.get("lat") is not None
            else "no position"
        )
        grades = ", ".join(f"{f['subject']} {f['grade']}" for f in full["findings"]) or "no findings"
        click.echo(f"  capture {full['id']} {full['filename']}: {where}; {grades}")
    defects = http.get("/findings", params={"min_grade": 1}).json()
    click.echo(f"  defects on the server: {defects['total']}")
    report = out / "patrol-report.pdf"
    for fmt in ("pdf", "docx", "html"):
        r = http.get(f"/executions/{ex['id']}/report", params={"format": fmt, "lang": "zh"})
        r.raise_for_status()
        report.with_suffix(f".{fmt}").write_bytes(r.content)
    defect_report = None
    if defects["items"]:
        worst = max(defects["items"], key=lambda f: (f["grade_value"], -f["id"]))
        r = http.get(f"/findings/{worst['id']}/report", params={"format": "pdf", "lang": "zh"})
        r.raise_for_status()
        defect_report = out / "defect-report.pdf"
        defect_report.write_bytes(r.content)
    export = http.get("/exports/findings.csv")
    export.raise_for_status()
    (out / "findings.csv").write_bytes(export.content)
    return {
        "execution": ex,
        "captures": captures,
        "defects": defects["total"],
        "report": report,
        "defect_report": defect_report,
    }
