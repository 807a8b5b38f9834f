"""The API never answers 500 to a client's mistake (issue #13, findings 4, 7 and 9, API part).

Each case of the audit is here as it was sent: numbers beyond the database's range, an
unknown search mode, a negative limit, NUL and lone surrogates, loose JSON, long and hostile
file names, bodies too big (declared or chunked, JSON or multipart), a token in a URL, and
server paths in answers. Body limits, the access log and the connection after a 500 are
checked against a real uvicorn server on loopback, since a test client buffers.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import httpx
import pytest
import uvicorn
from fastapi import Request
from fastapi.testclient import TestClient

from obra.access import create_principal
from obra.api.access_log import REDACTED, redact
from obra.api.app import create_app
from obra.api.limits import FORM_OVERHEAD, BodyLimits
from obra.api.uploads import MAX_NAME_BYTES, safe_filename
from obra.model.vocab import AccessRole

BODY_KEYS = {"error", "message", "hint", "problems"}
VERSES = b"Versos sencillos de un hombre sincero, de donde crece la palma. " * 4


def _one_body(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body) == BODY_KEYS, body
    return body


@pytest.fixture
def admin_token(store):
    return create_principal(store, "root", AccessRole.ADMIN)[1]


@pytest.fixture
def client(store):
    return TestClient(create_app(store))


def _fields(response: httpx.Response) -> set:
    return {p["field"] for p in _one_body(response)["problems"]}


# --------------------------------------------------------------------------- parameters
OUT_OF_RANGE = [
    (f"/parties/{10**20}", "party_id"),
    ("/parties/0", "party_id"),
    (f"/parties/{2**31}", "party_id"),  # int4 on PostgreSQL
    (f"/registrations/OBRA-2026-0000001-K?version={2**70}", "version"),
    ("/registrations/OBRA-2026-0000001-K?version=0", "version"),
    (f"/registrations/OBRA-2026-0000001-K/certificate?version={2**31}", "version"),
    (f"/log/entries?start={2**63}", "start"),
    (f"/log/entries?start=0&end={2**64}", "end"),
    (f"/log/sth?size={2**63}", "size"),
    (f"/log/proof/inclusion?index={2**63}", "index"),
    (f"/log/proof/consistency?old=0&new={2**65}", "new"),
    (f"/federation/export?since={2**63}", "since"),
    (f"/journal/{2**40}/proof", "event_id"),
    (f"/statements/someone?run={2**31}", "run"),
    ("/search?mode=bogus", "mode"),
    ("/search?entity=song", "entity"),
    ("/search?limit=-1", "limit"),
    ("/search?limit=0", "limit"),
    ("/claims?limit=-1", "limit"),
    ("/search?q=" + "x" * 501, "q"),
]


def test_out_of_range_and_unknown_parameters_are_named_422s_on_both_stores(client, admin_token):
    for url, field in OUT_OF_RANGE:
        response = client.get(url, headers={"Authorization": f"Bearer {admin_token}"})
        assert response.status_code == 422, (url, response.text)
        assert field in _fields(response), url


def test_the_largest_log_index_is_an_empty_page_not_an_overflow(client):
    assert client.get(f"/log/entries?start={2**63 - 1}").json() == []
    assert client.get(f"/log/entries?start={2**63 - 2}&end={2**63 - 1}").json() == []


def test_a_principal_for_a_party_beyond_int4_is_refused_by_field(client, admin_token):
    response = client.post("/principals", json={"name": "x", "role": "cmo", "party": 2**31},
                           headers={"Authorization": f"Bearer {admin_token}"})
    assert response.status_code == 422 and _fields(response) == {"party"}


UNUSABLE_TEXT = [
    ("/search?q=%ED%A0%80", "q"),  # a lone surrogate, UTF-8 encoded
    ("/search?q=%FF", "q"),
    ("/search?q=a%00b", "q"),  # NUL: PostgreSQL cannot hold it, SQLite stored it silently
    ("/search?party=%00", "party"),
    ("/journal?subject=%00", "subject"),
    ("/registrations/OBRA%00/history", "number"),
    ("/log/numbers/%ED%A0%80", "number"),
    ("/search?%00=1", "\x00"),
]


def test_nul_and_lone_surrogates_in_paths_and_queries_are_refused_by_name(client, admin_token):
    for url, field in UNUSABLE_TEXT:
        response = client.get(url, headers={"Authorization": f"Bearer {admin_token}"})
        assert response.status_code == 422, (url, response.text)
        assert field in _fields(response), url


LOOSE_JSON = [
    (b'{"title": "a\\u0000b"}', "title"),
    (b'{"title": "\\ud800"}', "title"),
    (b'{"title": "x", "contributors": [{"party": "\\udfff"}]}', "contributors[0].party"),
    (b'{"title": "a", "title": "b"}', "body"),  # duplicate keys: the second would silently win
    (b'{"title": "x", "n": NaN}', "body"),
    (b'{"title": "x", "n": 1e999}', "body"),
    (b'{"title": "x", "n": ' + str(2**70).encode() + b'}', "body"),
    (b'{"title": "x", "n": 1' + b"0" * 5000 + b'}', "body"),  # beyond what Python reads as an int
    (b'{"title": "x", "deep": ' + b"[" * 100_000 + b"]" * 100_000 + b'}', "body"),
    (b'{"title": "x", "deep": ' + b"[" * 40 + b"]" * 40 + b'}', "deep" + "[0]" * 31),
    (b'{"title": "caf\xe9"}', "body"),  # Latin-1, not UTF-8
    (b'{"title": ', "body"),
]


def test_json_bodies_are_read_strictly_and_nothing_is_written(client, admin_token):
    headers = {"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"}
    for body, field in LOOSE_JSON:
        response = client.post("/registrations", content=body, headers=headers)
        assert response.status_code == 422, (body[:60], response.text)
        assert field in _fields(response), body[:60]
    assert client.get("/search", params={"q": "x"}).json() == []
    assert client.get("/search", params={"q": "a"}).json() == []


def test_form_fields_and_json_form_records_are_held_to_the_same_rules(client, admin_token):
    auth = {"Authorization": f"Bearer {admin_token}"}
    file = {"file": ("poem.txt", VERSES, "text/plain")}
    named = client.post("/identify", data={"name": "a\x00b"}, files=file)
    assert named.status_code == 422 and _fields(named) == {"name"}
    record = client.post("/registrations/with-content", data={"record": '{"title": "a", "title": "b"}'},
                         files=file, headers=auth)
    assert record.status_code == 422 and _fields(record) == {"record"}
    digits = client.post("/statements-in", data={"period": "2026-Q1", "currency": "EUR", "minor_digits": 10**30},
                         files={"file": ("s.csv", b"Work ID,Amount\n", "text/csv")}, headers=auth)
    assert digits.status_code == 422 and "minor_digits" in _fields(digits)


# --------------------------------------------------------------------------- file names
@pytest.mark.parametrize("name, expected", [
    ("a" * 300 + ".tsv.gz", "a" * (MAX_NAME_BYTES - 7) + ".tsv.gz"),
    ("ñ" * 200 + ".csv", "ñ" * ((MAX_NAME_BYTES - 4) // 2) + ".csv"),  # cut on a character, not a byte
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\ana\\report.csv", "report.csv"),
    ("bell\x07and\x1b[31mred.txt", "bell_and_[31mred.txt"),
    ("nul\x00.txt", "nul_.txt"),
    ("lone\ud800.txt", "lone_.txt"),
    ("..", "upload.txt"),
])
def test_upload_names_are_made_safe(name, expected):
    safe = safe_filename(name, "text/plain")
    assert safe == expected
    assert len(safe.encode("utf-8")) <= MAX_NAME_BYTES


def test_a_long_upload_name_is_kept_short_with_its_extension_over_http(client):
    response = client.post("/identify", files={"file": ("v" * 400 + ".txt", VERSES, "text/plain")})
    assert response.status_code == 200, response.text
    name = response.json()["filename"]
    assert name.endswith(".txt") and len(name.encode()) == MAX_NAME_BYTES


# --------------------------------------------------------------------------- the one body
def test_every_http_error_has_the_one_body(client, admin_token):
    assert _one_body(client.get("/no/such/route"))["error"] == "not_found"
    assert _one_body(client.delete("/registrations"))["error"] == "method_not_allowed"
    broken = client.post("/batches/upload", content=b"--x\r\nTrue--x--\r\n",
                         headers={"Authorization": f"Bearer {admin_token}",
                                  "Content-Type": "multipart/form-data; boundary=x"})
    assert 400 <= broken.status_code < 500 and _one_body(broken)["error"]


# --------------------------------------------------------------------------- a real server
@contextmanager
def serving(app) -> Iterator[str]:
    """``app`` under uvicorn on a free loopback port, in a thread; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=True, lifespan="off",
                            timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


class BodyCounter:
    """ASGI wrapper counting the request-body bytes the application pulled from the server."""

    def __init__(self, app):
        self.app, self.received, self.reads = app, 0, 0

    async def __call__(self, scope, receive, send):
        async def counted():
            message = await receive()
            if message["type"] == "http.request":
                self.reads += 1
                self.received += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


@pytest.mark.parametrize("declared", [False, True], ids=["chunked", "content-length"])
def test_an_oversized_body_to_the_public_verify_is_stopped_while_it_arrives(sqlite_store, declared):
    limit = 1024 * 1024
    counter = BodyCounter(create_app(sqlite_store, limits=BodyLimits(json=limit, upload=4 * limit)))
    sent = 16 * limit  # 16 MiB: the audit's 256 MiB raised server memory by 670 MiB
    with serving(counter) as url, httpx.Client(base_url=url, timeout=30) as http:
        body = b"x" * sent if declared else _chunks(sent)
        response = http.post("/verify", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert _one_body(response)["error"] == "payload_too_large"
    assert response.headers["connection"] == "close"
    if declared:  # refused on its Content-Length, before a byte is read
        assert counter.received == 0
    else:  # stopped at the chunk that passed the limit: never buffered whole
        assert limit < counter.received <= limit + 256 * 1024


def test_a_multipart_upload_over_the_limit_gets_413_and_leaves_no_file(sqlite_store, tmp_path, monkeypatch):
    limit = 1024 * 1024
    counter = BodyCounter(create_app(sqlite_store, limits=BodyLimits(json=limit, upload=limit)))
    spool = tmp_path / "tmp"  # the server's temporary directory, for this test alone
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    boundary = "obra-test-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.wav\"\r\n"
            "Content-Type: audio/wav\r\n\r\n").encode()

    def multipart() -> Iterator[bytes]:
        yield head
        yield from _chunks(8 * limit)
        yield f"\r\n--{boundary}--\r\n".encode()

    with serving(counter) as url, httpx.Client(base_url=url, timeout=30) as http:
        chunked = http.post("/identify", content=multipart(),
                            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        declared = http.post("/identify", files={"file": ("big.wav", b"\0" * (3 * limit), "audio/wav")})
    assert chunked.status_code == 413 and "upload limit" in _one_body(chunked)["message"]
    assert declared.status_code == 413 and _one_body(declared)["error"] == "payload_too_large"
    assert counter.received <= limit + FORM_OVERHEAD + 256 * 1024  # the chunked one only: the other was not read
    assert list(spool.iterdir()) == []  # nothing of either upload is left on disk


def test_a_32_mib_json_registration_gets_413_without_being_parsed(sqlite_store):
    store = sqlite_store
    token = create_principal(store, "root", AccessRole.ADMIN)[1]
    counter = BodyCounter(create_app(store))  # the default limits: 1 MiB for JSON
    title = "x" * (32 * 1024 * 1024)
    with serving(counter) as url, httpx.Client(base_url=url, timeout=60) as http:
        response = http.post("/registrations", content=json.dumps({"title": title}).encode(),
                             headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        assert response.status_code == 413
        assert "1048576 bytes for POST /registrations" in _one_body(response)["message"]
        assert counter.received == 0
        assert http.get("/search", params={"q": "xxx"}).json() == []  # nothing written, server still answers


def test_an_unexpected_error_is_a_logged_500_and_the_connection_stays_usable(sqlite_store, caplog):
    app = create_app(sqlite_store)

    def fail() -> dict:
        raise RuntimeError("a bug, with /srv/obra/secret-path in its message")

    app.add_api_route("/test/fail", fail)
    ports: list[int] = []

    async def peer(request: Request) -> dict:
        ports.append(request.client.port)  # the client's port names its connection
        return {"ok": True}

    app.add_api_route("/test/peer", peer)
    with caplog.at_level(logging.ERROR, logger="obra.api"), serving(app) as url, \
            httpx.Client(base_url=url, timeout=30) as http:
        assert http.get("/test/peer").status_code == 200
        failed = http.get("/test/fail")
        after = http.get("/test/peer")
    assert failed.status_code == 500
    body = _one_body(failed)
    assert body["error"] == "internal_invariant" and "reference" in body["message"]
    assert "Traceback" not in failed.text and "secret-path" not in failed.text and "RuntimeError" not in failed.text
    assert after.status_code == 200
    assert ports[0] == ports[1]  # the same connection answered after the failure
    logged = [r for r in caplog.records if "unexpected error" in r.getMessage()]
    assert logged and logged[0].exc_info and body["message"].split("reference ")[1][:12] in logged[0].getMessage()


# --------------------------------------------------------------------------- secrets and paths
def test_tokens_in_urls_never_reach_the_access_log(sqlite_store, caplog):
    secret = "obra_SECRET-token-value"
    with caplog.at_level(logging.INFO, logger="uvicorn.access"), serving(create_app(sqlite_store)) as url, \
            httpx.Client(base_url=url, timeout=30) as http:
        assert http.get("/search", params={"q": "canción", "token": secret}).status_code == 200
        http.get("/journal", params={"access_token": secret, "limit": 5})
        http.get("/keys", params={"KEY": secret})
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert len(lines) == 3
    assert all(secret not in line for line in lines)
    assert all(REDACTED in line for line in lines)
    assert "q=canci%C3%B3n" in lines[0]  # what is not secret stays readable


def test_redact_leaves_other_parameters_and_paths_alone():
    assert redact("/search?q=a&token=abc&limit=5") == f"/search?q=a&token={REDACTED}&limit=5"
    assert redact("/search?tok%65n=abc") == f"/search?tok%65n={REDACTED}"
    assert redact("/keys") == "/keys"


def test_statement_splits_and_runs_answer_without_server_paths(sqlite_store):
    store = sqlite_store
    token = create_principal(store, "root", AccessRole.ADMIN)[1]
    client = TestClient(create_app(store))
    auth = {"Authorization": f"Bearer {token}"}
    form = {"period": "2026-Q1", "currency": "EUR", "right_type_column": "-"}
    statement = ("society.csv", b"Work ID,Amount\nOBRA-2026-0000001-K,1.00\nT9999999999,2.50\n", "text/csv")
    split = client.post("/statements-in", data=form, files={"file": statement}, headers=auth)
    assert split.status_code == 201, split.text
    runs = client.get("/distributions", headers=auth)
    assert runs.status_code == 200
    for answer in (split.text, runs.text):
        assert str(store.paths.home) not in answer
        assert os.path.realpath(store.paths.home) not in answer
        assert tempfile.gettempdir() + os.sep not in answer
    report = split.json()
    assert report["file"] == "society.csv"
    assert report["directory"] == f"royalties/runs/run-{report['run']:06d}"
    assert runs.json()[0]["directory"] == report["directory"]
    assert (store.paths.home / report["directory"] / "run.json").exists()  # relative to OBRA_HOME


def test_uploaded_batches_leave_no_server_path_in_the_journal_or_in_errors(sqlite_store):
    store = sqlite_store
    token = create_principal(store, "root", AccessRole.ADMIN)[1]
    client = TestClient(create_app(store))
    auth = {"Authorization": f"Bearer {token}"}
    good = ("works.json", json.dumps({"works": [{"title": "Vals"}]}).encode(), "application/json")
    done = client.post("/batches/upload", files={"file": good}, headers=auth)
    assert done.status_code == 201, done.text
    events = client.get("/journal", params={"kind": "repertoire.imported"}, headers=auth).json()
    proof = client.get(f"/journal/{events[-1]['id']}/proof")
    bad = client.post("/batches/upload", files={"file": ("bad.json", b"{\"works\": [", "application/json")},
                      headers=auth)
    assert bad.status_code == 422
    for answer in (done.text, json.dumps(events), proof.text, bad.text):
        assert tempfile.gettempdir() + os.sep not in answer and str(store.paths.home) not in answer
    assert events[-1]["payload"]["source"] == "works.json"
