"""The FastAPI application: routers per capability and one mapping of errors to HTTP statuses.

Request bodies are limited in size (``OBRA_MAX_UPLOAD_BYTES``, default 50 MiB); a bigger
upload gets 413 before it is read into memory.
"""

from __future__ import annotations

import importlib
import logging
import os

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from obra import __version__
from obra.errors import InvalidInput, ObraError, PayloadTooLarge, Problem
from obra.app import Obra
from obra.store import Store

ROUTER_MODULES = ("obra.api.routes.registry", "obra.api.routes.transparency", "obra.api.routes.identify",
                  "obra.api.routes.matching", "obra.api.routes.royalties")
MAX_BODY = int(os.environ.get("OBRA_MAX_UPLOAD_BYTES", 50 * 1024 * 1024))


log = logging.getLogger("obra.api")


def error_response(exc: ObraError) -> JSONResponse:
    """The one JSON error body (:meth:`ObraError.body`) with the error's own status.

    Our own faults (``internal``) are logged with their traceback: they are bugs or a damaged
    store, never the caller's input.
    """
    if exc.internal:
        log.error("internal invariant failed: %s", exc, exc_info=exc)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


def create_app(store: Store | None = None) -> FastAPI:
    app = FastAPI(title="Obra", version=__version__,
                  description="Registry, content identification, AI-use terms and royalties for authors and performers.")
    app.state.obra = Obra(store or Store.open())
    app.state.store = app.state.obra.store

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY:
            return error_response(PayloadTooLarge(f"the request body is {length} bytes; the upload limit is "
                                                  f"{MAX_BODY}", hint="split the file, or raise "
                                                  "OBRA_MAX_UPLOAD_BYTES on the server"))
        return await call_next(request)

    @app.exception_handler(ObraError)
    async def obra_error(_request: Request, exc: ObraError):
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(_request: Request, exc: RequestValidationError):
        return error_response(InvalidInput([Problem(e.get("msg", "invalid"), field=".".join(
            str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path")) or None)
            for e in exc.errors()]))

    @app.get("/health", tags=["meta"])
    def health() -> dict:
        return {"status": "ok", "version": __version__, "office": app.state.obra.store.office}

    for name in ROUTER_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a capability not installed in this build
            if exc.name != name:
                raise
            continue
        app.include_router(module.router)
    return app
