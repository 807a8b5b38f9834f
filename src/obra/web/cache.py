"""Public pages kept rendered until anything changes.

Every state change in Obra is a journal event written in the same transaction as the change
(:mod:`obra.journal`), so the newest event's id is a version of everything a public page can show:
a page rendered at version *n* is still right while the newest event is *n*. :class:`PageCache`
keeps the search and record pages an anonymous visitor sees, per path, query and language (the
least recently used dropped beyond :data:`SIZE`); a signed-in visitor's pages are never kept
(they name the visitor). One indexed ``max(id)`` per request replaces the search and the render.

:class:`KeptPages` answers a kept page before routing: an anonymous ``GET`` of a kept path whose page
is current is sent from the cache without the framework's routing and dependencies; anything else
(a session cookie, a language switch, a page not kept or out of date, any failure) goes on to the
application, which renders and keeps it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from obra.store.schema import journal_events
from obra.web import sessions
from obra.web.portal import PREFIX, SECURITY_HEADERS, Visit, finish, language_of

SIZE = 4096
KEPT = tuple(PREFIX + p for p in ("/search", "/records/", "/law"))
"""The paths whose anonymous pages are kept (public reads; see :func:`kept`)."""


class PageCache:
    def __init__(self, size: int = SIZE):
        self.size = size
        self._pages: OrderedDict[tuple, tuple[int, bytes, str]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def version(store) -> int:
        with store.connect() as conn:
            return conn.execute(select(func.max(journal_events.c.id))).scalar() or 0

    def get(self, key: tuple, version: int) -> tuple[bytes, str] | None:
        with self._lock:
            found = self._pages.get(key)
            if found is None or found[0] != version:
                return None
            self._pages.move_to_end(key)
            return found[1], found[2]

    def put(self, key: tuple, version: int, body: bytes, language: str) -> None:
        with self._lock:
            self._pages[key] = (version, body, language)
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)


async def kept(visit: Visit, build: Callable[[], Response]) -> Response:
    """``build()``'s page (run in the thread pool), or the same page rendered earlier at the store's
    current version, answered from the event loop after one indexed query."""
    cache: PageCache | None = getattr(visit.request.app.state, "page_cache", None)
    if cache is None or visit.signed_in or visit.expired:
        return await run_in_threadpool(build)
    request = visit.request
    key = (request.url.path, str(request.url.query), visit.locale)
    version = cache.version(visit.obra.store)
    hit = cache.get(key, version)
    if hit is not None:
        body, language = hit
        return finish(visit, HTMLResponse(body, headers={"Content-Language": language}))
    response = await run_in_threadpool(build)
    if response.status_code == 200:
        cache.put(key, version, bytes(response.body), visit.locale)
    return response


class KeptPages:
    """ASGI middleware: a current kept page for an anonymous ``GET``, answered before routing."""

    def __init__(self, app, cache: PageCache, store):
        self.app, self.cache, self.store = app, cache, store

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"].startswith(KEPT):
            try:
                request = Request(scope)
                hit = None
                if sessions.SESSION_COOKIE not in request.cookies and "lang" not in request.query_params:
                    key = (request.url.path, str(request.url.query), language_of(request))
                    hit = self.cache.get(key, self.cache.version(self.store))
            except Exception:  # noqa: BLE001 - the application answers instead, and reports what failed
                hit = None
            if hit is not None:
                body, language = hit
                headers = {**SECURITY_HEADERS, "Content-Language": language, "Vary": "Accept-Language, Cookie"}
                await HTMLResponse(body, headers=headers)(scope, receive, send)
                return
        await self.app(scope, receive, send)
