"""Schema fuzzing: every route and method, generated from the OpenAPI document, never a 5xx (issue #13).

Schemathesis reads ``/openapi.json`` and Hypothesis generates requests for each operation:
valid ones (``positive``: what the schema allows) and invalid ones (``negative``: wrong
types, out-of-range numbers, missing fields, strings where objects go), each sent without a
token and with an admin's, against a SQLite and a PostgreSQL store. The store keeps what
the admin's requests write, so later operations meet a store with parties, registrations,
principals and rotated keys in it.

Every answer must be below 500, and every 4xx must be the one error body
``{error, message, hint, problems}`` — except where a specification fixes the body: the OAuth 2.0
endpoints of the RSL licence server (``/ai/olp/token``, ``/ai/olp/introspect``) answer errors as
RFC 6749 section 5.2 says, ``{error, error_description[, error_uri]}`` with a registered code. The default run is deterministic and takes a handful
of examples per operation; ``OBRA_LONG_TESTS=1`` (``make test-long``) takes many more,
with a fresh random seed each time.
"""

from __future__ import annotations

import logging
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from obra.access import create_principal
from obra.api.app import create_app
from obra.model.vocab import AccessRole

LONG = os.environ.get("OBRA_LONG_TESTS") == "1"
EXAMPLES = 100 if LONG else 3
"""Examples per operation, per generation mode and per caller (anonymous, admin)."""
BODY_KEYS = {"error", "message", "hint", "problems"}
OAUTH_PATHS = ("/ai/olp/token", "/ai/olp/introspect")
OAUTH_KEYS = {"error", "error_description", "error_uri"}
OAUTH_ERRORS = {"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type",
                "invalid_scope"}
"""RFC 6749 section 5.2's error codes (RFC 7662 uses the same for introspection)."""


def _fault(response, path: str = "") -> str | None:
    """Why ``response`` breaks the contract, or None."""
    if response.status_code >= 500:
        return f"answered {response.status_code}"
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            return f"{response.status_code} without a JSON body"
        if path in OAUTH_PATHS:
            if not isinstance(body, dict) or not {"error"} <= set(body) <= OAUTH_KEYS or \
                    body["error"] not in OAUTH_ERRORS:
                return f"{response.status_code} without an RFC 6749 error body"
        elif not isinstance(body, dict) or set(body) != BODY_KEYS:
            return f"{response.status_code} without the one error body"
    return None


def _fuzzer(operation, mode, headers: dict, faults: list[str], counted: list[int]):
    """A Hypothesis test sending ``operation``'s generated requests, recording faults instead of stopping."""

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not LONG, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def fuzz(case):
        counted.append(1)
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # noqa: BLE001 - a crash is reported like a 500
            faults.append(f"{operation.label}: raised {exc!r}\n    {case.as_curl_command()[:2000]}")
            return
        if why := _fault(response, operation.path):
            faults.append(f"{operation.label}: {why}: {response.text[:300]}\n    {case.as_curl_command()[:2000]}")

    return fuzz


def test_no_generated_request_gets_a_5xx_and_every_4xx_has_the_one_body(store, caplog):
    token = create_principal(store, "root", AccessRole.ADMIN)[1]
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(store))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40  # every route: a new one is fuzzed as soon as it is in the schema
    faults: list[str] = []
    sent: list[int] = []
    with caplog.at_level(logging.ERROR, logger="obra.api"):
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                for headers in ({}, {"Authorization": f"Bearer {token}"}):
                    try:
                        _fuzzer(operation, mode, headers, faults, sent)()
                    except Unsatisfiable:  # no parameter to break: nothing negative to send
                        assert mode is GenerationMode.NEGATIVE, operation.label
    logged = "\n".join(r.getMessage() + "\n" + (logging.Formatter().formatException(r.exc_info) if r.exc_info
                                                 else "") for r in caplog.records[:3])
    assert not faults, f"{len(faults)} of {len(sent)} requests broke the contract:\n" + "\n".join(faults[:20]) + \
        f"\nserver log:\n{logged}"
    assert len(sent) >= len(operations) * 2 * EXAMPLES
