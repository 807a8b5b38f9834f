"""The FastAPI application: routers per capability, one error body, and the edge that keeps the server up.

What :func:`create_app` puts in front of the routes (outermost first):

* :class:`~obra.api.errors.UnexpectedErrors` — an unforeseen exception is logged and answered
  500 with the one body; the connection stays usable.
* :class:`~obra.api.limits.BodyLimit` — request bodies counted while they arrive, per route
  (``OBRA_MAX_JSON_BYTES``, default 1 MiB; ``OBRA_MAX_UPLOAD_BYTES``, default 50 MiB); 413 as
  soon as a limit is passed.
* :func:`~obra.api.params.refuse_unusable_text` on every route and strict JSON bodies
  (:class:`~obra.api.params.StrictJSONRoute`); typed, range-checked parameters in each route.
* The access log's secrets redacted (:mod:`obra.api.access_log`).
"""

from __future__ import annotations

import importlib
import logging

from fastapi import Depends, FastAPI

from obra import __version__
from obra.api import access_log
from obra.api.errors import UnexpectedErrors, error_response, install_error_handlers
from obra.api.limits import BodyLimit, BodyLimits
from obra.api.params import StrictJSONRoute, refuse_unusable_text
from obra.app import Obra
from obra.store import Store

ROUTER_MODULES = ("obra.api.routes.registry", "obra.api.routes.transparency", "obra.api.routes.identify",
                  "obra.api.routes.matching", "obra.api.routes.royalties", "obra.api.routes.aiuse",
                  "obra.api.routes.licences", "obra.api.routes.law", "obra.api.routes.fairness",
                  "obra.api.routes.observatory", "obra.api.routes.review")

log = logging.getLogger("obra.api")


def create_app(store: Store | None = None, *, limits: BodyLimits | None = None) -> FastAPI:
    """The API over ``store`` (default: the configured one); ``limits`` default to the environment's."""
    app = FastAPI(title="Obra", version=__version__, dependencies=[Depends(refuse_unusable_text)],
                  description="Registry, content identification, AI-use terms and royalties for authors and performers.")
    app.router.route_class = StrictJSONRoute
    app.state.obra = Obra(store or Store.open())
    app.state.store = app.state.obra.store
    app.state.limits = limits or BodyLimits.from_env()
    install_error_handlers(app)
    app.add_middleware(BodyLimit, limits=app.state.limits)
    app.add_middleware(UnexpectedErrors)
    access_log.install()

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


__all__ = ["ROUTER_MODULES", "create_app", "error_response"]
