"""The licence server, exercised by a crawler written from the protocols' text (RSL 1.0, OLP, CAP, pay per crawl).

The client knows nothing of Obra: it fetches a resource, reads ``WWW-Authenticate: License`` and
``Link rel="license"`` on a 401, fetches the RSL document, takes the ``server`` attribute of its
``<content>``, obtains a token there (OAuth 2.0 client credentials, HTTP Basic, ``token_type``
``License``) and retries with ``Authorization: License <token>``; on a 402 carrying
``crawler-price`` it retries with ``crawler-exact-price``.
"""

from __future__ import annotations

import base64
import re

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from obra.api.app import create_app
from obra.journal import Journal

from .conftest import TRAIN, write_manifest


class SpecCrawler:
    """An RSL crawler from the specifications' text."""

    def __init__(self, http: TestClient, client_id: str, client_secret: str):
        self.http, self.client_id, self.client_secret = http, client_id, client_secret
        self.token: str | None = None
        self.log: list[tuple[int, str]] = []

    @staticmethod
    def _path(url: str) -> str:
        return re.sub(r"^https?://[^/]+", "", url)

    def licence_link(self, link: str) -> str:
        found = re.search(r'<([^>]+)>\s*;\s*rel="license"', link)
        assert found, link
        return found.group(1)

    def obtain_token(self, licence_url: str, resource: str) -> dict:
        doc = etree.fromstring(self.http.get(self._path(licence_url)).content)
        content = next(doc.iter("{*}content"))
        server = content.get("server")
        basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        answer = self.http.post(self._path(server) + "/token", headers={"Authorization": f"Basic {basic}"},
                                data={"grant_type": "client_credentials", "resource": resource})
        return {"status": answer.status_code, **answer.json()}

    def fetch(self, url: str, max_price: str | None = None) -> object:
        headers = {"Authorization": f"License {self.token}"} if self.token else {}
        answer = self.http.get(self._path(url), headers=headers)
        self.log.append((answer.status_code, answer.headers.get("www-authenticate", "")))
        if answer.status_code == 401 and answer.headers.get("www-authenticate", "").startswith("License"):
            got = self.obtain_token(self.licence_link(answer.headers["link"]), url)
            if got["status"] != 200:
                return answer
            assert got["token_type"] == "License"
            self.token = got["access_token"]
            return self.fetch(url, max_price)
        if answer.status_code == 402 and "crawler-price" in answer.headers and max_price is None:
            price = answer.headers["crawler-price"]
            answer = self.http.get(self._path(url), headers={**headers, "crawler-exact-price": price})
            self.log.append((answer.status_code, answer.headers.get("crawler-charged", "")))
        return answer


@pytest.fixture
def served(world, tmp_path):
    http = TestClient(create_app(world["obra"].store))
    svc = world["svc"]
    quote = svc.quote(world["dev"], write_manifest(tmp_path / "m.csv", [{"number": world["a"]}]),
                      svc.question(TRAIN))
    lic = svc.accept(world["dev"], quote["quote_id"])
    return http, lic


def test_a_crawler_from_the_spec_gets_a_token_and_the_resource(world, served):
    http, lic = served
    crawler = SpecCrawler(http, lic["client_id"], lic["client_secret"])
    answer = crawler.fetch(f"http://testserver/ai/licensed/{world['a']}")
    assert answer.status_code == 200 and answer.json()["licence_id"] == lic["licence_id"]
    assert crawler.log[0] == (401, 'License error="invalid_request", error_description="License token required"')


def test_the_rsl_document_names_the_server_and_the_payment(world, served):
    http, _lic = served
    doc = http.get(f"/ai/rsl/{world['a']}.xml")
    assert doc.status_code == 200 and doc.headers["content-type"].startswith("application/rsl+xml")
    root = etree.fromstring(doc.content)
    content = next(root.iter("{*}content"))
    assert content.get("server") == "http://testserver/ai/olp"
    assert content.get("url") == f"http://testserver/ai/licensed/{world['a']}"
    amounts = [a for a in root.iter("{*}amount")]
    assert [(a.get("currency"), a.text) for a in amounts] == [("EUR", "2.50")]


def test_the_catalogue_document_lists_each_work_of_the_party(world, served):
    http, _lic = served
    doc = http.get(f"/ai/rsl/party/{world['ana']}.xml")
    assert doc.status_code == 200
    urls = sorted(c.get("url") for c in etree.fromstring(doc.content).iter("{*}content"))
    assert urls == sorted(f"http://testserver/ai/licensed/{n}" for n in (world["a"], world["b"]))
    assert http.get(f"/ai/rsl/party/{world['bo']}.xml").status_code == 404     # Bo stated no catalogue terms


def test_each_cap_answer(world, served):
    http, lic = served
    url = f"/ai/licensed/{world['a']}"
    none = http.get(url)
    assert none.status_code == 401 and 'rel="license"' in none.headers["link"]
    bad = http.get(url, headers={"Authorization": "License nope"})
    assert bad.status_code == 401 and bad.headers["www-authenticate"].startswith('License error="invalid_token"')
    crawler = SpecCrawler(http, lic["client_id"], lic["client_secret"])
    token = crawler.obtain_token(f"http://testserver/ai/rsl/{world['a']}.xml", url)["access_token"]
    ok = http.get(url, headers={"Authorization": f"License {token}"})
    assert ok.status_code == 200
    outside = http.get(f"/ai/licensed/{world['b']}", headers={"Authorization": f"License {token}"})
    assert outside.status_code == 402
    assert outside.headers["www-authenticate"].startswith('License error="insufficient_scope"')
    assert f"/ai/rsl/{world['b']}.xml" in outside.headers["link"]
    forbidden = http.get(f"/ai/licensed/{world['c']}", headers={"Authorization": f"License {token}"})
    assert forbidden.status_code == 403                      # work C's terms do not allow training
    # introspection (RFC 7662): active for its own client, inactive once the licence is revoked
    basic = base64.b64encode(f"{lic['client_id']}:{lic['client_secret']}".encode()).decode()
    seen = http.post("/ai/olp/introspect", headers={"Authorization": f"Basic {basic}"}, data={"token": token})
    assert seen.json()["active"] is True and seen.json()["token_type"] == "License"
    world["svc"].revoke(world["cmo"], lic["licence_id"], "breach")
    assert http.post("/ai/olp/introspect", headers={"Authorization": f"Basic {basic}"},
                     data={"token": token}).json() == {"active": False}
    assert http.get(url, headers={"Authorization": f"License {token}"}).status_code == 401
    again = http.post("/ai/olp/token", headers={"Authorization": f"Basic {basic}"},
                      data={"grant_type": "client_credentials"})
    assert again.status_code == 400 and again.json()["error"] == "invalid_license"


def test_token_endpoint_errors_follow_oauth(world, served):
    http, lic = served
    basic = base64.b64encode(f"{lic['client_id']}:{lic['client_secret']}".encode()).decode()
    wrong = base64.b64encode(f"{lic['client_id']}:nope".encode()).decode()
    cases = [({"Authorization": f"Basic {wrong}"}, {"grant_type": "client_credentials"}, 401, "invalid_client"),
             ({}, {"grant_type": "client_credentials"}, 401, "invalid_client"),
             ({"Authorization": f"Basic {basic}"}, {}, 400, "invalid_request"),
             ({"Authorization": f"Basic {basic}"}, {"grant_type": "password"}, 400, "unsupported_grant_type"),
             ({"Authorization": f"Basic {basic}"}, {"grant_type": "client_credentials", "resource": world["b"]}, 400,
              "invalid_resource")]
    for headers, form, status, error in cases:
        answer = http.post("/ai/olp/token", headers=headers, data=form)
        assert (answer.status_code, answer.json()["error"]) == (status, error), form
        assert answer.headers["cache-control"] == "no-store"
    rsl_grant = http.post("/ai/olp/token", headers={"Authorization": f"Basic {basic}"}, data={"grant_type": "rsl"})
    assert rsl_grant.status_code == 200 and rsl_grant.json()["token_type"] == "License"


def test_pay_per_crawl_answers_402_with_the_price_and_records_each_paid_fetch(world, tmp_path):
    obra, svc = world["obra"], world["svc"]
    obra.ai_terms.set_terms(world["cmo"], {"subject_kind": "work", "subject": world["b"], "uses": [
        {"use": TRAIN, "permission": "licence", "price": {"model": "per-crawl", "currency": "USD", "amount_minor": 2}}]})
    quote = svc.quote(world["dev"], write_manifest(tmp_path / "m.csv", [{"number": world["b"], "count": "3"}]),
                      svc.question(TRAIN))
    lic = svc.accept(world["dev"], quote["quote_id"])
    assert lic["fee_minor"] == {}                  # per crawl: paid as fetched
    http = TestClient(create_app(obra.store))
    crawler = SpecCrawler(http, lic["client_id"], lic["client_secret"])
    url = f"http://testserver/ai/licensed/{world['b']}"
    answer = crawler.fetch(url)
    assert answer.status_code == 200 and answer.headers["crawler-charged"] == "USD 0.02"
    assert (402, "") in crawler.log
    headers = {"Authorization": f"License {crawler.token}"}
    path = f"/ai/licensed/{world['b']}"
    assert http.get(path, headers=headers).headers["crawler-price"] == "USD 0.02"
    low = http.get(path, headers={**headers, "crawler-max-price": "USD 0.01"})
    assert (low.status_code, low.headers["crawler-error"]) == (402, "price-too-low")
    wrong = http.get(path, headers={**headers, "crawler-exact-price": "EUR 0.02"})
    assert (wrong.status_code, wrong.headers["crawler-error"]) == (402, "price-mismatch")
    paid = http.get(path, headers={**headers, "crawler-max-price": "USD 1.00"})
    assert paid.status_code == 200 and paid.headers["crawler-charged"] == "USD 0.02"
    fetches = [i for i in svc.income(world["cmo"], licence_id=lic["licence_id"]) if i["source"] == "fetch"]
    assert [(f["amount_minor"], f["currency"]) for f in fetches] == [(2, "USD"), (2, "USD")]
    assert len(Journal(obra.store).events(kind="aiuse.licence.fetch_paid")) == 2
