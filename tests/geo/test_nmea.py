"""NmeaReader: checksums enforced, noise skipped and counted by reason, resynchronised at ``$``."""

from __future__ import annotations

from pathlib import Path

import pytest

from irpatrol.geo.nmea import SKIP_REASONS, NmeaReader, nmea_checksum, with_checksum

DATA = Path(__file__).resolve().parents[1] / "data" / "nmea"

GGA = b"$GNGGA,115739.00,4002.1039,N,11618.3526,E,4,13,0.7,69.0,M,-8.0,M,1.0,0000*7F"
RMC = b"$GNRMC,115739.00,A,4002.1039,N,11618.3526,E,0.0,,020126,,,R*72"
BD_GSV = b"$BDGSV,2,1,07,01,00,000,45,02,01,090,35,03,00,000,38,04,00,000,42*6A"  # gpsd-beidou-bd.log
# a UBX NAV-PVT header and an RTCM3 frame start, as they appear on a shared receiver port
UBX = b"\xb5\x62\x01\x07\x5c\x00\x10\x27\x00\x00\xe6\x07\x0c\x02"
RTCM = b"\xd3\x00\x13\x3e\xd0\x00\x03\x8a\x0e\xde\xef\x34\xb4\xbd\x62\xac\x09\x41\x98\x6f\x33\x36\x0b\x98"


def read_all(data: bytes, *, chunk: int | None = None) -> tuple[list[str], NmeaReader]:
    reader = NmeaReader()
    chunks = [data] if chunk is None else [data[i : i + chunk] for i in range(0, len(data), chunk)]
    return [s.address for s in reader.read(chunks)], reader


def nonzero(reader: NmeaReader) -> dict[str, int]:
    return {k: v for k, v in reader.stats.skipped.items() if v}


def test_checksum_is_the_xor_of_the_body() -> None:
    assert nmea_checksum(b"") == 0
    assert with_checksum("GPGGA") == "$GPGGA*56"  # 0x47^0x50^0x47^0x47^0x41 = 0x56
    assert GGA.endswith(f"*{nmea_checksum(GGA[1:-3]):02X}".encode())


def test_valid_sentences_parse_with_talker_and_type() -> None:
    reader = NmeaReader()
    sentences = reader.feed(GGA + b"\r\n" + RMC + b"\n" + BD_GSV + b"\r\n")
    assert [(s.talker, s.sentence_type) for s in sentences] == [("GN", "GGA"), ("GN", "RMC"), ("BD", "GSV")]
    assert sentences[0].get("quality") == 4
    assert sentences[0].field(14) == "0000"
    assert sentences[0].get("no_such_field") == ""
    assert reader.stats.messages == 3
    assert dict(reader.stats.talkers) == {"GN": 2, "BD": 1}
    assert reader.stats.skipped_total == 0


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (GGA[:-2] + b"00", "checksum"),  # wrong checksum
        (GGA.replace(b"4002.1039", b"4002.1038"), "checksum"),  # one digit changed in transit
        (GGA[: GGA.index(b"*")], "no_checksum"),  # checksum missing
        (GGA[:40], "no_checksum"),  # cut before the checksum
        (GGA[:-1], "checksum_format"),  # cut inside the checksum
        (GGA + b"00", "checksum_format"),
        (b"$KSXT,20260101000000.00,116.0,40.0,60.0*33736701", "checksum_format"),  # Unicore CRC32
        (b"# a comment with $GPGGA*56 inside", "comment"),
        (b'{"class":"VERSION","release":"3.25"}', "gpsd_json"),
        (b"!AIVDM,1,1,,A,13aGmP0P00PD;88MD5MTDww@2<0L,0*23", "not_nmea"),
        (b"$GP\x00\x01GGA*00", "binary"),
        (b"$" + b"A" * 600 + b"*00", "too_long"),
        (with_checksum("G,1,2").encode(), "malformed"),  # address too short
        (with_checksum("gpgga,1").encode(), "malformed"),  # lower case is not an address
    ],
)
def test_bad_lines_are_skipped_with_their_reason(line: bytes, reason: str) -> None:
    addresses, reader = read_all(line + b"\r\n" + GGA + b"\r\n")
    assert addresses == ["GNGGA"]  # and the next line is read
    assert nonzero(reader) == {reason: 1}


def test_every_reason_is_reported_even_when_zero() -> None:
    _, reader = read_all(GGA + b"\n")
    assert tuple(reader.stats.skipped) == SKIP_REASONS
    assert reader.stats.skipped_total == 0


def test_binary_noise_between_sentences_resynchronises() -> None:
    """UBX and RTCM frames glued to NMEA without line breaks, as on a u-blox port."""
    stream = UBX + GGA + b"\r\n" + RTCM + RMC + b"\r\n" + UBX + RTCM + b"\r\n" + BD_GSV + b"\r\n"
    addresses, reader = read_all(stream)
    assert addresses == ["GNGGA", "GNRMC", "BDGSV"]
    assert nonzero(reader) == {"binary": 3}


def test_binary_with_a_dollar_inside_costs_only_itself() -> None:
    noisy = b"\xb5\x62$\x01\x07\xff" + GGA + b"\n"  # 0x24 ('$') inside the binary frame
    addresses, reader = read_all(noisy)
    assert addresses == ["GNGGA"]
    assert nonzero(reader) == {"binary": 2}  # the bytes before the `$` and the false candidate


def test_two_sentences_on_one_line_and_a_cut_one() -> None:
    addresses, reader = read_all(GGA[:50] + RMC + b"\n")
    assert addresses == ["GNRMC"]
    assert nonzero(reader) == {"no_checksum": 1}


@pytest.mark.parametrize("chunk", [1, 2, 7, 64, 4096])
def test_chunking_does_not_matter(chunk: int) -> None:
    data = (DATA / "gpsd-beidou-bd.log").read_bytes() + UBX + GGA + b"\r\n"
    whole, r1 = read_all(data)
    parts, r2 = read_all(data, chunk=chunk)
    assert parts == whole
    assert r2.stats == r1.stats


def test_mixed_line_endings() -> None:
    """beidou-bd mixes CRLF and LF; a lone CR also ends a sentence's checksum cleanly."""
    data = (DATA / "gpsd-beidou-bd.log").read_bytes()
    assert b"\r\n" in data
    assert b"\n" in data.replace(b"\r\n", b"")
    addresses, reader = read_all(data)
    assert len(addresses) == 79  # 94 lines - 14 comments - 1 blank
    assert nonzero(reader) == {"comment": 14}


def test_last_line_without_newline_is_read_at_flush() -> None:
    reader = NmeaReader()
    assert reader.feed(GGA) == []
    assert [s.address for s in reader.flush()] == ["GNGGA"]
    assert reader.flush() == []


def test_endless_binary_without_newline_is_bounded() -> None:
    """A stream with no line ending (binary only) does not grow the buffer without limit."""
    reader = NmeaReader(max_line=1024)
    for _ in range(100):
        assert reader.feed(UBX * 50) == []
        assert len(reader._buf) <= 1024
    assert [s.address for s in reader.feed(b"\n" + GGA + b"\n")] == ["GNGGA"]
    assert reader.stats.skipped["binary"] >= 1


def test_sentence_kept_when_the_line_limit_cuts_before_it() -> None:
    reader = NmeaReader(max_sentence=128, max_line=256)
    out = reader.feed(UBX * 20 + GGA[:40])  # over max_line: the partial GGA after the last `$` is kept
    assert out == []
    assert [s.address for s in reader.feed(GGA[40:] + b"\n")] == ["GNGGA"]


@pytest.mark.parametrize(("max_sentence", "max_line"), [(8, 100), (100, 50)])
def test_limits_are_checked(max_sentence: int, max_line: int) -> None:
    with pytest.raises(ValueError, match="max_"):
        NmeaReader(max_sentence=max_sentence, max_line=max_line)


def test_unicore_high_precision_and_proprietary_sentences() -> None:
    lines = [  # from pynmeagps-unicore_nmea.log and gpsd-skytraq-PX1172RH_DS.log
        b"$GNGGAH,073346.00,4004.73874301,N,11614.19077585,E,1,28,0.6,64.2831,M,8.4925,M,,*35",
        b"$GNHPR,074615.00,320.9610,-66.1712,000.0000,4,47,0.00,0999*45",
        b"$PSTI,030,003832.000,A,4404.1271062,N,12118.8438377,W,1127.630,-0.00,-0.01,0.02,290322,O,1.000,1.100*32",
    ]
    reader = NmeaReader()
    got = [
        (s.talker, s.sentence_type, s.is_proprietary, s.address) for s in reader.read([b"\r\n".join(lines)])
    ]
    assert got == [
        ("GN", "GGAH", False, "GNGGAH"),
        ("GN", "HPR", False, "GNHPR"),
        ("P", "STI", True, "PSTI"),
    ]
    assert reader.stats.skipped_total == 0
