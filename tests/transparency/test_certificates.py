"""Certificates verify offline, and any alteration fails with a specific, readable reason."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obra.access import create_principal
from obra.model.vocab import AccessRole
from obra.registry import certificates as c
from obra.registry.certificates import certificate_bytes, issue_certificate, verify_certificate
from obra.registry.records import record_hash
from obra.registry.service import Registry
from obra.transparency.signing import canonical
from obra.transparency.translog import TransparencyLog
from obra.store import Store

CODES = [{"kind": "meta", "iscc": "ISCC:AAAWKLHFXM75OAMK"}]


def test_a_registration_certificate_verifies_offline(registered, log):
    cert = issue_certificate(log, registered.record, CODES)
    v = verify_certificate(certificate_bytes(cert), log.key_history().to_json())
    b = registered.log_index - 1  # entries before: the principals' journal events
    assert (v.number, v.version, v.log_index, v.tree_size) == (registered.number, 2, b + 1, b + 2)
    assert v.record_hash == registered.record_hash == record_hash(registered.record)
    assert v.content_codes == CODES and v.key_status == "active"
    assert v.registered_at <= v.issued_at


def test_an_earlier_version_is_certified_by_its_own_log_entry(registry, registered, log):
    first = registry.show(registered.number, 1)
    v = verify_certificate(certificate_bytes(issue_certificate(log, first.record)), log.key_history())
    b = registered.log_index - 1
    assert (v.version, v.log_index, v.tree_size) == (1, b, b + 2)


def test_a_record_never_logged_gets_no_certificate(registered, log):
    from obra.errors import NotFound

    with pytest.raises(NotFound, match="not registered through the log"):
        issue_certificate(log, {**registered.record, "registrant": "someone else"})


def test_a_certificate_signed_with_a_retired_key_still_verifies(registered, log):
    cert = certificate_bytes(issue_certificate(log, registered.record))
    log.keys.rotate()
    history = log.key_history()
    v = verify_certificate(cert, history)
    assert v.key_status == "retired" and v.key_id == history.keys[0].key_id
    # ... but a date moved into the new key's time does not
    moved = json.loads(cert)
    moved["issued_at"] = "2999-01-01T00:00:00.000000Z"
    with pytest.raises(c.CertificateKeyError, match="was valid from"):
        verify_certificate(canonical(moved), history)


def test_another_offices_keys_do_not_verify_it(registered, log, tmp_path):
    from obra.transparency.signing import OfficeKeys

    cert = certificate_bytes(issue_certificate(log, registered.record))
    other = OfficeKeys(tmp_path / "elsewhere", "OBRA").history()
    with pytest.raises(c.CertificateKeyError, match="not in the key history"):
        verify_certificate(cert, other)


@pytest.mark.parametrize("path,value,error", [
    (("record", "registrant"), "mallory", c.CertificateSignatureInvalid),
    (("content_codes",), [{"iscc": "ISCC:FORGED"}], c.CertificateSignatureInvalid),
    (("log_entry", "index"), 0, c.CertificateSignatureInvalid),
    (("tree_head", "root_hash"), "0" * 64, c.CertificateSignatureInvalid),
    (("inclusion_proof",), [], c.CertificateSignatureInvalid),
    (("signature",), "AAAA", c.CertificateSignatureInvalid),
    (("format",), "obra.certificate/2", c.MalformedCertificate),
    (("number",), "OBRA-2026-0000001-0", c.MalformedCertificate),
])
def test_changing_any_field_fails_with_a_reason(registered, log, path, value, error):
    cert = json.loads(certificate_bytes(issue_certificate(log, registered.record)))
    target = cert
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = value
    with pytest.raises(error) as err:
        verify_certificate(canonical(cert), log.key_history())
    assert len(str(err.value)) > 20


def _signed_by_office(log, cert: dict) -> bytes:
    """What a buggy or dishonest issuer could sign: the checks after the signature must catch it."""
    return certificate_bytes(log.keys.sign_object(cert, c.parse_time(cert["issued_at"])))


def test_internally_inconsistent_certificates_fail_even_when_signed(registered, registry, admin, log):
    good = json.loads(certificate_bytes(issue_certificate(log, registered.record)))
    history = log.key_history()

    bad = json.loads(json.dumps(good))
    bad["record"]["registrant"] = "mallory"
    with pytest.raises(c.RecordHashMismatch, match="record was altered"):
        verify_certificate(_signed_by_office(log, bad), history)

    bad = json.loads(json.dumps(good))
    bad["log_entry"]["leaf"]["version"] = 1
    with pytest.raises(c.LogEntryMismatch, match="version"):
        verify_certificate(_signed_by_office(log, bad), history)

    bad = json.loads(json.dumps(good))
    bad["tree_head"]["tree_size"] += 1
    with pytest.raises(c.TreeHeadInvalid, match="altered"):
        verify_certificate(_signed_by_office(log, bad), history)

    # a proof for another tree: a genuine later head, with the proof for the older tree
    registry.register(admin, "work", {"title": "Adiós Nonino"})
    bad = json.loads(json.dumps(good))
    bad["tree_head"] = log.signed_tree_head()
    with pytest.raises(c.InclusionProofInvalid, match="too short|leads to root"):
        verify_certificate(_signed_by_office(log, bad), history)


def test_html_and_pdf_renderings_are_self_contained(registered, log):
    cert = issue_certificate(log, registered.record, CODES)
    page = c.render_html(cert)
    assert registered.number in page and "La Cumparsita" in page and "ISCC:AAAWKLHFXM75OAMK" in page
    assert "http://" not in page and "https://" not in page and "<link" not in page
    assert c.render_pdf(cert).startswith(b"%PDF")


# --- fuzzing: nothing corrupt is ever "valid", nothing crashes ---------------------------

@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    home = tmp_path_factory.mktemp("fuzz")
    store = Store.open(f"sqlite:///{home / 'obra.db'}", home / "home", office="UYMVD", migrate=True)
    log = TransparencyLog(store)
    registry = Registry(store, sinks=[log])
    admin, _ = create_principal(store, "admin", AccessRole.ADMIN)
    for title in ("Milonga sentimental", "Oblivion", "Libertango"):
        rec = registry.register(admin, "work", {"title": title})
    cert = certificate_bytes(issue_certificate(log, registry.show(rec.number).record, CODES))
    history = log.key_history()
    store.dispose()
    verify_certificate(cert, history)
    return cert, history


def _never_valid(data: bytes, history) -> None:
    try:
        verify_certificate(data, history)
    except c.CertificateError as exc:
        assert str(exc)
        return
    raise AssertionError("a corrupted certificate verified")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_flipped_bit_fails(issued, data):
    cert, history = issued
    position = data.draw(st.integers(0, len(cert) * 8 - 1))
    flipped = bytearray(cert)
    flipped[position // 8] ^= 1 << (position % 8)
    _never_valid(bytes(flipped), history)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_truncation_fails(issued, data):
    cert, history = issued
    _never_valid(cert[: data.draw(st.integers(0, len(cert) - 1))], history)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=200), JSON.map(lambda v: json.dumps(v).encode())))
def test_garbage_never_crashes_and_never_verifies(issued, garbage):
    _never_valid(garbage, issued[1])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_member_replaced_by_other_json_fails(issued, data):
    cert, history = issued
    obj = json.loads(cert)
    section = data.draw(st.sampled_from(sorted(obj)))
    obj[section] = data.draw(JSON.filter(lambda v: v != obj[section]))
    _never_valid(canonical(obj), history)
