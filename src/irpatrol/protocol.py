"""The edge ↔ server wire format (version 1): MQTT topics, the message envelope and the ack.

Shared by the edge agent's uplink and the server's MQTT ingest, which may not import
each other; this module imports nothing from irpatrol but :mod:`irpatrol.errors`.
``docs/edge-protocol.md`` describes the protocol and why it delivers exactly once.

Topics (``prefix`` is a setting, ``irpatrol`` by default)::

    <prefix>/v1/<robot>/<kind>     agent → server, kind: alarm | result | telemetry | file
    <prefix>/v1/<robot>/ack        server → agent, one ack per stored (or refused) key

An envelope is a JSON object ``{"v": 1, "key", "kind", "robot", "created_at", "body"}``;
an ack is ``{"v": 1, "key", "status": "stored" | "duplicate" | "rejected", "reason"?}``.

>>> env = Envelope(key="r1:tel:42", kind="telemetry", robot="r1",
...                created_at="2026-12-02T22:00:00+00:00", body={"state": "walking"})
>>> parse_envelope(env.to_json()) == env
True
>>> topic_for("irpatrol", "r1", "result")
'irpatrol/v1/r1/result'
>>> parse_topic("irpatrol", "irpatrol/v1/r1/result")
('r1', 'result')
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from irpatrol.errors import IrpatrolError

VERSION = 1
"""Envelope and topic version; a new version gets new topics (``<prefix>/v2/...``)."""

KINDS = ("alarm", "result", "telemetry", "file")
"""Message kinds, in delivery priority (the agent's outbox lanes)."""

ACK_STATUSES = ("stored", "duplicate", "rejected")
"""``stored``: committed now; ``duplicate``: the key was stored before; ``rejected``: the message
can never be stored (malformed), it was dead-lettered on the server and must not be re-sent."""

AckStatus = Literal["stored", "duplicate", "rejected"]

MAX_KEY_LENGTH = 512
_ROBOT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_HEX64 = re.compile(r"[0-9a-f]{64}")


class ProtocolError(IrpatrolError, ValueError):
    """A message does not follow the protocol; ``key`` is its key when that much could be read."""

    def __init__(self, detail: str, *, key: str | None = None) -> None:
        self.detail = detail
        self.key = key
        super().__init__(f"{detail} (key {key!r})" if key else detail)


def check_robot_id(robot: str) -> str:
    """``robot`` if it can be one MQTT topic level (1-64 of ``A-Z a-z 0-9 . _ -``), else ProtocolError."""
    if not isinstance(robot, str) or not _ROBOT.fullmatch(robot):
        raise ProtocolError(f"robot id {robot!r} must be 1-64 letters, digits, '.', '_' or '-'")
    return robot


def topic_for(prefix: str, robot: str, kind: str) -> str:
    """The topic of a ``kind`` message from ``robot``, or of its acks (``kind="ack"``)."""
    return f"{prefix}/v{VERSION}/{check_robot_id(robot)}/{kind}"


def subscriptions(prefix: str) -> list[str]:
    """Topic filters the server subscribes to: every robot's messages of every kind (not the acks)."""
    return [f"{prefix}/v{VERSION}/+/{kind}" for kind in KINDS]


def parse_topic(prefix: str, topic: str) -> tuple[str, str]:
    """``(robot, kind)`` of a message topic; ProtocolError for anything else."""
    head = f"{prefix}/v{VERSION}/"
    rest = topic[len(head) :].split("/") if topic.startswith(head) else []
    if len(rest) != 2 or rest[1] not in KINDS or not _ROBOT.fullmatch(rest[0]):
        raise ProtocolError(f"topic {topic!r} is not {head}<robot>/<{'|'.join(KINDS)}>")
    return rest[0], rest[1]


@dataclass(frozen=True, kw_only=True)
class Envelope:
    """One agent → server message.

    ``key`` is the agent's deterministic idempotency key (the same capture always has the
    same key); ``kind`` one of :data:`KINDS`; ``robot`` the sender's id; ``created_at`` when
    the agent committed the item (ISO 8601 with a zone, UTC); ``body`` the kind's content
    (``docs/edge-protocol.md``).
    """

    key: str
    kind: str
    robot: str
    created_at: str
    body: dict[str, Any] = field(default_factory=dict)
    v: int = VERSION

    def to_json(self) -> bytes:
        """UTF-8 JSON, compact (the MQTT payload)."""
        doc = {
            "v": self.v,
            "key": self.key,
            "kind": self.kind,
            "robot": self.robot,
            "created_at": self.created_at,
            "body": self.body,
        }
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()

    def created_datetime(self) -> datetime:
        """:attr:`created_at` as an aware datetime (checked by :func:`parse_envelope`)."""
        return datetime.fromisoformat(self.created_at)


def _loads(payload: bytes | str) -> Any:
    try:
        return json.loads(payload)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"not JSON ({exc})") from None


def parse_envelope(payload: bytes | str) -> Envelope:
    """Read and check an envelope; :class:`ProtocolError` (with ``key`` where readable) otherwise.

    Checks the envelope fields and, per kind, the fields of the body the server relies on:
    ``result``/``alarm`` need ``body.capture.sha256`` (64 hex digits) and ``body.inspection``
    (an object); ``file`` needs ``sha256`` and ``size`` (bytes, ≥ 0).
    """
    doc = _loads(payload)
    if not isinstance(doc, dict):
        raise ProtocolError("the envelope is not a JSON object")
    key = doc.get("key")
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise ProtocolError(f"'key' must be a string of 1-{MAX_KEY_LENGTH} characters")
    if doc.get("v") != VERSION:
        raise ProtocolError(f"envelope version {doc.get('v')!r} is not {VERSION}", key=key)
    kind = doc.get("kind")
    if kind not in KINDS:
        raise ProtocolError(f"'kind' {kind!r} is not one of {', '.join(KINDS)}", key=key)
    robot = doc.get("robot")
    if not isinstance(robot, str) or not _ROBOT.fullmatch(robot):
        raise ProtocolError(f"'robot' {robot!r} is not a robot id", key=key)
    created = doc.get("created_at")
    try:
        when = datetime.fromisoformat(created) if isinstance(created, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise ProtocolError(f"'created_at' {created!r} is not an ISO 8601 time with a zone", key=key)
    body = doc.get("body")
    if not isinstance(body, dict):
        raise ProtocolError("'body' must be a JSON object", key=key)
    _check_body(kind, body, key)
    return Envelope(key=key, kind=kind, robot=robot, created_at=created, body=body)  # type: ignore[arg-type]


def _check_body(kind: str, body: dict[str, Any], key: str) -> None:
    if kind in ("result", "alarm"):
        cap = body.get("capture")
        if not isinstance(cap, dict) or not _HEX64.fullmatch(str(cap.get("sha256", ""))):
            raise ProtocolError("'body.capture.sha256' must be 64 lower-case hex digits", key=key)
        if not isinstance(body.get("inspection"), dict):
            raise ProtocolError("'body.inspection' must be a JSON object", key=key)
        findings = body["inspection"].get("findings", [])
        if not isinstance(findings, list) or not all(isinstance(f, dict) for f in findings):
            raise ProtocolError("'body.inspection.findings' must be a list of objects", key=key)
    elif kind == "file":
        if not _HEX64.fullmatch(str(body.get("sha256", ""))):
            raise ProtocolError("'body.sha256' must be 64 lower-case hex digits", key=key)
        size = body.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ProtocolError("'body.size' must be a whole number of bytes", key=key)


@dataclass(frozen=True, kw_only=True)
class Ack:
    """The server's application-level acknowledgement of one key (see :data:`ACK_STATUSES`)."""

    key: str
    status: AckStatus
    reason: str | None = None

    def to_json(self) -> bytes:
        """UTF-8 JSON (the MQTT payload on the robot's ack topic)."""
        doc: dict[str, Any] = {"v": VERSION, "key": self.key, "status": self.status}
        if self.reason:
            doc["reason"] = self.reason
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def parse_ack(payload: bytes | str) -> Ack:
    """Read an ack; :class:`ProtocolError` when it is not one."""
    doc = _loads(payload)
    if not isinstance(doc, dict) or doc.get("v") != VERSION:
        raise ProtocolError("the ack is not a version-1 JSON object")
    key, status, reason = doc.get("key"), doc.get("status"), doc.get("reason")
    if not isinstance(key, str) or not key or status not in ACK_STATUSES:
        raise ProtocolError(f"the ack needs a 'key' and a 'status' in {', '.join(ACK_STATUSES)}")
    return Ack(key=key, status=status, reason=reason if isinstance(reason, str) else None)


__all__ = [
    "ACK_STATUSES",
    "KINDS",
    "VERSION",
    "Ack",
    "AckStatus",
    "Envelope",
    "ProtocolError",
    "check_robot_id",
    "parse_ack",
    "parse_envelope",
    "parse_topic",
    "subscriptions",
    "topic_for",
]


def mqtt_client(
    client_id: str,
    *,
    connect_timeout_s: float,
    username: str | None = None,
    password: str | None = None,
    tls_ca_file: str | None = None,
    manual_ack: bool = False,
) -> Any:
    """A paho-mqtt client as both ends of the link use it: MQTT 3.1.1, a persistent session.

    ``clean_session=False`` with a fixed ``client_id`` keeps the broker's session (the
    subscription and queued QoS 1 messages) across reconnects; ``manual_ack`` holds the
    broker's PUBACK until the receiver has stored the message (the server's ingest).  The
    caller sets the callbacks.  paho-mqtt is imported here, not at module level: it comes
    with the edge and server extras, and the wire format itself does not need it.
    """
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=False,
        protocol=mqtt.MQTTv311,
        manual_ack=manual_ack,
    )
    client.connect_timeout = connect_timeout_s
    if username:
        client.username_pw_set(username, password)
    if tls_ca_file:
        client.tls_set(ca_certs=tls_ca_file)
    return client
