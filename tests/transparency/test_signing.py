"""Office keys: key ids, rotation with endorsement, the published history and its checks."""

from __future__ import annotations

import hashlib
import json
import stat
from datetime import datetime, timedelta, timezone

import pytest

from obra.transparency import signing
from obra.transparency.signing import KeyHistory, OfficeKeys


def t(minutes: int) -> datetime:
    return datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc) + timedelta(minutes=minutes)


@pytest.fixture
def keys(tmp_path):
    k = OfficeKeys(tmp_path, "UYMVD")
    k.rotate(at=t(0))
    return k


def test_key_id_is_sha256_of_the_raw_public_key(keys):
    active = keys.history().active
    assert active.key_id == hashlib.sha256(active.public_key).hexdigest()
    assert len(active.public_key) == 32


def test_private_key_file_is_readable_by_the_owner_only(keys):
    pem = keys.directory / f"{keys.history().active.key_id}.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in pem.read_bytes()


def test_a_document_signed_by_a_retired_key_verifies_inside_its_interval(keys):
    signed = keys.sign_object({"type": "note", "text": "reserved"}, t(5))
    old = signed["key_id"]
    keys.rotate(at=t(10))
    history = KeyHistory.parse(keys.history_path.read_bytes())
    assert [k.status for k in history.keys] == ["retired", "active"]
    assert history.verify_object(signed, t(5), "note").key_id == old
    with pytest.raises(signing.KeyNotValid, match="valid from"):
        history.verify_object(signed, t(11), "note")
    # the retired key's private half is gone: it can never sign again
    assert not (keys.directory / f"{old}.pem").exists()
    assert keys.sign_object({"x": 1}, t(12))["key_id"] == history.active.key_id


def test_an_altered_document_fails_with_bad_signature(keys):
    signed = keys.sign_object({"type": "note", "text": "reserved"}, t(5))
    signed["text"] = "reservee"
    with pytest.raises(signing.BadSignature, match="altered"):
        keys.history().verify_object(signed, t(5), "note")


def test_an_unknown_key_is_named(keys, tmp_path):
    other = OfficeKeys(tmp_path / "other", "ESMAD")
    other.rotate(at=t(0))
    signed = other.sign_object({"x": 1}, t(1))
    with pytest.raises(signing.UnknownKey, match="not in the key history of office UYMVD"):
        keys.history().verify_object(signed, t(1), "note")


def test_rotation_is_endorsed_by_the_previous_key_and_forgery_is_caught(keys):
    keys.rotate(at=t(10))
    doc = json.loads(keys.history_path.read_text())
    assert doc["keys"][1]["endorsed_by"] == doc["keys"][0]["key_id"]
    KeyHistory.parse(doc)
    forged = json.loads(json.dumps(doc))
    forged["keys"][1]["valid_from"] = forged["keys"][0]["valid_until"] = "2026-03-01T12:09:00.000000Z"
    with pytest.raises(signing.KeyHistoryError, match="forged"):
        KeyHistory.parse(forged)
    dropped = json.loads(json.dumps(doc))
    dropped["keys"][0]["valid_until"] = None
    with pytest.raises(signing.KeyHistoryError, match="exactly the newest key"):
        KeyHistory.parse(dropped)


@pytest.mark.parametrize("garbage", [b"", b"[]", b"{", b'{"format": "obra.key_history/1"}',
                                     b'{"format": "obra.key_history/1", "office": "UY", "keys": [1]}'])
def test_a_malformed_history_is_refused_with_a_reason(garbage):
    with pytest.raises(signing.KeyHistoryError):
        KeyHistory.parse(garbage)


def test_timestamps_have_one_sortable_format():
    assert signing.format_time(t(0)) == "2026-03-01T12:00:00.000000Z"
    assert signing.parse_time("2026-03-01T12:00:00.000000Z") == t(0)
    with pytest.raises(signing.SignatureError, match="not a UTC time"):
        signing.parse_time("2026-03-01 12:00")
