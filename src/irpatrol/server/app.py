"""The web application: :func:`create_app` builds it from settings; nothing happens at import.

Routes live in :mod:`irpatrol.server.routes`, one module per resource, all under
``/api/v1``.  An in-process analysis worker is started with the app when asked
(``irpatrol serve`` does; tests and extra API processes don't).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from irpatrol import __version__
from irpatrol.config import Settings
from irpatrol.server.errors import error_body, install_error_handlers
from irpatrol.server.runtime import Runtime, open_runtime
from irpatrol.server.security import RateLimiter

log = logging.getLogger("irpatrol.server")

API = "/api/v1"


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, before they are read into memory."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return msg

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        import json

        body = json.dumps(error_body("too_large", f"request body over {self.limit} bytes")).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def create_app(settings: Settings, *, runtime: Runtime | None = None, start_worker: bool = False) -> FastAPI:
    """The irpatrol web application for ``settings``.

    ``runtime`` may be given to share one (tests); otherwise the database is
    opened and migrated at startup.  ``start_worker`` runs ``settings.workers``
    analysis threads in this process.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime or open_runtime(settings)
        app.state.runtime = rt
        consumer: Any = None
        if start_worker and settings.workers > 0:
            from irpatrol.server.tasks import start_consumer

            consumer = start_consumer(rt, workers=settings.workers)
        try:
            yield
        finally:
            if consumer is not None:
                consumer.stop(graceful=True)
            if runtime is None:
                rt.close()

    app = FastAPI(
        title="irpatrol",
        version=__version__,
        summary="Infrared inspection of substations: captures, findings, defects, assets and patrols.",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    if runtime is not None:
        app.state.runtime = runtime
    app.state.login_limiter = RateLimiter(settings.login_rate)
    if settings.dji_tsdk is not None:  # DJI R-JPEG conversion through DJI's SDK (docs/formats.md)
        from irpatrol.formats.dji_backends import use_tsdk_library

        use_tsdk_library(str(settings.dji_tsdk))
    install_error_handlers(app)
    from irpatrol.server.routes import (
        admin,
        assets,
        captures,
        edge,
        exports,
        findings,
        layouts,
        plans,
        reports,
        system,
    )

    for module in (system, captures, findings, assets, plans, layouts, exports, admin, edge, reports):
        app.include_router(module.router, prefix=API)
    from irpatrol.server.web import mount_dashboard

    mount_dashboard(app)  # the O&M dashboard at / (static files, not in the OpenAPI schema)
    app.add_middleware(BodyLimit, limit=int(settings.max_upload_mb * 1024 * 1024))
    return app


def app_from_environment() -> FastAPI:
    """The app built from ``IRPATROL_*`` settings, with its analysis workers (``serve --processes N``)."""
    from irpatrol.config import load_settings

    return create_app(load_settings(), start_worker=True)
