"""Signed-in browsers: sessions behind a secure cookie, a form token against cross-site requests,
and a limit on failed sign-ins.

* **Sign-in** is with the same principals as the API: a name and its token (the token is the
  password; a password manager may keep it, paste works: WCAG 3.3.8). :func:`sign_in` checks it
  with :meth:`obra.app.Obra.authenticate` and that the name is that principal's.
* **Sessions**: the cookie ``obra_session`` holds 32 random bytes; the store keeps only their
  SHA-256 (:data:`obra.store.schema.web_sessions`), so a copy of the database signs nobody in. The
  cookie is ``HttpOnly``, ``SameSite=Lax`` and ``Secure`` (browsers accept a secure cookie from
  ``http://127.0.0.1`` and ``localhost``, so a local portal works over plain HTTP). A session ends
  after :data:`IDLE` without a request, at :data:`LIFETIME` whatever happens, or at sign-out;
  a principal made inactive is signed out at its next request.
* **Forms** carry a token (``csrf_token``): the session's own once signed in; before that, a random
  value also set as the ``obra_csrf`` cookie (``SameSite=Strict``), which another site can neither
  read nor send (the double-submit pattern). A POST without the right token is refused (403).
* **Failed sign-ins** are counted per client address and per name: :data:`MAX_FAILURES` within
  :data:`WINDOW` and the next attempt is refused (429) until the oldest failure leaves the window.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, insert, select, update

from obra.access import Principal
from obra.app import Obra
from obra.errors import AuthenticationRequired, ObraError
from obra.model.vocab import AccessRole
from obra.store.schema import principals, web_login_failures, web_sessions

SESSION_COOKIE = "obra_session"
CSRF_COOKIE = "obra_csrf"
IDLE = timedelta(minutes=30)
"""A session unused this long has expired."""
LIFETIME = timedelta(hours=12)
"""The longest a session lasts, however busy."""
MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


class TooManyAttempts(ObraError):
    """Too many failed sign-ins from one address or for one name; try again later."""

    status, exit_code, code = 429, 4, "too_many_attempts"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message, hint="wait, then sign in again; an admin can issue a new token "
                                       "(`obra principal add`)")
        self.retry_after = retry_after


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime) -> datetime:
    """SQLite gives back naive datetimes for timezone-aware columns: they were written in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; an empty or missing side never matches."""
    return bool(given) and bool(expected) and hmac.compare_digest(str(given), str(expected))


@dataclass(frozen=True)
class Session:
    """A signed-in browser: who, its form token, and when it ends."""

    principal: Principal
    csrf: str
    expires_at: datetime


def _failures(conn, keys: list[str], since: datetime) -> tuple[int, datetime | None]:
    row = conn.execute(select(func.count(), func.min(web_login_failures.c.at))
                       .where(web_login_failures.c.key.in_(keys), web_login_failures.c.at >= since)).one()
    return row[0], (_aware(row[1]) if row[1] is not None else None)


def sign_in(obra: Obra, name: str, token: str, client: str) -> tuple[str, Session]:
    """Check ``name`` and ``token``; answer the new session's cookie value and the session.

    A wrong pair is :class:`AuthenticationRequired` (401) and counts as a failure for the client's
    address and for the name; too many of either is :class:`TooManyAttempts` (429), checked first,
    so a guesser learns nothing more once limited.
    """
    now = _now()
    keys = [f"ip:{client}"[:200], f"name:{name.strip().casefold()}"[:200]]
    store = obra.store
    with store.begin() as conn:
        conn.execute(delete(web_login_failures).where(web_login_failures.c.at < now - WINDOW))
        count, oldest = _failures(conn, keys[:1], now - WINDOW)
        by_name, oldest_name = _failures(conn, keys[1:], now - WINDOW)
    if count >= MAX_FAILURES or by_name >= MAX_FAILURES:
        first = min(t for t in (oldest if count >= MAX_FAILURES else None,
                                oldest_name if by_name >= MAX_FAILURES else None) if t is not None)
        wait = max(1, int((first + WINDOW - now).total_seconds()))
        raise TooManyAttempts(f"too many failed sign-ins; try again in {(wait + 59) // 60} minutes",
                              retry_after=wait)
    try:
        principal = obra.authenticate(token) if token.strip() else None
    except AuthenticationRequired:
        principal = None
    if principal is None or principal.name != name.strip() or principal.role == AccessRole.PUBLIC:
        with store.begin() as conn:
            conn.execute(insert(web_login_failures), [{"key": k, "at": now} for k in keys])
        raise AuthenticationRequired("the name and token do not match an active principal",
                                     hint="use the name and token an admin gave you (`obra principal add`)")
    cookie = new_token()
    session = Session(principal, new_token(), now + LIFETIME)
    with store.begin() as conn:
        conn.execute(insert(web_sessions).values(token_hash=_hash(cookie), principal_id=principal.id,
                                                 csrf=session.csrf, created_at=now, last_seen_at=now,
                                                 expires_at=session.expires_at))
        conn.execute(delete(web_login_failures).where(web_login_failures.c.key == keys[1]))
        conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < now))
    return cookie, session


def load(obra: Obra, cookie: str | None) -> tuple[Session | None, bool]:
    """The session a cookie belongs to, and whether a cookie was sent for one that has ended.

    Each request moves the session's idle clock; an expired one is deleted on sight.
    """
    if not cookie:
        return None, False
    now = _now()
    key = _hash(cookie)
    with obra.store.begin() as conn:
        row = conn.execute(select(web_sessions.c.principal_id, web_sessions.c.csrf, web_sessions.c.last_seen_at,
                                  web_sessions.c.expires_at, principals.c.name, principals.c.role,
                                  principals.c.party_id, principals.c.active)
                           .join(principals, principals.c.id == web_sessions.c.principal_id)
                           .where(web_sessions.c.token_hash == key)).first()
        if row is None:
            return None, True
        if not row.active or _aware(row.expires_at) <= now or _aware(row.last_seen_at) + IDLE <= now:
            conn.execute(delete(web_sessions).where(web_sessions.c.token_hash == key))
            return None, True
        if now - _aware(row.last_seen_at) > timedelta(seconds=30):  # fewer writes for busy pages
            conn.execute(update(web_sessions).where(web_sessions.c.token_hash == key).values(last_seen_at=now))
    principal = Principal(row.name, AccessRole(row.role), row.party_id, row.principal_id)
    return Session(principal, row.csrf, min(_aware(row.expires_at), now + IDLE)), False


def sign_out(obra: Obra, cookie: str | None) -> None:
    if cookie:
        with obra.store.begin() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.token_hash == _hash(cookie)))


def age(obra: Obra, cookie: str, by: timedelta) -> None:
    """Move a session's clocks back by ``by`` (what a browser left idle that long would see). For tests
    and the demo's expired-session walk-through; nothing in the portal calls it."""
    with obra.store.begin() as conn:
        row = conn.execute(select(web_sessions.c.last_seen_at, web_sessions.c.created_at)
                           .where(web_sessions.c.token_hash == _hash(cookie))).first()
        if row is not None:
            conn.execute(update(web_sessions).where(web_sessions.c.token_hash == _hash(cookie)).values(
                last_seen_at=_aware(row.last_seen_at) - by, created_at=_aware(row.created_at) - by))
