"""The review page over TestClient (SQLite and PostgreSQL): office staff see the queue with a near duplicate's
warning, mark it reviewed with a note (a journal event), are refused an empty note; a creator gets the 403 page
with a way back; not signed in goes to sign in."""

from __future__ import annotations

import html

from obra.access import create_principal
from obra.app import Obra
from obra.model.vocab import AccessRole
from tests.registry.test_review import LYRICS, lyrics
from tests.web.test_frame import client, sign_in, token_of


def _setup(store, tmp_path):
    admin, _ = create_principal(store, "admin", AccessRole.ADMIN)
    creator, creator_token = create_principal(store, "ana", AccessRole.CREATOR, by=admin)
    _, staff_token = create_principal(store, "clerk", AccessRole.OFFICE_STAFF, by=admin)
    obra = Obra(store)
    first = obra.identify.register_with_file(creator, "work", {"title": "Tambor", "kind": "literary"},
                                             lyrics(tmp_path, "a.txt", LYRICS))
    copy = obra.identify.register_with_file(creator, "work", {"title": "El tambor", "kind": "literary"},
                                            lyrics(tmp_path, "b.txt", LYRICS.replace("viejo", "nuevo", 1)))
    return obra, first.number, copy.number, {"ana": creator_token, "clerk": staff_token}


def test_office_staff_see_the_queue_and_mark_a_warning_reviewed(store, tmp_path):
    obra, first, copy, tokens = _setup(store, tmp_path)
    c = client(store)
    sign_in(c, "clerk", tokens["clerk"])
    r = c.get("/portal/review")
    assert r.status_code == 200 and 'href="/portal/review" aria-current="page"' in r.text   # in the menu
    text = html.unescape(r.text)
    assert text.index(copy) < text.index(first)          # newest first
    assert f'id="r-{copy}"' in r.text and f'href="/portal/records/{first}"' in r.text
    assert "To review" in r.text and "content-text" in r.text
    csrf = token_of(c, "/portal/review")
    refused = c.post(f"/portal/review/{copy}", data={"csrf_token": csrf, "note": " "})
    assert refused.status_code == 422 and "needs a note" in refused.text and 'aria-invalid="true"' in refused.text
    assert obra.journal.events("registry.review") == []
    done = c.post(f"/portal/review/{copy}", data={"csrf_token": csrf, "note": "second edition, same author"},
                  follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/portal/review?reviewed={copy}"
    after = c.get(done.headers["location"])
    assert "are marked as reviewed" in after.text and "second edition, same author" in after.text
    (event,) = obra.journal.events("registry.review")
    assert event.actor == "clerk" and event.subject == copy
    es = c.get("/portal/review?lang=es")
    assert "Revisar registros" in es.text and "Distancia (bits de 64)" in es.text


def test_a_creator_gets_the_403_page_and_nobody_signed_out_sees_the_queue(store, tmp_path):
    obra, first, copy, tokens = _setup(store, tmp_path)
    anonymous = client(store)
    r = anonymous.get("/portal/review", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/portal/login?next=/portal/review")
    c = client(store)
    sign_in(c, "ana", tokens["ana"])
    assert 'href="/portal/review"' not in c.get("/portal/").text    # not in a creator's menu
    r = c.get("/portal/review", headers={"referer": "https://testserver/portal/search"})
    assert r.status_code == 403 and "may not review" in r.text and 'href="/portal/search"' in r.text
    r = c.post(f"/portal/review/{copy}", data={"csrf_token": token_of(c, "/portal/"), "note": "mine"})
    assert r.status_code == 403 and obra.journal.events("registry.review") == []


def test_registering_a_near_copy_shows_each_warning_as_a_row_not_raw_data(store, tmp_path):
    obra, first, copy, tokens = _setup(store, tmp_path)
    c = client(store)
    sign_in(c, "ana", tokens["ana"])
    csrf = token_of(c, "/portal/register")
    text = LYRICS.replace("viejo", "otro", 1).encode()
    r = c.post("/portal/register?lang=es", data={"csrf_token": csrf, "title": "Otro tambor", "kind": "literary"},
               files={"content": ("c.txt", text, "text/plain")})
    assert r.status_code == 201
    assert f'href="/portal/records/{first}"' in r.text and f'href="/portal/records/{copy}"' in r.text
    assert "possible_prior_work" not in r.text and "{&#39;" not in r.text and "{'" not in html.unescape(r.text)
    assert "Distancia (bits de 64)" in r.text and "content-text" in r.text
