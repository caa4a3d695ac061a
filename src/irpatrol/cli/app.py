"""The ``irpatrol`` command group, exit codes and the one place errors become messages.

The CLI is a thin shell over the library: each command module parses options,
calls library functions and prints.  Library errors become one line on stderr and
a non-zero exit status here, nowhere else.
"""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from irpatrol import __version__
from irpatrol.errors import (
    DataFileError,
    FileAccessError,
    FormatError,
    GnssError,
    IrpatrolError,
    ParameterError,
    SettingsError,
)


class ExitStatus(enum.IntEnum):
    """Process exit codes of the ``irpatrol`` command."""

    SUCCESS = 0
    ERROR = 1
    USAGE = 2
    BAD_INPUT = 3
    """A file could not be read as thermal data (unsupported, corrupt, absurd constants) or as NMEA."""
    PARTIAL = 4
    """A batch finished but some files failed; they are listed at the end."""
    BAD_DATA_FILE = 5
    """A rule pack, points file or other data file is malformed."""


F = TypeVar("F", bound=Callable[..., Any])


def exit_code_for(exc: IrpatrolError) -> ExitStatus:
    """The exit status a library error maps to."""
    if isinstance(exc, FormatError | FileAccessError | GnssError):
        return ExitStatus.BAD_INPUT
    if isinstance(exc, DataFileError):
        return ExitStatus.BAD_DATA_FILE
    if isinstance(exc, ParameterError | SettingsError):
        return ExitStatus.USAGE
    return ExitStatus.ERROR


def _debug() -> bool:
    """The IRPATROL_DEBUG setting, read only when an internal error is being reported."""
    from irpatrol.config import load_settings  # pydantic-settings: only on this rare path

    try:
        return load_settings().debug
    except IrpatrolError:
        return False


def _quiet_broken_pipe() -> None:
    """The reader of stdout went away (``irpatrol analyze DIR | head``): exit quietly, as Unix tools do.

    stdout is pointed at the null device first, so that Python's final flush of the
    unwritable buffer at exit does not print another error.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests, embedding)
        pass
    sys.exit(int(ExitStatus.ERROR))


def handle_errors(func: F) -> F:
    """Run a command; an error prints one line to stderr and exits non-zero.

    An :class:`IrpatrolError` is the user's problem and says what to fix.  A closed
    stdout pipe ends the command quietly.  Anything else is a bug: one line asking for
    a report (``IRPATROL_DEBUG=1`` shows the traceback instead).
    """

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except BrokenPipeError:
            _quiet_broken_pipe()
        except IrpatrolError as exc:
            click.echo(f"irpatrol: error: {exc}", err=True)
            sys.exit(int(exit_code_for(exc)))
        except Exception as exc:
            if _debug():
                raise
            click.echo(
                f"irpatrol: internal error, please report it: {type(exc).__name__}: {exc} "
                "(IRPATROL_DEBUG=1 shows the traceback)",
                err=True,
            )
            sys.exit(int(ExitStatus.ERROR))

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="irpatrol")
def cli() -> None:
    """irpatrol: read radiometric thermal images, measure, find and grade defects."""
