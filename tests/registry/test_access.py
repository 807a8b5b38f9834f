"""Every write needs an authenticated principal with the right role; the denials are proved here."""

import pytest

from obra.access import ANONYMOUS, authenticate, create_principal, require
from obra.errors import AuthenticationRequired, PermissionDenied
from obra.model.vocab import AccessRole
from obra.registry.service import Registry


def test_writes_without_a_principal_are_refused(store):
    registry = Registry(store)
    with pytest.raises(AuthenticationRequired):
        registry.register(ANONYMOUS, "work", {"title": "x"})
    with pytest.raises(AuthenticationRequired):
        registry.register(None, "work", {"title": "x"})
    assert registry.counts().get("works", 0) == 0


def test_roles_that_may_not_register_are_refused(store, principals):
    registry = Registry(store)
    ai_dev, _ = principals["ai_developer"]
    with pytest.raises(PermissionDenied, match="ai_developer"):
        registry.register(ai_dev, "work", {"title": "x"})
    registrant, _ = principals["registrant"]
    assert registry.register(registrant, "work", {"title": "x"}).version == 1


def test_only_the_registrant_or_office_staff_may_correct(store, principals):
    registry = Registry(store)
    registrant, _ = principals["registrant"]
    other, _ = create_principal(store, "another-registrant", AccessRole.REGISTRANT, by=principals["admin"][0])
    record = registry.register(registrant, "work", {"title": "Mine"})
    with pytest.raises(PermissionDenied, match="registered by 'registrant-1'"):
        registry.correct(other, record.number, {"title": "Yours"}, "hostile")
    staff, _ = principals["office_staff"]
    assert registry.correct(staff, record.number, {"title": "Mine (fixed)"}, "typo").version == 2


def test_tokens_authenticate_and_only_admins_create_principals(store, principals):
    _, token = principals["cmo"]
    assert authenticate(store, token).role == AccessRole.CMO
    with pytest.raises(AuthenticationRequired):
        authenticate(store, token + "x")
    with pytest.raises(PermissionDenied):
        create_principal(store, "sneaky", AccessRole.ADMIN, by=principals["registrant"][0])


def test_require_names_the_allowed_roles():
    from obra.access import Principal
    with pytest.raises(PermissionDenied, match="allowed roles: admin, cmo"):
        require(Principal("x", AccessRole.CREATOR), "distribute")


def test_a_principal_for_a_party_that_does_not_exist_is_refused_by_field(store, principals):
    from obra.errors import InvalidInput

    with pytest.raises(InvalidInput) as err:
        create_principal(store, "ghost", AccessRole.CREATOR, party_id=4242, by=principals["admin"][0])
    assert err.value.problems[0].field == "party" and "4242" in str(err.value)


def test_an_empty_server_hands_no_admin_token_over_the_api(store):
    """The first admin is made on the machine (`obra init`); POST /principals always needs an admin."""
    from fastapi.testclient import TestClient

    from obra.api.app import create_app
    from obra.journal import Journal

    client = TestClient(create_app(store))
    refused = client.post("/principals", json={"name": "first-come", "role": "admin"})
    assert refused.status_code == 401
    root, token = create_principal(store, "root", AccessRole.ADMIN)  # the bootstrap, as `obra init` does
    made = client.post("/principals", json={"name": "cmo", "role": "cmo"}, headers={"Authorization": f"Bearer {token}"})
    assert made.status_code == 201 and made.json()["token"].startswith("obra_")
    actors = [(e.payload["name"], e.actor) for e in Journal(store).events("principal.created")]
    assert actors == [("root", "bootstrap"), ("cmo", "root")]
