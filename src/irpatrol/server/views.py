"""Stored rows → API schemas, with finding texts rendered in the asked language from stored facts."""

from __future__ import annotations

from typing import Any

from irpatrol.server.schemas import CaptureOut, FindingOut
from irpatrol.store.models import Capture, Finding


def finding_texts(facts: dict[str, Any] | None, lang: str) -> dict[str, str | None]:
    """Explanation and recommendation for a stored finding, in ``lang`` (``zh`` or ``en``)."""
    graded = (facts or {}).get("finding")
    if not graded:
        return {"explanation": None, "recommendation": None}
    from irpatrol.pipeline.texts import render_finding_texts

    texts = render_finding_texts(graded, lang)
    return {"explanation": texts.get("explanation"), "recommendation": texts.get("recommendation")}


def finding_out(f: Finding, *, lang: str = "zh", with_facts: bool = True) -> FindingOut:
    """A finding as the API shows it."""
    out = FindingOut.model_validate(f)
    texts = finding_texts(f.facts, lang)
    return out.model_copy(update={**texts, "facts": f.facts if with_facts else None})


def capture_out(cap: Capture, *, lang: str = "zh", with_findings: bool = True) -> CaptureOut:
    """A capture as the API shows it; findings only when asked (lists leave them out)."""
    out = _capture(cap)
    if with_findings:
        out.findings = [finding_out(f, lang=lang) for f in cap.findings]
    return out


def _capture(cap: Capture) -> CaptureOut:
    data = {
        name: getattr(cap, name)
        for name in CaptureOut.model_fields
        if name not in {"findings", "measurements"}
    }
    return CaptureOut(**data, measurements=cap.result, findings=[])
