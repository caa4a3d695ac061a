"""Images stored content-addressed by SHA-256 under the data folder.

``<root>/ab/cd/abcd…`` holds the bytes whose SHA-256 is ``abcd…``.  A file is
written to a temporary name, flushed to disk, renamed into place and its folder
flushed, so a stored blob is complete or absent, never half-written, and storing
the same bytes twice is free.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from irpatrol.durable import write_file_durably
from irpatrol.errors import FileAccessError

_HEX64 = re.compile(r"[0-9a-f]{64}")


class BlobStore:
    """Content-addressed files under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        """Where the blob ``sha256`` lives (it may not exist)."""
        if not _HEX64.fullmatch(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        """True if the blob is stored."""
        return self.path(sha256).is_file()

    def put(self, data: bytes) -> str:
        """Store ``data`` durably; return its SHA-256 hex digest."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.is_file() and target.stat().st_size == len(data):
            return digest
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_file_durably(target, data)
        except OSError as exc:
            raise FileAccessError(target, f"cannot store image ({exc.strerror or exc})") from exc
        return digest

    def get(self, sha256: str) -> bytes:
        """The blob's bytes; :class:`FileAccessError` when it is missing."""
        p = self.path(sha256)
        try:
            return p.read_bytes()
        except OSError as exc:
            raise FileAccessError(p, f"stored image is missing ({exc.strerror or exc})") from exc
