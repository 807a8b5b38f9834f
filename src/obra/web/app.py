"""The one ASGI application ``obra serve`` runs: the REST API and the portal, over one :class:`~obra.app.Obra`.

* The API is :func:`obra.api.app.create_app` unchanged, except that its interactive documentation
  (``/docs``, ``/redoc``) loads Swagger UI and ReDoc from this server (the ``fastapi-offline``
  package's copies), never from a CDN: on an office network without internet the page still works.
* The portal's pages live under ``/portal/`` (``/`` leads there), one module per capability in
  :data:`PAGE_MODULES`, each a FastAPI router over ``request.app.state.obra``; their errors are pages
  (status, message, hint, problems by line, a way back), the API's stay the one JSON body.
* ``/portal/static/`` serves the portal's own stylesheet and script (no third-party code).
"""

from __future__ import annotations

import importlib
import json
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from obra.api.app import create_app as create_api
from obra.api.limits import BodyLimits
from obra.errors import InternalInvariantError, InvalidInput, NotFound, ObraError, PayloadTooLarge, Problem
from obra.store import Store
from obra.web import portal
from obra.web.cache import KeptPages, PageCache

#: The portal's page modules, each ``router`` (+ optional ``NAV`` menu template): the table of contents.
PAGE_MODULES = ("obra.web.pages.home", "obra.web.pages.registry", "obra.web.pages.royalties",
                "obra.web.pages.aiuse", "obra.web.pages.transparency", "obra.web.pages.licences",
                "obra.web.pages.law", "obra.web.pages.fairness", "obra.web.pages.observatory",
                "obra.web.pages.likeness", "obra.web.pages.review")
STATIC = Path(str(resources.files("obra.web") / "static"))
DOCS_ASSETS = "/docs-assets"


def _docs_assets() -> Path:
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


def _is_portal(request: Request) -> bool:
    return request.url.path == "/" or request.url.path.startswith(portal.PREFIX)


def _offline_docs(app: FastAPI) -> None:
    """Replace FastAPI's CDN-loaded /docs and /redoc with pages over local copies."""
    app.router.routes[:] = [r for r in app.router.routes
                            if getattr(r, "path", None) not in ("/docs", "/redoc", "/docs/oauth2-redirect")]
    app.mount(DOCS_ASSETS, StaticFiles(directory=_docs_assets()), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui():
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} — API",
                                   swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png")

    @app.get("/redoc", include_in_schema=False)
    def redoc():
        return get_redoc_html(openapi_url=app.openapi_url, title=f"{app.title} — API",
                              redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
                              redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png", with_google_fonts=False)


def _install_page_errors(app: FastAPI) -> None:
    """Portal requests get error pages; API requests keep the handlers :func:`create_api` installed."""
    api_obra = app.exception_handlers[ObraError]
    api_validation = app.exception_handlers[RequestValidationError]
    api_http = app.exception_handlers[HTTPException]

    async def obra_error(request: Request, exc: ObraError):
        if not _is_portal(request):
            return await api_obra(request, exc)
        return portal.refusal(await portal.visit(request), exc)

    async def validation_error(request: Request, exc: RequestValidationError):
        if not _is_portal(request):
            return await api_validation(request, exc)
        problems = [Problem(e.get("msg", "invalid"), field=".".join(str(p) for p in e.get("loc", ())[1:]) or None)
                    for e in exc.errors()]
        return portal.refusal(await portal.visit(request), InvalidInput(problems))

    async def http_error(request: Request, exc: HTTPException):
        if not _is_portal(request):
            return await api_http(request, exc)
        if exc.status_code == 413:
            return portal.refusal(await portal.visit(request), PayloadTooLarge(str(exc.detail)))
        if exc.status_code == 404:
            return portal.refusal(await portal.visit(request), NotFound("there is no such page in the portal"))
        return portal.refusal(await portal.visit(request), ObraError(str(exc.detail)))

    async def sign_in(request: Request, exc: portal.SignInNeeded):
        return portal.sign_in_redirect(await portal.visit(request), exc.target, exc.expired)

    app.exception_handlers[ObraError] = obra_error
    app.exception_handlers[RequestValidationError] = validation_error
    app.exception_handlers[HTTPException] = http_error
    app.exception_handlers[portal.SignInNeeded] = sign_in


class PortalFailures:
    """A bug behind a portal page is answered as a page too: the API's last line of defence
    (:class:`~obra.api.errors.UnexpectedErrors`) logs it and answers the one JSON body with a reference;
    for a portal path this turns that body into the error page (the reference, a way back)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(portal.PREFIX):
            await self.app(scope, receive, send)
            return
        held: dict = {}

        async def catching_send(message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 500 and any(
                    k == b"content-type" and v.startswith(b"application/json") for k, v in message.get("headers", [])):
                held["start"], held["body"] = message, b""
                return
            if "start" in held and message["type"] == "http.response.body":
                held["body"] += message.get("body", b"")
                if message.get("more_body"):
                    return
                try:
                    message_text = json.loads(held["body"]).get("message", "")
                except ValueError:
                    message_text = ""
                error = InternalInvariantError(message_text or "an unexpected error occurred",
                                               hint="this is a bug in Obra, not a problem with your request: "
                                                    "report it with the reference")
                request = Request(scope)
                response = portal.refusal(await portal.visit(request), error)
                await response(scope, receive, send)
                return
            await send(message)

        await self.app(scope, receive, catching_send)


def create_app(store: Store | None = None, *, limits: BodyLimits | None = None) -> FastAPI:
    """The API and the portal over ``store`` (default: the configured one)."""
    app = create_api(store, limits=limits)
    _offline_docs(app)
    _install_page_errors(app)
    app.add_middleware(PortalFailures)
    app.mount(portal.PREFIX + "/static", StaticFiles(directory=STATIC), name="portal-static")

    @app.get("/", include_in_schema=False)
    def root():
        return RedirectResponse(portal.PREFIX + "/", status_code=307)

    app.state.nav_templates = []
    app.state.page_cache = PageCache()
    app.add_middleware(KeptPages, cache=app.state.page_cache, store=app.state.obra.store)
    for name in PAGE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a capability whose pages are not in this build
            if exc.name != name:
                raise
            continue
        app.include_router(module.router, prefix=portal.PREFIX, include_in_schema=False)
        if getattr(module, "NAV", None):
            app.state.nav_templates.append(module.NAV)
    return app


__all__ = ["PAGE_MODULES", "create_app"]
