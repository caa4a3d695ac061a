"""NMEA 0183 framing and parsing: bytes in, checked sentences out, every skip counted.

A receiver's port or log is not clean NMEA: binary UBX/RTCM frames share the
port, gpsd adds JSON lines, logs carry ``#`` comments, lines are cut or end in
CRLF, LF or a mix.  :class:`NmeaReader` takes bytes in chunks of any size, cuts
them into lines, and resynchronises at every ``$``: whatever lies between
sentences is skipped and counted by reason, never raised.  A candidate sentence
must be printable ASCII, carry a ``*hh`` checksum, and the checksum must match
(sentences without one are refused: a noisy serial line makes them up).  The
checked sentence is then parsed by pynmeagps (``validate=VALCKSUM``).

Skip reasons (:data:`SKIP_REASONS`, keys of :attr:`ReadStats.skipped`):

``comment``
    a printable line starting with ``#`` (log headers);
``gpsd_json``
    a printable line starting with ``{`` (gpsd's JSON reports on its port and in its logs);
``not_nmea``
    printable text that is not a ``$`` sentence (``!AIVDM``, prompts, stray text),
    counted once per run between sentences;
``binary``
    a run containing bytes outside printable ASCII (UBX ``B5 62``, RTCM ``D3``,
    line noise), or a ``$`` candidate containing such bytes;
``too_long``
    a candidate longer than ``max_sentence`` characters (no NMEA sentence is:
    NMEA allows 82, Unicore's high-precision ones are below 200);
``no_checksum``
    a ``$`` sentence without ``*`` (including lines cut before their checksum);
``checksum_format``
    a ``*`` not followed by exactly two hex digits (truncated lines, Unicore
    ``$KSXT`` with an 8-digit CRC32);
``checksum``
    the XOR checksum does not match;
``malformed``
    the checksum matches but the address or the fields cannot be parsed.

Blank lines are not counted.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import reduce
from typing import Any, Final

from pynmeagps import VALCKSUM, NMEAMessage, NMEAReader
from pynmeagps.exceptions import NMEAMessageError, NMEAParseError, NMEAStreamError, NMEATypeError

SKIP_REASONS: Final = (
    "comment",
    "gpsd_json",
    "not_nmea",
    "binary",
    "too_long",
    "no_checksum",
    "checksum_format",
    "checksum",
    "malformed",
)
"""Every reason a span of input is skipped, in the order the checks run."""

GNSS_TALKERS: Final = frozenset({"GP", "GL", "GA", "GB", "BD", "GN", "GQ", "QZ", "GI"})
"""Talker ids of satellite systems: GPS, GLONASS, Galileo, BeiDou (``GB`` NMEA 4.10+ and
``BD`` of the Chinese BDS spec), combined (``GN``), QZSS (``GQ``/``QZ``) and NavIC (``GI``)."""

BEIDOU_TALKERS: Final = frozenset({"GB", "BD"})
"""The two talker ids BeiDou sentences come with."""

_ADDRESS = re.compile(r"[A-Z][A-Z0-9]{2,9}")
_HEX = b"0123456789ABCDEFabcdef"
_NOT_PRINTABLE = re.compile(rb"[^\t\x20-\x7e]")
_PARSE_ERRORS = (
    NMEAParseError,
    NMEAMessageError,
    NMEATypeError,
    NMEAStreamError,
    # pynmeagps converts field by field; damaged but checksum-valid fields surface as these
    ValueError,
    TypeError,
    LookupError,
    ArithmeticError,
    AttributeError,
)


def nmea_checksum(body: bytes) -> int:
    """XOR of the bytes between ``$`` and ``*`` (the NMEA 0183 checksum).

    >>> f"{nmea_checksum(b'GPGGA'):02X}"
    '56'
    """
    return reduce(lambda acc, b: acc ^ b, body, 0)


def with_checksum(body: str) -> str:
    """``$body*hh`` with the right checksum (for tests and for building commands to a receiver).

    >>> with_checksum("GPGGA")
    '$GPGGA*56'
    """
    return f"${body}*{nmea_checksum(body.encode('ascii')):02X}"


@dataclass(frozen=True)
class Sentence:
    """One checked, parsed NMEA sentence.

    ``talker`` is the two-letter talker id (``"GN"``, ``"BD"`` ...) or ``"P"`` for a
    proprietary sentence, ``sentence_type`` the rest of the address (``"GGA"``,
    ``"GGAH"``, ``"STI"`` ...), ``message`` pynmeagps' parsed message (fields as
    attributes: ``lat``, ``quality`` ...; an empty field is ``""``), ``raw`` the
    sentence bytes from ``$`` to the checksum, without the line ending.
    """

    talker: str
    sentence_type: str
    message: NMEAMessage
    raw: bytes

    @property
    def address(self) -> str:
        """Talker and type as written: ``"GNGGA"``, ``"PSTI"``."""
        return self.talker + self.sentence_type

    @property
    def is_proprietary(self) -> bool:
        """True for ``$P...`` sentences (``$PSTI``, ``$PUBX``, ``$PSRF`` ...)."""
        return self.talker == "P"

    def field(self, index: int) -> str:
        """Raw text of field ``index`` as written (0 is the address), ``""`` when absent.

        For fields whose text matters more than their value: a base station id
        ``0002`` that a parser would turn into the number 2.
        """
        fields = self.raw[1 : self.raw.rfind(b"*")].split(b",")
        return fields[index].decode("ascii") if 0 <= index < len(fields) else ""

    def get(self, name: str) -> Any:
        """Field ``name`` of the message, or ``""`` when the sentence has no such field."""
        return getattr(self.message, name, "")


@dataclass
class ReadStats:
    """What a reader has seen so far.

    ``messages`` counts valid sentences, ``skipped`` skipped spans by reason (every
    key of :data:`SKIP_REASONS` present), ``talkers`` valid sentences by talker id
    (``"P"`` for proprietary) and ``types`` by address (``"GNGGA"``, ``"PSTI"``).
    """

    messages: int = 0
    skipped: Counter[str] = field(default_factory=lambda: Counter(dict.fromkeys(SKIP_REASONS, 0)))
    talkers: Counter[str] = field(default_factory=Counter)
    types: Counter[str] = field(default_factory=Counter)

    @property
    def skipped_total(self) -> int:
        """Number of skipped spans, all reasons together."""
        return sum(self.skipped.values())


class NmeaReader:
    """Incremental NMEA framer and parser over a byte stream.

    Feed chunks of any size with :meth:`feed` (a serial read, a TCP recv, a file
    block); it returns the sentences completed by that chunk.  Call :meth:`flush`
    at the end of the stream for a last line without a line ending.  It never
    raises on content: every rejected span is counted in :attr:`stats`.

    ``max_sentence`` caps a candidate sentence (characters from ``$``); a line
    with no line ending grows at most to ``max_line`` bytes before it is cut at its
    last ``$`` (a binary stream may have no newline for a long time).

    >>> r = NmeaReader()
    >>> [s.address for s in r.feed(b"\\xb5b\\x01\\x07junk$GPGGA*56\\r\\n$GPGGA*00\\n#c\\n")]
    ['GPGGA']
    >>> r.stats.messages, r.stats.skipped["binary"], r.stats.skipped["checksum"], r.stats.skipped["comment"]
    (1, 1, 1, 1)
    """

    def __init__(self, *, max_sentence: int = 512, max_line: int = 8192) -> None:
        if max_sentence < 16:
            msg = f"`max_sentence` must be at least 16, got {max_sentence!r}"
            raise ValueError(msg)
        if max_line < max_sentence:
            msg = f"`max_line` must be at least `max_sentence` ({max_sentence}), got {max_line!r}"
            raise ValueError(msg)
        self.max_sentence = max_sentence
        self.max_line = max_line
        self.stats = ReadStats()
        self._buf = bytearray()

    def feed(self, data: bytes | bytearray | memoryview) -> list[Sentence]:
        """Add bytes; return the sentences whose line the bytes completed, in order."""
        self._buf += data
        out: list[Sentence] = []
        start = 0
        buf = self._buf
        while True:
            nl = buf.find(b"\n", start)
            if nl < 0:
                break
            self._line(bytes(buf[start:nl]), out)
            start = nl + 1
        del buf[:start]
        if len(buf) > self.max_line:  # no line ending for too long: keep only from the last `$`
            cut = buf.rfind(b"$")
            if cut <= 0 or len(buf) - cut > self.max_sentence:
                cut = len(buf)
            self._line(bytes(buf[:cut]), out)
            del buf[:cut]
        return out

    def flush(self) -> list[Sentence]:
        """End of stream: treat what is buffered as a last line."""
        out: list[Sentence] = []
        if self._buf:
            self._line(bytes(self._buf), out)
            self._buf.clear()
        return out

    def read(self, chunks: Iterable[bytes]) -> Iterator[Sentence]:
        """Sentences from an iterable of byte chunks, flushing at its end."""
        for chunk in chunks:
            yield from self.feed(chunk)
        yield from self.flush()

    # -- one line ---------------------------------------------------------------------------
    def _line(self, line: bytes, out: list[Sentence]) -> None:
        line = line.strip(b" \t\r\n")
        if not line:
            return
        skipped = self.stats.skipped
        # a printable line starting with # or { is a comment or a gpsd report; with binary bytes
        # in it, it is noise that may hide a sentence after a `$`
        if line[:1] in (b"#", b"{") and not _is_binary(line):
            skipped["comment" if line[:1] == b"#" else "gpsd_json"] += 1
            return
        parts = line.split(b"$")
        lead = parts[0].strip()
        if lead:
            skipped["binary" if _is_binary(lead) else "not_nmea"] += 1
        for part in parts[1:]:
            sentence = self._sentence(part)
            if sentence is not None:
                out.append(sentence)

    def _sentence(self, body_and_tail: bytes) -> Sentence | None:
        """Check and parse one candidate (the bytes after a ``$`` up to the next ``$`` or line end)."""
        skipped = self.stats.skipped
        text = body_and_tail.rstrip(b" \t\r\n\x00")
        if len(text) + 1 > self.max_sentence:
            skipped["too_long"] += 1
            return None
        if _is_binary(text):
            skipped["binary"] += 1
            return None
        star = text.rfind(b"*")
        if star < 0:
            skipped["no_checksum"] += 1
            return None
        given = text[star + 1 :]
        if len(given) != 2 or given.strip(_HEX):
            skipped["checksum_format"] += 1
            return None
        body = text[:star]
        if int(given, 16) != nmea_checksum(body):
            skipped["checksum"] += 1
            return None
        address = body.split(b",", 1)[0].decode("ascii")
        if not _ADDRESS.fullmatch(address):
            skipped["malformed"] += 1
            return None
        raw = b"$" + text
        try:
            message = NMEAReader.parse(raw, validate=VALCKSUM)
        except _PARSE_ERRORS:
            skipped["malformed"] += 1
            return None
        if message is None:
            skipped["malformed"] += 1
            return None
        if address[0] == "P":
            talker, kind = "P", address[1:]
        else:
            talker, kind = address[:2], address[2:]
        stats = self.stats
        stats.messages += 1
        stats.talkers[talker] += 1
        stats.types[address] += 1
        return Sentence(talker, kind, message, raw)


def _is_binary(data: bytes) -> bool:
    """True when ``data`` holds a byte outside printable ASCII (tab allowed)."""
    return _NOT_PRINTABLE.search(data) is not None


__all__ = [
    "BEIDOU_TALKERS",
    "GNSS_TALKERS",
    "SKIP_REASONS",
    "NmeaReader",
    "ReadStats",
    "Sentence",
    "nmea_checksum",
    "with_checksum",
]
