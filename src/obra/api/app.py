"""The FastAPI application: routers per capability and one mapping of errors to HTTP statuses.

Request bodies are limited in size (``OBRA_MAX_UPLOAD_BYTES``, default 50 MiB); a bigger
upload gets 413 before it is read into memory.
"""

from __future__ import annotations

import importlib
import os

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from obra import __version__
from obra.errors import AuthenticationRequired, InvalidInput, NotFound, ObraError, PermissionDenied
from obra.store import Store

ROUTER_MODULES = ("obra.api.routes.registry", "obra.api.routes.transparency", "obra.api.routes.identify",
                  "obra.api.routes.matching", "obra.api.routes.royalties")
MAX_BODY = int(os.environ.get("OBRA_MAX_UPLOAD_BYTES", 50 * 1024 * 1024))


def create_app(store: Store | None = None) -> FastAPI:
    app = FastAPI(title="Obra", version=__version__,
                  description="Registry, content identification, AI-use terms and royalties for authors and performers.")
    app.state.store = store or Store.open()

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY:
            return JSONResponse({"error": "payload too large",
                                 "detail": f"the request body is {length} bytes; the limit is {MAX_BODY}"},
                                status_code=413)
        return await call_next(request)

    @app.exception_handler(ObraError)
    async def obra_error(_request: Request, exc: ObraError):
        if isinstance(exc, InvalidInput):
            return JSONResponse({"error": "invalid input", "problems": [p.to_dict() for p in exc.problems]},
                                status_code=422)
        status = {NotFound: 404, AuthenticationRequired: 401, PermissionDenied: 403}
        code = next((c for t, c in status.items() if isinstance(exc, t)), 400)
        headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
        return JSONResponse({"error": type(exc).__name__, "detail": str(exc)}, status_code=code, headers=headers)

    @app.get("/health", tags=["meta"])
    def health() -> dict:
        return {"status": "ok", "version": __version__, "office": app.state.store.office}

    for name in ROUTER_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a capability not installed in this build
            if exc.name != name:
                raise
            continue
        app.include_router(module.router)
    return app
