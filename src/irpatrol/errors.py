"""The one error hierarchy of irpatrol.

Every error the library raises on purpose derives from :class:`IrpatrolError`.
Leaves also inherit the builtin a caller would expect (``ValueError`` for bad
data, ``OSError`` for files that cannot be read), so ``except ValueError`` keeps
working.  Messages name the file or parameter and say what was expected.

:func:`failure_kind` sorts any exception into what a worker should do with it:
fail the input permanently, retry later, or alert a developer.

This module imports nothing from irpatrol, so every layer may use it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

FailureKind = Literal["bad-input", "transient", "bug"]
"""What a failure means for a job: see :func:`failure_kind`."""


class IrpatrolError(Exception):
    """Root of every error raised on purpose by irpatrol."""


class ParameterError(IrpatrolError, ValueError):
    """A function argument is out of its valid domain.

    ``parameter`` is the argument's name, ``value`` what was given.
    """

    def __init__(self, parameter: str, value: object, expected: str) -> None:
        self.parameter = parameter
        self.value = value
        self.expected = expected
        super().__init__(f"`{parameter}` must be {expected}, got {value!r}")


class FormatError(IrpatrolError, ValueError):
    """A file could not be read as thermal data.

    ``path`` names the file (or ``<bytes>`` for in-memory data), ``detail`` says
    what is wrong, and ``offset`` is the byte offset where known.
    """

    def __init__(self, path: str | Path | None, detail: str, *, offset: int | None = None) -> None:
        self.path = str(path) if path is not None else "<bytes>"
        self.detail = detail
        self.offset = offset
        where = f" (at byte {offset})" if offset is not None else ""
        super().__init__(f"{self.path}: {detail}{where}")


class UnsupportedFormatError(FormatError):
    """The file is readable but not a radiometric format irpatrol supports.

    Raised for non-radiometric JPEGs, DJI R-JPEG temperatures without a DJI back-end, palette
    JPEGs with proprietary trailers, and unknown files.
    """


class CorruptFileError(FormatError):
    """The file claims a supported format but its structure is broken or truncated."""


class DamagedFrameError(CorruptFileError):
    """One frame of a sequence is damaged; the frames before it were read whole.

    Raised by :meth:`irpatrol.formats.ThermalFile.frames` in place of the damaged
    frame.  ``frame_index`` is the damaged frame's index, which is also how many
    complete frames came before it; ``frame_offset`` is the byte where that frame
    starts, ``offset`` the byte where it breaks, and ``data_size`` the size of the
    data (for a cut file: the byte where it is cut).
    """

    def __init__(
        self,
        path: str | Path | None,
        detail: str,
        *,
        frame_index: int,
        frame_offset: int,
        offset: int | None,
        data_size: int,
    ) -> None:
        self.frame_index = frame_index
        self.frame_offset = frame_offset
        self.data_size = data_size
        super().__init__(
            path, f"frame {frame_index} (from byte {frame_offset}) is damaged: {detail}", offset=offset
        )


class CalibrationError(FormatError):
    """A file's calibration constants are absent or physically absurd.

    ``field`` names the constant (e.g. ``PlanckR1``).
    """

    def __init__(self, path: str | Path | None, field: str, value: object, expected: str) -> None:
        self.field = field
        self.value = value
        super().__init__(path, f"calibration constant {field}={value!r} is absurd: expected {expected}")


class FileAccessError(IrpatrolError, OSError):
    """A file or folder could not be opened, read or written."""

    def __init__(self, path: str | Path, detail: str) -> None:
        self.path = str(path)
        self.detail = detail
        super().__init__(f"{self.path}: {detail}")


class DataFileError(IrpatrolError, ValueError):
    """A configuration or data file (rule pack, points file, settings) is malformed.

    ``path``, ``line`` (1-based, where known) and ``field`` locate the problem.
    """

    def __init__(
        self,
        path: str | Path | None,
        detail: str,
        *,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = str(path) if path is not None else "<data>"
        self.line = line
        self.field = field
        self.detail = detail
        loc = self.path
        if line is not None:
            loc += f":{line}"
        fld = f" field `{field}`:" if field else ""
        super().__init__(f"{loc}:{fld} {detail}")


class RulePackError(DataFileError):
    """A rule pack (grading table) is malformed."""


class PointsFileError(DataFileError):
    """An inspection-points file is malformed."""


class SettingsError(IrpatrolError, ValueError):
    """A setting (an ``IRPATROL_*`` environment variable) has a value that is not allowed.

    ``variable`` names the environment variable.
    """

    def __init__(self, variable: str, detail: str) -> None:
        self.variable = variable
        self.detail = detail
        super().__init__(f"setting {variable}: {detail}")


class OutboxFullError(IrpatrolError, OSError):
    """The edge agent's outbox refused an item: its byte budget or its disk is full.

    ``directory`` is the outbox folder, ``needed`` the bytes the item would take,
    ``used`` and ``limit`` the bytes in use and allowed for that item's lane (``None``
    when the disk itself is full).  Nothing already committed is affected; retry once
    acknowledged items have been cleaned up.
    """

    def __init__(
        self, directory: str | Path, detail: str, *, needed: int, used: int | None, limit: int | None
    ) -> None:
        self.directory = str(directory)
        self.needed = needed
        self.used = used
        self.limit = limit
        self.detail = detail
        super().__init__(f"outbox {self.directory}: {detail}")


class EdgeConfigError(DataFileError):
    """An edge agent configuration file (TOML) is malformed."""


class AnalysisError(IrpatrolError, ValueError):
    """An analysis could not be carried out on the given data (e.g. alignment failed)."""


class RecordNotFoundError(IrpatrolError, LookupError):
    """A record asked for by id or code (execution, finding, station) is not in the database.

    ``kind`` names the record type, ``ident`` the id or code asked for.
    """

    def __init__(self, kind: str, ident: object) -> None:
        self.kind = kind
        self.ident = ident
        super().__init__(f"{kind} {ident} does not exist")


class GnssError(IrpatrolError, ValueError):
    """A GNSS log or stream could not be read as NMEA 0183 (no valid sentence in it, ...).

    ``source`` names the file or stream (``host:port``, ``/dev/ttyUSB0``), ``detail``
    says what is wrong.  Damaged sentences inside a readable log are counted, not raised.
    """

    def __init__(self, source: str | Path, detail: str) -> None:
        self.source = str(source)
        self.detail = detail
        super().__init__(f"{self.source}: {detail}")


class GnssSourceError(IrpatrolError, ConnectionError):
    """A GNSS receiver could not be reached or its connection broke (TCP, serial port).

    ``source`` names it (``host:port``, ``/dev/ttyUSB0``); worth a retry.
    """

    def __init__(self, source: str, detail: str) -> None:
        self.source = source
        self.detail = detail
        super().__init__(f"{source}: {detail}")


def failure_kind(exc: BaseException) -> FailureKind:
    """Classify an exception raised by a job: ``"bad-input"``, ``"transient"`` or ``"bug"``.

    * ``"bad-input"``: an :class:`IrpatrolError` other than :class:`FileAccessError` (a
      damaged or unsupported file, a malformed rule pack or points file, a parameter
      out of range).  Retrying the same input gives the same answer: fail it permanently.
    * ``"transient"``: :class:`FileAccessError`, :class:`OutboxFullError`,
      :class:`GnssSourceError` or any other :class:`OSError` (disk full, permission,
      network file system, a file still being written).  Worth a retry.
    * ``"bug"``: anything else (``TypeError``, ``KeyError``, ``AssertionError`` ...).  The
      readers translate only the low-level errors that damaged data causes (see
      :func:`irpatrol.formats.base.is_damage`), so these come from defects in irpatrol:
      alert, keep the input for a replay.

    ``KeyboardInterrupt``, ``SystemExit`` and other non-``Exception`` exceptions are
    ``"bug"`` too; a worker should normally let them propagate before asking.

    >>> failure_kind(CorruptFileError("a.jpg", "truncated"))
    'bad-input'
    >>> failure_kind(FileAccessError("a.jpg", "cannot be read"))
    'transient'
    >>> failure_kind(TypeError("oops"))
    'bug'
    """
    if isinstance(exc, FileAccessError | OutboxFullError | GnssSourceError):
        return "transient"
    if isinstance(exc, IrpatrolError):
        return "bad-input"
    if isinstance(exc, OSError):
        return "transient"
    return "bug"
