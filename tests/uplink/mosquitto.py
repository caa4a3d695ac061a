"""A real Mosquitto broker for tests and benchmarks: own config, own port, persistence in a folder.

:class:`Broker` starts ``/usr/sbin/mosquitto -c <generated conf>`` on a loopback port, and
can stop it gracefully (SIGTERM: it saves its persistence file), kill it with SIGKILL (it
loses whatever it had not saved; with the default ``autosave_interval`` of 1800 s that is
everything since start) and start it again on the same port and folder.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

MOSQUITTO = Path(os.environ.get("IRPATROL_TEST_MOSQUITTO", "/usr/sbin/mosquitto"))


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout_s: float = 10.0) -> None:
    """Return once 127.0.0.1:``port`` accepts connections; TimeoutError after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout_s} s") from None
            time.sleep(0.05)


class Broker:
    """One Mosquitto process on ``127.0.0.1:port`` with persistence in ``folder``."""

    def __init__(
        self,
        folder: Path,
        *,
        port: int | None = None,
        autosave_interval_s: int = 1800,
        tls: tuple[Path, Path, Path] | None = None,
    ) -> None:
        """``tls``: (CA certificate, server certificate, server key), PEM: the listener is TLS only."""
        self.folder = folder
        self.port = port or free_port()
        self.autosave_interval_s = autosave_interval_s
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        folder.mkdir(parents=True, exist_ok=True)
        self.data = folder / "data"
        self.data.mkdir(exist_ok=True)
        self.conf = folder / "mosquitto.conf"
        tls_lines = "" if tls is None else f"cafile {tls[0]}\ncertfile {tls[1]}\nkeyfile {tls[2]}\n"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"{tls_lines}"
            # started as root, mosquitto would drop to the user "mosquitto", who cannot reach the
            # test's folders (pytest's are private): persistence, log and certificates would fail
            f"{'user root' if os.geteuid() == 0 else ''}\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {self.data}/\n"
            f"autosave_interval {self.autosave_interval_s}\n"
            "max_queued_messages 0\n"  # no limit: a long partition's backlog must not be dropped
            "max_inflight_messages 20\n"
            "log_type error\nlog_type warning\n"
            f"log_dest file {folder / 'mosquitto.log'}\n"
        )

    def start(self) -> None:
        """Start the broker and wait until it accepts connections."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.proc = subprocess.Popen(
            [str(MOSQUITTO), "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.starts += 1
        try:
            wait_port(self.port)
        except TimeoutError:
            self.kill()
            log = (
                (self.folder / "mosquitto.log").read_text(errors="replace")[-2000:]
                if (self.folder / "mosquitto.log").exists()
                else ""
            )
            raise RuntimeError(f"mosquitto did not start on port {self.port}: {log}") from None

    def kill(self) -> None:
        """SIGKILL: the broker dies without saving anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM: the broker saves its persistence file and exits."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self, *, crash: bool) -> None:
        """Kill (``crash``) or stop the broker, then start it again on the same port and folder."""
        if crash:
            self.kill()
        else:
            self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None
