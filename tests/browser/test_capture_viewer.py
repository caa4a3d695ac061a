"""The capture viewer (#/captures/{id}, issue 7) in Chromium against a real server.

Every temperature the page shows is checked against the API's °C matrix read here with
NumPy: the pointer readout at the hottest and at an ordinary pixel, a box measurement's
maximum and its position, and the readout after a recompute with emissivity 0.5 (which
the server does with the library's camera model).  Screenshots of each step go to
``test-artifacts/browser/capture-viewer-*.png``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pytest

from tests.browser.conftest import WEB, LiveServer, login_via_form, open_page, shot, watch

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.browser

READY = '[data-testid="thermal-viewer"][data-state="ready"]'


def _matrix(live_server: LiveServer, cid: int, **params: float) -> np.ndarray:
    r = live_server.api("viewer").get(f"/captures/{cid}/matrix", params=params)
    r.raise_for_status()
    w, h = int(r.headers["X-Width"]), int(r.headers["X-Height"])
    return np.frombuffer(r.content, dtype="<f4").reshape(h, w)


def _fuses_capture(live_server: LiveServer) -> int:
    """The FLIR T640 fuse bank (a graded defect, regions of its point, an embedded photo)."""
    items = live_server.api("viewer").get("/captures", params={"limit": 100}).json()["items"]
    return int(next(c["id"] for c in items if c["filename"] == "flir_t640_fuses.jpg"))


def _client_xy(canvas: Locator, m: np.ndarray, x: int, y: int) -> tuple[float, float]:
    """Viewport coordinates of the centre of matrix pixel (x, y) on the scaled canvas (scrolled into view)."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    h, w = m.shape
    return box["x"] + (x + 0.5) * box["width"] / w, box["y"] + (y + 0.5) * box["height"] / h


def _hover(page: Page, m: np.ndarray, x: int, y: int) -> float:
    """Point at matrix pixel (x, y); check the readout's position; return its °C."""
    canvas = page.get_by_test_id("thermal-canvas")
    page.mouse.move(*_client_xy(canvas, m, x, y))
    page.wait_for_function(
        "xy => document.querySelector('[data-testid=pixel-xy]').textContent === xy", arg=f"{x}, {y}"
    )
    return float(page.get_by_test_id("pixel-temp").inner_text())


def _canvas_rgb(page: Page, x: int, y: int) -> list[int]:
    return list(
        page.get_by_test_id("thermal-canvas").evaluate(
            "(c, [x, y]) => Array.from(c.getContext('2d').getImageData(x, y, 1, 1).data.slice(0, 3))", [x, y]
        )
    )


def test_capture_viewer(page: Page, live_server: LiveServer) -> None:
    seen = watch(page)
    cid = _fuses_capture(live_server)
    m = _matrix(live_server, cid)
    h, w = m.shape
    palettes = json.loads((WEB / "static" / "palettes.json").read_text(encoding="utf-8"))["palettes"]

    login_via_form(page, live_server, "viewer")
    open_page(page, live_server, f"captures/{cid}", "capture")
    page.wait_for_selector(READY)
    canvas = page.get_by_test_id("thermal-canvas")
    assert canvas.evaluate("c => [c.width, c.height]") == [w, h]
    assert canvas.evaluate("c => c.clientWidth") > w  # drawn larger than the matrix
    page.get_by_test_id("visible-photo").wait_for()
    shot(page, "capture-viewer-1-open")

    def matrix_requests() -> int:
        return sum(1 for url in seen.requests if f"/api/v1/captures/{cid}/matrix" in url)

    # hover: the hottest pixel and an ordinary one (the pixel nearest the median)
    hy, hx = np.unravel_index(int(np.nanargmax(m)), m.shape)
    hot = _hover(page, m, int(hx), int(hy))
    assert hot == pytest.approx(float(m[hy, hx]), abs=0.05)
    assert page.get_by_test_id("scale-max").inner_text().startswith(f"{float(np.nanmax(m)):.1f}")
    assert _canvas_rgb(page, int(hx), int(hy)) == palettes["iron"][-3:]  # auto range: the top colour
    shot(page, "capture-viewer-2-hover-hottest")
    oy, ox = np.unravel_index(int(np.nanargmin(np.abs(m - np.nanmedian(m)))), m.shape)
    ordinary = _hover(page, m, int(ox), int(oy))
    assert ordinary == pytest.approx(float(m[oy, ox]), abs=0.05)
    shot(page, "capture-viewer-3-hover-ordinary")

    # palette switch: the same pixel in the rainbow table's top colour
    page.get_by_test_id("palette").select_option("rainbow")
    page.wait_for_function(
        "([x, y, rgb]) => { const d = document.querySelector('[data-testid=thermal-canvas]')"
        ".getContext('2d').getImageData(x, y, 1, 1).data; return d[0] === rgb[0] && d[1] === rgb[1]"
        " && d[2] === rgb[2]; }",
        arg=[int(hx), int(hy), palettes["rainbow"][-3:]],
    )
    shot(page, "capture-viewer-4-rainbow")
    assert matrix_requests() == 1  # hovering and repainting fetch nothing

    # box measurement: its max (and where) equal the matrix over the same pixels
    box_tool = page.locator('button[data-tool="box"]')
    box_tool.click()
    assert box_tool.get_attribute("aria-pressed") == "true"
    x0, y0 = max(0, int(hx) - 30), max(0, int(hy) - 25)
    x1, y1 = min(w - 1, int(hx) + 40), min(h - 1, int(hy) + 30)
    page.mouse.move(*_client_xy(canvas, m, x0, y0))
    page.mouse.down()
    page.mouse.move(*_client_xy(canvas, m, x1, y1), steps=8)
    page.mouse.up()
    row = page.locator('[data-testid="measure-row"][data-kind="box"]').last
    row.wait_for()
    sub = m[y0 : y1 + 1, x0 : x1 + 1]
    assert row.locator('[data-field="where"]').inner_text() == f"{x0}, {y0} – {x1}, {y1}"
    cell = {f: float(row.locator(f'[data-field="{f}"]').inner_text()) for f in ("max", "min", "mean")}
    assert cell["max"] == pytest.approx(float(np.nanmax(sub)), abs=0.05)
    assert cell["min"] == pytest.approx(float(np.nanmin(sub)), abs=0.05)
    assert cell["mean"] == pytest.approx(float(np.nanmean(sub)), abs=0.05)
    mx, my = (int(v) for v in row.locator('[data-field="max_at"]').inner_text().split(","))
    assert m[my, mx] == np.nanmax(sub)

    # line measurement: a profile plot appears, its max along the line is a pixel on it
    page.locator('button[data-tool="line"]').click()
    page.mouse.move(*_client_xy(canvas, m, x0, int(hy)))
    page.mouse.down()
    page.mouse.move(*_client_xy(canvas, m, x1, int(hy)), steps=8)
    page.mouse.up()
    line = page.locator('[data-testid="measure-row"][data-kind="line"]').last
    line.wait_for()
    along = m[int(hy), x0 : x1 + 1]
    assert float(line.locator('[data-field="max"]').inner_text()) == pytest.approx(
        float(np.nanmax(along)), abs=0.05
    )
    page.get_by_test_id("line-profile").wait_for()
    shot(page, "capture-viewer-5-measurements")

    # recompute with emissivity 0.5 (the server's library): the readout follows the API
    m_half = _matrix(live_server, cid, emissivity=0.5)
    page.locator("#cv-p-emissivity").fill("0.5")
    page.get_by_test_id("recompute-apply").click()
    page.wait_for_selector(
        '[data-testid="thermal-viewer"][data-state="ready"][data-params*="emissivity=0.5"]'
    )
    hot_half = _hover(page, m_half, int(hx), int(hy))
    assert hot_half == pytest.approx(float(m_half[hy, hx]), abs=0.05)
    assert hot_half > hot + 10.0  # a hot pixel reads hotter at lower emissivity
    ord_half = _hover(page, m_half, int(ox), int(oy))
    assert ord_half == pytest.approx(float(m_half[oy, ox]), abs=0.05)
    shot(page, "capture-viewer-6-recomputed")

    # back to the file's parameters: no new request, the first readout again
    page.get_by_role("button", name="恢复文件参数").click()
    page.wait_for_selector('[data-testid="thermal-viewer"][data-state="ready"][data-params=""]')
    assert _hover(page, m, int(hx), int(hy)) == pytest.approx(hot, abs=1e-9)
    assert matrix_requests() == 2  # the file's matrix and the recomputed one
    seen.assert_clean()


def test_out_of_range_parameter_is_refused_in_the_form(page: Page, live_server: LiveServer) -> None:
    cid = _fuses_capture(live_server)
    login_via_form(page, live_server, "viewer")
    open_page(page, live_server, f"captures/{cid}", "capture")
    page.wait_for_selector(READY)
    page.locator("#cv-p-emissivity").fill("1.5")
    page.get_by_test_id("recompute-apply").click()
    alert = page.locator(".cv-recompute [role=alert]")
    alert.wait_for()
    assert "0.01" in alert.inner_text()
    assert page.get_by_test_id("thermal-viewer").get_attribute("data-params") == ""
    shot(page, "capture-viewer-7-bad-parameter")


def test_viewer_says_why_when_the_matrix_fails(page: Page, live_server: LiveServer) -> None:
    cid = _fuses_capture(live_server)
    login_via_form(page, live_server, "viewer")
    page.route(
        "**/api/v1/captures/*/matrix*",
        lambda route: route.fulfill(
            status=503,
            content_type="application/json",
            body=json.dumps({"error": {"code": "storage_unavailable", "message": "blob store offline"}}),
        ),
    )
    open_page(page, live_server, f"captures/{cid}", "capture")
    viewer = page.get_by_test_id("thermal-viewer")
    assert viewer.get_attribute("data-state") == "error"
    assert "blob store offline" in page.locator(".cv-stage-msg").inner_text()
    assert page.locator("[data-testid=finding]").count() >= 1  # the rest of the page is there
    assert page.locator("#banner").is_visible()
    shot(page, "capture-viewer-8-matrix-failed")


def test_viewer_in_english(page: Page, live_server: LiveServer) -> None:
    cid = _fuses_capture(live_server)
    page.add_init_script("localStorage.setItem('irpatrol.lang', 'en')")
    login_via_form(page, live_server, "viewer")
    open_page(page, live_server, f"captures/{cid}", "capture")
    page.wait_for_selector(READY)
    assert page.locator("h1").inner_text().startswith(f"Thermal image #{cid}")
    assert page.locator('button[data-tool="box"]').inner_text() == "Box"
    shot(page, "capture-viewer-9-english")
