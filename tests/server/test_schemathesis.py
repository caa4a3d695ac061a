"""Property-based API testing: schemathesis generates requests from the app's OpenAPI description.

Every operation is called with valid and with invalid data under an admin token, on
SQLite and PostgreSQL.  Whatever comes in, the server must answer without a 5xx, and
every error answer must be the API's JSON ``{"error": {"code", "message"}}`` body.
Examples are bounded per operation so the whole run stays within a couple of minutes.

The operations are listed from an app built at import (no database is opened then), so
each one is its own test; the calls go to an app on the test's own fresh database.
(schemathesis' ``from_fixture`` would do the same but does not run under pytest 9.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from irpatrol.config import Settings, load_settings
from irpatrol.server.app import create_app
from irpatrol.server.runtime import Runtime
from tests.server.conftest import auth, make_token

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 20
"""Hypothesis examples per operation and generation mode."""

_SPEC = create_app(load_settings(data_dir=Path("/nonexistent/irpatrol-spec-only"))).openapi()
OPERATIONS = [
    (method.upper(), path)
    for path, item in _SPEC["paths"].items()
    for method in item
    if method in {"get", "put", "post", "patch", "delete"}
]


def error_body_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx/5xx answer is a JSON ``{"error": {"code": str, "message": str}}`` body."""
    if response.status_code < 400:
        return None
    try:
        err = response.json()["error"]
    except Exception:
        raise AssertionError(
            f"{response.status_code} answer is not a JSON error body: {response.text[:300]!r}"
        ) from None
    assert isinstance(err.get("code"), str), err
    assert isinstance(err.get("message"), str), err
    return None


def test_operations_listed() -> None:
    assert len(OPERATIONS) > 10, OPERATIONS
    assert ("POST", "/api/v1/captures") in OPERATIONS


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_server_errors(
    settings: Settings, rt: Runtime, admin: dict[str, str], method: str, path: str, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(settings, runtime=rt))
    operation = schema[path][method]

    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    def call(case: Any) -> None:
        headers = admin
        if path.endswith("/auth/logout"):  # it revokes the calling token: each call gets its own
            headers = auth(make_token(rt, "admin", "admin"))
        case.call_and_validate(headers=headers, checks=[not_a_server_error, error_body_shape])

    try:
        call()
    except hypothesis.errors.Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        pytest.skip(f"{method} {path} has no input that can be made invalid")
