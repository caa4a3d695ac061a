"""A TCP proxy for failure tests: forward, blackhole (a partition, or a half-open link), heal.

``Proxy(target_port)`` listens on a free loopback port and forwards every connection to
``127.0.0.1:target_port``.  :meth:`Proxy.blackhole` stops forwarding *without closing
anything*: bytes already sent and all that follow are dropped, in both directions, and new
connections are accepted but never connected through, which is what a cut cable or a dead
Wi-Fi link looks like to both ends (no FIN, no RST).  :meth:`Proxy.heal` forwards again;
connections that lived through a blackhole are closed then (their streams lost bytes).
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading

from tests.uplink.mosquitto import free_port


class Proxy:
    """A forwarding proxy on ``127.0.0.1:port`` to ``127.0.0.1:target_port``, run in a thread."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.setblocking(False)
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._listener, selectors.EVENT_READ, None)
        self._lock = threading.Lock()
        self._pairs: dict[socket.socket, socket.socket | None] = {}
        self._tainted: set[socket.socket] = set()
        self.blackholed = False
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-proxy", daemon=True)
        self._thread.start()

    def blackhole(self) -> None:
        """Drop every byte from now on, both ways, closing nothing."""
        with self._lock:
            self.blackholed = True
            self._tainted = set(self._pairs)

    def heal(self) -> None:
        """Forward again; connections that went through the blackhole are closed (RST)."""
        with self._lock:
            self.blackholed = False
            for s in list(self._tainted):
                self._close(s)
            self._tainted.clear()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        with self._lock:
            for s in list(self._pairs):
                self._close(s)
        self._listener.close()

    def _close(self, s: socket.socket) -> None:
        other = self._pairs.pop(s, None)
        for sock in (s, other):
            if sock is None:
                continue
            self._pairs.pop(sock, None)
            with contextlib.suppress(Exception):
                self._sel.unregister(sock)
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            sock.close()

    def _close_one(self, sock: socket.socket) -> None:
        self._pairs.pop(sock, None)
        self._tainted.add(sock)
        with contextlib.suppress(Exception):
            self._sel.unregister(sock)
        sock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._sel.select(timeout=0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                with self._lock:
                    if sock is self._listener:
                        self._accept()
                    elif sock in self._pairs:
                        self._pump(sock)

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except OSError:
            return
        self.accepted += 1
        client.setblocking(False)
        if self.blackholed:  # accepted, never connected through: the handshake times out
            self._pairs[client] = None
            self._tainted.add(client)
            self._sel.register(client, selectors.EVENT_READ, None)
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=2)
        except OSError:
            client.close()
            return
        upstream.setblocking(False)
        self._pairs[client] = upstream
        self._pairs[upstream] = client
        self._sel.register(client, selectors.EVENT_READ, None)
        self._sel.register(upstream, selectors.EVENT_READ, None)

    def _pump(self, sock: socket.socket) -> None:
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        other = self._pairs.get(sock)
        if not data:
            if self.blackholed or sock in self._tainted:  # the far side must not hear of it
                self._close_one(sock)
            else:
                self._close(sock)
            return
        if self.blackholed or sock in self._tainted or other is None:
            return  # dropped on the floor
        try:
            other.setblocking(True)
            other.settimeout(2)
            other.sendall(data)
            other.setblocking(False)
        except OSError:
            self._close(sock)
