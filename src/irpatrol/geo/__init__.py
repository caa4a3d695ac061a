"""GNSS positions for captures: NMEA 0183 input, epochs, a time-indexed track.

* :mod:`irpatrol.geo.fix`: :class:`FixQuality`, :class:`Epoch`, :class:`PositionFix`;
* :mod:`irpatrol.geo.track`: :class:`GnssTrack` and ``position_at(t)``;
* :mod:`irpatrol.geo.nmea`: framing, checksum and parsing of NMEA lines (pynmeagps), skips counted;
* :mod:`irpatrol.geo.epochs`: sentences sharing one UTC time merged into an :class:`Epoch`;
* :mod:`irpatrol.geo.sources`: byte sources (file, replay at the recorded rate, TCP, serial port);
* :mod:`irpatrol.geo.summary`: what a log holds (``irpatrol gnss``).

A core layer: it imports only the standard library, pynmeagps and :mod:`irpatrol.errors`
(pyserial only inside the serial source, when it is used).
"""

from irpatrol.geo.epochs import EpochAssembler
from irpatrol.geo.fix import Epoch, FixQuality, PositionFix, quality_from_mode
from irpatrol.geo.nmea import NmeaReader, Sentence
from irpatrol.geo.sources import file_chunks, read_epochs, read_track, serial_chunks, tcp_chunks
from irpatrol.geo.summary import LogSummary, summarize_log
from irpatrol.geo.track import GnssTrack

__all__ = [
    "Epoch",
    "EpochAssembler",
    "FixQuality",
    "GnssTrack",
    "LogSummary",
    "NmeaReader",
    "PositionFix",
    "Sentence",
    "file_chunks",
    "quality_from_mode",
    "read_epochs",
    "read_track",
    "serial_chunks",
    "summarize_log",
    "tcp_chunks",
]
