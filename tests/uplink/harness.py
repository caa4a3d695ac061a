"""What the uplink failure tests share: a patrol that fills the outbox, the server side, the final check.

:class:`Patrol` puts items into the agent's outbox as the agent does (an alarm for a
serious finding, the result, the image, telemetry), with deterministic keys.
:func:`http_server` runs the real server app (uvicorn) on a loopback port for image
uploads.  :func:`assert_exactly_once` is how every failure test ends: every item
committed on the agent is stored exactly once on the server.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from sqlalchemy import func, select

from irpatrol.edge.outbox import Lane, Outbox
from irpatrol.server.app import create_app
from irpatrol.server.runtime import Runtime
from irpatrol.store.models import Capture, EdgeMessage, Finding
from tests.uplink.mosquitto import free_port, wait_port

ROBOT = "robot-7"


def image_bytes(n: int) -> bytes:
    """A small stand-in for the n-th image (the server stores images by hash, unread)."""
    return f"irpatrol uplink test image {n:06d}\n".encode() * 64


@dataclass
class Patrol:
    """Puts a patrol's items into ``outbox``: per capture a result, its image and, when asked, an alarm."""

    outbox: Outbox
    inspection: dict[str, Any]
    images: bool = True
    n: int = 0
    keys: dict[str, str] = field(default_factory=dict)
    """Every key put, with its kind."""

    def capture(self, *, alarm: bool = False) -> list[str]:
        """One capture's items; answers their keys."""
        self.n += 1
        data = image_bytes(self.n)
        sha = hashlib.sha256(data).hexdigest()
        body = {
            "capture": {
                "sha256": sha,
                "file_name": f"ir_{self.n:06d}.jpg",
                "taken_at": datetime.now(UTC).isoformat(),
                "preset": f"P-{self.n % 40}",
                "point_code": None,
                "execution_id": "ex-1",
                "position": None,
            },
            "inspection": self.inspection,
        }
        base = f"{ROBOT}:ex-1:P-{self.n % 40}:{self.n}"
        put = []
        if alarm:
            put.append((Lane.ALARM, "alarm", f"{base}:alarm:v1", body, None))
        put.append((Lane.RESULT, "result", f"{base}:result:v1", body, None))
        if self.images:
            meta = {"sha256": sha, "size": len(data), "file_name": f"ir_{self.n:06d}.jpg"}
            put.append((Lane.FILE, "file", f"{ROBOT}:file:{sha}", meta, data))
        for lane, kind, key, payload, blob in put:
            assert self.outbox.put(lane, kind, key, payload, blob)
            self.keys[key] = kind
        return [p[2] for p in put]

    def telemetry(self) -> str:
        key = f"{ROBOT}:tel:{self.n}:{len(self.keys)}"
        assert self.outbox.put(Lane.TELEMETRY, "telemetry", key, {"state": "walking", "battery_pct": 80})
        self.keys[key] = "telemetry"
        return key


def wait_for(cond: Any, timeout_s: float, what: str, step_s: float = 0.05) -> float:
    """Poll ``cond()`` until true; answers the seconds it took; AssertionError naming ``what`` on timeout."""
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout_s:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(step_s)
    return time.monotonic() - t0


def drained(outbox: Outbox) -> bool:
    c = outbox.counts()
    return c["pending"] == 0 and c["inflight"] == 0


def stored_keys(rt: Runtime) -> list[str]:
    with rt.sessions() as s:
        return list(s.scalars(select(EdgeMessage.key).order_by(EdgeMessage.id)))


def assert_exactly_once(outbox: Outbox, rt: Runtime, patrol: Patrol) -> None:
    """Every item committed on the agent is stored exactly once on the server.

    The outbox has every key acked and nothing else; the server has one message row per key,
    the same set of keys; one capture per image with one set of findings; every image stored.
    """
    agent = dict(outbox.states())
    assert set(agent) == set(patrol.keys)
    assert set(agent.values()) == {"acked"}, {k: s for k, s in agent.items() if s != "acked"}
    server = stored_keys(rt)
    assert len(server) == len(set(server)), "a key stored twice"
    assert set(server) == set(agent), (set(agent) - set(server), set(server) - set(agent))
    per_capture = len(patrol.inspection["findings"])
    with rt.sessions() as s:
        captures = s.scalar(select(func.count()).select_from(Capture))
        findings = s.scalar(select(func.count()).select_from(Finding))
        shas = list(s.scalars(select(Capture.sha256)))
    assert captures == patrol.n == len(set(shas))
    assert findings == patrol.n * per_capture
    if patrol.images:
        assert all(rt.blobs.exists(sha) for sha in shas)


@contextmanager
def http_server(rt: Runtime, port: int | None = None) -> Iterator[str]:
    """The real server app on ``127.0.0.1:port`` (uvicorn in a thread); yields its base URL."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(rt.settings, runtime=rt), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_port(port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
