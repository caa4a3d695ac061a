"""The server's MQTT ingest in its own process, to be killed for real (python -m tests.uplink.ingest_proc).

Arguments: the server data folder, the broker port, and ``--die-after N``: after the N-th
message it stores (committed, not yet acked) the process writes the key to
``<data>/died-at`` and SIGKILLs itself.
"""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path

from irpatrol.config import load_settings
from irpatrol.server.mqtt_ingest import MqttIngest
from irpatrol.server.runtime import open_runtime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("port", type=int)
    ap.add_argument("--die-after", type=int, default=0)
    args = ap.parse_args()
    rt = open_runtime(load_settings(data_dir=args.data_dir))
    stored = 0

    def hook(key: str) -> None:
        nonlocal stored
        stored += 1
        if stored == args.die_after:
            marker = args.data_dir / "died-at"
            marker.write_text(key)
            os.kill(os.getpid(), signal.SIGKILL)

    MqttIngest(rt, host="127.0.0.1", port=args.port, keepalive_s=5, after_store=hook).run()


if __name__ == "__main__":
    main()
