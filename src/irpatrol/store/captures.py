"""Accepting an uploaded capture: check it, store it, record it once.

The order makes an acknowledged upload durable and a retried one harmless:
the file is checked as a radiometric image (headers only), stored
content-addressed and flushed to disk, then the row is inserted and committed
with the client's idempotency key unique in the table.  Only then does the API
answer 201.  The same key again finds the same row (200); a race between two
requests with one key is settled by the unique constraint.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from irpatrol.errors import FormatError, ParameterError
from irpatrol.store.blobs import BlobStore
from irpatrol.store.models import FIX_QUALITIES, Capture, Execution, PatrolPlan, Point

_BAD_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


@dataclass(frozen=True, kw_only=True)
class CaptureFields:
    """What the uploader says about a capture (all optional)."""

    point_id: int | None = None
    execution_id: int | None = None
    taken_at: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    fix_quality: str | None = None
    ambient_c: float | None = None
    humidity: float | None = None
    wind_ms: float | None = None
    load_current_a: float | None = None
    load_ratio: float | None = None

    def check(self) -> None:
        """Raise :class:`ParameterError` for a value outside its physical range."""
        ranges = {
            "lat": (-90.0, 90.0),
            "lon": (-180.0, 180.0),
            "ambient_c": (-80.0, 80.0),
            "humidity": (0.0, 100.0),
            "wind_ms": (0.0, 100.0),
            "load_ratio": (0.0, 10.0),
            "load_current_a": (0.0, 1e6),
        }
        for name, (lo, hi) in ranges.items():
            v = getattr(self, name)
            if v is not None and not (math.isfinite(v) and lo <= v <= hi):
                raise ParameterError(name, v, f"a number from {lo:g} to {hi:g}")
        if self.fix_quality is not None and self.fix_quality not in FIX_QUALITIES:
            raise ParameterError("fix_quality", self.fix_quality, f"one of {', '.join(FIX_QUALITIES)}")
        if (self.lat is None) != (self.lon is None):
            raise ParameterError("lat/lon", (self.lat, self.lon), "both given or both left out")


def check_filename(name: str | None) -> str:
    """The upload's base name, refused when it is empty, has path parts or control characters."""
    if not name or _BAD_NAME.search(name) or name in {".", ".."} or len(name) > 255:
        raise ParameterError("file name", name, "a plain file name (no folders, no control characters)")
    return name


def check_radiometric(data: bytes, name: str) -> str:
    """Open the image's headers (no pixels decoded); return its format name.

    Raises a :class:`~irpatrol.errors.FormatError` for anything that is not a
    readable radiometric image.
    """
    from irpatrol.formats import open_thermal

    if not data:
        raise FormatError(name, "the file is empty")
    with open_thermal(data, name=name) as tf:
        frame = tf.first_frame()
        if frame.info.width <= 0 or frame.info.height <= 0:
            raise FormatError(name, "the image has no pixels")
        return str(tf.format_name)


def accept_capture(
    session: Session,
    blobs: BlobStore,
    data: bytes,
    *,
    filename: str,
    fields: CaptureFields,
    idempotency_key: str | None,
    user_id: int | None,
) -> tuple[Capture, bool]:
    """Store and record an upload; return the capture and whether it is new.

    With an ``idempotency_key`` already used, the existing capture is returned
    (``False``); a different file under the same key is a :class:`ParameterError`.
    Commits the session.
    """
    # The slow part first, outside any transaction: the name and fields are checked, the file
    # is opened as a radiometric image and stored (fsynced).  Then one short transaction
    # inserts the row: it is the only time SQLite's one write lock is held, and on PostgreSQL
    # an upload costs one connection checkout and one commit.  A retried key is settled by the
    # unique constraint at the insert (a retry re-checks and re-stores the same bytes, which
    # is free: the blob store is content-addressed).
    filename = check_filename(filename)
    fields.check()
    check_radiometric(data, filename)
    sha = hashlib.sha256(data).hexdigest()
    blobs.put(data)
    station_id, rated_a = _station_of(session, fields)
    cap = Capture(
        idempotency_key=idempotency_key,
        sha256=sha,
        filename=filename,
        size_bytes=len(data),
        point_id=fields.point_id,
        execution_id=fields.execution_id,
        station_id=station_id,
        uploaded_by=user_id,
        taken_at=fields.taken_at,
        lat=fields.lat,
        lon=fields.lon,
        fix_quality=fields.fix_quality,
        ambient_c=fields.ambient_c,
        humidity=fields.humidity,
        wind_ms=fields.wind_ms,
        load_current_a=fields.load_current_a,
        load_ratio=fields.load_ratio
        if fields.load_ratio is not None
        else _ratio(fields.load_current_a, rated_a),
        status="pending",
    )
    session.add(cap)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        if idempotency_key is None:
            raise
        existing = session.scalar(select(Capture).where(Capture.idempotency_key == idempotency_key))
        if existing is None:
            raise
        return _same_or_conflict(existing, sha), False
    return cap, True


def _same_or_conflict(existing: Capture, sha256: str) -> Capture:
    if existing.sha256 != sha256:
        raise ParameterError(
            "Idempotency-Key", existing.idempotency_key, "a new key: it was used for a different file"
        )
    return existing


def _ratio(current_a: float | None, rated_a: float | None) -> float | None:
    """Present / rated load from a current reading, when the point's rated current is known."""
    if current_a is None or not rated_a or rated_a <= 0:
        return None
    return round(current_a / rated_a, 4)


def _station_of(session: Session, fields: CaptureFields) -> tuple[int | None, float | None]:
    """The capture's station (from its point or execution) and the point's rated current (A)."""
    station = None
    rated = None
    if fields.point_id is not None:
        point = session.get(Point, fields.point_id)
        if point is None:
            raise ParameterError("point_id", fields.point_id, "the id of an existing inspection point")
        station = point.station_id
        rated = point.rated_current_a
    if fields.execution_id is not None:
        ex = session.get(Execution, fields.execution_id)
        if ex is None:
            raise ParameterError(
                "execution_id", fields.execution_id, "the id of an existing patrol execution"
            )
        plan = session.get(PatrolPlan, ex.plan_id)
        station = station or (plan.station_id if plan else None)
    return station, rated
