"""Smoke test of the dashboard: the shell at ``/`` loads cleanly and stays on the intranet."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import (
    TOKEN_KEY,
    WEB,
    LiveServer,
    login_via_api,
    login_via_form,
    open_page,
    ready_selector,
    shot,
    watch,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def test_fixture_has_demo_data(live_server: LiveServer) -> None:
    """The live server holds analysed demo captures, a defect and a plan run, for every role."""
    assert live_server.captures
    assert live_server.defects
    for role in ("admin", "operator", "viewer"):
        me = live_server.api(role).get("/me").json()
        assert me["role"] == role
    ex = live_server.api("viewer").get(f"/executions/{live_server.execution_id}").json()
    assert [m["code"] for m in ex["missed"]] == ["P-L1-CT"]


def _need_web() -> None:
    if not WEB.is_dir():
        pytest.skip(f"the dashboard ({WEB}) does not exist yet")


def test_root_loads_without_errors_or_foreign_requests(page: Page, live_server: LiveServer) -> None:
    """``/`` renders a titled login page with no console error and asks nothing of any host but 127.0.0.1."""
    _need_web()
    w = watch(page)
    response = page.goto(f"{live_server.url}/")
    assert response is not None
    assert response.ok, response.status
    page.wait_for_selector(ready_selector("login"))
    page.wait_for_load_state("networkidle")
    shot(page, "smoke-root")
    assert page.title().strip()
    assert w.requests, "no request recorded"
    w.assert_clean()


def test_login_form_reaches_overview(page: Page, live_server: LiveServer) -> None:
    """The form helper logs in as a person does: the token is kept and the overview renders."""
    _need_web()
    w = watch(page)
    login_via_form(page, live_server, "viewer")
    page.wait_for_selector(ready_selector("overview"))
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')")
    shot(page, "smoke-overview-after-login")
    w.assert_clean()


def test_login_via_api_opens_a_page_directly(page: Page, live_server: LiveServer) -> None:
    """The API helper's token is the one the shell reads: a deep link renders without the login page."""
    _need_web()
    w = watch(page)
    login_via_api(page, live_server, "operator")
    open_page(page, live_server, f"executions/{live_server.execution_id}", "execution")
    assert "#/login" not in page.url
    w.assert_clean()
