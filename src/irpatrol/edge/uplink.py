"""The uplink: drain the outbox to the intranet over MQTT (records) and HTTP (images), exactly once.

An item leaves the outbox (``acked``) only on the server's application-level ack for its key,
sent after the server committed it, or on a 2xx for an image; a broker's PUBACK proves
nothing (``docs/edge-protocol.md``).  One thread owns the MQTT client, its network loop and
every outbox call:

* **Session**: MQTT 3.1.1, QoS 1, clean session off, client id ``irpatrol-edge-<robot>``,
  subscribed to ``<prefix>/v1/<robot>/ack``.  Each connection uses a fresh client, so the
  outbox is the only thing that re-sends (paho keeps unacknowledged messages in memory only,
  and would replay the old ones ahead of newer alarms).
* **Order and window**: items are claimed by lane (alarm, result, telemetry, file), oldest
  first, at most ``window`` unacknowledged at a time.  On a disconnect every in-flight item
  goes back to pending, so once a partition heals the alarms committed during it go out
  before the older backlog.
* **Retries**: an item not acked within the ack timeout goes back to pending and is sent
  again; the timeout doubles while no ack arrives at all (server down) and is reset by the
  next ack.  Reconnections back off from 0.5 s to 30 s.  The link's state is logged once
  when it goes down and once when it is back.
* **Dead links**: MQTT keepalive (``keepalive_s``) notices a silent link within about twice
  its period; a publish without PUBACK for ``keepalive_s`` drops the connection too.
* **Images** (lane ``FILE``) go to ``PUT /api/v1/edge/<robot>/files/<sha256>`` in a second
  thread, ``file_slots`` at a time, retried with backoff until a 2xx; a slow upload never
  holds up an alarm.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

import paho.mqtt.client as mqtt

from irpatrol.edge.outbox import Lane, Outbox, OutboxItem
from irpatrol.protocol import (
    Ack,
    Envelope,
    ProtocolError,
    check_robot_id,
    mqtt_client,
    parse_ack,
    topic_for,
)

log = logging.getLogger("irpatrol.edge.uplink")

BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 30.0
"""Reconnection waits double from the minimum up to the maximum, seconds."""
FILE_BACKOFF_MAX_S = 60.0
"""Longest wait between two tries of one image upload, seconds."""


class UplinkConfig(Protocol):
    """The agent configuration fields the uplink reads (:class:`irpatrol.edge.config.EdgeConfig`)."""

    robot_id: str
    mqtt_host: str | None
    mqtt_port: int
    mqtt_topic_prefix: str
    server_url: str | None
    server_token: str | None


@dataclass
class UplinkStats:
    """Counters since start: messages ``published`` (re-sends included), ``acked`` items (acks
    ``duplicate`` and ``rejected`` included), ``rejected`` by the server, ``timeouts`` (items
    re-queued for want of an ack), ``files_sent``, ``file_errors``, ``connects`` and ``drops``."""

    published: int = 0
    acked: int = 0
    duplicates: int = 0
    rejected: int = 0
    timeouts: int = 0
    files_sent: int = 0
    file_errors: int = 0
    connects: int = 0
    drops: int = 0


@dataclass
class _Sent:
    item: OutboxItem
    sent_at: float


class _Drop(Exception):
    """Leave this connection and reconnect."""


class Uplink:
    """Drains ``outbox`` to the broker at ``mqtt_host:mqtt_port`` and, for images, to ``server_url``.

    ``window``: most items unacknowledged at once; ``ack_timeout_s`` (s): wait for the
    server's ack before an item is sent again (doubling up to ``ack_timeout_max_s`` while no
    ack comes at all); ``keepalive_s`` (s): MQTT keepalive; ``poll_s`` (s): how often an idle
    uplink looks for new items (:meth:`notify` wakes it at once); ``file_slots``: images
    being uploaded at once; ``http_timeout_s`` (s): one upload's timeout; ``tls_ca_file``:
    connect with TLS, trusting this CA certificate (PEM); ``username``/``password``: MQTT login.
    """

    def __init__(
        self,
        outbox: Outbox,
        *,
        robot_id: str,
        mqtt_host: str,
        mqtt_port: int = 1883,
        topic_prefix: str = "irpatrol",
        server_url: str | None = None,
        server_token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        tls_ca_file: str | None = None,
        window: int = 32,
        ack_timeout_s: float = 15.0,
        ack_timeout_max_s: float = 300.0,
        keepalive_s: int = 30,
        connect_timeout_s: float = 5.0,
        poll_s: float = 0.2,
        file_slots: int = 2,
        http_timeout_s: float = 60.0,
    ) -> None:
        if window < 1:
            raise ValueError(f"`window` must be ≥ 1, got {window}")
        if file_slots < 1:
            raise ValueError(f"`file_slots` must be ≥ 1, got {file_slots}")
        try:
            check_robot_id(robot_id)
        except ProtocolError as exc:
            raise ValueError(f"`robot_id`: {exc}") from None
        self.outbox = outbox
        self.robot_id = robot_id
        self.host = mqtt_host
        self.port = mqtt_port
        self.prefix = topic_prefix
        self.server_url = server_url.rstrip("/") if server_url else None
        self.server_token = server_token
        self.username = username
        self.password = password
        self.tls_ca_file = tls_ca_file
        self.window = window
        self.ack_timeout_s = ack_timeout_s
        self.ack_timeout_max_s = max(ack_timeout_max_s, ack_timeout_s)
        self.keepalive_s = keepalive_s
        self.connect_timeout_s = connect_timeout_s
        self.poll_s = poll_s
        self.file_slots = file_slots
        self.http_timeout_s = http_timeout_s
        self.client_id = f"irpatrol-edge-{robot_id}"
        self.ack_topic = topic_for(topic_prefix, robot_id, "ack")
        self.stats = UplinkStats()
        self.connected = threading.Event()
        """Set while connected and subscribed to the ack topic."""
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._external_stop: threading.Event | None = None
        # owned by the uplink thread
        self._inflight: dict[str, _Sent] = {}
        self._unpubacked: dict[int, float] = {}
        self._acks: deque[Ack] = deque()
        self._dropped = False
        self._was_up = True
        self._timeout_now = ack_timeout_s
        self._acked_since_timeout = True
        self._last_empty_claim = 0.0
        # images: handed to the file thread, results come back
        self._files: set[str] = set()
        self._file_in: queue.Queue[OutboxItem] = queue.Queue()
        self._file_out: queue.Queue[tuple[str, bool]] = queue.Queue()
        self._file_thread: threading.Thread | None = None
        self._no_server_logged = False

    @classmethod
    def from_config(cls, cfg: UplinkConfig, outbox: Outbox, **kw: Any) -> Uplink:
        """An uplink configured by the agent's configuration; ``kw`` sets the tuning arguments.

        Optional configuration fields, read when present: ``mqtt_username``, ``mqtt_password``,
        ``mqtt_tls_ca_file``.
        """
        if not cfg.mqtt_host:
            raise ValueError("`mqtt_host` is not set: there is no broker to send to")
        for name, arg in (
            ("mqtt_username", "username"),
            ("mqtt_password", "password"),
            ("mqtt_tls_ca_file", "tls_ca_file"),
        ):
            value = getattr(cfg, name, None)
            if value is not None:
                kw.setdefault(arg, str(value))
        return cls(
            outbox,
            robot_id=cfg.robot_id,
            mqtt_host=cfg.mqtt_host,
            mqtt_port=cfg.mqtt_port,
            topic_prefix=cfg.mqtt_topic_prefix,
            server_url=cfg.server_url,
            server_token=cfg.server_token,
            **kw,
        )

    # -- life cycle -----------------------------------------------------------------------------

    def start(self, stop: threading.Event | None = None) -> None:
        """Run in background threads until :meth:`stop` (or until ``stop`` is set)."""
        self._external_stop = stop
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name="irpatrol-uplink", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Disconnect cleanly, put in-flight items back to pending and end the threads."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def notify(self) -> None:
        """Tell the uplink a new item was committed (it otherwise looks every ``poll_s``)."""
        self._wake.set()

    def awaiting_ack(self) -> list[str]:
        """Keys published and not yet acknowledged by the server (a snapshot; diagnostics and tests)."""
        return list(self._inflight)

    def _stopping(self) -> bool:
        return self._stop.is_set() or (self._external_stop is not None and self._external_stop.is_set())

    def run(self) -> None:
        """Connect, drain and reconnect with backoff until stopped (blocking)."""
        self._file_thread = threading.Thread(
            target=self._file_loop, name="irpatrol-uplink-files", daemon=True
        )
        self._file_thread.start()
        backoff = BACKOFF_MIN_S
        try:
            while not self._stopping():
                client = self._client()
                reached = False
                try:
                    client.connect(self.host, self.port, keepalive=self.keepalive_s)
                    reached = True
                except OSError as exc:
                    self._down(f"cannot reach the broker {self.host}:{self.port} ({exc})")
                try:
                    if reached and self._session(client):
                        backoff = BACKOFF_MIN_S
                except Exception:  # a bug or a broken outbox must not end the uplink for good
                    log.exception("uplink %s: unexpected error; reconnecting", self.robot_id)
                    self.connected.clear()
                    self._was_up = False
                with contextlib.suppress(Exception):
                    self._release_inflight()
                if self._stopping():
                    break
                self._wait(backoff)
                backoff = min(2 * backoff, BACKOFF_MAX_S)
        finally:
            self._release_inflight()
            self._stop.set()
            if self._file_thread is not None:
                self._file_thread.join(self.http_timeout_s + 5)
            self._collect_files(final=True)

    def _wait(self, seconds: float) -> None:
        """Sleep ``seconds`` while still settling image uploads; wake early when stopped."""
        end = time.monotonic() + seconds
        while not self._stopping() and time.monotonic() < end:
            self._collect_files()
            self._stop.wait(min(0.1, max(0.0, end - time.monotonic())))

    # -- one connection ---------------------------------------------------------------------------

    def _client(self) -> mqtt.Client:
        client: mqtt.Client = mqtt_client(
            self.client_id,
            connect_timeout_s=self.connect_timeout_s,
            username=self.username,
            password=self.password,
            tls_ca_file=self.tls_ca_file,
        )
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        self._dropped = False
        self._unpubacked.clear()
        return client

    def _session(self, client: mqtt.Client) -> bool:
        """Drain over one connection until it drops or the uplink stops; True if it came up."""
        deadline = time.monotonic() + self.connect_timeout_s
        came_up = False
        try:
            while not self._stopping() and not self._dropped:
                rc = client.loop(timeout=0.02 if self._acks else 0.05)
                if rc != mqtt.MQTT_ERR_SUCCESS:
                    raise _Drop(f"connection lost ({mqtt.error_string(rc)})")
                if not self.connected.is_set():
                    if time.monotonic() > deadline:
                        raise _Drop("the broker did not answer the connection in time")
                    continue
                came_up = True
                self._take_acks()
                self._collect_files()
                self._check_timeouts()
                self._fill(client)
        except _Drop as exc:
            self.stats.drops += 1
            self._down(str(exc))
        finally:
            self.connected.clear()
            if self._stopping():
                with contextlib.suppress(Exception):
                    client.disconnect()
                    client.loop(timeout=0.1)
            sock = client.socket()
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
        return came_up

    def _down(self, why: str) -> None:
        self.connected.clear()
        if self._was_up:
            log.warning("uplink %s: %s; items wait in the outbox", self.robot_id, why)
            self._was_up = False

    def _release_inflight(self) -> None:
        if self._inflight:
            self.outbox.release(list(self._inflight))
            self._inflight.clear()
        self._unpubacked.clear()

    # -- callbacks (run in this thread, inside client.loop) ---------------------------------------

    def _on_connect(self, client: mqtt.Client, _ud: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            self._down(f"the broker refused the connection ({reason})")
            self._dropped = True
            return
        client.subscribe(self.ack_topic, qos=1)
        self.stats.connects += 1

    def _on_subscribe(self, _c: mqtt.Client, _ud: Any, _mid: int, reasons: Any, _props: Any) -> None:
        # send only once the broker holds the ack subscription: an ack published before it
        # would be lost, and its item sent again after the ack timeout
        failed = [r for r in reasons if getattr(r, "is_failure", False)]
        if failed:
            self._down(f"the broker refused the ack subscription ({failed[0]})")
            self._dropped = True
            return
        self.connected.set()
        if not self._was_up:
            log.warning("uplink %s: connected to %s:%s again", self.robot_id, self.host, self.port)
        self._was_up = True

    def _on_disconnect(self, _c: mqtt.Client, _ud: Any, _flags: Any, reason: Any, _props: Any) -> None:
        self._dropped = True
        self.connected.clear()

    def _on_publish(self, _c: mqtt.Client, _ud: Any, mid: int, _reason: Any, _props: Any) -> None:
        self._unpubacked.pop(mid, None)

    def _on_message(self, _c: mqtt.Client, _ud: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            self._acks.append(parse_ack(bytes(msg.payload)))
        except ProtocolError as exc:
            log.warning("uplink %s: not an ack on %s (%s)", self.robot_id, msg.topic, exc)

    # -- the work -----------------------------------------------------------------------------------

    def _take_acks(self) -> None:
        while self._acks:
            ack = self._acks.popleft()
            if ack.status == "rejected":
                self.stats.rejected += 1
                log.error(
                    "uplink %s: the server refused %s for good (%s); dropped from the outbox",
                    self.robot_id,
                    ack.key,
                    ack.reason,
                )
            elif ack.status == "duplicate":
                self.stats.duplicates += 1
            if self.outbox.ack(ack.key):
                self.stats.acked += 1
            self._inflight.pop(ack.key, None)
            self._timeout_now = self.ack_timeout_s
            self._acked_since_timeout = True

    def _check_timeouts(self) -> None:
        now = time.monotonic()
        if self._unpubacked and now - min(self._unpubacked.values()) > self.keepalive_s:
            raise _Drop(f"no PUBACK from the broker for {self.keepalive_s} s")
        late = [k for k, s in self._inflight.items() if now - s.sent_at > self._timeout_now]
        if not late:
            return
        self.outbox.release(late)
        for k in late:
            del self._inflight[k]
        self.stats.timeouts += len(late)
        log.info(
            "uplink %s: %d items unacked after %.1f s, sent again",
            self.robot_id,
            len(late),
            self._timeout_now,
        )
        if not self._acked_since_timeout:  # nothing acked at all since the last timeout: back off
            self._timeout_now = min(2 * self._timeout_now, self.ack_timeout_max_s)
        self._acked_since_timeout = False

    def _fill(self, client: mqtt.Client) -> None:
        """Claim what the window has room for and send it: records published, images to the file thread."""
        room = self.window - len(self._inflight)
        if room <= 0:
            return
        now = time.monotonic()
        if not self._wake.is_set() and now - self._last_empty_claim < self.poll_s:
            return
        self._wake.clear()
        items = self.outbox.claim(room)
        if not items:
            self._last_empty_claim = now
            return
        parked: list[str] = []
        records: list[OutboxItem] = []
        for item in items:
            if item.lane == Lane.FILE or item.kind == "file":
                if self.server_url is None or len(self._files) >= self.file_slots:
                    parked.append(item.key)
                    continue
                self._files.add(item.key)
                self._file_in.put(item)
            else:  # in the window before publishing: a drop mid-batch releases every claimed item
                self._inflight[item.key] = _Sent(item, now)
                records.append(item)
        if parked:
            self.outbox.release(parked)
            if len(parked) == len(items):  # only images and no slot: look again later
                self._last_empty_claim = now
            if self.server_url is None and not self._no_server_logged:
                log.error("uplink %s: images wait in the outbox: no server_url", self.robot_id)
                self._no_server_logged = True
        for item in records:
            self._publish(client, item)

    def _publish(self, client: mqtt.Client, item: OutboxItem) -> None:
        env = Envelope(
            key=item.key,
            kind=item.kind,
            robot=self.robot_id,
            created_at=item.created_at.isoformat(),
            body=item.payload,
        )
        info = client.publish(topic_for(self.prefix, self.robot_id, item.kind), env.to_json(), qos=1)
        now = time.monotonic()
        self._inflight[item.key].sent_at = now
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise _Drop(f"publish failed ({mqtt.error_string(info.rc)})")
        self._unpubacked[info.mid] = now
        self.stats.published += 1

    # -- images over HTTP ---------------------------------------------------------------------------

    def _collect_files(self, *, final: bool = False) -> None:
        """Ack uploaded images; at the end, put the ones never sent back to pending."""
        while True:
            try:
                key, ok = self._file_out.get_nowait()
            except queue.Empty:
                break
            self._files.discard(key)
            if ok and self.outbox.ack(key):
                self.stats.acked += 1
                self.stats.files_sent += 1
        if final and self._files:
            while True:
                try:
                    self._files.add(self._file_in.get_nowait().key)
                except queue.Empty:
                    break
            self.outbox.release(list(self._files))
            self._files.clear()

    def _file_loop(self) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {self.server_token}"} if self.server_token else {}
        with httpx.Client(base_url=self.server_url or "http://invalid", headers=headers,
                          timeout=self.http_timeout_s) as http:  # fmt: skip
            while not self._stop.is_set():
                try:
                    item = self._file_in.get(timeout=0.1)
                except queue.Empty:
                    continue
                backoff = 1.0
                while True:
                    outcome = self._send_file(http, item)
                    if outcome is not None:
                        self._file_out.put((item.key, outcome))
                        break
                    if self._stop.wait(backoff):  # stopping: the item goes back to pending
                        self._file_out.put((item.key, False))
                        break
                    backoff = min(2 * backoff, FILE_BACKOFF_MAX_S)

    def _send_file(self, http: Any, item: OutboxItem) -> bool | None:
        """One upload try: True when the server has it (or there is nothing to send), None to try again."""
        import httpx

        sha = str(item.payload.get("sha256", ""))
        if item.blob_path is None or not item.blob_path.exists():
            log.error("uplink %s: image item %s has no blob on disk; dropped", self.robot_id, item.key)
            return True  # nothing left to send: acked so it does not block the lane
        try:
            data = item.blob_path.read_bytes()
            resp = http.put(
                f"/api/v1/edge/{self.robot_id}/files/{sha}",
                content=data,
                params={
                    "file_name": item.payload.get("file_name") or "",
                    "created_at": item.created_at.isoformat(),
                },
                headers={"Idempotency-Key": item.key, "Content-Type": "application/octet-stream"},
            )
        except (OSError, httpx.HTTPError) as exc:
            self.stats.file_errors += 1
            log.info("uplink %s: image %s not sent (%s); will retry", self.robot_id, item.key, exc)
            return None
        except Exception:  # a bug must not end the file thread: logged, tried again later
            self.stats.file_errors += 1
            log.exception("uplink %s: image %s hit an unexpected error; will retry", self.robot_id, item.key)
            return None
        if 200 <= resp.status_code < 300:
            return True
        self.stats.file_errors += 1
        level = logging.INFO if resp.status_code >= 500 or resp.status_code == 429 else logging.ERROR
        log.log(level, "uplink %s: image %s answered %s: %s; will retry", self.robot_id, item.key,
                resp.status_code, resp.text[:200])  # fmt: skip
        return None


def start_uplink(cfg: UplinkConfig, outbox: Outbox, stop: threading.Event | None = None) -> Uplink:
    """Build an :class:`Uplink` from the agent's configuration and start it (``irpatrol edge run``)."""
    uplink = Uplink.from_config(cfg, outbox)
    uplink.start(stop)
    return uplink


__all__ = ["Uplink", "UplinkConfig", "UplinkStats", "start_uplink"]
