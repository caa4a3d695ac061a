"""The API's one error shape, ``{"error": {"code", "message"}}``, and the translation into it.

Library errors (:mod:`irpatrol.errors`) are translated here once: a bad file or
parameter is the client's problem (4xx with the library's message); anything
unexpected is a 500 whose body says nothing internal (the log has the traceback).
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError as DBDataError
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect

from irpatrol.errors import (
    DataFileError,
    FileAccessError,
    FormatError,
    IrpatrolError,
    ParameterError,
    RecordNotFoundError,
    UnsupportedFormatError,
)

log = logging.getLogger("irpatrol.server")

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "internal",
    503: "unavailable",
}


_Row = TypeVar("_Row")


class ApiError(Exception):
    """An error the API answers with: HTTP status, a stable machine code and a message for people."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        super().__init__(message)


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The JSON body of every error answer."""
    return {"error": {"code": code, "message": message, **extra}}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A JSON error answer."""
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


def not_found(what: str, ident: object) -> ApiError:
    """404 naming the object."""
    return ApiError(404, "not_found", f"{what} {ident} does not exist")


def get_or_404(session: Session, model: type[_Row], ident: object, what: str) -> _Row:
    """The row of ``model`` with primary key ``ident``; 404 naming it (``what``) if there is none."""
    row = session.get(model, ident)
    if row is None:
        raise not_found(what, ident)
    return row


def _library_error(exc: IrpatrolError) -> tuple[int, str]:
    if isinstance(exc, RecordNotFoundError):
        return 404, "not_found"
    if isinstance(exc, UnsupportedFormatError):
        return 422, "unsupported_format"
    if isinstance(exc, FormatError):
        return 422, "bad_file"
    if isinstance(exc, DataFileError):
        return 422, "bad_data_file"
    if isinstance(exc, ParameterError):
        return 422, "invalid"
    if isinstance(exc, FileAccessError):
        return 503, "storage_unavailable"
    return 422, "invalid"


def install_error_handlers(app: FastAPI) -> None:
    """Make every error answer, from routing to a bug, a JSON ``{"error": ...}`` body."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(IrpatrolError)
    async def _lib(_: Request, exc: IrpatrolError) -> JSONResponse:
        status, code = _library_error(exc)
        return error_response(status, code, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _CODES.get(exc.status_code, "error")
        return error_response(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(MultiPartException)
    @app.exception_handler(ClientDisconnect)
    async def _multipart(_: Request, exc: Exception) -> JSONResponse:
        return error_response(400, "bad_request", f"malformed multipart body: {exc}")

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for e in exc.errors()[:5]:
            loc = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path", "header"))
            parts.append(f"{loc or 'request'}: {e.get('msg', 'invalid')}")
        return error_response(422, "invalid", "; ".join(parts) or "invalid request")

    @app.exception_handler(OverflowError)
    @app.exception_handler(DBDataError)
    async def _out_of_range(request: Request, exc: Exception) -> JSONResponse:
        # a number (an id, a filter) beyond what the database stores: SQLite's driver raises
        # OverflowError past 64 bits, PostgreSQL a DataError; the client's input, not a bug
        log.warning("out-of-range value on %s %s: %s", request.method, request.url.path, exc)
        return error_response(422, "invalid", "a number in the request is out of the range the server stores")

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(500, "internal", "internal server error; the server log has the details")
