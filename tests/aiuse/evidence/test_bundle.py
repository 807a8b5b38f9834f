"""The signed evidence bundle verifies offline with only the office's key history, and fails when altered."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obra.aiuse.evidence.bundle import EvidenceError, bundle_bytes, verify_evidence
from obra.aiuse.evidence.service import EvidenceService
from obra.errors import Unverifiable
from obra.transparency.signing import utc_now
from obra.transparency.translog import TransparencyLog


@pytest.fixture(scope="module")
def made(sqlite_evidence_world):
    world = sqlite_evidence_world
    done = EvidenceService(world["store"]).evidence(world["cmo"], Path(world["checks"]["after"]["directory"]),
                                                    work=world["numbers"]["A"], against="Example AI Ltd",
                                                    jurisdictions={"developer": "US"}, locales=["en"])
    keys = json.dumps(done["key_history"]).encode()   # what `obra keys export` publishes
    return world, done, keys


def resign(world, bundle: dict) -> dict:
    """The office re-signing an altered body: the signature is good, the proofs inside must catch it."""
    body = {k: v for k, v in bundle.items() if k not in ("key_id", "signature")}
    return TransparencyLog(world["store"]).keys.sign_object(body, utc_now())


def test_the_bundle_verifies_offline_from_its_bytes_and_the_published_keys(made):
    _, done, keys = made
    verified = verify_evidence(done["bundle_bytes"], keys)
    assert verified["valid"] and verified["work"] == done["work"]["number"] and verified["proofs"] == 2
    assert verified["bundle_sha256"] == done["bundle_sha256"]


@pytest.mark.parametrize("change", ["url", "distance", "crawl", "citation", "decision", "against"])
def test_any_change_to_the_signed_content_fails_the_signature(made, change):
    _, done, keys = made
    bundle = copy.deepcopy(done["bundle"])
    if change == "url":
        bundle["items"][0]["url"] = "https://elsewhere.example/a.png"
    elif change == "distance":
        bundle["items"][0]["matches"][0]["distance"] = 0
    elif change == "crawl":
        bundle["items"][0]["crawled_at"] = "2030-01-01T00:00:00.000000Z"
    elif change == "citation":
        bundle["legal_basis"][0]["rule"]["exception_fact"]["citation"] = "nothing"
    elif change == "decision":
        bundle["legal_basis"][0]["decisions"] = {"allowed": 1}
    else:
        bundle["against"]["name"] = "Someone Else"
    with pytest.raises(EvidenceError, match="signature does not match its contents"):
        verify_evidence(bundle_bytes(bundle), keys)


def _leaves(value, path=()):
    """Every (path, leaf) of a JSON document."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, i))
    else:
        yield path, value


def _changed(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    return "x"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pick=st.integers(min_value=0))
def test_changing_any_single_value_anywhere_in_the_bundle_fails(made, pick):
    _, done, keys = made
    leaves = [p for p, _ in _leaves(done["bundle"]) if p[-1] != "signature"]
    path = leaves[pick % len(leaves)]
    bundle = copy.deepcopy(done["bundle"])
    holder = bundle
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = _changed(holder[path[-1]])
    with pytest.raises(EvidenceError):
        verify_evidence(bundle_bytes(bundle), keys)


def test_a_reformatted_file_is_refused_as_not_canonical(made):
    _, done, keys = made
    pretty = json.dumps(done["bundle"], indent=2).encode()
    with pytest.raises(EvidenceError, match="not in RFC 8785 canonical form"):
        verify_evidence(pretty, keys)
    with pytest.raises(EvidenceError, match="not JSON"):
        verify_evidence(done["bundle_bytes"][:-9], keys)


def test_proofs_inside_a_re_signed_bundle_are_still_checked(made):
    """Even the office cannot quote a reservation the journal does not hold, or one stated after the crawl."""
    world, done, keys = made
    forged = copy.deepcopy(done["bundle"])
    forged["reservations"][0]["journal_proof"]["event"]["payload"]["terms"]["uses"][0]["permission"] = "licence"
    with pytest.raises(EvidenceError, match="reservation 1 .*altered"):
        verify_evidence(bundle_bytes(resign(world, forged)), keys)
    early = copy.deepcopy(done["bundle"])
    early["reservations"][0]["crawls"] = ["2020-01-01T00:00:00.000000Z"]
    with pytest.raises(EvidenceError, match="after the crawl of 2020-01-01"):
        verify_evidence(bundle_bytes(resign(world, early)), keys)
    receipt = copy.deepcopy(done["bundle"])
    receipt["check"]["receipt"]["summary"]["items"] = 1
    with pytest.raises(EvidenceError, match="the check's receipt"):
        verify_evidence(bundle_bytes(resign(world, receipt)), keys)
    other = copy.deepcopy(done["bundle"])
    other["check"]["journal_proof"] = other["reservations"][0]["journal_proof"]
    with pytest.raises(EvidenceError, match="not the one anchoring this receipt"):
        verify_evidence(bundle_bytes(resign(world, other)), keys)
    assert verify_evidence(bundle_bytes(resign(world, copy.deepcopy(done["bundle"]))), keys)["valid"]


def test_another_offices_keys_do_not_verify_it(made, tmp_path):
    from tests.conftest import _sqlite_store

    _, done, _ = made
    with _sqlite_store(tmp_path) as other:
        foreign = TransparencyLog(other).key_history()
        with pytest.raises(EvidenceError):
            verify_evidence(done["bundle_bytes"], foreign.to_json())


def test_results_edited_after_the_check_are_not_evidence(sqlite_evidence_world, tmp_path):
    import shutil

    world = sqlite_evidence_world
    copy_dir = tmp_path / "edited"
    shutil.copytree(world["checks"]["after"]["directory"], copy_dir)
    table = pq.read_table(copy_dir / "items.parquet")
    pq.write_table(table.slice(0, table.num_rows - 1), copy_dir / "items.parquet")
    with pytest.raises(Unverifiable, match="do not verify, so they cannot be evidence.*changed"):
        EvidenceService(world["store"]).evidence(world["cmo"], copy_dir, work=world["numbers"]["A"], against="X")
