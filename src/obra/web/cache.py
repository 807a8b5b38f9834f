"""Public pages kept rendered until anything changes.

Every state change in Obra is a journal event written in the same transaction as the change
(:mod:`obra.journal`), so the newest event's id is a version of everything a public page can show:
a page rendered at version *n* is still right while the newest event is *n*. :class:`PageCache`
keeps the search and record pages an anonymous visitor sees, per path, query and language (the
least recently used dropped beyond :data:`SIZE`); a signed-in visitor's pages are never kept
(they name the visitor). One indexed ``max(id)`` per request replaces the search and the render.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable

from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from obra.store.schema import journal_events
from obra.web.portal import Visit, finish

SIZE = 4096


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
