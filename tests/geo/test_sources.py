"""Byte sources: file, replay at the recorded rate, TCP (a local server), serial (a pseudo-terminal)."""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from irpatrol.errors import FileAccessError, GnssSourceError
from irpatrol.geo import NmeaReader, read_epochs
from irpatrol.geo.sources import GPSD_WATCH_NMEA, file_chunks, replay_sentences, serial_chunks, tcp_chunks

DATA = Path(__file__).resolve().parents[1] / "data" / "nmea"
LOG = DATA / "gpsd-skytraq-PX1172RH_DS.log"


def test_file_chunks_give_the_file(tmp_path: Path) -> None:
    assert b"".join(file_chunks(LOG, chunk_size=100)) == LOG.read_bytes()
    with pytest.raises(FileAccessError, match="cannot be read"):
        list(file_chunks(tmp_path / "absent.log"))
    with pytest.raises(FileAccessError):
        list(file_chunks(tmp_path))  # a folder


def test_replay_sleeps_the_recorded_intervals() -> None:
    """PX1172RH: nine 1 Hz epochs (00:38:32 … 00:38:40): eight 1 s pauses, halved at speed 2."""
    pauses: list[float] = []
    sentences = list(replay_sentences(LOG, speed=2.0, sleep=pauses.append))
    assert len(sentences) == 195
    assert pauses == [0.5] * 8
    with pytest.raises(ValueError, match="speed"):
        list(replay_sentences(LOG, speed=0))


@pytest.fixture
def nmea_server() -> Iterator[tuple[int, list[bytes]]]:
    """A one-shot TCP server that records what the client sends and then serves the log."""
    server = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            conn.settimeout(0.5)
            try:
                received.append(conn.recv(1024))
            except TimeoutError:
                received.append(b"")
            conn.sendall(LOG.read_bytes())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    thread.join(timeout=5)
    server.close()


def test_tcp_gpsd_watch_then_nmea(nmea_server: tuple[int, list[bytes]]) -> None:
    port, received = nmea_server
    reader = NmeaReader()
    epochs = list(read_epochs(tcp_chunks("127.0.0.1", port, gpsd_watch=True), reader=reader))
    assert received == [GPSD_WATCH_NMEA]
    assert len(epochs) == 9
    assert reader.stats.skipped["gpsd_json"] == 3


def test_tcp_refused_is_a_source_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    with pytest.raises(GnssSourceError, match=f"127.0.0.1:{port}: cannot connect"):
        list(tcp_chunks("127.0.0.1", port, connect_timeout_s=1.0))


def test_tcp_silence_is_a_source_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with pytest.raises(GnssSourceError, match="no data"):
            list(tcp_chunks("127.0.0.1", port, read_timeout_s=0.2))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminals as serial ports: Linux")
def test_serial_port_through_a_pseudo_terminal() -> None:
    """A receiver on a serial port, played by a pseudo-terminal; silence after the log ends the source."""
    pytest.importorskip("serial", reason="pyserial (the edge extra) is not installed")
    master, slave = os.openpty()
    reader = NmeaReader()
    got: list[str] = []

    def consume() -> None:
        for sentence in reader.read(serial_chunks(os.ttyname(slave), read_timeout_s=0.5)):
            got.append(sentence.address)

    # written once the port is open (opening it flushes its input)
    writer = threading.Timer(0.3, os.write, (master, LOG.read_bytes()[:4000]))
    writer.start()
    try:
        with pytest.raises(GnssSourceError, match="no data"):
            consume()
    finally:
        writer.join()
        os.close(master)
        os.close(slave)
    expected = [x.address for x in NmeaReader().read([LOG.read_bytes()[:4000]])]
    assert len(expected) == 50
    assert got == expected  # the 4000th byte ends no sentence: flushed or not, the same
    assert reader.stats.skipped["gpsd_json"] == 3


def test_serial_port_that_does_not_exist(tmp_path: Path) -> None:
    pytest.importorskip("serial", reason="pyserial (the edge extra) is not installed")
    with pytest.raises(GnssSourceError, match="cannot open the serial port"):
        list(serial_chunks(str(tmp_path / "ttyNONE")))
