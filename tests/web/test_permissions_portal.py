"""The permission table walked over the portal, the third surface: for every write the portal offers and
every role, not signed in → sent to sign in (303), a role the table does not allow → the 403 page naming
the action, a role it allows → past the access check (the tiny samples may still be refused as input).

The same words as the CLI and the API, because the services say them (:func:`obra.access.require`)."""

from __future__ import annotations

import json

import pytest

from obra.access import PERMISSIONS, create_principal
from obra.model.vocab import AccessRole
from tests.web.test_frame import client, sign_in, token_of

ROLES = tuple(r.value for r in AccessRole if r is not AccessRole.PUBLIC)
ALLOWED = {200, 201, 303, 400, 404, 409, 422}

# action → (path, form fields, files): one portal request that performs it
WALK = {
    "register": ("/portal/register", {"title": "Walk"}, None),
    "ingest_usage": ("/portal/usage", {"kind": "usage"}, ("report", "usage.csv", b"this,is,not\na,usage,report\n")),
    "import": ("/portal/usage", {"kind": "repertoire"}, ("report", "batch.json", b'{"works": [{"title": ""}]}')),
    "match": ("/portal/match", {"period": "2026-10"}, None),
    "distribute": ("/portal/distributions", {"period": "2026-10", "model": "pro-rata"}, None),
    "claim": ("/portal/claims/0000", {"number": "UYMVD-2026-0000001-G"}, None),
    "ai_terms": ("/portal/ai/terms", {"subject_kind": "work", "subject": "UYMVD-2026-0000001-G",
                                      "use-search": "allowed"}, None),
    "ai_check": ("/portal/ai/check", {"jurisdiction": "DE", "purpose": "research"},
                 ("manifest", "m.jsonl", b'{"url": "https://example.org/a"}\n')),
    "ai_quote": ("/portal/licences/quote", {"use": "ai-train-generative"}, ("manifest", "m.csv", b"number\nX\n")),
    "ai_licence": ("/portal/licences/quotes/Q-0000/accept", {}, None),
    "ai_disclosure": ("/portal/licences/disclosure", {}, ("summary", "s.json", b"{}")),
    "likeness_consent": ("/portal/likeness", {"party": "999999", "decision": "prohibited", "jurisdiction": "ES",
                                              "attributes": "voice", "uses": "training"}, None),
    "observatory": ("/portal/observatory", {"period": "2026-10"}, None),
    "review": ("/portal/review/UYMVD-2026-0000001-G", {"note": "walk"}, None),
    "read_statement": ("/portal/distributions", None, None),   # the runs list: every statement
}


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    from obra.store import Store

    root = tmp_path_factory.mktemp("walk")
    store = Store.open(f"sqlite:///{root / 'obra.db'}", root / "home", office="UYMVD", migrate=True)
    admin, admin_token = create_principal(store, "root", AccessRole.ADMIN)
    tokens = {"admin": ("root", admin_token)}
    for role in ROLES:
        if role != "admin":
            tokens[role] = (f"{role}-1", create_principal(store, f"{role}-1", role, by=admin)[1])
    yield store, tokens
    store.dispose()


def _request(c, action: str):
    path, data, upload = WALK[action]
    if data is None:
        return c.get(path, follow_redirects=False)
    files = {upload[0]: (upload[1], upload[2])} if upload else None
    return c.post(path, data={"csrf_token": token_of(c, "/portal/login"), **data}, files=files, follow_redirects=False)


def test_every_action_the_portal_performs_is_in_the_table():
    assert set(WALK) <= set(PERMISSIONS)


@pytest.mark.parametrize("action", sorted(WALK))
def test_not_signed_in_is_sent_to_sign_in(walked, action):
    store, _ = walked
    r = _request(client(store), action)
    assert r.status_code == 303 and r.headers["location"].startswith("/portal/login?next=")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_allowed_or_refused_as_the_table_says(walked, role):
    store, tokens = walked
    c = client(store)
    sign_in(c, *tokens[role])
    wrong = []
    for action in sorted(WALK):
        r = _request(c, action)
        allowed = role == "admin" or AccessRole(role) in PERMISSIONS[action]
        denied_by_table = r.status_code == 403 and f"may not {action.replace('_', ' ')}" in r.text
        if allowed and (denied_by_table or r.status_code not in ALLOWED | {403}):
            # 403 without the table's words is a data rule after it (consent only for one's own party)
            wrong.append(f"{action}: allowed, got {r.status_code}")
        if not allowed and (not denied_by_table or "Go back" not in r.text):
            wrong.append(f"{action}: denied, got {r.status_code}")
    assert not wrong, f"role {role}:\n" + "\n".join(wrong)
