"""Print a :class:`~irpatrol.report.model.Report` as self-contained HTML, PDF or DOCX bytes.

HTML comes from the Jinja2 layout ``report.html.j2`` with the stylesheet inlined and every
image a ``data:`` URI, so one file travels alone.  PDF is that HTML laid out by WeasyPrint,
which embeds (subsets of) the fonts it used: with Debian's fonts-noto-cjk the Chinese
text is Noto Sans/Serif CJK SC.  DOCX is built with python-docx (:mod:`irpatrol.report.word`)
as an editable document.  The caller writes the bytes.
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Literal

from irpatrol.errors import ParameterError
from irpatrol.report.model import Report
from irpatrol.report.templates import Formatter, TemplateSet

ReportFormat = Literal["pdf", "docx", "html"]
FORMATS: tuple[ReportFormat, ...] = ("pdf", "docx", "html")
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html; charset=utf-8",
}


def format_from_suffix(path: str | Path) -> ReportFormat:
    """The report format named by a file's suffix (``.pdf``, ``.docx``, ``.html``/``.htm``)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix == "htm":
        suffix = "html"
    for fmt in FORMATS:
        if suffix == fmt:
            return fmt
    raise ParameterError("output", str(path), "a file name ending in .pdf, .docx or .html")


def data_uri(data: bytes | None, mime: str) -> str:
    """``data:<mime>;base64,…`` for ``data`` (empty string for ``None``)."""
    if not data:
        return ""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def render_html(report: Report, *, templates: TemplateSet | None = None) -> str:
    """The report as one self-contained HTML page (UTF-8 text)."""
    import jinja2

    ts = templates or TemplateSet()
    labels = ts.labels(report.lang)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(ts.search_path),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    css_path = ts.find("report.css")
    css = css_path.read_text(encoding="utf-8") if css_path is not None else ""
    logo = ts.logo()
    before, _, after = str(labels.get("page", "{page}")).partition("{page}")
    return env.get_template("report.html.j2").render(
        r=report,
        L=labels,
        F=Formatter(labels),
        css=jinja2.utils.markupsafe.Markup(css),
        logo=data_uri(*logo) if logo is not None else None,
        uri=data_uri,
        page_before=before,
        page_after=after,
    )


def render_pdf(report: Report, *, templates: TemplateSet | None = None) -> bytes:
    """The report as PDF (A4, fonts embedded), laid out from :func:`render_html` by WeasyPrint."""
    import weasyprint  # type: ignore[import-untyped]

    html = render_html(report, templates=templates)
    # WeasyPrint logs every unsupported CSS property at WARNING; the layout does not depend on them
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    pdf = weasyprint.HTML(string=html).write_pdf()
    assert pdf is not None  # write_pdf without a target returns the bytes
    return bytes(pdf)


def render_report(report: Report, fmt: ReportFormat, *, templates: TemplateSet | None = None) -> bytes:
    """The report in ``fmt`` (``pdf``, ``docx`` or ``html``) as bytes."""
    if fmt == "pdf":
        return render_pdf(report, templates=templates)
    if fmt == "html":
        return render_html(report, templates=templates).encode("utf-8")
    if fmt == "docx":
        from irpatrol.report.word import render_docx

        return render_docx(report, templates=templates)
    raise ParameterError("format", fmt, "pdf, docx or html")
