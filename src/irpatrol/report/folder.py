"""A report from a folder of thermal images (and an optional points file), for crews without a server.

Every file in the folder (not its sub-folders) is inspected with
:func:`irpatrol.pipeline.inspect_image`; a file that cannot be read or analysed is listed
with the reader's one-line reason instead of stopping the report.  Also the conversion of a
finding's facts (live or stored) into a :class:`~irpatrol.report.model.FindingEntry`, which
the server's report builder shares.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from irpatrol.diagnosis.points import InspectionPoint
from irpatrol.diagnosis.rulepack import RulePack
from irpatrol.errors import IrpatrolError
from irpatrol.pipeline import Conditions, Inspection, ReferenceFolder, inspect_image, open_source
from irpatrol.pipeline.texts import render_finding_texts
from irpatrol.report.annotate import markers_from_doc
from irpatrol.report.figures import photo, thermal_figure
from irpatrol.report.model import (
    CaptureEntry,
    Environment,
    FindingEntry,
    Header,
    Instrument,
    Report,
    Unreadable,
)
from irpatrol.report.templates import TemplateSet

SKIPPED_SUFFIXES = frozenset(
    {".yaml", ".yml", ".md", ".txt", ".json", ".pdf", ".docx", ".html", ".htm", ".xlsx", ".log"}
)
"""Files in a folder that are not images and are not listed as unreadable (points files, notes, reports)."""


AUTOMATIC_DEVICE = "(unconfigured)"
"""The device name the analysis gives hot spots found without a configured point."""


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def finding_entry(
    *,
    subject: str,
    device: str | None,
    part: str | None,
    comparison: Mapping[str, Any] | None,
    facts: Mapping[str, Any] | None,
    lang: str,
    **extra: Any,
) -> FindingEntry:
    """A report finding from the JSON facts of a comparison and its graded finding.

    ``facts`` is ``Finding.to_dict()`` as the pipeline returns it or the server stores it
    (``None``: compared, not graded); the explanation and recommendation are rendered in
    ``lang`` from it (:func:`~irpatrol.pipeline.texts.render_finding_texts`).  ``extra``
    sets further fields (``id``, ``location``, ``defect_status``, ``review_status``, or a
    reviewed ``grade``).
    """
    cmp = comparison or {}
    f = facts or {}

    def value(key: str) -> float | None:
        v = _num(f.get(key))
        return v if v is not None else _num(cmp.get(key))

    texts: dict[str, str] = {}
    label = None
    part_label = part
    if facts:
        texts = render_finding_texts(facts, lang)
        names = f.get("level_name")
        label = names.get(lang) if isinstance(names, Mapping) else None
        pn = f.get("part_name")
        if isinstance(pn, Mapping) and pn.get(lang):
            part_label = f"{pn[lang]} ({part})" if part and pn[lang] != part else str(pn[lang])
    fields: dict[str, Any] = {
        "subject": subject,
        "device": device,
        "part": part_label,
        "grade": str(f.get("grade", "not_graded")) if facts else "not_graded",
        "grade_label": label,
        "tentative": bool(f.get("tentative", False)),
        "rule_pack": f.get("rule_pack"),
        "rule_id": f.get("rule_id"),
        "clause": f.get("clause"),
        "t1_c": value("t1_c"),
        "t2_c": value("t2_c"),
        "t0_c": value("t0_c"),
        "delta_t_k": value("delta_t_k"),
        "rise_k": value("rise_k"),
        "delta_pct": value("delta_pct"),
        "hot": cmp.get("hot"),
        "reference": cmp.get("reference"),
        "explanation": texts.get("explanation"),
        "recommendation": texts.get("recommendation"),
    }
    fields.update(extra)
    return FindingEntry(**fields)


def marker_labels(findings: Iterable[FindingEntry], grade_names: Mapping[str, str]) -> list[tuple[str, str]]:
    """The grade lines written on a thermogram: ``subject: grade  δ=…%`` per finding."""
    out = []
    for f in findings:
        text = f"{f.subject}: {grade_names.get(f.grade, f.grade)}"
        if f.delta_pct is not None:
            text += f"  δ={f.delta_pct:.0f}%"
        out.append((text, f.grade))
    return out


def inspection_entry(
    inspection: Inspection,
    *,
    lang: str,
    grade_names: Mapping[str, str],
    visible_jpeg: bytes | None = None,
    range_c: tuple[float, float] | None = None,
    palette: str = "iron",
    location: str | None = None,
) -> CaptureEntry:
    """A report capture from a live :class:`~irpatrol.pipeline.Inspection`: figure, numbers, findings."""
    doc = inspection.to_dict()
    findings = tuple(
        finding_entry(
            subject=str(e.get("subject", "")),
            device=None if e.get("device") == AUTOMATIC_DEVICE else e.get("device"),
            part=e.get("part"),
            comparison=e.get("comparison"),
            facts=e.get("finding"),
            lang=lang,
            location=location if e.get("device") in (None, AUTOMATIC_DEVICE) else e.get("device"),
            automatic=e.get("device") == AUTOMATIC_DEVICE,
        )
        for e in doc["findings"]
    )
    if location is None:  # a folder: the configured points' devices say where the image was taken
        devices = dict.fromkeys(f.device for f in findings if f.device and not f.automatic)
        location = "、".join(d for d in devices if d) if lang == "zh" else ", ".join(d for d in devices if d)
        location = location or None
    markers = markers_from_doc(doc, labels=marker_labels(findings, grade_names))
    cond = inspection.conditions
    cam = inspection.camera
    return CaptureEntry(
        name=inspection.name,
        taken_at=inspection.taken_at,
        location=location,
        camera=Instrument(make=cam.make, model=cam.model, serial=cam.serial, range_c=range_c),
        thermal_image=thermal_figure(inspection.thermogram, markers, palette=palette),
        visible_jpeg=photo(visible_jpeg),
        emissivity=inspection.emissivity,
        distance_m=inspection.distance_m,
        min_c=inspection.min_c,
        max_c=inspection.max_c,
        environment=Environment(
            ambient_c=cond.ambient_c, humidity_pct=cond.humidity_pct, wind_ms=cond.wind_ms
        ),
        load_ratio=cond.load_ratio,
        findings=findings,
    )


def file_extras(
    source: Path | bytes, *, name: str | None = None
) -> tuple[bytes | None, tuple[float, float] | None]:
    """The embedded visible photo and the calibrated range (°C) of a file, from its headers only."""
    with open_source(source, name=name) as tf:
        frame = tf.first_frame()
        visible = frame.visible_image() if frame.info.has_visible_image else None
        cal = frame.calibration
        rng = cal.temp_range_k if cal is not None else None
    range_c = (rng[0] - 273.15, rng[1] - 273.15) if rng is not None else None
    return visible, range_c


@dataclass(frozen=True, kw_only=True)
class FolderHeader:
    """What a folder cannot tell and the crew may: station, bays, executor, patrol type, weather."""

    station: str | None = None
    bays: tuple[str, ...] = ()
    executor: str | None = None
    executor_kind: str | None = None
    patrol_type: str | None = None
    weather: str | None = None
    load_current_a: float | None = None


def _instruments(captures: Sequence[CaptureEntry]) -> tuple[Instrument, ...]:
    seen: dict[tuple[str | None, str | None, str | None], Instrument] = {}
    for c in captures:
        key = (c.camera.make, c.camera.model, c.camera.serial)
        if key not in seen and any(key):
            seen[key] = c.camera
    return tuple(seen.values())


def image_files(folder: Path, *, skip: Iterable[Path] = ()) -> list[Path]:
    """The files of ``folder`` a report inspects, sorted: all but :data:`SKIPPED_SUFFIXES` and hidden."""
    skipped = {p.resolve() for p in skip}
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and not p.name.startswith(".")
        and p.suffix.lower() not in SKIPPED_SUFFIXES
        and p.resolve() not in skipped
    )


def _file_entry(
    path: Path,
    *,
    lang: str,
    grade_names: Mapping[str, str],
    pack: RulePack | None,
    points: Sequence[InspectionPoint],
    conditions: Conditions,
    loader: ReferenceFolder,
    palette: str,
) -> CaptureEntry | Unreadable:
    """One file of a folder: its capture, or why it could not be read (a picklable job)."""
    try:
        visible, range_c = file_extras(path)
        inspection = inspect_image(
            path, points=points, pack=pack, conditions=conditions, reference_loader=loader
        )
    except IrpatrolError as exc:  # a bad file, a bad reference: listed, the report goes on
        return Unreadable(name=path.name, reason=str(exc).replace(str(path), path.name))
    return inspection_entry(
        inspection, lang=lang, grade_names=grade_names, visible_jpeg=visible, range_c=range_c, palette=palette
    )


def build_folder_report(
    folder: Path,
    *,
    lang: str,
    pack: RulePack | None,
    points: Sequence[InspectionPoint] = (),
    points_dir: Path | None = None,
    conditions: Conditions = Conditions(),  # noqa: B008  (frozen, immutable default)
    header: FolderHeader = FolderHeader(),
    templates: TemplateSet = TemplateSet(),  # noqa: B008  (frozen, immutable default)
    palette: str = "iron",
    files: Sequence[Path] | None = None,
    workers: int = 1,
) -> Report:
    """The patrol report (红外热像检测报告) of the images in ``folder``.

    ``points`` configure the inspection points (automatic hot-spot mode without them);
    ``points_dir`` resolves their reference images (default: ``folder``); ``conditions``
    (ambient, load, humidity, wind) apply to every image and are printed in the header;
    ``files`` replaces the folder listing (:func:`image_files`).  Unreadable files are
    listed in :attr:`Report.unreadable`; other errors propagate.  ``workers`` > 1 inspects
    and draws the images in that many processes (the order of the report is the files').
    """
    job = partial(
        _file_entry,
        lang=lang,
        grade_names=dict(templates.labels(lang).get("grades") or {}),
        pack=pack,
        points=tuple(points),
        conditions=conditions,
        loader=ReferenceFolder(points_dir or folder),
        palette=palette,
    )
    paths = list(files if files is not None else image_files(folder))
    n = min(max(1, workers), len(paths) or 1)
    if n == 1:
        entries = [job(p) for p in paths]
    else:
        with ProcessPoolExecutor(max_workers=n) as pool:
            entries = list(pool.map(job, paths, chunksize=max(1, len(paths) // (n * 4))))
    captures = [e for e in entries if isinstance(e, CaptureEntry)]
    unreadable = [e for e in entries if isinstance(e, Unreadable)]
    times = [c.taken_at for c in captures if c.taken_at is not None]
    kind = header.executor_kind if header.executor_kind in ("robot", "person") else None
    return Report(
        kind="patrol",
        lang=lang,
        header=Header(
            station=header.station,
            bays=header.bays,
            started_at=min(times) if times else None,
            finished_at=max(times) if times else None,
            patrol_type=header.patrol_type,
            instruments=_instruments(captures),
            environment=Environment(
                ambient_c=conditions.ambient_c,
                humidity_pct=conditions.humidity_pct,
                wind_ms=conditions.wind_ms,
                weather=header.weather,
            ),
            load_ratio=conditions.load_ratio,
            load_current_a=header.load_current_a,
            executor=header.executor,
            executor_kind=kind,  # type: ignore[arg-type]
            rule_pack=pack.name if pack is not None else None,
            rule_pack_version=pack.version if pack is not None else None,
            source=str(folder),
        ),
        captures=tuple(captures),
        unreadable=tuple(unreadable),
        generated_at=datetime.now(UTC),
    )
