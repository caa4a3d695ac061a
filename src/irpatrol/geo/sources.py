"""Where NMEA bytes come from: a log file (optionally replayed at its recorded rate), TCP, a serial port.

Each source is an iterator of byte chunks; :class:`~irpatrol.geo.nmea.NmeaReader`
does the framing, so a source never needs to know where lines end.  The helpers
:func:`read_epochs` and :func:`read_track` run a whole source through the reader
and the epoch assembler.

* :func:`file_chunks`: a log, as fast as it can be read;
* :func:`replay_sentences`: a log, paced by the time fields of its sentences (a
  robot demo or a test that wants the recorded 1-10 Hz);
* :func:`tcp_chunks`: gpsd's port (2947; ``gpsd_watch=True`` asks it for raw NMEA
  with ``?WATCH``; its JSON replies are skipped as ``gpsd_json``), or a receiver
  or NTRIP client that serves its corrected NMEA over TCP;
* :func:`serial_chunks`: a receiver on a serial port (pyserial, from the ``edge``
  extra, imported only here).

Errors: an unreadable file is :class:`~irpatrol.errors.FileAccessError`; a
receiver that cannot be reached or drops the link is
:class:`~irpatrol.errors.GnssSourceError` (a ``ConnectionError``: retry).
"""

from __future__ import annotations

import datetime as dt
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from irpatrol.errors import FileAccessError, GnssSourceError
from irpatrol.geo.epochs import EpochAssembler
from irpatrol.geo.fix import Epoch
from irpatrol.geo.nmea import NmeaReader, Sentence
from irpatrol.geo.track import GnssTrack

GPSD_WATCH_NMEA = b'?WATCH={"enable":true,"nmea":true};\n'
"""The command that makes gpsd (port 2947) send the receiver's NMEA sentences."""


def file_chunks(path: str | Path, *, chunk_size: int = 65_536) -> Iterator[bytes]:
    """The bytes of a log file in chunks of ``chunk_size`` (:class:`FileAccessError` if unreadable)."""
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(chunk_size):
                yield chunk
    except OSError as exc:
        raise FileAccessError(path, f"cannot be read ({exc.strerror or exc})") from exc


def replay_sentences(
    path: str | Path,
    *,
    speed: float = 1.0,
    reader: NmeaReader | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Sentence]:
    """The sentences of a log, paced as recorded: before a sentence whose time field is
    later than the previous one's, sleep the difference divided by ``speed``.

    Untimed sentences follow their epoch at once; a time that goes backwards (a new
    day, a jump in the log) does not sleep.  ``sleep`` is injectable for tests.
    """
    if not speed > 0:
        msg = f"`speed` must be > 0, got {speed!r}"
        raise ValueError(msg)
    reader = reader or NmeaReader()
    last: float | None = None
    for sentence in reader.read(file_chunks(path)):
        t = sentence.get("time")
        if isinstance(t, dt.time):
            tod = t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6
            if last is not None and 0 < tod - last < 3600:
                sleep((tod - last) / speed)
            last = tod
        yield sentence


def tcp_chunks(
    host: str,
    port: int,
    *,
    gpsd_watch: bool = False,
    connect_timeout_s: float = 5.0,
    read_timeout_s: float = 5.0,
    chunk_size: int = 4096,
) -> Iterator[bytes]:
    """Bytes from a TCP NMEA stream until the peer closes it.

    ``gpsd_watch`` sends :data:`GPSD_WATCH_NMEA` first (for gpsd's port 2947; its
    raw NMEA port or a receiver's TCP server needs nothing).  No byte for
    ``read_timeout_s`` seconds, a refused or broken connection: :class:`GnssSourceError`.
    """
    source = f"{host}:{port}"
    try:
        sock = socket.create_connection((host, port), timeout=connect_timeout_s)
    except OSError as exc:
        raise GnssSourceError(source, f"cannot connect ({exc})") from exc
    with sock:
        sock.settimeout(read_timeout_s)
        try:
            if gpsd_watch:
                sock.sendall(GPSD_WATCH_NMEA)
            while chunk := sock.recv(chunk_size):
                yield chunk
        except TimeoutError as exc:
            raise GnssSourceError(source, f"no data for {read_timeout_s} s") from exc
        except OSError as exc:
            raise GnssSourceError(source, f"connection broken ({exc})") from exc


def serial_chunks(
    port: str,
    *,
    baudrate: int = 115_200,
    read_timeout_s: float = 5.0,
    chunk_size: int = 4096,
) -> Iterator[bytes]:
    """Bytes from a receiver on a serial port (``/dev/ttyUSB0``, ``COM3``) until it goes away.

    Needs pyserial (``pip install irpatrol[edge]``).  No byte for ``read_timeout_s``
    seconds, a port that cannot be opened or disappears: :class:`GnssSourceError`.
    """
    try:
        import serial  # pyserial: the edge extra; only this source needs it
    except ImportError as exc:
        raise GnssSourceError(port, "pyserial is not installed (pip install 'irpatrol[edge]')") from exc
    try:
        ser = serial.Serial(port, baudrate=baudrate, timeout=0.2)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise GnssSourceError(port, f"cannot open the serial port ({exc})") from exc
    with ser:
        idle_since = time.monotonic()
        while True:
            try:
                chunk = ser.read(max(1, min(chunk_size, ser.in_waiting or 1)))
            except (serial.SerialException, OSError) as exc:
                raise GnssSourceError(port, f"serial port failed ({exc})") from exc
            if chunk:
                idle_since = time.monotonic()
                yield bytes(chunk)
            elif time.monotonic() - idle_since > read_timeout_s:
                raise GnssSourceError(port, f"no data for {read_timeout_s} s")


def read_epochs(
    chunks: Iterable[bytes],
    *,
    date: dt.date | None = None,
    reader: NmeaReader | None = None,
    assembler: EpochAssembler | None = None,
) -> Iterator[Epoch]:
    """Epochs from a source of byte chunks (reader and assembler may be passed to read their stats)."""
    reader = reader or NmeaReader()
    assembler = assembler or EpochAssembler(date=date)
    for sentence in reader.read(chunks):
        yield from assembler.push(sentence)
    yield from assembler.flush()


def read_track(path: str | Path, *, date: dt.date | None = None, maxlen: int = 1_000_000) -> GnssTrack:
    """A whole log file as a :class:`GnssTrack` (e.g. to position images taken during a recorded patrol)."""
    return GnssTrack(read_epochs(file_chunks(path), date=date), maxlen=maxlen)


__all__ = [
    "GPSD_WATCH_NMEA",
    "file_chunks",
    "read_epochs",
    "read_track",
    "replay_sentences",
    "serial_chunks",
    "tcp_chunks",
]
