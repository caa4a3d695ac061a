"""The server's MQTT ingest: edge agents' messages stored once, then acknowledged (``docs/edge-protocol.md``).

For each message on ``<prefix>/v1/<robot>/<kind>`` the ingest

1. checks the topic and the envelope (:func:`irpatrol.protocol.parse_envelope`);
2. stores it, with the other messages that arrived together (up to ``batch_size``), in one
   transaction: the message row under its unique key and, for results and alarms, the
   capture and its findings (:func:`irpatrol.store.edge.store_envelope`), with webhook
   events for new serious defects;
3. commits, and **only then** publishes the application-level ack (QoS 1) on
   ``<prefix>/v1/<robot>/ack``;
4. and only after that acknowledges the MQTT delivery to the broker (manual PUBACK), so a
   crash anywhere before leaves the message with the broker to be delivered again.

A key stored before is acked again as ``duplicate`` and adds no row.  A message that can
never be stored (not JSON, a missing field, a topic and envelope that disagree) is a dead
letter: it is kept in ``edge_rejects``, counted and logged, and, when its key could be
read, acked as ``rejected`` so the agent stops sending it instead of blocking its queue.
A database error is not the message's fault: nothing is acked, the connection is
dropped so the broker delivers the message again, and the agent re-sends it anyway.

The MQTT session is persistent (clean session off, a fixed client id), so messages sent
while the ingest is down wait at the broker.  One thread owns the MQTT client, the
network loop and the database work; :class:`MqttIngest` runs it in the background
(``irpatrol serve``) or in the foreground (``irpatrol mqtt-ingest``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt
from sqlalchemy.exc import IntegrityError

from irpatrol.protocol import (
    Ack,
    AckStatus,
    Envelope,
    ProtocolError,
    mqtt_client,
    parse_envelope,
    parse_topic,
    subscriptions,
    topic_for,
)
from irpatrol.server.trend import series_params
from irpatrol.store.edge import find_message, record_reject, store_envelope

if TYPE_CHECKING:
    from irpatrol.server.runtime import Runtime

log = logging.getLogger("irpatrol.server.mqtt_ingest")

BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 30.0
"""Reconnection waits double from the minimum to the maximum, seconds."""


@dataclass
class IngestStats:
    """Counters since start: messages ``received``, ``stored`` new, ``duplicates``, ``rejected``
    (dead letters), ``acks`` published, ``db_errors`` and MQTT ``connects``."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    acks: int = 0
    db_errors: int = 0
    connects: int = 0


class _Drop(Exception):
    """Leave the connection (the broker then delivers unacknowledged messages again)."""


class MqttIngest:
    """Subscribe to every robot's messages on ``host:port`` and store them in ``rt``'s database.

    ``prefix`` is the first topic level, ``client_id`` names the persistent session (one
    ingest per id), ``tls_ca_file`` makes it connect with TLS trusting that CA (PEM),
    ``keepalive_s`` (s) bounds how long a dead link goes unnoticed (about twice that).
    ``after_store`` is called with each key right after its commit and before its ack (for
    failure tests: a process killed there has stored but not acked).
    """

    def __init__(
        self,
        rt: Runtime,
        *,
        host: str,
        port: int = 1883,
        prefix: str = "irpatrol",
        client_id: str = "irpatrol-ingest",
        username: str | None = None,
        password: str | None = None,
        tls_ca_file: str | None = None,
        keepalive_s: int = 30,
        connect_timeout_s: float = 5.0,
        after_store: Callable[[str], None] | None = None,
        batch_size: int = 64,
    ) -> None:
        self.rt = rt
        self.host = host
        self.port = port
        self.prefix = prefix
        self.client_id = client_id
        self.username = username
        self.password = password
        self.tls_ca_file = tls_ca_file
        self.keepalive_s = keepalive_s
        self.connect_timeout_s = connect_timeout_s
        self.after_store = after_store
        self.batch_size = batch_size
        self.stats = IngestStats()
        self.connected = threading.Event()
        """Set while subscribed to the broker."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._inbox: list[mqtt.MQTTMessage] = []
        self._dropped = False
        self._was_up = True

    @classmethod
    def from_runtime(cls, rt: Runtime, **kw: Any) -> MqttIngest:
        """An ingest configured by ``rt.settings`` (``IRPATROL_MQTT_*``); ``kw`` overrides."""
        s = rt.settings
        if not s.mqtt_host:
            from irpatrol.errors import SettingsError

            raise SettingsError("IRPATROL_MQTT_HOST", "no MQTT broker is set for the ingest")
        args: dict[str, Any] = {
            "host": s.mqtt_host,
            "port": s.mqtt_port,
            "prefix": s.mqtt_topic_prefix,
            "client_id": s.mqtt_client_id,
            "username": s.mqtt_username,
            "password": s.mqtt_password.get_secret_value() if s.mqtt_password is not None else None,
            "keepalive_s": s.mqtt_keepalive_s,
            "tls_ca_file": str(s.mqtt_tls_ca_file) if s.mqtt_tls_ca_file else None,
        }
        args.update(kw)
        return cls(rt, **args)

    # -- running ---------------------------------------------------------------------------

    def start(self) -> None:
        """Run in a background (daemon) thread until :meth:`stop`."""
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name="irpatrol-mqtt-ingest", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Leave the broker cleanly and end the thread (waits up to ``timeout`` s)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run(self) -> None:
        """Connect, consume and reconnect with backoff until :meth:`stop` (blocking)."""
        backoff = BACKOFF_MIN_S
        while not self._stop.is_set():
            client = self._client()
            try:
                client.connect(self.host, self.port, keepalive=self.keepalive_s)
            except OSError as exc:
                self._down(f"cannot reach the broker {self.host}:{self.port} ({exc})")
                self._stop.wait(backoff)
                backoff = min(2 * backoff, BACKOFF_MAX_S)
                continue
            try:
                if self._session(client):
                    backoff = BACKOFF_MIN_S
            except Exception:  # a bug must not end the ingest: what was not acked comes again
                log.exception("mqtt ingest: unexpected error; reconnecting")
                self._was_up = False
            self.connected.clear()
            if not self._stop.is_set():
                self._stop.wait(backoff)
                backoff = min(2 * backoff, BACKOFF_MAX_S)

    def _client(self) -> mqtt.Client:
        client: mqtt.Client = mqtt_client(
            self.client_id,
            connect_timeout_s=self.connect_timeout_s,
            username=self.username,
            password=self.password,
            tls_ca_file=self.tls_ca_file,
            manual_ack=True,
        )
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._inbox = []
        self._dropped = False
        return client

    def _session(self, client: mqtt.Client) -> bool:
        """Serve one connection until it drops or :meth:`stop`; True if it was ever subscribed."""
        deadline = time.monotonic() + self.connect_timeout_s
        ever_up = False
        try:
            while not self._stop.is_set() and not self._dropped:
                rc = client.loop(timeout=0.2)
                if rc != mqtt.MQTT_ERR_SUCCESS:
                    self._down(f"connection to the broker lost ({mqtt.error_string(rc)})")
                    break
                if self.connected.is_set():
                    ever_up = True
                elif time.monotonic() > deadline:
                    self._down("the broker did not answer the connection in time")
                    break
                self._process(client)
        except _Drop as exc:
            self._down(str(exc))
        finally:
            if self._stop.is_set():
                client.disconnect()
                client.loop(timeout=0.2)
            sock = client.socket()
            if sock is not None:
                sock.close()
        return ever_up

    def _down(self, why: str) -> None:
        self.connected.clear()
        if self._was_up:
            log.warning("mqtt ingest: %s; retrying", why)
            self._was_up = False

    # -- callbacks (in this thread, from client.loop) --------------------------------------

    def _on_connect(self, client: mqtt.Client, _ud: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            self._down(f"the broker refused the connection ({reason})")
            self._dropped = True
            return
        client.subscribe([(t, 1) for t in subscriptions(self.prefix)])
        self.stats.connects += 1

    def _on_subscribe(self, _c: mqtt.Client, _ud: Any, _mid: int, reasons: Any, _props: Any) -> None:
        # ready only once the broker has the subscriptions: a robot's message published
        # between CONNACK and SUBACK would find no subscriber (and no queue) on the broker
        failed = [r for r in reasons if getattr(r, "is_failure", False)]
        if failed:
            self._down(f"the broker refused the subscriptions ({failed[0]})")
            self._dropped = True
            return
        self.connected.set()
        if not self._was_up:
            log.warning("mqtt ingest: connected to %s:%s again", self.host, self.port)
        else:
            log.info("mqtt ingest: connected to %s:%s", self.host, self.port)
        self._was_up = True

    def _on_disconnect(self, _c: mqtt.Client, _ud: Any, _flags: Any, reason: Any, _props: Any) -> None:
        self._dropped = True
        self.connected.clear()

    def _on_message(self, _c: mqtt.Client, _ud: Any, msg: mqtt.MQTTMessage) -> None:
        self._inbox.append(msg)

    # -- the work --------------------------------------------------------------------------

    def _process(self, client: mqtt.Client) -> None:
        while self._inbox and not self._dropped:
            batch = self._inbox[: self.batch_size]
            del self._inbox[: len(batch)]
            self.stats.received += len(batch)
            answers = self.handle_batch([(m.topic, bytes(m.payload)) for m in batch])
            for ack, robot in answers:  # committed: now the acks, then the broker's PUBACKs
                if ack is not None and robot is not None:
                    client.publish(topic_for(self.prefix, robot, "ack"), ack.to_json(), qos=1)
                    self.stats.acks += 1
            for m in batch:
                if m.qos > 0:
                    client.ack(m.mid, m.qos)

    def handle_batch(self, messages: list[tuple[str, bytes]]) -> list[tuple[Ack | None, str | None]]:
        """Check and store ``(topic, payload)`` messages in one transaction; per message, the ack
        to publish (``None``: nothing to ack) and the robot it goes to.

        Raises ``_Drop`` (leave the connection, nothing acked) on a database error.
        """
        answers: list[tuple[Ack | None, str | None]] = []
        good: list[tuple[int, Envelope]] = []
        rejects: list[dict[str, Any]] = []
        for topic, payload in messages:
            try:
                robot, kind = parse_topic(self.prefix, topic)
            except ProtocolError as exc:
                rejects.append(
                    {"topic": topic, "payload": payload, "reason": str(exc), "key": None, "robot": None}
                )
                answers.append((None, None))
                continue
            try:
                env = parse_envelope(payload)
                if env.robot != robot or env.kind != kind:
                    said = f"robot {env.robot!r}, kind {env.kind!r}"
                    raise ProtocolError(f"the envelope says {said} on topic {topic!r}", key=env.key)
            except ProtocolError as exc:
                rejects.append(
                    {"topic": topic, "payload": payload, "reason": str(exc), "key": exc.key, "robot": robot}
                )
                answers.append(
                    ((Ack(key=exc.key, status="rejected", reason=exc.detail) if exc.key else None), robot)
                )
                continue
            good.append((len(answers), env))
            answers.append((None, robot))
        for r in rejects:
            log.warning("mqtt ingest: dead letter on %s (key %r): %s", r["topic"], r["key"], r["reason"])
        statuses = self._store([env for _, env in good], rejects)
        self.stats.rejected += len(rejects)
        for (index, env), status in zip(good, statuses, strict=True):
            if self.after_store is not None:
                self.after_store(env.key)
            answers[index] = (Ack(key=env.key, status=status), answers[index][1])
        return answers

    def _store(self, envs: list[Envelope], rejects: list[dict[str, Any]]) -> list[AckStatus]:
        """Store ``envs`` and keep ``rejects`` in one transaction; the status of each envelope.

        Two ingests racing on a key: the loser's transaction fails at the unique key and the
        batch is stored again one message at a time, where a lost race is a duplicate.
        """
        from irpatrol.server.jobs import SERIOUS
        from irpatrol.server.webhooks import queue_defect_events

        queued = False
        try:
            with self.rt.sessions() as s:
                try:
                    with s.begin():
                        for r in rejects:
                            record_reject(s, **r)
                        statuses: list[AckStatus] = []
                        for env in envs:
                            stored = store_envelope(
                                s, env, blobs=self.rt.blobs, series=series_params(self.rt.settings)
                            )
                            statuses.append(stored.status)
                            serious = [f for f in stored.new_findings if f.grade_value >= SERIOUS]
                            if serious:
                                queued = queue_defect_events(s, "defect.created", serious, stored.capture) > 0
                except IntegrityError:  # another ingest committed one of these keys first
                    if len(envs) + len(rejects) > 1:
                        return [*self._store([], rejects), *(st for e in envs for st in self._store([e], []))]
                    if not envs or find_message(s, envs[0].key) is None:
                        raise
                    statuses = ["duplicate"]
        except _Drop:
            raise
        except Exception as exc:
            self.stats.db_errors += 1
            log.error("mqtt ingest: storing %d messages failed (%s); none acknowledged", len(envs), exc)
            raise _Drop(f"database error ({type(exc).__name__})") from exc
        self.stats.stored += statuses.count("stored")
        self.stats.duplicates += statuses.count("duplicate")
        if queued:
            self._kick_webhooks()
        return statuses

    def _kick_webhooks(self) -> None:
        try:
            from irpatrol.server.tasks import kick_webhooks

            kick_webhooks(self.rt)
        except Exception as exc:  # the deliveries are in the database; the periodic run sends them
            log.warning("mqtt ingest: could not queue a webhook run (%s)", exc)


def _dead(topic: str, payload: bytes, exc: ProtocolError, *, robot: str | None) -> dict[str, Any]:
    """The fields of a dead letter (:func:`irpatrol.store.edge.record_reject`)."""
    return {"topic": topic, "payload": payload, "reason": str(exc), "key": exc.key, "robot": robot}
