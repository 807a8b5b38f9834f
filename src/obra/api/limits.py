"""Request bodies are counted while they arrive, per route, chunked or not.

:class:`BodyLimit` is a pure ASGI middleware in front of the application. It finds the route
a request is for and its limit, refuses a declared ``Content-Length`` over it before reading,
and otherwise counts the bytes of every chunk the server hands over; the chunk that passes the
limit ends the request with 413 (the one error body, ``Connection: close``) before the body
is parsed, buffered whole or written to disk. The rest of the body is never read.

The limits, chosen per route:

* **JSON routes** — registrations, corrections, parties, agreements, principals, matching,
  distributions, ``/verify`` (a certificate) and every other route without a file:
  ``OBRA_MAX_JSON_BYTES``, default 1 MiB (a registration is a few KiB; a certificate with its
  proofs, under 64 KiB).
* **File uploads** — every ``multipart/form-data`` route (``/identify``, ``/similar``,
  ``/batches/upload``, ``/ingest/{kind}``, ``/statements-in``, ``/registrations/with-content``,
  ``/federation/import/upload``): ``OBRA_MAX_UPLOAD_BYTES`` (default 50 MiB) plus 1 MiB for
  the form's other fields; each file is also held to ``OBRA_MAX_UPLOAD_BYTES`` on its own
  (:mod:`obra.api.uploads`).
* **Documents of many records sent as JSON** — ``POST /batches`` and ``POST /federation/import``
  carry what a file would: the upload limit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from fastapi import params
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from obra.api.errors import error_response
from obra.errors import PayloadTooLarge
from obra.ids import ascii_digits

MiB = 1024 * 1024
FORM_OVERHEAD = MiB
"""Room for a multipart form's boundaries and text fields on top of its file."""
UPLOAD_SIZED = frozenset({("POST", "/batches"), ("POST", "/federation/import")})
"""JSON routes that carry a file's worth of records, held to the upload limit."""


def _env_bytes(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if ascii_digits(value) else default


@dataclass(frozen=True)
class BodyLimits:
    """The two limits, in bytes; :meth:`from_env` reads them from the environment."""

    json: int = MiB
    upload: int = 50 * MiB

    @classmethod
    def from_env(cls) -> "BodyLimits":
        return cls(json=_env_bytes("OBRA_MAX_JSON_BYTES", MiB), upload=_env_bytes("OBRA_MAX_UPLOAD_BYTES", 50 * MiB))


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when the limit is passed. An :class:`HTTPException`, so FastAPI's own
    body reading lets it through untouched; its ``obra_error`` is the body answered."""

    def __init__(self, error: PayloadTooLarge):
        super().__init__(status_code=413, detail=error.message, headers={"Connection": "close"})
        self.obra_error = error


@dataclass
class RouteLimit:
    limit: int
    label: str
    upload: bool


@dataclass
class BodyLimit:
    """The middleware (see the module's docstring).

    The route is known once the router has matched the request (``scope["route"]``), which is
    always before the first ``receive``: the limit is looked up there, and a declared
    ``Content-Length`` over it is refused before a single byte of the body is read.
    """

    app: ASGIApp
    limits: BodyLimits = field(default_factory=BodyLimits.from_env)
    _cache: dict[int, RouteLimit] = field(default_factory=dict)

    def route_limit(self, scope: Scope) -> RouteLimit:
        route = scope.get("route")
        if route is None:
            return RouteLimit(self.limits.json, scope.get("method", ""), False)
        known = self._cache.get(id(route))
        if known is None:
            known = self._cache[id(route)] = self._limit_of(route, scope.get("method", ""))
        return known

    def _limit_of(self, route: Any, method: str) -> RouteLimit:
        path = getattr(route, "path", "")
        label = f"{method} {path}"
        form = isinstance(route, APIRoute) and route.body_field is not None and isinstance(
            route.body_field.field_info, params.Form)
        if form:
            return RouteLimit(self.limits.upload + FORM_OVERHEAD, label, True)
        if (method, path) in UPLOAD_SIZED:
            return RouteLimit(self.limits.upload, label, True)
        return RouteLimit(self.limits.json, label, False)

    def error(self, route: RouteLimit, size: str) -> PayloadTooLarge:
        if route.upload:
            return PayloadTooLarge(f"the request body is {size} the upload limit of {route.limit} bytes for "
                                   f"{route.label}", hint="split the file, or raise OBRA_MAX_UPLOAD_BYTES on the "
                                   "server")
        return PayloadTooLarge(f"the request body is {size} the limit of {route.limit} bytes for {route.label}",
                               hint="send many records as a file (POST /batches/upload), or raise "
                                    "OBRA_MAX_JSON_BYTES on the server")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route: RouteLimit | None = None
        received = 0
        too_large: BodyTooLarge | None = None
        started = False

        async def counting_receive() -> Message:
            nonlocal route, received, too_large
            if too_large is not None:
                raise too_large
            if route is None:
                route = self.route_limit(scope)
                length = Headers(scope=scope).get("content-length", "")
                if ascii_digits(length) and int(length) > route.limit:
                    too_large = BodyTooLarge(self.error(route, f"{int(length)} bytes, over"))
                    raise too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > route.limit:
                    too_large = BodyTooLarge(self.error(route, "over"))
                    raise too_large
            return message

        async def closing_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if too_large is not None:  # the rest of the body is not read: the connection cannot be reused
                    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
                    message = {**message, "headers": headers + [(b"connection", b"close")]}
            await send(message)

        try:
            await self.app(scope, counting_receive, closing_send)
        except BodyTooLarge as exc:
            if started:
                raise
            await self._refuse(exc, scope, receive, send)

    @staticmethod
    async def _refuse(exc: BodyTooLarge, scope: Scope, receive: Receive, send: Send) -> None:
        await error_response(exc.obra_error, headers=exc.headers)(scope, receive, send)


__all__ = ["BodyLimit", "BodyLimits", "BodyTooLarge", "FORM_OVERHEAD", "UPLOAD_SIZED"]
