"""Locust users for ``bench_server.py`` (loopback only; never run by CI).

The user class is chosen on the command line: ``Uploader`` (POST /api/v1/captures,
each a distinct small R-JPEG under a unique ``Idempotency-Key``) or ``Reader``
(GET /api/v1/findings).  Configured by environment variables that
``bench_server.py`` sets:

* ``BENCH_TOKEN`` — the bearer token;
* ``BENCH_FILE`` — the R-JPEG whose variants are uploaded (a JPEG COM segment
  carries a unique number: new bytes and a new SHA-256, the same pixels);
* ``BENCH_WAIT`` — mean seconds a reader waits between its requests, drawn uniformly from
  0.5–1.5 × the mean so that 50 users do not stay in lockstep (0: back to back).
"""

from __future__ import annotations

import itertools
import os
import uuid
from pathlib import Path

from locust import FastHttpUser, between, constant, task

TOKEN = os.environ.get("BENCH_TOKEN", "")
BASE = Path(os.environ.get("BENCH_FILE", "src/irpatrol/demo/flir_e40.jpg")).read_bytes()
WAIT = float(os.environ.get("BENCH_WAIT", "0"))
RUN = uuid.uuid4().hex[:12]
_counter = itertools.count()
BOUNDARY = "irpatrolbench" + RUN


def variant(base: bytes, n: int) -> bytes:
    """``base`` with a COM segment naming ``n`` after its first (JFIF) segment."""
    cut = 4 + int.from_bytes(base[4:6], "big")
    note = f"irpatrol bench {RUN} {n:09d}".encode()
    return base[:cut] + b"\xff\xfe" + (len(note) + 2).to_bytes(2, "big") + note + base[cut:]


def multipart(data: bytes, filename: str) -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{BOUNDARY}--\r\n".encode()


class Uploader(FastHttpUser):
    """A robot uploading captures as fast as the server accepts them."""

    wait_time = constant(0)
    connection_timeout = 30.0
    network_timeout = 60.0

    @task
    def upload(self) -> None:
        n = next(_counter)
        body = multipart(variant(BASE, n), f"cap{n:09d}.jpg")
        self.client.post(
            "/api/v1/captures",
            data=body,
            headers={
                "Authorization": f"Bearer {TOKEN}",
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                "Idempotency-Key": f"bench-{RUN}-{n}",
            },
            name="POST /api/v1/captures",
        )


class Reader(FastHttpUser):
    """A dashboard reading the findings list."""

    wait_time = between(0.5 * WAIT, 1.5 * WAIT) if WAIT > 0 else constant(0)
    connection_timeout = 30.0
    network_timeout = 60.0

    @task
    def findings(self) -> None:
        self.client.get(
            "/api/v1/findings",
            headers={"Authorization": f"Bearer {TOKEN}"},
            name="GET /api/v1/findings",
        )
