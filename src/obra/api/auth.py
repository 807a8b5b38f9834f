"""Who is calling: the bearer token becomes a :class:`~obra.access.Principal`, nothing more.

Routes only authenticate; whether the principal may do what it asks is decided once, inside
the service it calls (:func:`obra.access.require`, from the one permission table).
"""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from obra.access import ANONYMOUS, Principal
from obra.app import Obra
from obra.store import Store

bearer = HTTPBearer(auto_error=False, description="a token from `obra principal add`")


def get_obra(request: Request) -> Obra:
    """The application object every route calls."""
    return request.app.state.obra


def get_store(request: Request) -> Store:
    return request.app.state.obra.store


def caller(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
    """The caller if a token was sent (401 if it is not valid), else the anonymous public reader."""
    if credentials is None:
        return ANONYMOUS
    return get_obra(request).authenticate(credentials.credentials)


def locale(request: Request) -> str:
    """The document language from ``Accept-Language`` (en, es, fr, pt; default en)."""
    from obra.render import negotiate

    return negotiate(request.headers.get("accept-language"))

