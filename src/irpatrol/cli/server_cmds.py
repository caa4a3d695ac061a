"""Server commands: ``serve``, ``worker``, ``db upgrade``, ``import-assets``, ``user add``, ``token create``.

Thin: each opens the server's runtime from the settings (``IRPATROL_DATA_DIR``,
``IRPATROL_DATABASE_URL``), calls :mod:`irpatrol.store` or :mod:`irpatrol.server`,
and prints.  They work while the server runs (the database is shared, SQLite in
WAL mode).  The server extra must be installed (``pip install irpatrol[server]``).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from irpatrol.cli.app import handle_errors
from irpatrol.errors import SettingsError

if TYPE_CHECKING:
    from irpatrol.server.runtime import Runtime


def _runtime(migrate: bool = True, **overrides: Any) -> Runtime:
    try:
        from irpatrol.server.runtime import open_runtime
    except ImportError as exc:
        raise SettingsError(
            "server extra",
            f"the server needs its extra packages: pip install 'irpatrol[server]' ({exc.name})",
        ) from exc
    from irpatrol.config import load_settings

    return open_runtime(
        load_settings(**{k: v for k, v in overrides.items() if v is not None}), migrate=migrate
    )


@click.command()
@click.option("--host", default=None, help="Address to listen on (default IRPATROL_HOST, 127.0.0.1).")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=None, help="Port (default IRPATROL_PORT, 8000)."
)
@click.option(
    "--workers",
    type=click.IntRange(0),
    default=None,
    help="Analysis worker threads in each API process (default IRPATROL_WORKERS, 1; 0 = none).",
)
@click.option(
    "--processes",
    type=click.IntRange(1),
    default=None,
    help="API processes sharing the port (default IRPATROL_PROCESSES, 1); use about one per core.",
)
@handle_errors
def serve(host: str | None, port: int | None, workers: int | None, processes: int | None) -> None:
    """Run the intranet server: REST API under /api/v1 and background analysis.

    Creates and migrates the database on first start.
    """
    import uvicorn

    from irpatrol.server.app import create_app

    rt = _runtime(host=host, port=port, workers=workers, processes=processes)
    s = rt.settings
    click.echo(
        f"irpatrol server on http://{s.host}:{s.port}/ (data {s.data_dir}, "
        f"database {rt.engine.dialect.name}, {s.processes} process(es), {s.workers} analysis worker(s) each)"
    )
    # the MQTT ingest runs once, in this (the first) process, beside the API
    ingest = _start_ingest(rt if s.processes == 1 else _runtime()) if s.mqtt_host else None
    try:
        if s.processes == 1:
            app = create_app(s, runtime=rt, start_worker=True)
            uvicorn.run(app, host=s.host, port=s.port, log_level="warning", access_log=False)
            return
        rt.close()
        _serve_processes(s)
    finally:
        if ingest is not None:
            ingest.stop()


def _start_ingest(rt: Runtime) -> Any:
    """The MQTT ingest of edge messages, started in a background thread."""
    from irpatrol.server.mqtt_ingest import MqttIngest

    ingest = MqttIngest.from_runtime(rt)
    ingest.start()
    s = rt.settings
    click.echo(f"edge messages from MQTT {s.mqtt_host}:{s.mqtt_port} ({s.mqtt_topic_prefix}/v1/+/...)")
    return ingest


def _serve_processes(s: Any) -> None:
    import os

    import uvicorn

    # each process builds its own app from the same settings (passed on in the environment)
    for name in ("data_dir", "database_url", "workers", "max_upload_mb", "rules"):
        value = getattr(s, name)
        if value is not None:
            os.environ[f"IRPATROL_{name.upper()}"] = str(value)
    uvicorn.run(
        "irpatrol.server.app:app_from_environment",
        factory=True,
        host=s.host,
        port=s.port,
        workers=s.processes,
        log_level="warning",
        access_log=False,
    )


@click.command("mqtt-ingest")
@click.option("--mqtt-host", default=None, help="Broker (default IRPATROL_MQTT_HOST).")
@click.option(
    "--mqtt-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Port (default IRPATROL_MQTT_PORT).",
)
@handle_errors
def mqtt_ingest(mqtt_host: str | None, mqtt_port: int | None) -> None:
    """Store edge agents' messages from the MQTT broker, then acknowledge them (docs/edge-protocol.md).

    `serve` runs the same ingest when IRPATROL_MQTT_HOST is set; run this instead to keep it
    apart from the API.  One ingest per IRPATROL_MQTT_CLIENT_ID.  Stops on Ctrl-C or SIGTERM.
    """
    import signal

    from irpatrol.server.mqtt_ingest import MqttIngest

    rt = _runtime(mqtt_host=mqtt_host, mqtt_port=mqtt_port)
    ingest = MqttIngest.from_runtime(rt)
    s = rt.settings
    click.echo(f"irpatrol mqtt-ingest: {s.mqtt_host}:{s.mqtt_port} -> database {rt.engine.dialect.name}")

    def _term(_sig: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _term)
    try:
        ingest.run()
    except KeyboardInterrupt:
        pass
    finally:
        rt.close()


@click.command()
@click.option("--workers", type=click.IntRange(1), default=2, show_default=True, help="Worker processes.")
@click.option(
    "--threads", is_flag=True, help="Threads instead of processes (lighter; analysis shares one core)."
)
@handle_errors
def worker(workers: int, threads: bool) -> None:
    """Run analysis workers against the server's database and queue (more than `serve` runs)."""
    from irpatrol.server.tasks import run_consumer

    rt = _runtime(migrate=False)
    click.echo(
        f"irpatrol worker: {workers} {'threads' if threads else 'processes'} on {rt.engine.dialect.name}"
    )
    run_consumer(rt, workers=workers, worker_type="thread" if threads else "process")


@click.group()
def db() -> None:
    """The server database."""


@db.command("upgrade")
@handle_errors
def db_upgrade() -> None:
    """Create the database or migrate it to the current schema."""
    from irpatrol.store.db import current_revision

    rt = _runtime()
    click.echo(f"database at revision {current_revision(rt.engine)} ({rt.engine.dialect.name})")


@click.command("import-assets")
@click.argument("path", type=click.Path(dir_okay=False))
@handle_errors
def import_assets(path: str) -> None:
    """Import or update the asset tree and inspection points from a CSV or YAML file (docs/server.md)."""
    from irpatrol.formats.base import read_source
    from irpatrol.store.assets import import_assets as do_import

    data = read_source(path)
    rt = _runtime()
    with rt.sessions() as s:
        counts = do_import(s, data, path=path, default_rules=rt.settings.rules)
        s.commit()
    click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()))


@click.group()
def user() -> None:
    """Server users."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "operator", "viewer"]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@handle_errors
def user_add(name: str, role: str, password_stdin: bool) -> None:
    """Add a user; without --password-stdin the user can hold tokens but not log in."""
    from irpatrol.store.accounts import create_user

    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise SettingsError("--password-stdin", "no password on standard input")
    rt = _runtime()
    with rt.sessions() as s:
        u = create_user(s, name, role, password)
        s.commit()
        click.echo(f"user {u.name} ({u.role}) added")


@click.group()
def token() -> None:
    """Bearer tokens for machines (robots, other systems)."""


@token.command("create")
@click.option("--user", "user_name", required=True, help="The user the token acts for.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(["read", "captures:write", "review", "assets:write", "admin"]),
    help="Limit the token (repeatable); default: everything the user's role allows.",
)
@click.option("--name", default=None, help="A label, e.g. the robot's id.")
@click.option(
    "--days", type=click.FloatRange(min=0, min_open=True), default=None, help="Expire after N days."
)
@handle_errors
def token_create(user_name: str, scopes: tuple[str, ...], name: str | None, days: float | None) -> None:
    """Create a token; the token alone is printed on the last line of stdout (shown only once)."""
    from datetime import timedelta

    from sqlalchemy import select

    from irpatrol.errors import ParameterError
    from irpatrol.server.security import audit
    from irpatrol.store.accounts import create_token
    from irpatrol.store.models import User

    rt = _runtime()
    with rt.sessions() as s:
        u = s.scalar(select(User).where(User.name == user_name))
        if u is None:
            raise ParameterError("--user", user_name, "an existing user (irpatrol user add)")
        secret, row = create_token(
            s, u, scopes=scopes or None, name=name, lifetime=timedelta(days=days) if days else None
        )
        audit(s, "cli", "token.create", "token", row.id, user=u.name, scopes=row.scopes)
        s.commit()
        click.echo(f"token for {u.name}, scopes {' '.join(row.scopes)}", err=True)
    click.echo(secret)


def register(group: click.Group) -> None:
    """Add the server commands to the command group."""
    for cmd in (serve, worker, mqtt_ingest, db, import_assets, user, token):
        group.add_command(cmd)
