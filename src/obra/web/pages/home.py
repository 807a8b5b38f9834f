"""The portal's front door: home, sign-in and sign-out, help and the accessibility statement."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from obra.errors import AuthenticationRequired
from obra.web import sessions
from obra.web.portal import Visit, page, redirect, safe_next, secure_cookie, visit

router = APIRouter()


@router.get("/")
def home(v: Visit = Depends(visit)):
    return page(v, "web/home.html")


@router.get("/login")
def login_form(next: str | None = None, expired: bool = False, v: Visit = Depends(visit)):
    return page(v, "web/login.html", {"next": safe_next(next), "expired_notice": expired or v.expired,
                                      "failed": None, "name": ""})


@router.post("/login")
async def login(v: Visit = Depends(visit)):
    form = await v.form()
    name, token = str(form.get("name") or ""), str(form.get("token") or "")
    target = safe_next(str(form.get("next") or ""))
    client = v.request.client.host if v.request.client else "unknown"
    try:
        cookie, _session = sessions.sign_in(v.obra, name, token, client)
    except AuthenticationRequired as exc:
        return page(v, "web/login.html", {"next": target, "expired_notice": False, "failed": exc, "name": name},
                    status=401)
    v.cookies_to_set.append(secure_cookie(sessions.SESSION_COOKIE, cookie))
    return redirect(v, target)


@router.post("/logout")
async def logout(v: Visit = Depends(visit)):
    await v.form()
    sessions.sign_out(v.obra, v.request.cookies.get(sessions.SESSION_COOKIE))
    v.cookies_to_set.append(secure_cookie(sessions.SESSION_COOKIE, ""))
    return redirect(v, "/portal/?signed_out=1")


@router.get("/help")
def help_page(v: Visit = Depends(visit)):
    return page(v, "web/help.html")


@router.get("/accessibility")
def accessibility(v: Visit = Depends(visit)):
    return page(v, "web/accessibility.html")
