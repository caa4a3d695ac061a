"""TLS to the broker: the uplink and the ingest connect with a CA certificate; without it, no link.

The certificates are made for the test with the ``openssl`` command (a CA and a server
certificate for 127.0.0.1, valid one day).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from irpatrol.edge.outbox import Outbox
from irpatrol.edge.uplink import Uplink
from irpatrol.server.mqtt_ingest import MqttIngest
from irpatrol.server.runtime import Runtime
from tests.uplink.conftest import need_mosquitto
from tests.uplink.harness import ROBOT, Patrol, assert_exactly_once, drained, wait_for
from tests.uplink.mosquitto import Broker


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key) for 127.0.0.1, PEM, in ``folder``."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    folder.mkdir(parents=True)
    ca, ca_key = folder / "ca.pem", folder / "ca.key"
    cert, key, csr, ext = (
        folder / "server.pem",
        folder / "server.key",
        folder / "server.csr",
        folder / "san.ext",
    )
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    for cmd in (
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "1",
         "-subj", "/CN=irpatrol test CA"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
        ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
         "-days", "1", "-extfile", ext],
    ):  # fmt: skip
        subprocess.run(["openssl", *map(str, cmd)], check=True, capture_output=True)
    for p in (ca, cert, key):
        p.chmod(0o644)  # mosquitto may read them as its own user
    return ca, cert, key


def test_tls_link(tmp_path: Path, server_rt: Runtime, inspection_doc: dict[str, Any]) -> None:
    need_mosquitto()
    ca, cert, key = make_certificates(tmp_path / "certs")
    broker = Broker(tmp_path / "broker", tls=(ca, cert, key))
    broker.start()
    outbox = Outbox(tmp_path / "outbox")
    ingest = MqttIngest(server_rt, host="127.0.0.1", port=broker.port, tls_ca_file=str(ca))
    try:
        ingest.start()
        assert ingest.connected.wait(10)
        patrol = Patrol(outbox, inspection_doc, images=False)
        for _ in range(5):
            patrol.capture()
        plain = Uplink(
            outbox, robot_id=ROBOT, mqtt_host="127.0.0.1", mqtt_port=broker.port, connect_timeout_s=1
        )
        plain.start()
        time.sleep(3.0)
        plain.stop()
        assert plain.stats.connects == 0  # a plain connection to a TLS listener goes nowhere
        up = Uplink(outbox, robot_id=ROBOT, mqtt_host="127.0.0.1", mqtt_port=broker.port, tls_ca_file=str(ca))
        up.start()
        try:
            wait_for(lambda: drained(outbox), 30, "the outbox to drain over TLS")
        finally:
            up.stop()
        assert_exactly_once(outbox, server_rt, patrol)
    finally:
        ingest.stop()
        outbox.close()
        broker.kill()
