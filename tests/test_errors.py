"""The error hierarchy and the failure classification a worker acts on."""

from __future__ import annotations

import pytest

from irpatrol.errors import (
    AnalysisError,
    CalibrationError,
    CorruptFileError,
    FileAccessError,
    ParameterError,
    PointsFileError,
    RulePackError,
    SettingsError,
    UnsupportedFormatError,
    failure_kind,
)


@pytest.mark.parametrize(
    "exc",
    [
        CorruptFileError("a.jpg", "truncated"),
        UnsupportedFormatError("a.png", "a PNG image"),
        CalibrationError("a.jpg", "PlanckR1", -1.0, "a positive number"),
        ParameterError("emissivity", 2.0, "a number in (0, 1]"),
        RulePackError("p.yaml", "bad", line=3),
        PointsFileError("p.yaml", "bad", line=3),
        SettingsError("IRPATROL_RULES", "unknown pack"),
        AnalysisError("alignment failed"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_bad_input(exc: BaseException) -> None:
    assert failure_kind(exc) == "bad-input"


@pytest.mark.parametrize(
    "exc",
    [FileAccessError("a.jpg", "cannot be read"), OSError(5, "I/O error"), PermissionError(), TimeoutError()],
    ids=lambda e: type(e).__name__,
)
def test_transient(exc: BaseException) -> None:
    assert failure_kind(exc) == "transient"


@pytest.mark.parametrize(
    "exc",
    [
        TypeError("x"),
        AttributeError("x"),
        KeyError("x"),
        AssertionError(),
        ValueError("x"),
        KeyboardInterrupt(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_bug(exc: BaseException) -> None:
    assert failure_kind(exc) == "bug"
