"""Writing an analysed capture: its measurements on the Capture row and one Finding per assessment.

One code path for every source of results: the server's own analysis workers
(:mod:`irpatrol.server.jobs`) and inspections done on a robot and delivered over
MQTT (:mod:`irpatrol.store.edge`).  Both hand over the pipeline's JSON form of an
inspection (:meth:`irpatrol.pipeline.Inspection.to_dict`), so findings, exports and
reports see the same rows whichever side analysed the image.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from irpatrol.store.models import Capture, Finding, utcnow


def finite(x: Any, ndigits: int | None = 3) -> float | None:
    """``x`` rounded to ``ndigits`` decimals (``None``: as sent), ``None`` when it is not a finite number.

    3 decimals suit temperatures (mK); coordinates are kept whole (``ndigits=None``):
    0.001° is about 110 m and an RTK fix is good to ~1e-7°.
    """
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(v):
        return None
    return v if ndigits is None else round(v, ndigits)


def iso_time(value: Any) -> datetime | None:
    """An ISO 8601 text as a datetime, ``None`` when it is missing or not one (a stored fact, not a check)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def apply_inspection(cap: Capture, doc: dict[str, Any], *, rule_pack: str | None) -> None:
    """Write an inspection's facts (``doc``, the pipeline's dict) on ``cap`` and mark it analysed.

    Findings are not written here (:func:`finding_rows`); ``rule_pack`` names the pack graded
    with.  The capture's own ``taken_at`` wins over the file's.
    """
    cam = doc.get("camera") or {}
    cap.format_name = doc.get("format")
    cap.camera_make = cam.get("make")
    cap.camera_model = cam.get("model")
    cap.camera_serial = cam.get("serial")
    cap.width = doc.get("width")
    cap.height = doc.get("height")
    cap.min_c = finite(doc.get("min_c"))
    cap.max_c = finite(doc.get("max_c"))
    cap.mean_c = finite(doc.get("mean_c"))
    cap.background_c = doc.get("background_c")
    if cap.taken_at is None:
        cap.taken_at = iso_time(doc.get("taken_at"))
    cap.rule_pack = rule_pack
    cap.result = {k: v for k, v in doc.items() if k != "findings"}
    cap.status = "analyzed"
    cap.analyzed_at = utcnow()
    cap.claimed_at = None
    cap.error = cap.error_kind = None


def finding_rows(capture: Capture, inspection_dict: dict[str, Any]) -> list[Finding]:
    """One :class:`Finding` per entry of ``inspection_dict["findings"]``, numbered from 0.

    Findings graded above normal (grade value ≥ 1) open a defect.  ``capture`` must have
    its id (flushed).
    """
    rows = []
    for seq, a in enumerate(inspection_dict.get("findings", [])):
        g = a.get("finding") or {}
        c = a.get("comparison") or {}
        grade = g.get("grade", "not_graded")
        value = int(g["grade_value"]) if "grade_value" in g else -1
        rows.append(
            Finding(
                capture_id=capture.id,
                seq=seq,
                point_id=capture.point_id,
                station_id=capture.station_id,
                taken_at=capture.taken_at or capture.received_at,
                subject=str(a.get("subject", ""))[:128],
                device=str(a.get("device", ""))[:256],
                part=str(a.get("part", ""))[:64],
                heating_type=a.get("heating_type"),
                grade=grade,
                grade_value=value,
                rule_pack=g.get("rule_pack"),
                rule_id=g.get("rule_id"),
                clause=g.get("clause"),
                verification=g.get("verification"),
                tentative=bool(g.get("tentative", False)),
                t1_c=c.get("t1_c", g.get("t1_c")),
                t2_c=c.get("t2_c", g.get("t2_c")),
                t0_c=c.get("t0_c", g.get("t0_c")),
                delta_t_k=c.get("delta_t_k", g.get("delta_t_k")),
                rise_k=c.get("rise_k", g.get("rise_k")),
                delta_pct=c.get("delta_pct", g.get("delta_pct")),
                flags=[*a.get("flags", []), *g.get("flags", [])],
                facts=a,
                defect_status="open" if value >= 1 else None,
                status_changed_at=utcnow() if value >= 1 else None,
            )
        )
    return rows
