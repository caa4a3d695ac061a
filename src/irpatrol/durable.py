"""Writing a file so that it is complete or absent after a crash (pure standard library).

Shared by the server's blob store and the edge agent's outbox, which may not import each
other.  The order is what makes a committed row's file safe: the bytes go to a temporary
name in the target's folder, are flushed to disk (``fsync``), renamed over the target
(atomic on POSIX) and the folder is flushed, so the rename itself survives a power cut.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (a rename or a new file in it) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file_durably(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` via a flushed temporary file, rename and a flushed folder.

    Raises the :class:`OSError` of the failing step (the temporary file is removed), so
    callers decide what a full disk means for them.
    """
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except OSError:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fsync_dir(target.parent)
