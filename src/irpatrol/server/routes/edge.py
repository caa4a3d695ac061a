"""Edge agents' images over HTTP: one PUT per file, idempotent by content hash and outbox key.

Results and alarms come over MQTT (:mod:`irpatrol.server.mqtt_ingest`); the images they
name come here, usually later (files drain last on the robot).  ``docs/edge-protocol.md``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from irpatrol.errors import ParameterError
from irpatrol.protocol import ProtocolError, check_robot_id
from irpatrol.server.errors import ApiError
from irpatrol.server.security import RT, Uploader
from irpatrol.store.edge import Stored, store_file

router = APIRouter(tags=["edge"])

_KEY = Header(alias="Idempotency-Key", max_length=512, pattern=r"^[\x21-\x7e]+$")


@router.put(
    "/edge/{robot}/files/{sha256}",
    status_code=201,
    summary="Upload an image from an edge agent (idempotent by SHA-256 and key)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        },
        "responses": {
            "200": {"description": "The key was stored before: nothing new"},
            "422": {"description": "The bytes do not hash to the SHA-256 in the path, or a bad field"},
        },
    },
)
async def put_edge_file(
    request: Request,
    rt: RT,
    who: Uploader,
    robot: Annotated[str, Path(max_length=64)],
    sha256: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")],
    key: Annotated[str, _KEY],
    file_name: Annotated[str | None, Query(max_length=255)] = None,
    created_at: Annotated[datetime | None, Query()] = None,
) -> Any:
    """Store the body (the raw image) under its SHA-256 and record the agent's outbox item once.

    ``Idempotency-Key`` is the agent's key of the file item; ``created_at`` when the agent
    committed it.  Answers 201 ``{"key", "sha256", "status": "stored"}`` once the file is on
    disk and the row committed, 200 ``"duplicate"`` for a key stored before.
    """
    try:
        check_robot_id(robot)
    except ProtocolError as exc:
        raise ApiError(422, "invalid", str(exc)) from None
    data = await request.body()
    when = created_at or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)

    def store() -> Stored:
        with rt.sessions() as s, s.begin():
            return store_file(
                s, rt.blobs, data, sha256=sha256, key=key, robot=robot, created_at=when, file_name=file_name
            )

    try:
        stored = await run_in_threadpool(store)
    except ParameterError as exc:
        raise ApiError(422, "hash_mismatch", str(exc)) from None
    body = {"key": key, "sha256": sha256, "status": stored.status}
    return JSONResponse(body, status_code=201 if stored.status == "stored" else 200)
