"""The portal's frame without a browser: sessions, form tokens, sign-in limits, refusals and uploads."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from obra.access import create_principal
from obra.api.limits import BodyLimits
from obra.model.vocab import AccessRole
from obra.web import sessions
from obra.web.app import create_app

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def people(store):
    admin, admin_token = create_principal(store, "admin", AccessRole.ADMIN)
    creator, creator_token = create_principal(store, "ana", AccessRole.CREATOR, by=admin)
    cmo, cmo_token = create_principal(store, "sgae", AccessRole.CMO, by=admin)
    return {"admin": admin_token, "ana": creator_token, "sgae": cmo_token}


def client(store, **kw) -> TestClient:
    return TestClient(create_app(store, **kw), base_url="https://testserver")


def token_of(c: TestClient, path: str = "/portal/login") -> str:
    return CSRF.search(c.get(path).text).group(1)


def sign_in(c: TestClient, name: str, token: str) -> None:
    r = c.post("/portal/login", data={"csrf_token": token_of(c), "name": name, "token": token,
                                      "next": "/portal/"}, follow_redirects=False)
    assert r.status_code == 303, r.text


def test_sign_in_sets_a_secure_http_only_session_cookie_kept_only_as_a_hash(store, people):
    c = client(store)
    sign_in(c, "ana", people["ana"])
    header = [v for k, v in c.cookies.jar._cookies["testserver.local"]["/"].items() if k == "obra_session"]
    assert header and header[0].secure and header[0].has_nonstandard_attr("HttpOnly")
    cookie = c.cookies["obra_session"]
    with store.connect() as conn:
        stored = [row[0] for row in conn.exec_driver_sql("select token_hash from web_sessions")]
    assert cookie not in stored and len(stored) == 1
    page = c.get("/portal/")
    assert "Signed in as ana (creator)" in page.text and page.headers["cache-control"] == "no-store"


def test_a_form_without_this_browsers_token_is_refused_and_nothing_happens(store, people):
    c = client(store)
    c.get("/portal/login")
    r = c.post("/portal/login", data={"name": "ana", "token": people["ana"], "next": "/portal/"},
               follow_redirects=False)
    assert r.status_code == 403 and "csrf_refused" in r.text and "Go back" in r.text
    other = client(store)
    forged = token_of(other)
    r = c.post("/portal/login", data={"csrf_token": forged, "name": "ana", "token": people["ana"]},
               follow_redirects=False)
    assert r.status_code == 403
    with store.connect() as conn:
        assert conn.exec_driver_sql("select count(*) from web_sessions").scalar() == 0


def test_signed_in_forms_need_the_sessions_own_token(store, people):
    c = client(store)
    before = token_of(c)
    sign_in(c, "sgae", people["sgae"])
    r = c.post("/portal/match", data={"csrf_token": before, "period": "2026-10"}, follow_redirects=False)
    assert r.status_code == 403 and "csrf_refused" in r.text


def test_wrong_tokens_are_refused_then_sign_in_is_paused(store, people):
    c = client(store)
    for _ in range(sessions.MAX_FAILURES):
        r = c.post("/portal/login", data={"csrf_token": token_of(c), "name": "ana", "token": "obra_wrong"})
        assert r.status_code == 401 and "do not match" in r.text
    r = c.post("/portal/login", data={"csrf_token": token_of(c), "name": "ana", "token": people["ana"]},
               follow_redirects=False)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0   # even the right token waits
    assert "Too many attempts" in r.text


def test_an_expired_session_sends_the_visitor_to_sign_in_and_back(store, people):
    c = client(store)
    sign_in(c, "ana", people["ana"])
    sessions.age(c.app.state.obra, c.cookies["obra_session"], sessions.IDLE + timedelta(minutes=1))
    r = c.get("/portal/register", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/portal/login?next=/portal/register&expired=1"
    assert "Your session has expired" in c.get(r.headers["location"]).text
    with store.connect() as conn:
        assert conn.exec_driver_sql("select count(*) from web_sessions").scalar() == 0


def test_sign_out_ends_the_session_on_the_server(store, people):
    c = client(store)
    sign_in(c, "ana", people["ana"])
    cookie = c.cookies["obra_session"]
    r = c.post("/portal/logout", data={"csrf_token": token_of(c, "/portal/")}, follow_redirects=False)
    assert r.status_code == 303
    c.cookies.set("obra_session", cookie, domain="testserver.local")
    assert c.get("/portal/register", follow_redirects=False).status_code == 303


def test_a_forbidden_page_is_403_with_a_way_back(sqlite_store):
    admin, _ = create_principal(sqlite_store, "admin", AccessRole.ADMIN)
    _, token = create_principal(sqlite_store, "ana", AccessRole.CREATOR, by=admin)
    c = client(sqlite_store)
    sign_in(c, "ana", token)
    r = c.get("/portal/distributions", headers={"referer": "https://testserver/portal/search?q=luna"})
    assert r.status_code == 403
    assert "You may not do this" in r.text and 'href="/portal/search?q=luna"' in r.text
    assert "role &#39;creator&#39; may not read statement" in r.text


def test_an_upload_over_the_limit_is_413_on_a_page(sqlite_store):
    admin, token = create_principal(sqlite_store, "admin", AccessRole.ADMIN)
    c = client(sqlite_store, limits=BodyLimits(json=1 << 20, upload=2000))
    sign_in(c, "admin", token)
    csrf = token_of(c, "/portal/register")
    r = c.post("/portal/register", data={"csrf_token": csrf, "title": "Big"},
               files={"content": ("big.txt", b"x" * (2000 + (2 << 20)), "text/plain")})
    assert r.status_code == 413 and "The file is too large" in r.text
    assert sqlite_store.repertoire().works == {}


def test_a_file_that_is_not_a_certificate_is_answered_not_crashed(sqlite_store):
    c = client(sqlite_store)
    csrf = token_of(c, "/portal/verify")
    r = c.post("/portal/verify", data={"csrf_token": csrf}, files={"certificate": ("song.mp3", b"ID3\x00junk")})
    assert r.status_code == 400 and "The certificate does not verify" in r.text


def test_a_usage_report_with_bad_rows_lists_each_line_and_saves_nothing(sqlite_store, tmp_path):
    admin, token = create_principal(sqlite_store, "admin", AccessRole.ADMIN)
    c = client(sqlite_store)
    sign_in(c, "admin", token)
    csrf = token_of(c, "/portal/usage")
    bad = b"period,service,territory,title,artist,isrc,plays\n2026-13,S,UY,T,A,USX,ten\n"
    r = c.post("/portal/usage", data={"csrf_token": csrf, "kind": "usage"},
               files={"report": ("usage-bad.csv", bad, "text/csv")})
    assert r.status_code == 422 and "nothing was saved" in r.text
    assert "usage-bad.csv" in r.text and re.search(r'<td class="n">\d+</td>', r.text)


def test_the_language_follows_the_browser_and_the_switch_is_remembered(sqlite_store):
    c = client(sqlite_store)
    r = c.get("/portal/search", headers={"accept-language": "es-UY,es;q=0.9"})
    assert '<html lang="es">' in r.text and r.headers["content-language"] == "es"
    r = c.get("/portal/search?lang=fr", headers={"accept-language": "es"})
    assert '<html lang="fr">' in r.text
    assert '<html lang="fr">' in c.get("/portal/help", headers={"accept-language": "es"}).text


def test_the_api_documentation_loads_no_script_from_another_host(sqlite_store):
    c = client(sqlite_store)
    for path in ("/docs", "/redoc"):
        html = c.get(path).text
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources and all(s.startswith("/") for s in sources), sources
        assert all(c.get(s).status_code == 200 for s in sources if s.startswith("/docs-assets"))
    assert c.get("/openapi.json").json()["info"]["title"] == "Obra"
    assert not any(p.startswith("/portal") for p in c.get("/openapi.json").json()["paths"])


def test_api_errors_stay_json_while_portal_errors_are_pages(sqlite_store):
    c = client(sqlite_store)
    api = c.get("/registrations/UYMVD-2026-9999999-X")
    assert api.status_code in (404, 422) and api.json()["error"] in ("not_found", "invalid_input")
    r = c.get("/portal/records/UYMVD-2026-9999999-X")
    assert r.status_code == api.status_code and r.headers["content-type"].startswith("text/html")
    assert api.json()["message"].replace("'", "&#39;") in r.text and "Go back" in r.text


def test_next_never_leaves_the_portal(sqlite_store):
    admin, token = create_principal(sqlite_store, "admin", AccessRole.ADMIN)
    c = client(sqlite_store)
    r = c.post("/portal/login", data={"csrf_token": token_of(c), "name": "admin", "token": token,
                                      "next": "https://evil.example/"}, follow_redirects=False)
    assert r.headers["location"] == "/portal/"


def test_a_kept_public_page_changes_as_soon_as_the_register_does(store, people):
    c = client(store)
    assert "Nocturno del puerto" not in c.get("/portal/search?q=nocturno").text
    assert "Nocturno del puerto" not in c.get("/portal/search?q=nocturno").text   # kept, still right
    created = c.post("/registrations", json={"title": "Nocturno del puerto"},
                     headers={"Authorization": f"Bearer {people['admin']}"})
    assert created.status_code == 201
    page = c.get("/portal/search?q=nocturno")
    assert "Nocturno del puerto" in page.text and created.json()["number"] in page.text
    spanish = c.get("/portal/search?q=nocturno", headers={"accept-language": "es"})
    assert '<html lang="es">' in spanish.text      # one kept page per language


def test_a_bug_behind_a_page_is_a_page_with_its_reference_not_json(sqlite_store):
    c = client(sqlite_store)

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    c.app.state.obra.registry.search = broken
    r = c.get("/portal/search?q=luna")
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in r.text and "reference" in r.text and "Go back" in r.text
    api = c.get("/search?q=luna")
    assert api.status_code == 500 and api.json()["error"] == "internal_invariant"


def test_a_repertoire_batch_is_imported_whole_or_refused_by_line(sqlite_store):
    admin, token = create_principal(sqlite_store, "admin", AccessRole.ADMIN)
    c = client(sqlite_store)
    sign_in(c, "admin", token)
    csrf = token_of(c, "/portal/usage")
    bad = b'{"works": [{"title": "Milonga del mar"}, {"title": ""}]}'
    r = c.post("/portal/usage", data={"csrf_token": csrf, "kind": "repertoire"},
               files={"report": ("catalogo.json", bad, "application/json")})
    assert r.status_code == 422 and "catalogo.json" in r.text and "obra-portal" not in r.text
    assert sqlite_store.repertoire().works == {}
    good = b'{"works": [{"title": "Milonga del mar"}]}'
    r = c.post("/portal/usage", data={"csrf_token": csrf, "kind": "repertoire"},
               files={"report": ("catalogo.json", good, "application/json")})
    assert r.status_code == 201 and "obra-portal" not in r.text      # no server path in the answer
    assert [w.title for w in sqlite_store.repertoire().works.values()] == ["Milonga del mar"]


def test_a_kept_page_is_never_shown_to_a_signed_in_visitor_nor_in_another_language(store, people):
    anonymous = client(store)
    assert "Sign in" in anonymous.get("/portal/search?q=mar").text
    assert "Sign in" in anonymous.get("/portal/search?q=mar").text       # kept now
    c = client(store)
    sign_in(c, "ana", people["ana"])
    page = c.get("/portal/search?q=mar")
    assert "Signed in as ana" in page.text and page.headers["cache-control"] == "no-store"
    french = anonymous.get("/portal/search?q=mar&lang=fr")
    assert '<html lang="fr">' in french.text and "obra_lang=fr" in french.headers["set-cookie"]
