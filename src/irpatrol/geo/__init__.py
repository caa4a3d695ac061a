"""GNSS positions for captures: NMEA 0183 input, epochs, a time-indexed track.

* :mod:`irpatrol.geo.fix`: :class:`FixQuality`, :class:`Epoch`, :class:`PositionFix`;
* :mod:`irpatrol.geo.track`: :class:`GnssTrack` and ``position_at(t)``;
* :mod:`irpatrol.geo.nmea`: framing, checksum and parsing of NMEA lines (pynmeagps), skips counted;
* :mod:`irpatrol.geo.epochs`: sentences sharing one UTC time merged into an :class:`Epoch`;
* :mod:`irpatrol.geo.sources`: line sources (file replay, TCP, serial port).

A core layer: it imports only the standard library, pynmeagps and :mod:`irpatrol.errors`
(pyserial only inside the serial source, when it is used).
"""

from irpatrol.geo.fix import Epoch, FixQuality, PositionFix, quality_from_mode
from irpatrol.geo.track import GnssTrack

__all__ = ["Epoch", "FixQuality", "GnssTrack", "PositionFix", "quality_from_mode"]
