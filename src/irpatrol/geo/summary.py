"""What a GNSS log holds: sentence and skip counts, talkers, fix qualities, first and last fix, σ.

:func:`summarize_log` reads a whole log through :class:`~irpatrol.geo.nmea.NmeaReader`
and :class:`~irpatrol.geo.epochs.EpochAssembler`; :meth:`LogSummary.to_dict` is the
JSON document of ``irpatrol gnss --json`` (a contract: fields are only ever added).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from irpatrol.errors import GnssError
from irpatrol.geo.epochs import EpochAssembler
from irpatrol.geo.fix import Epoch
from irpatrol.geo.nmea import GNSS_TALKERS, NmeaReader
from irpatrol.geo.sources import file_chunks, read_epochs

SCHEMA_VERSION = 1
"""Version of :meth:`LogSummary.to_dict`'s layout; raised only if a field changes meaning."""


@dataclass(frozen=True, kw_only=True)
class LogSummary:
    """The summary of one log (see :meth:`to_dict` for the meaning of every field)."""

    source: str
    messages: int
    skipped: dict[str, int]
    talker_counts: dict[str, int]
    sentence_counts: dict[str, int]
    gga_quality_counts: dict[str, int]
    epochs: tuple[Epoch, ...] = field(repr=False)
    undated_epochs: int

    @property
    def fixes(self) -> list[Epoch]:
        """Epochs with a position and a real fix, in log order."""
        return [e for e in self.epochs if e.has_position and e.quality.is_fix]

    @property
    def talkers(self) -> list[str]:
        """Satellite-system talker ids seen (GP, GL, GA, GB, BD, GN, GQ/QZ, GI), sorted."""
        return sorted(t for t in self.talker_counts if t in GNSS_TALKERS)

    @property
    def sigmas(self) -> list[float]:
        """Horizontal σ (m) of every epoch with a GST, in log order."""
        return [s for e in self.epochs if (s := e.sigma_m) is not None]

    def to_dict(self) -> dict[str, Any]:
        """The ``irpatrol gnss --json`` document.

        ``messages``: valid sentences (checksum and fields correct).
        ``skipped``: skipped spans by reason (every reason of
        :data:`irpatrol.geo.nmea.SKIP_REASONS`, zeros included); ``skipped_total``.
        ``talkers``: satellite-system talker ids seen, sorted; ``other_talkers``:
        non-GNSS, non-proprietary talker ids (Unicore ``GY``, ``SN``); ``proprietary``:
        ``$P...`` sentence names (``PSTI``).  ``sentence_counts``: valid sentences by
        address (``GNGGA``).  ``gga_quality_counts``: GGA sentences (and Unicore's
        GGAH) by fix-quality digit as a string.  ``epochs``: solutions assembled,
        ``epochs_with_fix``, ``quality_counts`` epochs by quality label,
        ``undated_epochs`` (no RMC/ZDA date and none given).  ``first_fix`` /
        ``last_fix``: the first and last epoch with a position and a real fix in log
        order (``null`` if none): ``time`` (ISO 8601 UTC or ``null``), ``lat``,
        ``lon`` (decimal degrees), ``alt_m`` (MSL), ``quality`` (label),
        ``gga_quality`` (digit or ``null``), ``sigma_m``, ``heading_deg``.
        ``sigma_m``: the **median** horizontal σ (m) over the epochs with a GST
        (√(σ_lat² + σ_lon²)), ``null`` without GST; ``sigma_m_last`` the last one,
        ``gst_epochs`` how many.  ``span_s``: seconds from the first to the last
        dated epoch.
        """
        fixes = self.fixes
        sigmas = self.sigmas
        dated = [e.time for e in self.epochs if e.time is not None]
        proprietary = sorted(k for k in self.sentence_counts if k.startswith("P"))
        return {
            "schema_version": SCHEMA_VERSION,
            "source": self.source,
            "messages": self.messages,
            "skipped": dict(self.skipped),
            "skipped_total": sum(self.skipped.values()),
            "talkers": self.talkers,
            "other_talkers": sorted(t for t in self.talker_counts if t not in GNSS_TALKERS and t != "P"),
            "proprietary": proprietary,
            "sentence_counts": dict(sorted(self.sentence_counts.items())),
            "gga_quality_counts": dict(sorted(self.gga_quality_counts.items())),
            "epochs": len(self.epochs),
            "epochs_with_fix": len(fixes),
            "quality_counts": dict(sorted(Counter(e.quality.label for e in self.epochs).items())),
            "undated_epochs": self.undated_epochs,
            "first_fix": _fix_dict(fixes[0]) if fixes else None,
            "last_fix": _fix_dict(fixes[-1]) if fixes else None,
            "sigma_m": statistics.median(sigmas) if sigmas else None,
            "sigma_m_last": sigmas[-1] if sigmas else None,
            "gst_epochs": len(sigmas),
            "span_s": (max(dated) - min(dated)).total_seconds() if dated else None,
        }


def _fix_dict(e: Epoch) -> dict[str, Any]:
    return {
        "time": e.time.isoformat() if e.time is not None else None,
        "lat": e.lat,
        "lon": e.lon,
        "alt_m": e.alt_m,
        "quality": e.quality.label,
        "gga_quality": e.gga_quality,
        "sigma_m": e.sigma_m,
        "heading_deg": e.heading_deg,
    }


def summarize(chunks: Iterable[bytes], *, source: str, date: dt.date | None = None) -> LogSummary:
    """Summarise an NMEA byte stream; :class:`GnssError` when it holds no valid sentence."""
    reader = NmeaReader()
    assembler = EpochAssembler(date=date)
    epochs = tuple(read_epochs(chunks, reader=reader, assembler=assembler))
    stats = reader.stats
    if stats.messages == 0:
        seen = ", ".join(f"{n} {k}" for k, n in stats.skipped.items() if n) or "nothing"
        raise GnssError(source, f"no valid NMEA 0183 sentence (skipped: {seen})")
    return LogSummary(
        source=source,
        messages=stats.messages,
        skipped=dict(stats.skipped),
        talker_counts=dict(stats.talkers),
        sentence_counts=dict(stats.types),
        gga_quality_counts=dict(assembler.stats.gga_quality),
        epochs=epochs,
        undated_epochs=assembler.stats.undated,
    )


def summarize_log(path: str | Path, *, date: dt.date | None = None) -> LogSummary:
    """Summarise a log file (:class:`~irpatrol.errors.FileAccessError` if unreadable,
    :class:`GnssError` if it holds no valid NMEA sentence)."""
    return summarize(file_chunks(path), source=str(path), date=date)


__all__ = ["SCHEMA_VERSION", "LogSummary", "summarize", "summarize_log"]
