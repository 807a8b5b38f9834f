"""One error contract: every error carries its HTTP status, CLI exit code and hint, and every
surface reports it with the same JSON body. Our own faults (money not conserved, the log
inconsistent) are 500 and logged; a missing media tool is 503."""

from __future__ import annotations

import inspect
import logging

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import obra.errors as errors
from obra.api.app import create_app
from obra.cli.common import handle_errors
from obra.errors import InvalidInput, ObraError, Problem
from obra.identify.tools import MediaToolMissing
from obra.money import ConservationError
from obra.registry.certificates import CertificateSignatureInvalid
from obra.transparency.translog import LogInconsistent

BODY_KEYS = {"error", "message", "hint", "problems"}
CASES = [  # error, HTTP status, exit code
    (InvalidInput(Problem("must be positive", field="plays", line=7, source="usage.csv")), 422, 2),
    (errors.NotFound("no registration X"), 404, 3),
    (errors.AuthenticationRequired("needs a token"), 401, 4),
    (errors.PermissionDenied("role creator may not distribute"), 403, 5),
    (errors.Conflict("already superseded"), 409, 6),
    (errors.PayloadTooLarge("too big"), 413, 7),
    (CertificateSignatureInvalid("altered"), 400, 8),
    (MediaToolMissing("ffmpeg is not installed"), 503, 69),
    (ConservationError("EUR: 999 distributed + 0 unallocated != 1000 revenue"), 500, 70),
    (LogInconsistent("the log would fork"), 500, 70),
    (errors.SchemaOutOfDate("old schema"), 503, 75),
]


def test_every_error_class_declares_its_status_exit_code_and_machine_name():
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, ObraError)]
    codes = {c.code for c in classes if c is not ObraError}
    assert len(codes) == len(classes) - 1  # one machine name per class
    for cls in classes:
        assert 400 <= cls.status < 600 and cls.exit_code >= 1


@pytest.fixture
def failing_app(sqlite_store):
    app = create_app(sqlite_store)
    for i, (exc, _, _) in enumerate(CASES):
        def raiser(exc=exc):
            raise exc
        app.add_api_route(f"/fail/{i}", raiser)
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("i", range(len(CASES)))
def test_the_api_answers_with_the_errors_own_status_and_the_one_body(failing_app, i, caplog):
    exc, status, _ = CASES[i]
    with caplog.at_level(logging.ERROR, logger="obra.api"):
        response = failing_app.get(f"/fail/{i}")
    assert response.status_code == status
    body = response.json()
    assert set(body) == BODY_KEYS
    assert body["error"] == exc.code and body["message"] == str(exc) and body["hint"] == exc.hint
    assert body["problems"] == ([p.to_dict() for p in exc.problems] if isinstance(exc, InvalidInput) else [])
    logged = any("internal invariant" in r.getMessage() for r in caplog.records)
    assert logged == (status == 500)  # only our own faults are logged as errors
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("i", range(len(CASES)))
def test_the_cli_exits_with_the_errors_own_code_and_prints_the_hint(i):
    exc, _, code = CASES[i]
    app = typer.Typer()

    @app.command()
    @handle_errors
    def fail() -> None:
        raise exc

    result = CliRunner().invoke(app, [])
    assert result.exit_code == code
    assert "Traceback" not in result.output + result.stderr
    assert str(exc).splitlines()[0] in result.stderr
    if exc.hint:
        assert f"hint: {exc.hint}" in " ".join(result.stderr.split())


def test_a_request_the_api_cannot_parse_gets_the_same_body(sqlite_store):
    client = TestClient(create_app(sqlite_store))
    response = client.get("/log/proof/inclusion", params={"index": "seven"})
    assert response.status_code == 422
    body = response.json()
    assert set(body) == BODY_KEYS and body["problems"][0]["field"] == "index"
