"""Every error over HTTP is the one JSON body ``{"error", "message", "hint", "problems"}``.

Obra's own errors (:class:`~obra.errors.ObraError`) carry their status; FastAPI's validation
errors become :class:`~obra.errors.InvalidInput` (422) naming the field; Starlette's HTTP
errors (unknown route 404, wrong method 405, malformed multipart 400) keep their status with
the same body. Anything else is a bug: :class:`UnexpectedErrors` logs it with its traceback
and a reference, answers 500 with the reference and no traceback, and returns normally so the
server keeps the client's connection open for its next request.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from obra.errors import InternalInvariantError, InvalidInput, ObraError, Problem

log = logging.getLogger("obra.api")

#: Starlette's statuses as machine names of the one body, with a hint where one helps.
HTTP_ERRORS: dict[int, tuple[str, str | None]] = {
    400: ("bad_request", "check the request's body against the OpenAPI document at /openapi.json"),
    404: ("not_found", "the routes are listed at /docs and /openapi.json"),
    405: ("method_not_allowed", "the routes and their methods are listed at /docs"),
    406: ("not_acceptable", None),
    413: ("payload_too_large", None),
    415: ("unsupported_media_type", "send JSON as application/json and files as multipart/form-data"),
}


class ErrorJSONResponse(JSONResponse):
    """JSON that always renders: text the client sent that is not Unicode is escaped, not a 500."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def error_response(exc: ObraError, headers: dict[str, str] | None = None) -> JSONResponse:
    """The one JSON error body (:meth:`ObraError.body`) with the error's own status.

    Our own faults (``internal``) are logged with their traceback: they are bugs or a damaged
    store, never the caller's input.
    """
    if exc.internal:
        log.error("internal invariant failed: %s", exc, exc_info=exc)
    headers = dict(headers or {})
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return ErrorJSONResponse(exc.body(), status_code=exc.status, headers=headers or None)


def http_error_body(status: int, message: str, hint: str | None = None) -> dict:
    code, default_hint = HTTP_ERRORS.get(status, ("error", None))
    return {"error": code, "message": message, "hint": hint or default_hint, "problems": []}


def _validation_problem(error: dict) -> Problem:
    loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "form", "header", "cookie")]
    message = error.get("msg", "invalid")
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    return Problem(message, field=".".join(loc) or None)


def install_error_handlers(app: FastAPI) -> None:
    """Map ObraError, validation errors and Starlette's HTTP errors to the one body."""

    @app.exception_handler(ObraError)
    async def obra_error(_request: Request, exc: ObraError):
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(_request: Request, exc: RequestValidationError):
        return error_response(InvalidInput([_validation_problem(e) for e in exc.errors()]))

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException):
        obra_exc = getattr(exc, "obra_error", None)
        if isinstance(obra_exc, ObraError):  # e.g. the body limit's 413
            return error_response(obra_exc, headers=exc.headers)
        detail = exc.detail if isinstance(exc.detail, str) else "the request cannot be answered"
        return ErrorJSONResponse(http_error_body(exc.status_code, detail), status_code=exc.status_code,
                                 headers=exc.headers)


class UnexpectedErrors:
    """Pure ASGI middleware: an exception no handler knows becomes a logged 500 with the one body.

    Starlette's own outermost handler re-raises after answering, and the server then closes
    the connection, so a client's next request on it fails too; this one returns normally.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # noqa: BLE001 - the last line of defence: logged, answered, never shown
            reference = uuid.uuid4().hex[:12]
            log.error("unexpected error %s answering %s %s", reference, scope.get("method"), scope.get("path"),
                      exc_info=exc)
            if started:  # the answer is half sent: nothing valid can follow it on this connection
                raise
            error = InternalInvariantError(f"an unexpected error occurred (reference {reference}); it is logged "
                                           "on the server", hint="this is a bug in Obra, not a problem with your "
                                           "request: report it with the reference")
            await ErrorJSONResponse(error.body(), status_code=500)(scope, receive, send)


__all__ = ["ErrorJSONResponse", "UnexpectedErrors", "error_response", "http_error_body", "install_error_handlers"]
