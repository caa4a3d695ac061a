"""The O&M dashboard: a single-page app of static files (no build step), served beside the API.

``GET /`` answers ``index.html``; ``/static/...`` the ES modules, CSS and i18n
dictionaries under ``static/``.  Files are answered with ``Cache-Control: no-cache``
and an ETag: the browser keeps them but asks again (a 304 when unchanged), so a
new server version is picked up at the next page load without hashed file names.
Neither route appears in the OpenAPI description, which documents the API only.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

WEB = Path(__file__).parent
"""The folder holding ``index.html`` and ``static/``."""

CACHE_CONTROL = "no-cache"
"""Revalidate every time (ETag → 304): no stale shell after an upgrade, no hashed names needed."""


PAGE_DICT = re.compile(r"i18n/[a-z][a-z0-9_-]{0,63}\.(zh|en)\.json")
"""A page's own dictionary, ``i18n/<page>.<lang>.json``: optional, so an absent one is ``{}``."""


class _RevalidatedFiles(StaticFiles):
    """Static files whose answers carry :data:`CACHE_CONTROL` and ``nosniff``.

    A page dictionary that does not exist answers an empty one (200, not 404): the shell
    asks for every page's, and browsers log each 404 as a console error.
    """

    async def get_response(self, path: str, scope: Scope) -> Response:
        if PAGE_DICT.fullmatch(path) and not (WEB / "static" / path).is_file():
            return JSONResponse({}, headers={"Cache-Control": CACHE_CONTROL})
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = CACHE_CONTROL
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def mount_dashboard(app: FastAPI) -> None:
    """Serve the dashboard at ``/`` and its files under ``/static`` (outside the OpenAPI schema)."""

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(
            WEB / "index.html",
            media_type="text/html; charset=utf-8",
            headers={"Cache-Control": CACHE_CONTROL, "X-Content-Type-Options": "nosniff"},
        )

    app.mount("/static", _RevalidatedFiles(directory=WEB / "static"), name="static")
