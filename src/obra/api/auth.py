"""Bearer-token authentication and role checks for the API, over :mod:`obra.access`."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from obra.access import ANONYMOUS, Principal, authenticate, require
from obra.store import Store

bearer = HTTPBearer(auto_error=False, description="a token from `obra principal add`")


def get_store(request: Request) -> Store:
    return request.app.state.store


def optional_principal(request: Request,
                       credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
    """The caller if a valid token was sent, else the anonymous public reader."""
    if credentials is None:
        return ANONYMOUS
    return authenticate(get_store(request), credentials.credentials)


def require_action(action: str):
    """A dependency that yields the principal allowed to perform ``action`` (401/403 otherwise)."""

    def dependency(principal: Principal = Depends(optional_principal)) -> Principal:
        return require(principal, action)

    return dependency


def require_roles(*roles: str):
    """A dependency for routes guarded by explicit roles rather than an action name."""
    from obra.errors import AuthenticationRequired, PermissionDenied

    def dependency(principal: Principal = Depends(optional_principal)) -> Principal:
        if principal is ANONYMOUS:
            raise AuthenticationRequired("this needs an authenticated principal: send Authorization: Bearer <token>")
        if principal.role.value != "admin" and principal.role.value not in roles:
            raise PermissionDenied(f"role '{principal.role.value}' may not do this; allowed: {', '.join(roles)}")
        return principal

    return dependency
