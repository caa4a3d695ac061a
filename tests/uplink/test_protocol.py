"""The wire format: topics, envelope and ack checks (irpatrol.protocol), on hand-made messages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from irpatrol.protocol import (
    Ack,
    Envelope,
    ProtocolError,
    parse_ack,
    parse_envelope,
    parse_topic,
    subscriptions,
    topic_for,
)

SHA = "ab" * 32
GOOD: dict[str, Any] = {
    "v": 1,
    "key": "r1:e1:p1:1:result:v1",
    "kind": "result",
    "robot": "r1",
    "created_at": "2026-12-02T21:00:00+00:00",
    "body": {"capture": {"sha256": SHA}, "inspection": {"findings": []}},
}


def test_envelope_round_trip() -> None:
    env = parse_envelope(json.dumps(GOOD))
    assert env == Envelope(**{k: v for k, v in GOOD.items() if k != "v"})
    assert parse_envelope(env.to_json()) == env
    assert env.created_datetime().utcoffset() is not None


@pytest.mark.parametrize(
    ("change", "message", "key"),
    [
        ({"v": 2}, "version 2", GOOD["key"]),
        ({"key": ""}, "'key'", None),
        ({"key": "k" * 513}, "'key'", None),
        ({"kind": "video"}, "'kind'", GOOD["key"]),
        ({"robot": "r/1"}, "'robot'", GOOD["key"]),
        ({"created_at": "2026-12-02T21:00:00"}, "zone", GOOD["key"]),
        ({"created_at": "yesterday"}, "created_at", GOOD["key"]),
        ({"body": []}, "'body'", GOOD["key"]),
        ({"body": {"capture": {"sha256": SHA.upper()}, "inspection": {}}}, "sha256", GOOD["key"]),
        ({"body": {"capture": {"sha256": SHA}}}, "inspection", GOOD["key"]),
        ({"body": {"capture": {"sha256": SHA}, "inspection": {"findings": [1]}}}, "findings", GOOD["key"]),
        ({"kind": "file", "body": {"sha256": SHA, "size": -1}}, "size", GOOD["key"]),
        ({"kind": "file", "body": {"sha256": SHA, "size": True}}, "size", GOOD["key"]),
    ],
)
def test_bad_envelopes_name_the_field_and_keep_the_key(
    change: dict[str, Any], message: str, key: str | None
) -> None:
    with pytest.raises(ProtocolError, match=message) as err:
        parse_envelope(json.dumps({**GOOD, **change}))
    assert err.value.key == key


@pytest.mark.parametrize("payload", [b"", b"\xff\xfe", b"[1]", b"{not json", b"null"])
def test_not_an_envelope(payload: bytes) -> None:
    with pytest.raises(ProtocolError) as err:
        parse_envelope(payload)
    assert err.value.key is None


def test_topics() -> None:
    assert topic_for("irpatrol", "robot-07", "alarm") == "irpatrol/v1/robot-07/alarm"
    assert parse_topic("irpatrol", "irpatrol/v1/robot-07/alarm") == ("robot-07", "alarm")
    assert "irpatrol/v1/+/ack" not in subscriptions("irpatrol")  # the server never hears its own acks
    for bad in (
        "irpatrol/v1/robot-07/ack",
        "irpatrol/v2/r/result",
        "other/v1/r/result",
        "irpatrol/v1/result",
    ):
        with pytest.raises(ProtocolError):
            parse_topic("irpatrol", bad)
    with pytest.raises(ProtocolError):
        topic_for("irpatrol", "robot/07", "result")


def test_acks() -> None:
    ack = Ack(key="k1", status="rejected", reason="bad")
    assert parse_ack(ack.to_json()) == ack
    assert json.loads(Ack(key="k1", status="stored").to_json()) == {"v": 1, "key": "k1", "status": "stored"}
    for bad in (b'{"v":1,"key":"k","status":"ok"}', b'{"v":2,"key":"k","status":"stored"}', b"[]"):
        with pytest.raises(ProtocolError):
            parse_ack(bad)
