"""Stored rows → API schemas, with finding texts rendered in the asked language from stored facts."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel

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


def finding_out(
    f: Finding, *, lang: str = "zh", with_facts: bool = True, with_texts: bool = True
) -> FindingOut:
    """A finding as the API shows it (texts and facts only when asked: lists leave them out)."""
    data = {name: getattr(f, name) for name in _FINDING_COLUMNS}
    if with_texts:
        data.update(finding_texts(f.facts, lang))
    if with_facts:
        data["facts"] = f.facts
    return FindingOut.model_construct(**data)


_FINDING_COLUMNS = tuple(
    n for n in FindingOut.model_fields if n not in {"explanation", "recommendation", "facts"}
)


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


def json_response(model: BaseModel, status_code: int = 200) -> Response:
    """A model already built from trusted rows, serialised once by pydantic-core.

    Returning a Response skips FastAPI's second pass (dump to dicts, validate against the
    response model, encode), which cost more than the query for a page of 50 findings;
    the route's ``response_model`` still documents the shape in OpenAPI.
    """
    return Response(content=model.model_dump_json(), media_type="application/json", status_code=status_code)
