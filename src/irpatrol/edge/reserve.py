"""Space held back on the outbox's disk (a ballast file), to be given up when the disk is full.

At 100 % disk SQLite cannot even delete a row, so an outbox that filled its disk could never
ack or clean up again.  The outbox therefore keeps ``size_bytes`` allocated in a ballast file
beside its database; when a write of an ack, a cleanup or an alarm fails for lack of space,
the ballast is deleted and the write retried, and the ballast is put back first thing once
the disk has room again.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
"""``errno`` values meaning the disk (or the quota) is full."""
_CHUNK = 1024 * 1024


class DiskReserve:
    """A ballast file of ``size_bytes`` at ``path``; ``margin_bytes`` more must be free to put it back."""

    def __init__(self, path: Path, size_bytes: int, *, margin_bytes: int) -> None:
        self.path = Path(path)
        self.size_bytes = size_bytes
        self.margin_bytes = margin_bytes

    @property
    def held(self) -> bool:
        """True while the ballast holds the reserve on the disk."""
        return self.path.exists()

    def restore(self) -> bool:
        """Allocate the ballast if the disk has room for it and a margin; True if it is held after."""
        if self.size_bytes == 0:
            return False
        if self.held:
            return True
        if shutil.disk_usage(self.path.parent).free < self.size_bytes + self.margin_bytes:
            return False
        tmp = self.path.with_name(self.path.name + ".part")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                try:
                    os.posix_fallocate(fd, 0, self.size_bytes)
                except OSError as exc:  # a file system without fallocate: write zeros
                    if exc.errno in FULL_ERRNOS:
                        raise
                    zeros = bytes(min(_CHUNK, self.size_bytes))
                    left = self.size_bytes
                    for _ in range(self.size_bytes // len(zeros) + 2):  # bounded
                        if left <= 0:
                            break
                        left -= os.write(fd, zeros[: min(left, len(zeros))])
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            log.warning("%s: could not put the disk reserve back (%s)", self.path, exc.strerror)
            return False
        return True

    def release(self) -> bool:
        """Delete the ballast to free its space; True if there was one."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        log.warning("%s: disk full, reserve released for acks, cleanup and alarms", self.path.parent)
        return True


__all__ = ["FULL_ERRNOS", "DiskReserve"]
