"""inspect_image on real files: path and bytes alike, configured points, references, texts, errors."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from irpatrol.diagnosis.grading import Finding
from irpatrol.diagnosis.points import parse_points
from irpatrol.diagnosis.rulepack import load_rule_pack
from irpatrol.errors import CorruptFileError, FormatError, ParameterError, UnsupportedFormatError
from irpatrol.formats import registry
from irpatrol.pipeline import Conditions, Inspection, ReferenceFolder, inspect_image, render_finding_texts
from irpatrol.pipeline.texts import finding_texts
from irpatrol.thermal.radiometry import Thermogram
from tests.conftest import DEMO

FUSES = DEMO / "flir_t640_fuses.jpg"
FUSE_POINTS = parse_points(
    (DEMO / "flir_t640_fuses.points.yaml").read_text(encoding="utf-8"), path="fuses.points.yaml"
).points
PACK = load_rule_pack("dlt664-2016")
ANALYZE_KEYS = {
    "file", "width", "height", "background_c", "noise_k", "n_pixels", "n_excluded",
    "hotspots", "regions", "findings",
}  # fmt: skip


@pytest.fixture(scope="module")
def fuses() -> Inspection:
    return inspect_image(FUSES, points=FUSE_POINTS, pack=PACK)


def test_configured_points_grade_phase_b(fuses: Inspection) -> None:
    (assessment,) = fuses.analysis.assessments
    c, f = assessment.comparison, assessment.finding
    assert c is not None
    assert f is not None
    assert c.hot_label == "B"
    assert c.t1_c == pytest.approx(46.6, abs=0.1)
    assert c.delta_pct == pytest.approx(42.0, abs=0.5)
    assert f.grade.name == "GENERAL"
    assert f.rule_pack == "dlt664-2016"


def test_file_facts(fuses: Inspection) -> None:
    assert fuses.name == "flir_t640_fuses.jpg"
    assert fuses.format_name == "flir-rjpeg"
    assert (fuses.width, fuses.height) == (640, 480)
    assert fuses.camera.model is not None
    assert "T640" in fuses.camera.model
    assert fuses.emissivity is not None
    assert 0 < fuses.emissivity <= 1
    assert fuses.distance_m is not None
    assert fuses.distance_m > 0
    t = fuses.thermogram
    assert t.celsius.dtype == np.float32
    assert t.celsius.shape == (480, 640)
    assert fuses.min_c is not None
    assert fuses.max_c is not None
    assert fuses.mean_c is not None
    assert fuses.min_c <= fuses.mean_c <= fuses.max_c
    assert fuses.max_c == pytest.approx(float(t.celsius[t.valid].max()))
    assert (fuses.rule_pack, fuses.rule_pack_version) == ("dlt664-2016", PACK.version)


def test_to_dict_is_json_and_keeps_the_analyze_keys(fuses: Inspection) -> None:
    d = fuses.to_dict()
    assert set(d) >= ANALYZE_KEYS
    assert "thermogram" not in d
    back = json.loads(json.dumps(d, ensure_ascii=False))
    assert back == d
    (entry,) = d["findings"]
    assert {"subject", "device", "part", "heating_type", "comparison", "finding", "flags"} <= set(entry)
    g = entry["finding"]
    assert g["grade"] == "general"
    assert g["grade_value"] == 1
    for key in ("explanation_zh", "explanation_en", "recommendation_zh", "recommendation_en"):
        assert g[key]
    for key in ("rule_id", "clause", "verification", "t1_c", "t2_c", "t0_c", "delta_t_k", "rise_k",
                "delta_pct", "flags", "tentative", "level", "priority"):  # fmt: skip
        assert key in g
    assert d["camera"]["make"]
    assert d["format"] == "flir-rjpeg"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_to_dict_in_one_language(fuses: Inspection, lang: str) -> None:
    g = fuses.to_dict(lang)["findings"][0]["finding"]
    assert g["explanation"] == g["explanation"].strip()
    assert g["recommendation"]
    assert "explanation_zh" not in g
    assert ("一般缺陷" in g["explanation"]) is (lang == "zh")


def test_to_dict_refuses_other_languages(fuses: Inspection) -> None:
    with pytest.raises(ParameterError):
        fuses.to_dict("fr")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_texts_from_stored_facts_equal_live_texts(fuses: Inspection, lang: str) -> None:
    finding = fuses.analysis.assessments[0].finding
    assert finding is not None
    stored = json.loads(json.dumps(fuses.to_dict()["findings"][0]["finding"], ensure_ascii=False))
    assert render_finding_texts(stored, lang) == finding_texts(finding, lang)
    assert Finding.from_dict(stored) == finding


def test_path_and_bytes_give_equal_results(fuses: Inspection) -> None:
    from_bytes = inspect_image(FUSES.read_bytes(), name="flir_t640_fuses.jpg", points=FUSE_POINTS, pack=PACK)
    assert from_bytes.to_dict() == fuses.to_dict()
    np.testing.assert_array_equal(from_bytes.thermogram.celsius, fuses.thermogram.celsius)


def test_bytes_without_name_match_no_point_patterns() -> None:
    ins = inspect_image(FUSES.read_bytes(), points=FUSE_POINTS, pack=PACK)
    assert ins.name == "<bytes>"
    assert all(a.subject.startswith("spot ") for a in ins.analysis.assessments)  # automatic mode


def test_automatic_mode_and_no_pack() -> None:
    ins = inspect_image(FUSES, pack=None, conditions=Conditions(ambient_c=20.0))
    assert ins.rule_pack is None
    assert ins.analysis.assessments
    assert all(a.finding is None for a in ins.analysis.assessments)
    assert ins.to_dict()["conditions"]["ambient_c"] == 20.0


def test_reference_loader_is_used_for_a_reference_image(tmp_path: Path) -> None:
    calls: list[str] = []
    reference = inspect_image(FUSES, pack=None).thermogram

    def loader(name: str) -> Thermogram:
        calls.append(name)
        return reference

    points = tuple(replace(p, reference_image="fuses-reference.jpg") for p in FUSE_POINTS)
    ins = inspect_image(FUSES, points=points, pack=PACK, reference_loader=loader)
    assert calls == ["fuses-reference.jpg"]
    (a,) = ins.analysis.assessments
    assert a.alignment is not None
    assert a.alignment.ok
    assert a.finding is not None
    assert a.finding.grade.name == "GENERAL"

    no_loader = inspect_image(FUSES, points=points, pack=PACK)
    assert "reference-missing" in no_loader.analysis.assessments[0].flags

    (tmp_path / "fuses-reference.jpg").write_bytes(FUSES.read_bytes())
    from_folder = inspect_image(FUSES, points=points, pack=PACK, reference_loader=ReferenceFolder(tmp_path))
    assert from_folder.to_dict()["findings"] == ins.to_dict()["findings"]


def test_conditions_reach_grading() -> None:
    ins = inspect_image(FUSES, points=FUSE_POINTS, pack=PACK, conditions=Conditions(load_ratio=0.2))
    f = ins.analysis.assessments[0].finding
    assert f is not None
    assert f.tentative
    assert "low-load-tentative" in f.flags


@pytest.mark.parametrize(
    ("field", "value"),
    [("load_ratio", 0.0), ("humidity_pct", 120.0), ("wind_ms", -1.0), ("ambient_c", -300.0)],
)
def test_bad_conditions_name_the_field(field: str, value: float) -> None:
    with pytest.raises(ParameterError) as info:
        Conditions(**{field: value})
    assert info.value.parameter == field


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", UnsupportedFormatError),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, UnsupportedFormatError),
        (FUSES.read_bytes()[:3000], CorruptFileError),
    ],
    ids=["empty", "png", "truncated-rjpeg"],
)
def test_bad_bytes_raise_a_format_error(data: bytes, error: type[FormatError]) -> None:
    with pytest.raises(error) as info:
        inspect_image(data, name="upload.jpg", pack=PACK)
    assert isinstance(info.value, FormatError)
    assert info.value.path == "upload.jpg"


class _BuggyReader:
    name = "buggy"
    extensions = (".bug",)

    def accept(self, prefix: bytes) -> bool:
        return prefix.startswith(b"BUGGY")

    def open(self, data: object, *, path: str) -> object:
        return None.shape  # type: ignore[attr-defined]  # the bug under test


def test_a_reader_bug_is_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "READERS", [_BuggyReader(), *registry.READERS])
    with pytest.raises(AttributeError):
        inspect_image(b"BUGGY" + b"\0" * 64, name="x.bug", pack=PACK)
