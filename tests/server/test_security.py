"""Security of the API: who may call what, hostile uploads and input, logins, tokens and passwords.

Every route of the app is visited (the table of routes comes from the app itself), so a
new endpoint that forgets its ``require(scope)`` dependency fails here.  All tests run on
SQLite and PostgreSQL through the ``settings`` fixture.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import fastapi.routing
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import inspect, select, text, update

from irpatrol.config import Settings, load_settings
from irpatrol.server.app import create_app
from irpatrol.server.runtime import Runtime
from irpatrol.store.accounts import ROLE_SCOPES, SCOPES, create_token, create_user
from irpatrol.store.models import ApiToken, Capture, Finding, User, utcnow
from tests.server.conftest import FUSES, auth, make_token, upload

API = "/api/v1"
SQL = "'; DROP TABLE captures; --"
"""Input that would drop a table if it were ever pasted into SQL."""

PUBLIC = {
    ("GET", f"{API}/health"): "liveness probe for load balancers and monitoring",
    ("POST", f"{API}/auth/login"): "how a person gets a token; guarded by the login rate limit",
    ("GET", "/openapi.json"): "the API description (no data); Swagger UI and clients load it",
    ("HEAD", "/openapi.json"): "as GET",
    ("GET", "/api/docs"): "Swagger UI page (no data)",
    ("HEAD", "/api/docs"): "as GET",
    ("GET", "/docs/oauth2-redirect"): "Swagger UI helper page (no data)",
    ("HEAD", "/docs/oauth2-redirect"): "as GET",
    ("GET", "/"): "the dashboard's page shell (no data: its data come from the API with the user's token)",
    ("GET", "/static"): "the dashboard's scripts, styles, dictionaries and palettes (no data)",
}
"""Routes anyone may call, and why.  Anything not listed must require a token."""

ANY_TOKEN = {
    ("POST", f"{API}/auth/logout"): "revokes the calling token itself",
    ("GET", f"{API}/me"): "says who the token belongs to",
}
"""Routes any valid token may call whatever its scopes.  Anything else must require a scope."""

_REQUIRE = {f"require_{s.replace(':', '_')}": s for s in SCOPES}


def _routes(app: FastAPI) -> list[Any]:
    """Every route of the app, with included routers flattened (FastAPI 0.16x includes them lazily)."""
    iter_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    return list(iter_contexts(app.routes)) if iter_contexts else list(app.routes)


def _dependency_names(route: Any) -> set[str]:
    names: set[str] = set()
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if dep.call is not None:
            names.add(getattr(dep.call, "__name__", repr(dep.call)))
        stack.extend(dep.dependencies)
    return names


def _route_table(app: FastAPI) -> list[tuple[str, str, str | None]]:
    """(method, path, needed) for every route and method; needed is a scope, 'token' or None (public)."""
    table = []
    for route in _routes(app):
        methods = sorted(getattr(route, "methods", None) or ["GET"])
        path: str = route.path
        for method in methods:
            table.append((method, path, _needs(route, method, path)))
    return table


def _needs(route: Any, method: str, path: str) -> str | None:
    if (method, path) in PUBLIC:
        return None
    if not isinstance(getattr(route, "original_route", route), APIRoute):
        return "unknown"  # a plain Starlette route: no FastAPI dependencies, so no protection
    names = _dependency_names(route)
    scopes = {_REQUIRE[n] for n in names if n in _REQUIRE}
    if len(scopes) == 1:
        return scopes.pop()
    if len(scopes) > 1:
        return "several: " + ",".join(sorted(scopes))
    return "token" if "principal" in names else "unknown"


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def _call(client: TestClient, method: str, path: str, headers: dict[str, str] | None = None) -> Any:
    return client.request(method, _url(path), headers=headers or {})


def _is_error(r: Any, status: int, code: str | None = None) -> str | None:
    """None if ``r`` is a JSON error answer with ``status`` (and ``code``); else what is wrong."""
    if r.status_code != status:
        return f"answered {r.status_code}, not {status}: {r.text[:200]}"
    try:
        err = r.json()["error"]
    except Exception:
        return f"{status} without a JSON error body: {r.text[:200]}"
    if not isinstance(err.get("message"), str) or not err["message"]:
        return f"{status} error body without a message: {err}"
    if code is not None and err.get("code") != code:
        return f"{status} with error code {err.get('code')!r}, not {code!r}"
    return None


def _assert_error(r: Any, status: int, code: str | None = None) -> dict[str, Any]:
    problem = _is_error(r, status, code)
    assert problem is None, problem
    body: dict[str, Any] = r.json()["error"]
    return body


@pytest.fixture
def app(settings: Settings, rt: Runtime) -> FastAPI:
    return create_app(settings, runtime=rt)


# --- every route: authentication and scopes ---------------------------------------------------


def test_every_route_is_public_by_intent_or_protected(app: FastAPI) -> None:
    table = _route_table(app)
    assert len(table) > 10, table
    unprotected = [
        (m, p, need) for m, p, need in table if need is not None and need not in (*SCOPES, "token")
    ]
    assert not unprotected, (
        f"routes without a require(scope) dependency (add one, or list them in PUBLIC): {unprotected}"
    )
    token_only = {(m, p) for m, p, need in table if need == "token"}
    assert token_only <= set(ANY_TOKEN), (
        f"routes any token may call, not in ANY_TOKEN: {token_only - set(ANY_TOKEN)}"
    )
    assert {(m, p) for m, p, _ in table} >= set(ANY_TOKEN) | {("GET", f"{API}/health")}


def test_every_protected_route_refuses_anonymous_and_bad_tokens(
    client: TestClient, app: FastAPI, rt: Runtime
) -> None:
    expired = make_token(rt, "expiring", "admin")
    revoked = make_token(rt, "revoked", "admin")
    with rt.sessions() as s:
        s.execute(
            update(ApiToken)
            .where(ApiToken.user.has(name="expiring"))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        s.execute(update(ApiToken).where(ApiToken.user.has(name="revoked")).values(revoked=True))
        s.commit()
    bad_headers = {
        "no header": {},
        "unknown token": auth("irp_" + "A" * 43),
        "not our token format": auth("hunter2"),
        "empty bearer": {"Authorization": "Bearer "},
        "basic auth": {"Authorization": "Basic YWRtaW46YWRtaW4="},
        "token without scheme": {"Authorization": expired},
        "expired token": auth(expired),
        "revoked token": auth(revoked),
    }
    failures = []
    checked = 0
    for method, path, need in _route_table(app):
        if need is None:
            continue
        for what, headers in bad_headers.items():
            problem = _is_error(_call(client, method, path, headers), 401, "unauthorized")
            if problem:
                failures.append(f"{method} {path} with {what}: {problem}")
        checked += 1
    assert checked > 10
    assert not failures, "\n".join(failures)


def test_every_route_refuses_tokens_without_its_scope(client: TestClient, app: FastAPI, rt: Runtime) -> None:
    # an admin's token holding every scope but one: only that scope can explain a 403
    lacking = {
        scope: auth(make_token(rt, "admin", "admin", tuple(s for s in SCOPES if s != scope)))
        for scope in SCOPES
    }
    by_role = {role: auth(make_token(rt, role, role)) for role in ROLE_SCOPES}
    failures = []
    for method, path, need in _route_table(app):
        if need not in SCOPES:
            continue
        problem = _is_error(_call(client, method, path, lacking[need]), 403, "forbidden")
        if problem:
            failures.append(f"{method} {path} with a token lacking {need!r}: {problem}")
        for role, headers in by_role.items():
            if need in ROLE_SCOPES[role]:
                r = _call(client, method, path, headers)
                if r.status_code in (401, 403):
                    failures.append(f"{method} {path}: role {role} holds {need!r} yet got {r.status_code}")
            else:
                problem = _is_error(_call(client, method, path, headers), 403, "forbidden")
                if problem:
                    failures.append(f"{method} {path} as {role} (no {need!r}): {problem}")
    assert not failures, "\n".join(failures)


def test_health_and_any_token_routes(client: TestClient, viewer: dict[str, str]) -> None:
    r = client.get(f"{API}/health")
    assert r.status_code == 200, r.text
    me = client.get(f"{API}/me", headers=viewer).json()
    assert me == {"user": "viewer", "role": "viewer", "scopes": ["read"]}
    assert client.post(f"{API}/auth/logout", headers=viewer).status_code == 204
    _assert_error(client.get(f"{API}/me", headers=viewer), 401, "unauthorized")


# --- uploads that must be refused and leave nothing behind ------------------------------------


def _nothing_stored(rt: Runtime, settings: Settings) -> None:
    with rt.sessions() as s:
        assert s.scalar(select(Capture.id)) is None, "a captures row was left behind"
    images = settings.data_dir / "images"
    left = [p for p in images.rglob("*") if p.is_file()] if images.exists() else []
    assert not left, f"files were left under {images}: {left}"


def _post_file(
    client: TestClient,
    headers: dict[str, str],
    name: str,
    data: bytes,
    ctype: str = "image/jpeg",
    **fields: str,
) -> Any:
    return client.post(
        f"{API}/captures", files={"file": (name, io.BytesIO(data), ctype)}, data=fields, headers=headers
    )


@pytest.fixture
def small_client(settings: Settings, rt: Runtime) -> Iterator[TestClient]:
    """A client of an app that accepts uploads up to 64 KiB."""
    small = settings.model_copy(update={"max_upload_mb": 64 / 1024})
    with TestClient(create_app(small, runtime=rt), raise_server_exceptions=False) as c:
        yield c


def test_oversized_upload_is_413_and_leaves_nothing(
    small_client: TestClient, rt: Runtime, settings: Settings, operator: dict[str, str]
) -> None:
    assert FUSES.stat().st_size > 64 * 1024
    _assert_error(upload(small_client, operator, FUSES, key="big-1"), 413, "too_large")
    _nothing_stored(rt, settings)


def test_oversized_upload_without_length_is_413_and_leaves_nothing(
    small_client: TestClient, rt: Runtime, settings: Settings, operator: dict[str, str]
) -> None:
    """A chunked body declares no length: the limit is enforced while reading."""
    boundary = "irpatrolboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()

    def chunks() -> Iterator[bytes]:
        yield head
        data = FUSES.read_bytes()
        for i in range(0, len(data), 8192):
            yield data[i : i + 8192]
        yield f"\r\n--{boundary}--\r\n".encode()

    r = small_client.post(
        f"{API}/captures",
        content=chunks(),
        headers={**operator, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    _assert_error(r, 413, "too_large")
    _nothing_stored(rt, settings)


@pytest.mark.parametrize(
    ("ctype", "body"),
    [
        ("application/json", b'{"file": "AAAA"}'),
        ("text/plain", b"not an image"),
        ("image/jpeg", b"\xff\xd8\xff\xe0"),
        ("application/x-www-form-urlencoded", b"file=AAAA"),
    ],
)
def test_upload_of_wrong_content_type_is_415(
    client: TestClient, rt: Runtime, settings: Settings, operator: dict[str, str], ctype: str, body: bytes
) -> None:
    r = client.post(f"{API}/captures", content=body, headers={**operator, "Content-Type": ctype})
    _assert_error(r, 415, "unsupported_media_type")
    _nothing_stored(rt, settings)


def test_upload_as_json_is_415(
    client: TestClient, rt: Runtime, settings: Settings, operator: dict[str, str]
) -> None:
    _assert_error(
        client.post(f"{API}/captures", json={"file": "x"}, headers=operator), 415, "unsupported_media_type"
    )
    _nothing_stored(rt, settings)


def _raw_upload(client: TestClient, headers: dict[str, str], filename: bytes, data: bytes) -> Any:
    """POST a multipart body written by hand, so the server sees the file name byte for byte."""
    boundary = b"irpatrol-test-boundary"
    body = (
        b"--"
        + boundary
        + b'\r\nContent-Disposition: form-data; name="file"; filename="'
        + filename
        + b'"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + data + b"\r\n--" + boundary + b"--\r\n"
    )
    return client.post(
        f"{API}/captures",
        content=body,
        headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary.decode()}"},
    )


TRAVERSAL_NAMES = [
    "../../etc/passwd.jpg",
    "a/b.jpg",
    "..\\x.jpg",
    "/etc/x.jpg",
    "..",
    "nul\x00.jpg",
    "tab\tname.jpg",
    "",
    "x" * 300 + ".jpg",
]


@pytest.mark.parametrize("name", TRAVERSAL_NAMES)
def test_upload_with_a_path_for_a_name_is_refused(
    client: TestClient, rt: Runtime, settings: Settings, operator: dict[str, str], name: str
) -> None:
    r = _raw_upload(client, operator, name.encode(), FUSES.read_bytes())
    assert 400 <= r.status_code < 500, (name, r.status_code, r.text)
    _assert_error(r, r.status_code)
    _nothing_stored(rt, settings)
    assert not (settings.data_dir.parent / "etc").exists()


def test_upload_with_a_windows_path_keeps_only_a_plain_name(
    client: TestClient, rt: Runtime, settings: Settings, operator: dict[str, str]
) -> None:
    """The multipart parser cuts a Windows full path (old browsers sent them) to its base name."""
    r = _raw_upload(client, operator, b"C:\\Windows\\x.jpg", FUSES.read_bytes())
    if r.status_code != 201:
        _assert_error(r, r.status_code)
        _nothing_stored(rt, settings)
        return
    with rt.sessions() as s:
        name = s.scalar(select(Capture.filename))
    assert name is not None
    assert not {"/", "\\", ":"} & set(name), name


@pytest.mark.parametrize("name", ["../../etc/passwd.jpg", "a/b.jpg", "..\\x.jpg"])
def test_upload_with_a_path_for_a_name_through_httpx_is_refused(
    client: TestClient, rt: Runtime, settings: Settings, operator: dict[str, str], name: str
) -> None:
    r = _post_file(client, operator, name, FUSES.read_bytes())
    assert 400 <= r.status_code < 500, (name, r.status_code, r.text)
    _assert_error(r, r.status_code)
    _nothing_stored(rt, settings)


def _plain_image(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("plain.png", lambda: _plain_image("PNG")),
        ("plain.jpg", lambda: _plain_image("JPEG")),
        ("plain.tif", lambda: _plain_image("TIFF")),
        ("random.jpg", lambda: os.urandom(4096)),
        ("empty.jpg", lambda: b""),
        ("truncated.jpg", lambda: FUSES.read_bytes()[:2000]),
        ("text.csv", lambda: b"name,value\nphase A,hot\n"),
        ("text.txt", lambda: b"hello"),
    ],
)
def test_non_radiometric_upload_is_422_and_leaves_nothing(
    client: TestClient,
    rt: Runtime,
    settings: Settings,
    operator: dict[str, str],
    name: str,
    make: Callable[[], bytes],
) -> None:
    r = _post_file(client, operator, name, make())
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    _assert_error(r, r.status_code)
    _nothing_stored(rt, settings)


def test_multipart_without_file_or_with_two_files_is_4xx(
    client: TestClient, rt: Runtime, settings: Settings, operator: dict[str, str]
) -> None:
    r = client.post(
        f"{API}/captures", data={"ambient_c": "20"}, files={"other": ("x.txt", b"x")}, headers=operator
    )
    _assert_error(r, 422)
    data = FUSES.read_bytes()
    r = client.post(
        f"{API}/captures",
        files=[("file", ("a.jpg", data, "image/jpeg")), ("file", ("b.jpg", data))],
        headers=operator,
    )
    assert 400 <= r.status_code < 500, r.text
    _assert_error(r, r.status_code)
    _nothing_stored(rt, settings)


# --- SQL-looking input is text ----------------------------------------------------------------


def _tables_intact(rt: Runtime) -> None:
    names = set(inspect(rt.engine).get_table_names())
    assert {"captures", "findings", "users", "api_tokens", "audit_log"} <= names, names
    with rt.engine.connect() as conn:
        conn.execute(text("SELECT count(*) FROM captures")).scalar_one()


def test_sql_in_idempotency_key_is_text(client: TestClient, rt: Runtime, operator: dict[str, str]) -> None:
    # a header value with spaces is outside the allowed characters: refused, nothing run
    _assert_error(upload(client, operator, FUSES, key=SQL), 422, "invalid")
    _tables_intact(rt)
    key = SQL.replace(" ", "/**/")
    first = upload(client, operator, FUSES, key=key)
    assert first.status_code == 201, first.text
    again = upload(client, operator, FUSES, key=key)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    _tables_intact(rt)
    with rt.sessions() as s:
        assert s.scalar(select(Capture.idempotency_key)) == key


@pytest.mark.parametrize("field", ["fix_quality", "taken_at", "point_id", "ambient_c"])
def test_sql_in_form_fields_is_refused_as_text(
    client: TestClient, rt: Runtime, settings: Settings, operator: dict[str, str], field: str
) -> None:
    r = _post_file(client, operator, "fuses.jpg", FUSES.read_bytes(), **{field: SQL})
    _assert_error(r, 422, "invalid")
    _tables_intact(rt)
    _nothing_stored(rt, settings)


def test_sql_in_a_file_name_is_stored_as_text(
    client: TestClient, rt: Runtime, operator: dict[str, str]
) -> None:
    name = "'; DROP TABLE captures; --.jpg"
    r = _post_file(client, operator, name, FUSES.read_bytes())
    assert r.status_code == 201, r.text
    got = client.get(f"{API}/captures/{r.json()['id']}", headers=operator).json()
    assert got["filename"] == name
    _tables_intact(rt)


def _finding(rt: Runtime) -> int:
    """A capture with one open serious defect, written straight to the database."""
    with rt.sessions() as s:
        cap = Capture(sha256="0" * 64, filename="x.jpg", size_bytes=1, status="analyzed")
        s.add(cap)
        s.flush()
        f = Finding(
            capture_id=cap.id, seq=0, subject="spot 1", device="disconnector", part="contact",
            grade="serious", grade_value=2, facts={}, flags=[], defect_status="open",
        )  # fmt: skip
        s.add(f)
        s.commit()
        return f.id


def test_sql_in_a_review_note_is_stored_as_text(
    client: TestClient, rt: Runtime, operator: dict[str, str]
) -> None:
    fid = _finding(rt)
    r = client.post(
        f"{API}/findings/{fid}/review", json={"verdict": "confirmed", "note": SQL}, headers=operator
    )
    assert r.status_code == 200, r.text
    assert r.json()["review_note"] == SQL
    assert client.get(f"{API}/findings/{fid}", headers=operator).json()["review_note"] == SQL
    r = client.post(
        f"{API}/findings/{fid}/status", json={"status": "in_repair", "note": SQL}, headers=operator
    )
    assert r.status_code == 200, r.text
    _tables_intact(rt)
    with rt.sessions() as s:
        assert s.get(Finding, fid).review_note == SQL  # type: ignore[union-attr]


def test_sql_in_a_user_name_and_query_is_text(client: TestClient, rt: Runtime, admin: dict[str, str]) -> None:
    r = client.post(
        f"{API}/users", json={"name": SQL, "role": "viewer", "password": "long enough pw"}, headers=admin
    )
    assert r.status_code == 201, r.text
    assert r.json()["name"] == SQL
    assert SQL in [u["name"] for u in client.get(f"{API}/users", headers=admin).json()]
    login = client.post(f"{API}/auth/login", json={"username": SQL, "password": "long enough pw"})
    assert login.status_code == 200, login.text
    assert client.get(f"{API}/me", headers=auth(login.json()["token"])).json()["user"] == SQL
    _assert_error(
        client.post(f"{API}/auth/login", json={"username": "x' OR '1'='1", "password": "' OR '1'='1"}), 401
    )
    r = client.post(f"{API}/tokens", json={"user": SQL, "name": SQL, "scopes": ["read"]}, headers=admin)
    assert r.status_code == 201, r.text
    audit = client.get(f"{API}/audit", params={"action": SQL}, headers=admin)
    assert audit.status_code == 200, audit.text
    assert audit.json()["total"] == 0
    assert client.get(f"{API}/captures", params={"status": SQL}, headers=admin).status_code == 422
    _tables_intact(rt)


# --- logins, tokens, passwords ----------------------------------------------------------------


def test_login_rate_limit_answers_429(settings: Settings, rt: Runtime) -> None:
    with rt.sessions() as s:
        create_user(s, "li", "operator", "correct horse battery")
        s.commit()
    limited = settings.model_copy(update={"login_rate": 3})
    with TestClient(create_app(limited, runtime=rt), raise_server_exceptions=False) as c:
        for _ in range(3):
            _assert_error(
                c.post(f"{API}/auth/login", json={"username": "li", "password": "wrong guess"}), 401
            )
        r = c.post(f"{API}/auth/login", json={"username": "li", "password": "wrong guess"})
        _assert_error(r, 429, "rate_limited")
        assert int(r.headers["Retry-After"]) >= 1
        # the right password does not get through either while the limit holds
        _assert_error(
            c.post(f"{API}/auth/login", json={"username": "li", "password": "correct horse battery"}), 429
        )
        # spraying other names from the same address is limited too
        _assert_error(c.post(f"{API}/auth/login", json={"username": "wang", "password": "guess 1"}), 429)


def test_login_gives_a_working_token_and_logout_revokes_it(client: TestClient, rt: Runtime) -> None:
    with rt.sessions() as s:
        create_user(s, "li", "viewer", "correct horse battery")
        s.commit()
    r = client.post(f"{API}/auth/login", json={"username": "li", "password": "correct horse battery"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scopes"] == ["read"]
    assert body["expires_at"]
    h = auth(body["token"])
    assert client.get(f"{API}/captures", headers=h).status_code == 200
    assert client.post(f"{API}/auth/logout", headers=h).status_code == 204
    _assert_error(client.get(f"{API}/captures", headers=h), 401, "unauthorized")


def test_expired_revoked_and_deactivated_tokens_are_refused(client: TestClient, rt: Runtime) -> None:
    with rt.sessions() as s:
        u = create_user(s, "robot", "operator", None)
        short, short_row = create_token(s, u, lifetime=timedelta(hours=1))
        kept, _ = create_token(s, u)
        s.commit()
        short_id = short_row.id
    assert client.get(f"{API}/captures", headers=auth(short)).status_code == 200
    with rt.sessions() as s:
        s.execute(
            update(ApiToken).where(ApiToken.id == short_id).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        s.commit()
    _assert_error(client.get(f"{API}/captures", headers=auth(short)), 401, "unauthorized")
    assert client.get(f"{API}/captures", headers=auth(kept)).status_code == 200
    with rt.sessions() as s:
        s.execute(update(User).where(User.name == "robot").values(active=False))
        s.commit()
    _assert_error(client.get(f"{API}/captures", headers=auth(kept)), 401, "unauthorized")


def test_demoting_a_user_narrows_their_tokens(client: TestClient, rt: Runtime) -> None:
    h = auth(make_token(rt, "li", "admin"))
    assert client.get(f"{API}/users", headers=h).status_code == 200
    with rt.sessions() as s:
        s.execute(update(User).where(User.name == "li").values(role="viewer"))
        s.commit()
    _assert_error(client.get(f"{API}/users", headers=h), 403, "forbidden")
    assert client.get(f"{API}/captures", headers=h).status_code == 200


def test_tokens_cannot_exceed_their_role(
    client: TestClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    r = client.post(f"{API}/tokens", json={"user": "viewer", "scopes": ["admin"]}, headers=admin)
    _assert_error(r, 422)
    _assert_error(client.post(f"{API}/tokens", json={"user": "viewer"}, headers=viewer), 403, "forbidden")
    _assert_error(
        client.post(
            f"{API}/users", json={"name": "mallory", "role": "admin", "password": "x" * 12}, headers=viewer
        ),
        403,
        "forbidden",
    )


def test_viewer_has_no_review_actions(
    client: TestClient, rt: Runtime, viewer: dict[str, str], operator: dict[str, str]
) -> None:
    fid = _finding(rt)
    assert client.get(f"{API}/findings/{fid}", headers=viewer).status_code == 200
    _assert_error(
        client.post(f"{API}/findings/{fid}/review", json={"verdict": "false_alarm"}, headers=viewer), 403
    )
    _assert_error(client.post(f"{API}/findings/{fid}/status", json={"status": "closed"}, headers=viewer), 403)
    got = client.get(f"{API}/findings/{fid}", headers=viewer).json()
    assert got["review_status"] == "unreviewed"
    assert got["defect_status"] == "open"
    assert (
        client.post(
            f"{API}/findings/{fid}/review", json={"verdict": "confirmed"}, headers=operator
        ).status_code
        == 200
    )


def _all_stored_text(rt: Runtime) -> str:
    out = []
    with rt.engine.connect() as conn:
        for table in inspect(rt.engine).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):  # names from the schema
                out.append(repr(tuple(row)))
    return "\n".join(out)


def test_passwords_and_tokens_are_stored_hashed(
    client: TestClient, rt: Runtime, admin: dict[str, str]
) -> None:
    password = "Plaintext-Marker-7f3a"
    r = client.post(
        f"{API}/users", json={"name": "li", "role": "operator", "password": password}, headers=admin
    )
    assert r.status_code == 201, r.text
    assert "password" not in r.text.lower()
    _assert_error(client.post(f"{API}/auth/login", json={"username": "li", "password": password + "x"}), 401)
    login = client.post(f"{API}/auth/login", json={"username": "li", "password": password})
    assert login.status_code == 200, login.text
    token = login.json()["token"]
    with rt.engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users WHERE name = 'li'")).scalar_one()
    assert stored.startswith("$argon2id$"), stored
    everything = _all_stored_text(rt)
    assert password not in everything, "a password is stored in plain text"
    assert token not in everything, "a token is stored in plain text"


def test_no_default_user_after_a_fresh_start(settings: Settings) -> None:
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        assert c.get(f"{API}/health").status_code == 200
        for user, pw in [("admin", "admin"), ("admin", "password"), ("admin", "irpatrol"), ("root", "root")]:
            _assert_error(c.post(f"{API}/auth/login", json={"username": user, "password": pw}), 401)
        rt = c.app.state.runtime  # type: ignore[attr-defined]
        with rt.sessions() as s:
            assert s.scalars(select(User)).all() == []
            assert s.scalars(select(ApiToken)).all() == []


def test_load_settings_default_has_no_credentials() -> None:
    """No credential comes with a default, and a configured one never shows in a dump or repr."""
    from pydantic import SecretStr

    defaults = load_settings().model_dump()
    secret = {f for f in defaults if "password" in f or "token" in f or "secret" in f}
    assert secret == {"mqtt_password"}, secret  # a new credential setting must be added here, as SecretStr
    assert all(defaults[f] is None for f in secret)
    configured = load_settings(mqtt_password="hunter2-broker")
    assert isinstance(configured.mqtt_password, SecretStr)
    assert "hunter2-broker" not in repr(configured)
    assert "hunter2-broker" not in configured.model_dump_json()


@pytest.mark.parametrize(
    "url",
    [
        f"{API}/captures/9223372036854775808",
        f"{API}/findings/-9223372036854775809",
        f"{API}/captures?point_id=99999999999999999999",
        f"{API}/findings?capture_id=9223372036854775808",
    ],
)
def test_ids_beyond_64_bits_are_client_errors(client: TestClient, admin: dict[str, str], url: str) -> None:
    """Found by schemathesis: SQLite's driver raised OverflowError (a 500) on such ids."""
    r = client.get(url, headers=admin)
    assert 400 <= r.status_code < 500, r.text
    _assert_error(r, r.status_code)


@pytest.mark.parametrize(
    "path",
    [
        "/static/../__init__.py",
        "/static/..%2f__init__.py",
        "/static/%2e%2e/%2e%2e/config.py",
        "/static/../../../../etc/passwd",
    ],
)
def test_dashboard_files_stay_inside_their_folder(client: TestClient, path: str) -> None:
    """The public static mount answers only files under server/web/static, never code or system files."""
    r = client.get(path)
    assert r.status_code == 404, (path, r.status_code)
    assert b"import" not in r.content
    assert b"root:" not in r.content
