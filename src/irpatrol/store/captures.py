"""Accepting an uploaded capture: check it, store it, record it once.

The order makes an acknowledged upload durable and a retried one harmless:
the file is checked as a radiometric image (headers only), stored
content-addressed and flushed to disk (:func:`prepare_capture`), then the row is
inserted and committed with the client's idempotency key unique in the table, alone
(:func:`record_capture`) or with every other upload waiting (:func:`record_captures`,
the server's group commit).  Only then does the API answer 201.  The same key
again finds the same row (200); a race between two requests with one key is
settled by the unique constraint.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select
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
    distance_m: float | None = None
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
        d = self.distance_m
        if d is not None and not (math.isfinite(d) and 0.0 < d <= 1000.0):
            raise ParameterError("distance_m", d, "a distance above 0 and at most 1000 m")
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


@dataclass(frozen=True)
class PreparedCapture:
    """An upload that passed its checks and whose file is stored: ready to be recorded."""

    sha256: str
    filename: str
    size_bytes: int
    fields: CaptureFields
    idempotency_key: str | None
    user_id: int | None


@dataclass(frozen=True)
class Accepted:
    """A recorded upload: its capture's id, hash and status, and whether this call created it."""

    id: int
    sha256: str
    status: str
    created: bool


def prepare_capture(
    blobs: BlobStore,
    data: bytes,
    *,
    filename: str,
    fields: CaptureFields,
    idempotency_key: str | None,
    user_id: int | None,
) -> PreparedCapture:
    """Check an upload and store its file (fsynced); no database work.

    The slow part of an upload, done outside any transaction: the name and fields are
    checked, the file is opened as a radiometric image and stored content-addressed (a
    retry re-stores the same bytes, which is free).  Raises :class:`ParameterError` or
    :class:`~irpatrol.errors.FormatError`.
    """
    filename = check_filename(filename)
    fields.check()
    check_radiometric(data, filename)
    sha = hashlib.sha256(data).hexdigest()
    blobs.put(data)
    return PreparedCapture(
        sha256=sha,
        filename=filename,
        size_bytes=len(data),
        fields=fields,
        idempotency_key=idempotency_key,
        user_id=user_id,
    )


def record_capture(session: Session, prepared: PreparedCapture) -> Accepted:
    """Insert one prepared upload in one short transaction; say which capture it is and whether it is new.

    It is the only time SQLite's write lock is held, and on PostgreSQL one checkout and one
    commit.  A retried key is settled by the unique constraint at the insert.  Commits.
    """
    points, executions = _stations(session, [prepared])
    station_id, rated_a = _station_from(prepared.fields, points, executions)
    cap = Capture(**_row(prepared, station_id, rated_a))
    session.add(cap)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        key = prepared.idempotency_key
        if key is None:
            raise
        existing = session.scalar(select(Capture).where(Capture.idempotency_key == key))
        if existing is None:
            raise
        answer = _same_key(Accepted(existing.id, existing.sha256, existing.status, created=False), prepared)
        if isinstance(answer, ParameterError):
            raise answer from None
        return answer
    return Accepted(cap.id, cap.sha256, cap.status, created=True)


def record_captures(session: Session, batch: Sequence[PreparedCapture]) -> list[Accepted | ParameterError]:
    """Insert many prepared uploads in one transaction (group commit); one answer per upload.

    Every upload waiting at the same moment shares one transaction, one fsync of the
    database and a few statements: the points, executions and used keys are read once
    for the batch, the new rows go in one multi-row insert.  An upload naming a point or
    execution that does not exist, or reusing a key for a different file, gets its
    :class:`ParameterError` and the others are recorded; a key used twice in the batch is
    recorded once.  Commits.  A database error (e.g. another process inserting the same key
    between the read and the insert, on PostgreSQL) rolls the whole batch back and is
    raised: the caller then records the uploads one by one (:func:`record_capture`).
    """
    answers: list[Accepted | ParameterError | None] = [None] * len(batch)
    points, executions = _stations(session, batch)
    keys = {p.idempotency_key for p in batch if p.idempotency_key is not None}
    used: dict[str, Accepted] = {}
    if keys:
        for key, cid, sha, status in session.execute(
            select(Capture.idempotency_key, Capture.id, Capture.sha256, Capture.status).where(
                Capture.idempotency_key.in_(keys)
            )
        ):
            if key is not None:
                used[key] = Accepted(cid, sha, status, created=False)
    rows: list[dict[str, object]] = []
    placed: list[int] = []
    first_with_key: dict[str, int] = {}
    repeats: list[tuple[int, int]] = []
    for i, prepared in enumerate(batch):
        key = prepared.idempotency_key
        if key is not None and key in used:
            answers[i] = _same_key(used[key], prepared)
            continue
        if key is not None and key in first_with_key:
            repeats.append((i, first_with_key[key]))
            continue
        try:
            station_id, rated_a = _station_from(prepared.fields, points, executions)
        except ParameterError as exc:
            answers[i] = exc
            continue
        rows.append(_row(prepared, station_id, rated_a))
        placed.append(i)
        if key is not None:
            first_with_key[key] = i
    ids: list[int] = []
    if rows:
        table = cast(Table, Capture.__table__)
        ids = list(session.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows))
    session.commit()
    for i, cid in zip(placed, ids, strict=True):
        answers[i] = Accepted(cid, batch[i].sha256, "pending", created=True)
    for i, first in repeats:
        earlier = answers[first]
        assert isinstance(earlier, Accepted)
        answers[i] = _same_key(replace(earlier, created=False), batch[i])
    return [a for a in answers if a is not None]


def _same_key(existing: Accepted, prepared: PreparedCapture) -> Accepted | ParameterError:
    if existing.sha256 != prepared.sha256:
        return ParameterError(
            "Idempotency-Key", prepared.idempotency_key, "a new key: it was used for a different file"
        )
    return existing


def _rows_by_id(session: Session, query: Any, id_column: Any, ids: set[int]) -> dict[int, tuple[Any, ...]]:
    """``query``'s rows keyed by their first column, for the ``ids`` asked (one statement)."""
    if not ids:
        return {}
    return {row[0]: tuple(row) for row in session.execute(query.where(id_column.in_(ids)))}


def _stations(
    session: Session, batch: Sequence[PreparedCapture]
) -> tuple[dict[int, tuple[Any, ...]], dict[int, tuple[Any, ...]]]:
    """The points (id, station, rated current A) and executions (id, station) the uploads name."""
    points = _rows_by_id(
        session,
        select(Point.id, Point.station_id, Point.rated_current_a),
        Point.id,
        {p.fields.point_id for p in batch if p.fields.point_id is not None},
    )
    executions = _rows_by_id(
        session,
        select(Execution.id, PatrolPlan.station_id).outerjoin(PatrolPlan, PatrolPlan.id == Execution.plan_id),
        Execution.id,
        {p.fields.execution_id for p in batch if p.fields.execution_id is not None},
    )
    return points, executions


def _station_from(
    fields: CaptureFields, points: dict[int, tuple[Any, ...]], executions: dict[int, tuple[Any, ...]]
) -> tuple[int | None, float | None]:
    """The capture's station (from its point or execution) and the point's rated current (A)."""
    station = None
    rated = None
    if fields.point_id is not None:
        point = points.get(fields.point_id)
        if point is None:
            raise ParameterError("point_id", fields.point_id, "the id of an existing inspection point")
        station, rated = point[1], point[2]
    if fields.execution_id is not None:
        ex = executions.get(fields.execution_id)
        if ex is None:
            raise ParameterError(
                "execution_id", fields.execution_id, "the id of an existing patrol execution"
            )
        station = station or ex[1]
    return station, rated


def _row(prepared: PreparedCapture, station_id: int | None, rated_a: float | None) -> dict[str, Any]:
    """The capture row's values (every column an upload sets, the same keys for every row)."""
    f = prepared.fields
    return {
        "idempotency_key": prepared.idempotency_key,
        "sha256": prepared.sha256,
        "filename": prepared.filename,
        "size_bytes": prepared.size_bytes,
        "point_id": f.point_id,
        "execution_id": f.execution_id,
        "station_id": station_id,
        "uploaded_by": prepared.user_id,
        "taken_at": f.taken_at,
        "lat": f.lat,
        "lon": f.lon,
        "fix_quality": f.fix_quality,
        "ambient_c": f.ambient_c,
        "humidity": f.humidity,
        "wind_ms": f.wind_ms,
        "distance_m": f.distance_m,
        "load_current_a": f.load_current_a,
        "load_ratio": f.load_ratio if f.load_ratio is not None else _ratio(f.load_current_a, rated_a),
        "status": "pending",
    }


def _ratio(current_a: float | None, rated_a: float | None) -> float | None:
    """Present / rated load from a current reading, when the point's rated current is known."""
    if current_a is None or not rated_a or rated_a <= 0:
        return None
    return round(current_a / rated_a, 4)
