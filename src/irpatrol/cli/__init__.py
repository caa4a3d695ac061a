"""Command-line interface: ``irpatrol <command>``.

A package rather than one ``cli.py``: one module per command family keeps each
small (as rasterio's ``rio`` does), and the group lives in :mod:`irpatrol.cli.app`.
"""

from irpatrol.cli import (  # noqa: F401  (register)
    analyze_cmd,
    demo_cmd,
    edge_cmd,
    gnss_cmd,
    grading_cmds,
    read_cmds,
    report_cmd,
    server_cmds,
    trend_cmd,
)
from irpatrol.cli.allocator import keep_freed_memory
from irpatrol.cli.app import ExitStatus, cli

analyze_cmd.register(cli)
edge_cmd.register(cli)
gnss_cmd.register(cli)
grading_cmds.register(cli)
server_cmds.register(cli)
report_cmd.register(cli)
trend_cmd.register(cli)


def _dji_backend_from_environment() -> None:
    """Hand the IRPATROL_DJI_TSDK setting to the DJI reader (settings are loaded only when it is set)."""
    import os

    if os.environ.get("IRPATROL_DJI_TSDK"):
        from irpatrol.config import load_settings
        from irpatrol.formats.dji_backends import use_tsdk_library

        tsdk = load_settings().dji_tsdk
        use_tsdk_library(str(tsdk) if tsdk else None)


def main() -> None:
    """Console-script entry point."""
    keep_freed_memory()
    _dji_backend_from_environment()
    cli()


__all__ = ["ExitStatus", "cli", "main"]
