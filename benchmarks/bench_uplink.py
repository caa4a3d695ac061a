"""Edge uplink benchmark (issue 9): drain rate after a partition, and capture → server-row latency.

Real parts on one machine: Debian's Mosquitto on a loopback port, the server's MQTT ingest
and HTTP app (uvicorn) on SQLite in a temporary folder, the agent's outbox and uplink.  A
small TCP proxy in front of the broker and the HTTP server plays the network.

1. **Drain after a partition.**  The link is cut (proxy blackholes, the uplink notices by
   keepalive), the patrol commits ``--captures`` captures meanwhile (per capture: a result
   with a real inspection of ``flir_t640_fuses.jpg``, an image of ``--image-kb`` KiB, every
   20th also an alarm), the link is healed and the time until the outbox is empty is taken:
   items/s, records/s (MQTT), images/s and MB/s (HTTP), and when the alarms were stored.
2. **End-to-end latency.**  Connected, the patrol commits ``--rate`` captures a second for
   ``--seconds``; per item, the server row's ``received_at`` minus the outbox's
   ``created_at`` (same clock): p50 / p95 / max for alarms, results and images.

Run from the repository root::

    .venv/bin/python benchmarks/bench_uplink.py [--captures 500] [--image-kb 300] [--rate 5] [--seconds 20]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the test helpers: Mosquitto runner, TCP proxy, HTTP app thread

from sqlalchemy import select  # noqa: E402
from tests.uplink.harness import http_server  # noqa: E402
from tests.uplink.mosquitto import Broker  # noqa: E402
from tests.uplink.proxy import Proxy  # noqa: E402

from irpatrol.config import load_settings  # noqa: E402
from irpatrol.diagnosis.rulepack import load_rule_pack  # noqa: E402
from irpatrol.edge.outbox import Lane, Outbox  # noqa: E402
from irpatrol.edge.uplink import Uplink  # noqa: E402
from irpatrol.pipeline import inspect_image  # noqa: E402
from irpatrol.server.mqtt_ingest import MqttIngest  # noqa: E402
from irpatrol.server.runtime import Runtime, open_runtime  # noqa: E402
from irpatrol.store.accounts import create_token, create_user  # noqa: E402
from irpatrol.store.models import EdgeMessage  # noqa: E402

ROBOT = "bench-robot"
FUSES = ROOT / "src" / "irpatrol" / "demo" / "flir_t640_fuses.jpg"
KEEPALIVE_S = 5


class BenchPatrol:
    """Commits captures to the outbox as the agent does: alarm (sometimes), result, image."""

    def __init__(self, outbox: Outbox, inspection: dict[str, Any], image_kb: int) -> None:
        self.outbox = outbox
        self.inspection = inspection
        self.filler = os.urandom(image_kb * 1024)
        self.n = 0
        self.kinds: dict[str, str] = {}

    def capture(self, *, alarm: bool) -> None:
        self.n += 1
        image = f"{self.n:012d}".encode() + self.filler
        sha = hashlib.sha256(image).hexdigest()
        body = {
            "capture": {
                "sha256": sha,
                "file_name": f"ir_{self.n:06d}.jpg",
                "taken_at": datetime.now(UTC).isoformat(),
                "preset": f"P-{self.n % 40}",
                "point_code": None,
                "execution_id": "bench",
                "position": None,
            },
            "inspection": self.inspection,
        }
        base = f"{ROBOT}:bench:{self.n}"
        if alarm:
            self._put(Lane.ALARM, "alarm", f"{base}:alarm:v1", body)
        self._put(Lane.RESULT, "result", f"{base}:result:v1", body)
        meta = {"sha256": sha, "size": len(image), "file_name": f"ir_{self.n:06d}.jpg"}
        self._put(Lane.FILE, "file", f"{ROBOT}:file:{sha}", meta, image)

    def _put(
        self, lane: Lane, kind: str, key: str, payload: dict[str, Any], blob: bytes | None = None
    ) -> None:
        assert self.outbox.put(lane, kind, key, payload, blob)
        self.kinds[key] = kind


def wait_until(cond: Any, timeout_s: float, what: str) -> float:
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout_s:
            raise SystemExit(f"bench_uplink: timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)
    return time.monotonic() - t0


def drained(outbox: Outbox) -> bool:
    c = outbox.counts()
    return c["pending"] == 0 and c["inflight"] == 0


def rows(rt: Runtime, keys: set[str]) -> dict[str, tuple[datetime, datetime]]:
    """key → (created_at, received_at) of the server rows for ``keys``."""
    with rt.sessions() as s:
        found = s.execute(select(EdgeMessage.key, EdgeMessage.created_at, EdgeMessage.received_at))
        return {k: (c, r) for k, c, r in found if k in keys}


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--captures", type=int, default=500, help="captures committed during the partition")
    ap.add_argument("--image-kb", type=int, default=300, help="size of each image, KiB")
    ap.add_argument("--rate", type=float, default=5.0, help="captures per second in the latency run")
    ap.add_argument("--seconds", type=float, default=20.0, help="length of the latency run, s")
    args = ap.parse_args()

    inspection = inspect_image(
        FUSES.read_bytes(), name=FUSES.name, pack=load_rule_pack("dlt664-2016")
    ).to_dict(lang=None)
    with tempfile.TemporaryDirectory(prefix="bench-uplink-") as tmp:
        work = Path(tmp)
        broker = Broker(work / "broker")
        broker.start()
        rt = open_runtime(load_settings(data_dir=work / "server"))
        with rt.sessions() as s:
            token, _ = create_token(s, create_user(s, "robot", "operator", None), scopes=("captures:write",))
            s.commit()
        ingest = MqttIngest(rt, host="127.0.0.1", port=broker.port, keepalive_s=KEEPALIVE_S)
        ingest.start()
        outbox = Outbox(work / "outbox", byte_budget=8 * 1024**3)
        patrol = BenchPatrol(outbox, inspection, args.image_kb)
        try:
            with http_server(rt) as url:
                mqtt_link = Proxy(broker.port)
                http_link = Proxy(int(url.rsplit(":", 1)[1]))
                up = Uplink(outbox, robot_id=ROBOT, mqtt_host="127.0.0.1", mqtt_port=mqtt_link.port,
                            server_url=f"http://127.0.0.1:{http_link.port}", server_token=token,
                            keepalive_s=KEEPALIVE_S)  # fmt: skip
                up.start()
                wait_until(up.connected.is_set, 10, "the uplink to connect")
                # 1. the partition
                mqtt_link.blackhole()
                http_link.blackhole()
                wait_until(lambda: not up.connected.is_set(), 3 * KEEPALIVE_S, "the uplink to see the cut")
                t0 = time.monotonic()
                for i in range(args.captures):
                    patrol.capture(alarm=i % 20 == 19)
                fill_s = time.monotonic() - t0
                backlog = set(patrol.kinds)
                mqtt_link.heal()
                http_link.heal()
                healed = datetime.now(UTC)
                drain_s = wait_until(lambda: drained(outbox), 3600, "the backlog to drain")
                got = rows(rt, backlog)
                assert len(got) == len(backlog), (len(got), len(backlog))
                n_rec = sum(1 for k in backlog if patrol.kinds[k] != "file")
                n_files = len(backlog) - n_rec
                mb = n_files * (args.image_kb * 1024 + 12) / 1e6
                alarms_in = [
                    (got[k][1] - healed).total_seconds() for k in backlog if patrol.kinds[k] == "alarm"
                ]
                results_in = [
                    (got[k][1] - healed).total_seconds() for k in backlog if patrol.kinds[k] == "result"
                ]
                records_done = max(got[k][1] for k in backlog if patrol.kinds[k] != "file")
                rec_s = (records_done - healed).total_seconds()
                # 2. latency, connected
                patrol.kinds.clear()
                t_end = time.monotonic() + args.seconds
                period = 1.0 / args.rate
                next_t = time.monotonic()
                while time.monotonic() < t_end:
                    patrol.capture(alarm=patrol.n % 10 == 0)
                    next_t += period
                    time.sleep(max(0.0, next_t - time.monotonic()))
                wait_until(lambda: drained(outbox), 600, "the latency run to drain")
                live = rows(rt, set(patrol.kinds))
                lat: dict[str, list[float]] = {"alarm": [], "result": [], "file": []}
                for k, (c, r) in live.items():
                    lat[patrol.kinds[k]].append((r - c).total_seconds() * 1000)
                up.stop()
                http_link.close()
                mqtt_link.close()
        finally:
            ingest.stop()
            outbox.close()
            rt.close()
            broker.kill()

    print(f"# bench_uplink: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"# window {up.window}, poll {up.poll_s} s, keepalive {KEEPALIVE_S} s, images {args.image_kb} KiB")
    print()
    n = len(backlog)
    print(f"Drain after a partition: {n} items ({n_rec} records over MQTT, {n_files} images over HTTP)")
    print(f"  committed during the outage in {fill_s:.1f} s ({n / fill_s:.0f} items/s into the outbox)")
    print(f"  drained in {drain_s:.1f} s after the heal: {n / drain_s:.0f} items/s overall")
    print(f"  records (alarms + results) all stored {rec_s:.1f} s after the heal: {n_rec / rec_s:.0f}/s")
    print(f"  images: {n_files / drain_s:.1f} images/s, {mb / drain_s:.1f} MB/s")
    print(f"  alarms stored {min(alarms_in):.2f}-{max(alarms_in):.2f} s after the heal; results from "
          f"{min(results_in):.2f} s")  # fmt: skip
    print()
    print(f"Latency, committed → server row, {args.rate:g} captures/s for {args.seconds:g} s (ms):")
    print("| kind | n | p50 | p95 | max |")
    print("|---|---|---|---|---|")
    for kind, values in lat.items():
        if values:
            p50, p95 = pct(values, 0.5), pct(values, 0.95)
            print(f"| {kind} | {len(values)} | {p50:.0f} | {p95:.0f} | {max(values):.0f} |")
    print()
    print(f"uplink: {up.stats}")
    print(f"ingest: {ingest.stats}")


if __name__ == "__main__":
    main()
