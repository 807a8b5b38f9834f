"""Issue #13, "what to build" 8: fuzzing certificate verification. A real certificate, issued by the office
for a registered work, is mutated — bytes flipped, cut and inserted; members dropped; values swapped for
other types, huge numbers, control characters, surrogates; keys duplicated — and verified offline (against
the key history) and against the store's own log, on both stores.

What must hold: a certificate whose bytes changed never verifies, and fails with a named
:class:`~obra.errors.ObraError` (a ``CertificateError``, or the federation's error when the office is not
held here), never another exception (a 500 on ``POST /verify``, which anyone may call); nothing is written.
Half the mutants are signed again with the office's own key, so that they pass the signature check and
reach the record hash, log entry, tree head and inclusion proof checks: those may verify only if the
mutation left every checked member intact.

Bounded for CI (about 10 s); ``OBRA_LONG_TESTS=1`` runs twenty times as many cases.
"""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obra.access import create_principal
from obra.errors import ObraError
from obra.model.vocab import AccessRole
from obra.registry import federation
from obra.registry.certificates import (MalformedCertificate, certificate_bytes, certificate_for,
                                        verify_certificate)
from obra.registry.service import Registry
from obra.transparency.signing import canonical, parse_time
from obra.transparency.translog import TransparencyLog

from .test_batch_fuzz import NASTY_TEXT, _byte_edit, _paths, _set, json_values
from .test_input_bounds import state

LONG = os.environ.get("OBRA_LONG_TESTS") == "1"
FUZZ = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                  HealthCheck.data_too_large])
NASTY_VALUES = [0, -1, 2**31, 2**63, 2**64 + 1, 10**40, -(10**40), 1.5, True, None, "", "0" * 64, "A" * 64,
                "UYMVD", "uymvd", "XX\x00", "\ud800", "2026-01-01T00:00:00.000000Z", "9999-12-31T23:59:59.999999Z",
                [], {}, ["0" * 64] * 64, "\x00" * 8]


@pytest.fixture
def issued(store):
    """A real certificate of a registered work with content codes, and the office's log."""
    admin = create_principal(store, "office-admin", AccessRole.ADMIN)[0]
    registry = Registry(store)
    for i in range(3):  # a log of several entries, so the inclusion proof is not empty
        registry.register(admin, "work", {"title": f"Earlier {i}"})
    record = registry.register(admin, "work", {"title": "Canción del Algoritmo", "creation_mode": "ai_generated",
                                               "disclosure": {"systems": [{"name": "Suno", "version": "4.5"}],
                                                              "ai_contribution": "music and vocals"}})
    cert = certificate_for(store, record.number, content_codes=[{"iscc": "ISCC:KACT4EBWK27737D2"}])
    return store, cert, TransparencyLog(store)


@st.composite
def mutants(draw, cert: dict) -> tuple[bytes, bool]:
    """Mutated certificate bytes, and whether they were signed again by the office."""
    doc = json.loads(json.dumps(cert))
    resign = draw(st.booleans())
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        op = draw(st.sampled_from(["swap", "swap", "nasty", "drop", "member"]))
        if op == "member":  # a top-level member: the ones read before the signature is checked
            path, op = (draw(st.sampled_from(sorted(doc))),), "nasty"
        else:
            path = draw(st.sampled_from(list(_paths(doc))[1:]))
        value = draw(st.sampled_from(NASTY_VALUES + NASTY_TEXT[:-1])) if op == "nasty" else draw(json_values)
        doc = _set(doc, path, value, drop=op == "drop")
    return doc, resign


def _bytes_of(log: TransparencyLog, doc, resign: bool) -> tuple[bytes | None, bool]:
    """The mutant as a file (canonical JSON), signed again when asked and still possible; and whether it was."""
    if resign and isinstance(doc, dict) and isinstance(doc.get("issued_at"), str):
        try:
            return canonical(log.keys.sign_object(doc, parse_time(doc["issued_at"]))), True
        except Exception:  # noqa: BLE001 - no signable time or no canonical form: left as it is
            pass
    try:
        return canonical(doc), False
    except Exception:  # noqa: BLE001 - a value JSON cannot carry (a lone surrogate): no file to verify
        return None, False


def _check(store, cert_bytes_: bytes, data: bytes, history, resigned: bool) -> str:
    before = state(store)
    outcomes = []
    for verify in (lambda: verify_certificate(data, history),
                   lambda: federation.verify_certificate_here(store, data)):
        try:
            verified = verify()
        except ObraError as exc:
            assert not exc.internal, exc
            outcomes.append(type(exc).__name__)
        else:
            assert data == cert_bytes_ or resigned, "a changed certificate verified without a new signature"
            assert verified.number and verified.record_hash
            outcomes.append("valid")
    assert state(store) == before
    return outcomes[0]


def test_the_real_certificate_verifies(issued):
    store, cert, log = issued
    data = certificate_bytes(cert)
    assert _check(store, data, data, log.key_history(), False) == "valid"


def test_mutated_certificates_fail_by_name(issued):
    store, cert, log = issued
    original, history = certificate_bytes(cert), log.key_history()

    @settings(max_examples=(800 if LONG else 40) if store.engine.dialect.name == "sqlite" else (300 if LONG else 15),
              **FUZZ)
    @given(mutant=mutants(cert))
    def run(mutant):
        data, resigned = _bytes_of(log, *mutant)
        if data is not None:
            _check(store, original, data, history, resigned)

    run()


def test_certificate_bytes_damaged_fail_by_name(issued):
    store, cert, log = issued
    original, history = certificate_bytes(cert), log.key_history()

    @settings(max_examples=(1200 if LONG else 60) if store.engine.dialect.name == "sqlite" else (300 if LONG else 15),
              **FUZZ)
    @given(data=st.integers(min_value=1, max_value=3).flatmap(
        lambda n: st.just(original).flatmap(lambda d: _edits(d, n))))
    def run(data):
        _check(store, original, data, history, False)

    run()


def _edits(data: bytes, n: int):
    strategy = st.just(data)
    for _ in range(n):
        strategy = strategy.flatmap(_byte_edit)
    return strategy


def test_duplicate_members_and_huge_numbers_fail_by_name(issued):
    store, cert, log = issued
    original, history = certificate_bytes(cert), log.key_history()
    text = original.decode("utf-8")
    for member in ("number", "version", "record", "signature", "office"):
        twice = text.replace(f'"{member}":', f'"{member}":1,"{member}":', 1)
        assert _check(store, original, twice.encode(), history, False) == "MalformedCertificate"
    for literal in ("1" * 5000, "1e400", "-0", "NaN", str(2**64)):
        data = text.replace(f'"version":{cert["version"]}', f'"version":{literal}', 1).encode()
        assert _check(store, original, data, history, False) != "valid"


def test_an_office_that_is_no_office_code_is_refused_before_any_query(issued):
    """An office with a NUL reached PostgreSQL ("text fields cannot contain NUL"): a 500 on POST /verify."""
    store, cert, log = issued
    before = state(store)
    for office in ["XX\x00", "UY\x00MVD", "A" * 5000, "ÄÖ", 5, None, "", "\u200b"]:
        with pytest.raises(MalformedCertificate, match="office"):
            federation.verify_certificate_here(store, canonical({**cert, "office": office}))
    assert state(store) == before
