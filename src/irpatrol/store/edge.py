"""Storing what edge agents (robots) deliver: once per key, results as captures with findings.

The receiving half of ``docs/edge-protocol.md``.  :func:`store_envelope` runs in the
caller's transaction: it looks the key up (a duplicate changes nothing), inserts one
:class:`~irpatrol.store.models.EdgeMessage` and, for a result or an alarm, the
:class:`~irpatrol.store.models.Capture` and its findings through the same writer the
server's own analysis uses (:mod:`irpatrol.store.results`).  The caller commits and
only then acknowledges; the unique key settles a race between two receivers at the
commit (:class:`sqlalchemy.exc.IntegrityError`: roll back and answer "duplicate").

An alarm and the result of the same image carry the same inspection: they share one
capture (keyed ``edge:<robot>:<sha256>``), so its findings are written once.  The image
itself comes separately over HTTP (:func:`store_file`), usually after its result: until
then the capture's ``size_bytes`` is 0 and its file is not on the server yet.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from irpatrol.errors import ParameterError
from irpatrol.protocol import Envelope
from irpatrol.store.blobs import BlobStore
from irpatrol.store.captures import check_filename
from irpatrol.store.models import FIX_QUALITIES, Capture, EdgeMessage, EdgeReject, Execution, Finding, Point
from irpatrol.store.results import apply_inspection, finding_rows, finite, iso_time
from irpatrol.store.series import SeriesParams, record_series

_GGA_QUALITY = {0: "none", 1: "single", 2: "dgps", 3: "single", 4: "rtk_fixed", 5: "rtk_float"}
_GGA_QUALITY |= {6: "estimated", 7: "manual"}
_QUALITY_NAMES = {"pps": "single", "dead_reckoning": "estimated", "simulation": None}
_REJECT_PAYLOAD_CHARS = 65536


@dataclass
class Stored:
    """What :func:`store_envelope` did: ``status`` ``"stored"`` or ``"duplicate"``, the message row,
    the capture it made or joined (results and alarms) and the findings it created (empty for a
    duplicate or a capture that existed)."""

    status: Literal["stored", "duplicate"]
    message: EdgeMessage
    capture: Capture | None = None
    new_findings: list[Finding] = field(default_factory=list)


def find_message(session: Session, key: str) -> EdgeMessage | None:
    """The stored message with ``key``, if any."""
    return session.scalar(select(EdgeMessage).where(EdgeMessage.key == key))


def store_envelope(
    session: Session, env: Envelope, *, blobs: BlobStore | None = None, series: SeriesParams | None = None
) -> Stored:
    """Insert ``env`` once (in the caller's transaction; flushed, not committed).

    ``blobs`` is asked whether the image of a result is already stored (for its size);
    ``series`` says how findings are put on the rated-load basis (default n = 2, ≥ 30 % load).
    """
    existing = find_message(session, env.key)
    if existing is not None:
        return Stored("duplicate", existing)
    capture: Capture | None = None
    new: list[Finding] = []
    if env.kind in ("result", "alarm"):
        capture, new = _capture_of(session, env, blobs, series or SeriesParams())
    msg = EdgeMessage(
        key=env.key,
        robot=env.robot,
        kind=env.kind,
        created_at=env.created_datetime(),
        capture_id=capture.id if capture is not None else None,
        body=env.body,
    )
    session.add(msg)
    session.flush()
    return Stored("stored", msg, capture, new)


def store_file(
    session: Session,
    blobs: BlobStore,
    data: bytes,
    *,
    sha256: str,
    key: str,
    robot: str,
    created_at: datetime,
    file_name: str | None = None,
) -> Stored:
    """Store an image an agent uploads over HTTP, and record its outbox item ``key`` once.

    The bytes must hash to ``sha256`` (:class:`ParameterError` otherwise; nothing stored).
    The blob is written and flushed to disk before the row; captures already waiting for
    this image get its size.  Runs in the caller's transaction (flushed, not committed).
    """
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ParameterError("body", f"{len(data)} bytes", f"bytes whose SHA-256 is {sha256}")
    existing = find_message(session, key)
    if existing is not None:
        return Stored("duplicate", existing)
    blobs.put(data)
    body: dict[str, Any] = {"sha256": sha256, "size": len(data)}
    if file_name:
        body["file_name"] = file_name
    msg = EdgeMessage(key=key, robot=robot, kind="file", created_at=created_at, body=body)
    session.add(msg)
    session.execute(
        update(Capture).where(Capture.sha256 == sha256, Capture.size_bytes == 0).values(size_bytes=len(data))
    )
    session.flush()
    return Stored("stored", msg)


def record_reject(
    session: Session, *, topic: str, payload: bytes, reason: str, key: str | None, robot: str | None
) -> None:
    """Keep a message that can never be stored as a dead letter (in the caller's transaction)."""
    session.add(
        EdgeReject(
            topic=topic[:256],
            robot=robot[:64] if robot else None,
            key=key[:512] if key else None,
            reason=reason[:2000],
            payload=payload.decode("utf-8", "replace")[:_REJECT_PAYLOAD_CHARS],
        )
    )


def _capture_of(
    session: Session, env: Envelope, blobs: BlobStore | None, series: SeriesParams
) -> tuple[Capture, list[Finding]]:
    """The capture of a result or alarm: found by robot and image hash, or made with its findings."""
    info: dict[str, Any] = env.body["capture"]
    doc: dict[str, Any] = env.body["inspection"]
    sha = str(info["sha256"])
    ckey = f"edge:{env.robot}:{sha}"
    existing = session.scalar(select(Capture).where(Capture.idempotency_key == ckey))
    if existing is not None:
        return existing, []
    point = _point_of(session, info)
    execution_id = _execution_of(session, info.get("execution_id"))
    pos = info.get("position") if isinstance(info.get("position"), dict) else None
    lat = finite(pos.get("lat"), None) if pos else None  # degrees, unrounded
    lon = finite(pos.get("lon"), None) if pos else None
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        lat = lon = None
    cond = doc.get("conditions") or {}
    size = 0
    if blobs is not None and blobs.exists(sha):
        size = blobs.path(sha).stat().st_size
    cap = Capture(
        idempotency_key=ckey,
        sha256=sha,
        filename=_file_name(info.get("file_name"), sha),
        size_bytes=size,
        point_id=point.id if point is not None else None,
        execution_id=execution_id,
        station_id=point.station_id if point is not None else None,
        taken_at=iso_time(info.get("taken_at")),
        lat=lat,
        lon=lon,
        fix_quality=_fix_quality(pos.get("quality")) if pos and lat is not None else None,
        ambient_c=finite(cond.get("ambient_c")),
        humidity=finite(cond.get("humidity_pct")),
        wind_ms=finite(cond.get("wind_ms")),
        distance_m=finite(cond.get("distance_m")),
        load_ratio=finite(cond.get("load_ratio")),
        status="pending",
    )
    apply_inspection(cap, doc, rule_pack=doc.get("rule_pack"))
    session.add(cap)
    session.flush()
    rows = finding_rows(cap, doc)
    record_series(session, cap, rows, series)
    session.add_all(rows)
    session.flush()
    return cap, rows


def _point_of(session: Session, info: dict[str, Any]) -> Point | None:
    """The inspection point by its code, else by its preset id; ``None`` unless exactly one matches."""
    for column, value in ((Point.code, info.get("point_code")), (Point.preset_id, info.get("preset"))):
        if value in (None, ""):
            continue
        found = list(session.scalars(select(Point).where(column == str(value)).limit(2)))
        if len(found) == 1:
            return found[0]
    return None


def _execution_of(session: Session, value: Any) -> int | None:
    """The server's execution id when the agent names one that exists (it may also be a local id)."""
    try:
        ident = int(value)
    except (TypeError, ValueError):
        return None
    return ident if session.get(Execution, ident) is not None else None


def _fix_quality(value: Any) -> str | None:
    """A fix quality as stored: from a GGA digit or a label (``rtk_fixed`` ...)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return _GGA_QUALITY.get(value)
    if isinstance(value, str):
        label = value.strip().lower()
        if label in FIX_QUALITIES:
            return label
        return _QUALITY_NAMES.get(label)
    return None


def _file_name(value: Any, sha: str) -> str:
    try:
        return check_filename(value if isinstance(value, str) else None)
    except ParameterError:
        return f"{sha[:16]}.jpg"
