"""The frame every page stands in: who is visiting, in which language, with which form token, and
how a page, a refusal or a download is answered.

A page module (``obra.web.pages.<capability>``) holds a FastAPI ``router`` whose handlers take a
:class:`Visit` (``visit: Visit = Depends(visit)``), call one method of the application object
(``visit.obra``), and answer :func:`page` with a template under ``templates/web/<capability>/``.
It may declare ``NAV``: the template of its menu entries (``web/<capability>/nav.html``). That is
all a capability needs to appear in the portal (see ``PAGE_MODULES`` in :mod:`obra.web.app`).

Access is never decided here: the services check it (:func:`obra.access.require`). A page only asks
for a signed-in visitor (:meth:`Visit.principal_or_sign_in`) where the form makes no sense without
one, so the visitor is sent to sign in (and back) rather than shown a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from obra.access import ANONYMOUS, Principal
from obra.app import Obra
from obra.errors import ObraError, PermissionDenied
from obra.render import SUPPORTED, negotiate, render
from obra.web import sessions

PREFIX = "/portal"
LANG_COOKIE = "obra_lang"
LANGUAGES = {"en": "English", "es": "Español", "fr": "Français", "pt": "Português"}
SECURITY_HEADERS = {
    # Everything the portal needs is its own: scripts, styles and images from this origin only.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
                               "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class CSRFRefused(ObraError):
    """A form arrived without this visitor's form token: sent from another site, or from a page that
    has expired. Nothing was done."""

    status, exit_code, code = 403, 5, "csrf_refused"

    def __init__(self) -> None:
        super().__init__("the form was refused: it did not carry this browser's form token",
                         hint="go back, reload the page and send the form again")


class SignInNeeded(Exception):
    """Raised by :meth:`Visit.principal_or_sign_in`; answered by a redirect to the sign-in page."""

    def __init__(self, target: str, expired: bool):
        self.target, self.expired = target, expired


@dataclass
class Visit:
    """One request as the portal sees it."""

    request: Request
    obra: Obra
    locale: str
    session: sessions.Session | None
    expired: bool
    csrf: str
    new_csrf_cookie: str | None = None
    new_lang_cookie: str | None = None
    cookies_to_set: list[tuple[str, str, dict]] = field(default_factory=list)

    @property
    def principal(self) -> Principal:
        return self.session.principal if self.session is not None else ANONYMOUS

    @property
    def signed_in(self) -> bool:
        return self.session is not None

    def principal_or_sign_in(self) -> Principal:
        """The signed-in principal, or off to the sign-in page (and back here afterwards)."""
        if self.session is None:
            raise SignInNeeded(here(self.request), self.expired)
        return self.session.principal

    async def form(self) -> FormData:
        """The submitted form, once its form token is checked (:class:`CSRFRefused` otherwise)."""
        data = await self.request.form()
        given = data.get("csrf_token") or self.request.headers.get("x-csrf-token")
        if not sessions.tokens_match(str(given) if given else None, self.csrf) or self.new_csrf_cookie:
            raise CSRFRefused()
        return data


def here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def safe_next(target: str | None) -> str:
    """A place inside the portal to go back to (never another site)."""
    if not target:
        return PREFIX + "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith(PREFIX + "/") or target.startswith("//"):
        return PREFIX + "/"
    return target


def secure_cookie(name: str, value: str, **extra: Any) -> tuple[str, str, dict]:
    return name, value, {"httponly": True, "secure": True, "samesite": "lax", "path": "/", **extra}


def language_of(request: Request) -> str:
    """The page's language: ``?lang=`` (the switch), else the ``obra_lang`` cookie, else ``Accept-Language``."""
    wanted = request.query_params.get("lang")
    if wanted in SUPPORTED:
        return wanted
    if request.cookies.get(LANG_COOKIE) in SUPPORTED:
        return request.cookies[LANG_COOKIE]
    return negotiate(request.headers.get("accept-language"))


async def visit(request: Request) -> Visit:
    """The dependency every page takes: the session (if any), the language and the form token.

    An anonymous visit touches no database; a session is read in the thread pool, off the event loop."""
    obra: Obra = request.app.state.obra
    cookie = request.cookies.get(sessions.SESSION_COOKIE)
    session, expired = (await run_in_threadpool(sessions.load, obra, cookie)) if cookie else (None, False)
    locale = language_of(request)
    new_lang = locale if request.query_params.get("lang") == locale else None
    new_csrf = None
    if session is not None:
        csrf = session.csrf
    else:
        csrf = request.cookies.get(sessions.CSRF_COOKIE) or ""
        if len(csrf) < 32:
            csrf = new_csrf = sessions.new_token()
    return Visit(request, obra, locale, session, expired, csrf, new_csrf, new_lang)


def finish(visit: Visit, response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers["Vary"] = "Accept-Language, Cookie"
    if visit.session is not None:
        response.headers["Cache-Control"] = "no-store"
    if visit.new_csrf_cookie:
        response.set_cookie(sessions.CSRF_COOKIE, visit.new_csrf_cookie, httponly=True, secure=True,
                            samesite="strict", path="/")
    if visit.new_lang_cookie:
        response.set_cookie(LANG_COOKIE, visit.new_lang_cookie, max_age=365 * 86400, secure=True, samesite="lax",
                            path="/")
    for name, value, options in visit.cookies_to_set:
        if value:
            response.set_cookie(name, value, **options)
        else:
            response.delete_cookie(name, path=options.get("path", "/"), secure=True, httponly=True,
                                   samesite=options.get("samesite", "lax"))
    return response


def _context(visit: Visit, context: dict) -> dict:
    request = visit.request
    path = request.url.path
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return {
        "visit": visit, "principal": visit.principal, "signed_in": visit.signed_in, "csrf_token": visit.csrf,
        "path": path, "prefix": PREFIX, "languages": LANGUAGES,
        "lang_links": {code: path + "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in query + [("lang", code)])
                       for code in LANGUAGES},
        "nav_templates": getattr(request.app.state, "nav_templates", []), "session_ends": visit.session.expires_at if visit.session else None,
        "expired": visit.expired, "office": visit.obra.store.office, **context,
    }


def page(visit: Visit, template: str, context: dict | None = None, status: int = 200) -> Response:
    """A page: ``template`` (under ``templates/``) in the visitor's language, inside the frame."""
    html = render(template, _context(visit, context or {}), visit.locale)
    response = HTMLResponse(html, status_code=status, headers={"Content-Language": visit.locale})
    return finish(visit, response)


def download(visit: Visit, content: bytes, media_type: str, filename: str) -> Response:
    safe = "".join(ch if ch.isalnum() or ch in "-._" else "_" for ch in filename)
    return finish(visit, Response(content, media_type=media_type,
                                   headers={"Content-Disposition": f'attachment; filename="{safe}"'}))


def redirect(visit: Visit, target: str) -> Response:
    """See other (303): after a form, the browser fetches ``target``."""
    return finish(visit, RedirectResponse(target, status_code=303))


def refusal(visit: Visit, exc: ObraError) -> Response:
    """An error as a page with its status, what went wrong, the hint, each problem by file, line and
    field, and a way back (the page the visitor came from, if it is ours)."""
    referer = visit.request.headers.get("referer") or ""
    parts = urlsplit(referer)
    back = safe_next(parts.path + (f"?{parts.query}" if parts.query else "")) if parts.path else PREFIX + "/"
    if back == here(visit.request):
        back = PREFIX + "/"
    headers = {}
    if getattr(exc, "retry_after", None):
        headers["Retry-After"] = str(exc.retry_after)
    response = page(visit, "web/error.html", {"error": exc, "problems": exc.problems_list(), "back": back,
                                              "forbidden": isinstance(exc, PermissionDenied)}, exc.status)
    response.headers.update(headers)
    return response


def sign_in_redirect(visit: Visit, target: str, expired: bool) -> Response:
    return redirect(visit, f"{PREFIX}/login?next={quote(safe_next(target))}" + ("&expired=1" if expired else ""))
