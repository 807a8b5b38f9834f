"""CAWG training-and-data-mining assertions read from and written into media files with
c2pa-python (issue #14, item 2 last bullet; item 3 "signed copies of their media files").

Every signed file here is signed in the test with a test CA made in the test (root + leaf with
the emailProtection EKU), offline; the upstream fixtures' binaries are not available, so their
manifest definitions are signed into files made here (``data/cawg/README.md``)."""

from __future__ import annotations

import datetime
import io
import json
import os
import time
import wave
from pathlib import Path

import c2pa
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from obra.aiuse.signals import cawg
from obra.aiuse.signals.cawg import (
    CAWG_USES, COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA, TRAINED_ALGORITHMIC_MEDIA, SigningCredentials,
    read_manifest_store, read_media, sign_media, training_mining_assertion,
)
from obra.aiuse.terms import AITerms, Price, UseTerm
from obra.aiuse.vocabulary import ALL_USES, Permission, Reading, Use
from obra.errors import InvalidInput

DATA = Path(__file__).parent / "data" / "cawg"
EXAMPLES = 300 if os.environ.get("OBRA_LONG_TESTS") == "1" else 25
FOUR = {Use.TDM, Use.AI_INPUT, Use.AI_TRAIN_GENERATIVE, Use.AI_TRAIN_OTHER}


# --- a test CA, made here ------------------------------------------------------------------------

def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Obra test office")])


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _make_ca(leaf_key, *, eku=(ExtendedKeyUsageOID.EMAIL_PROTECTION,)):
    now = datetime.datetime.now(datetime.timezone.utc)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (x509.CertificateBuilder().subject_name(_name("Obra test root")).issuer_name(_name("Obra test root"))
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    builder = (x509.CertificateBuilder().subject_name(_name("Obra test signer")).issuer_name(root.subject)
               .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False))
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    leaf = builder.sign(root_key, hashes.SHA256())
    return _pem(leaf) + _pem(root), _key_pem(leaf_key), _pem(root).decode()


@pytest.fixture(scope="module")
def ca():
    chain, key, root = _make_ca(ec.generate_private_key(ec.SECP256R1()))
    return SigningCredentials(chain, key, "es256"), root


@pytest.fixture(scope="module")
def creds(ca) -> SigningCredentials:
    return ca[0]


def jpeg(colour=(200, 30, 30), size=(16, 16)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (12, 12), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x10" * 4000)
    return out.getvalue()


def sign_definition(definition: dict, data: bytes, mime: str, creds: SigningCredentials) -> bytes:
    """Sign an upstream-shaped manifest definition as it is (the fixtures: 1.0 maps, legacy keys)."""
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(creds.algorithm.encode(), creds.certificate_chain,
                                                       creds.private_key, None))
    builder = c2pa.Builder.from_json(json.dumps(definition))
    builder.set_intent(c2pa.C2paBuilderIntent.EDIT)
    out = io.BytesIO()
    builder.sign(signer, mime, io.BytesIO(data), out)
    return out.getvalue()


def fixture(name: str, data: bytes, mime: str, creds) -> bytes:
    return sign_definition(json.loads((DATA / f"{name}.manifest.json").read_text()), data, mime, creds)


def readings(result) -> dict[Use, Reading]:
    return {s.use: s.reading for s in result.signals}


# --- the upstream fixtures' statements ----------------------------------------------------------

def test_c_with_cawg_data_reserves_inference_and_generative_training(creds):
    result = read_media(fixture("C_with_CAWG_data", jpeg(), "image/jpeg", creds), "image/jpeg")
    assert result.status == "read" and result.validation == "untrusted-signer"
    assert readings(result) == {Use.AI_INPUT: Reading.NOT_ALLOWED, Use.AI_TRAIN_GENERATIVE: Reading.NOT_ALLOWED,
                                Use.TDM: Reading.UNKNOWN, Use.AI_TRAIN_OTHER: Reading.UNKNOWN}
    inference = next(s for s in result.signals if s.use is Use.AI_INPUT)
    assert (inference.standard, inference.token, inference.raw) == ("cawg", "cawg.ai_inference", "notAllowed")
    assert inference.source == f"c2pa manifest {result.manifest}" and result.manifest.startswith("urn:c2pa:")
    assert inference.extra["validation"] == "untrusted-signer" and inference.extra["form"] == "cawg 1.1"
    assert "signingCredential.untrusted" in inference.extra["validation_codes"]
    unstated = next(s for s in result.signals if s.use is Use.AI_TRAIN_OTHER)
    assert "no statement" in unstated.rule and unstated.raw is None


def test_sample1_signed_wav_reserves_all_four(creds):
    result = read_media(fixture("sample1_signed", wav(), "audio/wav", creds), "audio/wav")
    assert readings(result) == dict.fromkeys(FOUR, Reading.NOT_ALLOWED)
    assert result.permissions() == dict.fromkeys(FOUR, Permission.NOT_ALLOWED)
    assert not result.problems


def test_do_not_train_legacy_c2pa_keys_read_and_marked(creds):
    result = read_media(fixture("do_not_train", jpeg(), "image/jpeg", creds), "image/jpeg")
    assert readings(result) == dict.fromkeys(FOUR, Reading.NOT_ALLOWED)
    tokens = {s.use: s.token for s in result.signals}
    assert tokens[Use.AI_TRAIN_OTHER] == "c2pa.ai_training" and tokens[Use.TDM] == "c2pa.data_mining"
    assert {e.form for e in result.entries} == {"c2pa 1.x"}
    assert all("removed in C2PA 2.0" in s.rule for s in result.signals)


def test_cawg_1_0_map_without_entries_is_read(creds):
    result = read_media(fixture("cawg-1.0-map", png(), "image/png", creds), "image/png")
    assert readings(result) == {Use.AI_TRAIN_OTHER: Reading.ALLOWED, Use.AI_TRAIN_GENERATIVE: Reading.NOT_ALLOWED,
                                Use.TDM: Reading.NOT_ALLOWED, Use.AI_INPUT: Reading.UNKNOWN}
    assert {e.form for e in result.entries} == {"cawg 1.0"}


def test_spec_example_constrained_mining_reads_not_allowed_and_keeps_the_constraint(creds):
    result = read_media(fixture("spec-example", jpeg(), "image/jpeg", creds), "image/jpeg")
    mining = next(s for s in result.signals if s.use is Use.TDM)
    assert mining.reading is Reading.NOT_ALLOWED and mining.raw == "constrained"
    assert mining.extra["constraint_info"] == "may only be mined on days whose names end in 'y'"
    assert "equivalent to notAllowed" in mining.rule
    assert result.reading(Use.AI_TRAIN_GENERATIVE) is Reading.NOT_ALLOWED
    assert result.permissions()[Use.TDM] is Permission.LICENCE


# --- the reading rules, on the manifest store JSON ------------------------------------------------

def store(assertions: list[dict], state: str = "Valid", failures: tuple[str, ...] = ("signingCredential.untrusted",),
          extra_manifests: dict | None = None, ingredients: list | None = None) -> dict:
    manifest = {"assertions": assertions, "label": "urn:c2pa:test", "signature_info": {"common_name": "signer",
                                                                                          "issuer": "Obra test"}}
    if ingredients:
        manifest["ingredients"] = ingredients
    return {"active_manifest": "urn:c2pa:test", "manifests": {"urn:c2pa:test": manifest, **(extra_manifests or {})},
            "validation_results": {"activeManifest": {"failure": [{"code": c} for c in failures]}},
            "validation_state": state}


def tm(entries: dict, label: str = "cawg.training-mining") -> dict:
    return {"label": label, "data": {"entries": entries}}


def test_constrained_is_never_allowed_whatever_its_constraint_says():
    result = read_manifest_store(store([tm({"cawg.ai_training": {"use": "constrained",
                                                                  "constraint_info": "freely allowed to everyone"}})]))
    assert result.reading(Use.AI_TRAIN_OTHER) is Reading.NOT_ALLOWED


def test_prose_spelling_constraints_info_is_accepted():
    result = read_manifest_store(store([tm({"cawg.data_mining": {"use": "constrained",
                                                                  "constraints_info": "licence at https://x.example"}})]))
    assert result.entries[0].constraint_info == "licence at https://x.example"
    both = read_manifest_store(store([tm({"cawg.data_mining": {"use": "constrained", "constraint_info": "a",
                                                                "constraints_info": "b"}})]))
    assert both.entries[0].constraint_info == "a" and "differ" in both.problems[0].message


def test_cawg_ai_training_is_non_generative_training():
    result = read_manifest_store(store([tm({"cawg.ai_training": {"use": "notAllowed"}})]))
    assert result.reading(Use.AI_TRAIN_OTHER) is Reading.NOT_ALLOWED
    assert result.reading(Use.AI_TRAIN_GENERATIVE) is Reading.UNKNOWN


def test_custom_keys_are_recorded_and_mapped_to_no_use():
    result = read_manifest_store(store([tm({"com.example.style_transfer": {"use": "notAllowed"},
                                            "cawg.ai_everything": {"use": "notAllowed"},
                                            "cawg.ai_inference": {"use": "allowed"}})]))
    keys = {e.key: e.uses for e in result.entries}
    assert keys["com.example.style_transfer"] == () and keys["cawg.ai_everything"] == ()
    assert {s.token for s in result.signals} == set(cawg.CAWG_KEYS)
    assert [p.field for p in result.problems] == ["cawg.training-mining.entries.cawg.ai_everything"]
    assert "reserved prefix" in result.problems[0].message
    assert result.reading(Use.AI_INPUT) is Reading.ALLOWED


@pytest.mark.parametrize("value", ["NotAllowed", "yes", None, 1, ["allowed"]])
def test_a_use_value_outside_the_three_reads_unknown_with_a_named_problem(value):
    result = read_manifest_store(store([tm({"cawg.ai_inference": {"use": value}})]))
    assert result.reading(Use.AI_INPUT) is Reading.UNKNOWN
    assert result.problems and result.problems[0].field == "cawg.training-mining.entries.cawg.ai_inference.use"


def test_disagreeing_assertions_most_restrictive_wins():
    result = read_manifest_store(store([tm({"cawg.ai_inference": {"use": "allowed"}}),
                                        tm({"c2pa.ai_inference": {"use": "notAllowed"}}, "c2pa.training-mining")]))
    signal = next(s for s in result.signals if s.use is Use.AI_INPUT)
    assert signal.reading is Reading.NOT_ALLOWED and "disagree" in signal.rule
    assert result.permissions()[Use.AI_INPUT] is Permission.NOT_ALLOWED


def test_invalid_manifest_keeps_reservations_and_grants_nothing():
    result = read_manifest_store(store([tm({"cawg.ai_inference": {"use": "allowed"},
                                            "cawg.ai_training": {"use": "notAllowed"}})],
                                       state="Invalid", failures=("assertion.dataHash.mismatch",)))
    assert result.validation == "invalid"
    assert result.reading(Use.AI_INPUT) is Reading.UNKNOWN
    assert result.reading(Use.AI_TRAIN_OTHER) is Reading.NOT_ALLOWED
    assert all(s.extra["validation"] == "invalid" for s in result.signals)
    assert Use.AI_INPUT not in result.permissions()
    assert any(p.field == "validation" and "dataHash.mismatch" in p.message for p in result.problems)


def test_no_training_mining_assertion_gives_no_signals_and_junk_stores_are_named():
    assert read_manifest_store(store([{"label": "c2pa.actions", "data": {"actions": []}}])).signals == ()
    assert read_manifest_store({}).status == "no-manifest"
    bad = read_manifest_store("{not json")
    assert bad.status == "unreadable" and "not JSON" in bad.problems[0].message
    wrong = read_manifest_store({"active_manifest": "x", "manifests": {"y": {}}})
    assert wrong.status == "unreadable" and wrong.problems[0].field == "active_manifest"
    odd = read_manifest_store(store([{"label": "cawg.training-mining", "data": ["x"]},
                                     {"label": "cawg.training-mining", "data": {"entries": {"cawg.ai_training": 3}}}]))
    assert odd.signals == () and len(odd.problems) == 2


def test_digital_source_type_from_the_active_manifest_and_its_parent():
    parent = {"assertions": [{"label": "c2pa.actions.v2", "data": {"actions": [
        {"action": "c2pa.created", "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA}]}}]}
    result = read_manifest_store(store([tm({"cawg.ai_training": {"use": "notAllowed"}})],
                                       extra_manifests={"urn:c2pa:parent": parent},
                                       ingredients=[{"relationship": "parentOf", "active_manifest": "urn:c2pa:parent"}]))
    (kind,) = result.digital_source_types
    assert (kind.name, kind.active, kind.manifest) == ("trainedAlgorithmicMedia", False, "urn:c2pa:parent")
    assert result.ai_generated
    json.dumps(result.to_json())


# --- files: none, damaged, tampered, trusted ------------------------------------------------------

def test_a_file_without_a_manifest_gives_no_signals_not_an_error():
    for data, mime in ((jpeg(), "image/jpeg"), (png(), "image/png"), (wav(), "audio/wav")):
        result = read_media(data, mime)
        assert (result.status, result.signals, result.problems) == ("no-manifest", (), ())


def test_damaged_or_unsupported_files_are_named_never_raised(creds, tmp_path):
    signed = fixture("spec-example", jpeg(), "image/jpeg", creds)
    cases = {
        "junk": (b"this is not a picture", "image/jpeg", "unreadable"),
        "truncated": (signed[: len(signed) // 3], "image/jpeg", "unreadable"),
        "text": (b"hello", "text/plain", "unsupported"),
        "empty": (b"", None, "unsupported"),
    }
    for name, (data, mime, status) in cases.items():
        result = read_media(data, mime, source=name)
        assert result.status == status, name
        assert result.signals == () and result.problems[0].source == name
    missing = read_media(tmp_path / "nope.jpg")
    assert missing.status == "unreadable" and "cannot open" in missing.problems[0].message


def test_a_tampered_signed_file_reads_invalid(creds):
    signed = bytearray(sign_media(jpeg(), creds, {Use.AI_INPUT: Permission.ALLOWED,
                                                  Use.AI_TRAIN_GENERATIVE: Permission.NOT_ALLOWED},
                                  mime_type="image/jpeg", thumbnail=False).data)
    signed[-40] ^= 0xFF          # a pixel byte, after the manifest
    result = read_media(bytes(signed), "image/jpeg")
    assert result.status == "read" and result.validation == "invalid"
    assert "assertion.dataHash.mismatch" in result.validation_codes
    assert result.reading(Use.AI_INPUT) is Reading.UNKNOWN
    assert result.reading(Use.AI_TRAIN_GENERATIVE) is Reading.NOT_ALLOWED
    with pytest.raises(InvalidInput) as caught:       # signing over it would launder the tampering
        sign_media(bytes(signed), creds, {Use.AI_INPUT: Permission.NOT_ALLOWED}, mime_type="image/jpeg")
    assert "is invalid" in caught.value.problems[0].message and "dataHash.mismatch" in caught.value.problems[0].message


def test_trust_anchors_make_the_signer_trusted(ca):
    creds, root = ca
    signed = sign_media(png(), creds, {Use.TDM: Permission.NOT_ALLOWED}, mime_type="image/png", thumbnail=False).data
    assert read_media(signed, "image/png").validation == "untrusted-signer"
    trusted = read_media(signed, "image/png", trust_anchors=root)
    assert trusted.validation == "trusted" and trusted.validation_codes == ()
    other_root = _make_ca(ec.generate_private_key(ec.SECP256R1()))[2]
    assert read_media(signed, "image/png", trust_anchors=other_root).validation == "untrusted-signer"


# --- writing ----------------------------------------------------------------------------------------

def test_licence_is_written_constrained_with_the_licence_named_and_unstated_uses_left_out(creds):
    terms = AITerms(subject_kind="work", subject="OBRA-2026-0000001-K", policy_url="https://office.example/licence/1",
                    contact="licensing@office.example", uses=(
                        UseTerm(use=Use.AI_TRAIN_GENERATIVE, permission=Permission.LICENCE, prior_consent=True,
                                price=Price(model="per-item", amount_minor=250, currency="EUR")),
                        UseTerm(use=Use.AI_INPUT, permission=Permission.NOT_ALLOWED),
                        UseTerm(use=Use.TDM, permission=Permission.ALLOWED),
                        UseTerm(use=Use.AI_TRAIN_OTHER, permission=Permission.ALLOWED, territories=("FR",)),
                        UseTerm(use=Use.SEARCH, permission=Permission.ALLOWED)))
    entries = training_mining_assertion(terms)["entries"]
    assert set(entries) == {"cawg.ai_generative_training", "cawg.ai_inference", "cawg.data_mining"}
    generative = entries["cawg.ai_generative_training"]
    assert generative["use"] == "constrained"
    for words in ("Licence required", "per-item", "prior consent", "https://office.example/licence/1",
                  "licensing@office.example"):
        assert words in generative["constraint_info"]
    signed = sign_media(jpeg(), creds, terms, mime_type="image/jpeg", mode="human", thumbnail=False)
    assert signed.result.reading(Use.AI_TRAIN_GENERATIVE) is Reading.NOT_ALLOWED
    assert signed.result.permissions() == {Use.AI_TRAIN_GENERATIVE: Permission.LICENCE,
                                           Use.AI_INPUT: Permission.NOT_ALLOWED, Use.TDM: Permission.ALLOWED}
    assert signed.result.reading(Use.AI_TRAIN_OTHER) is Reading.UNKNOWN
    assert signed.digital_source_type is None and signed.kept_manifest is None


def test_a_licence_with_nowhere_to_ask_is_refused():
    with pytest.raises(InvalidInput) as caught:
        training_mining_assertion({Use.AI_INPUT: Permission.LICENCE})
    assert caught.value.problems[0].field == "licence_url"
    ok = training_mining_assertion({Use.AI_INPUT: Permission.LICENCE}, licence_url="https://x.example/rsl.xml")
    assert "https://x.example/rsl.xml" in ok["entries"]["cawg.ai_inference"]["constraint_info"]


@pytest.mark.parametrize("mode, source_type", [("ai_generated", TRAINED_ALGORITHMIC_MEDIA),
                                               ("ai_assisted", COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA),
                                               ("human", None)])
def test_works_made_with_ai_declare_their_digital_source_type(creds, mode, source_type):
    signed = sign_media(png(), creds, {Use.AI_TRAIN_GENERATIVE: Permission.NOT_ALLOWED}, mime_type="image/png",
                        mode=mode, thumbnail=False)
    assert signed.digital_source_type == source_type
    if source_type:
        (kind,) = signed.result.digital_source_types
        assert (kind.action, kind.active) == ("c2pa.created", True)
        assert signed.result.ai_generated
    else:
        assert signed.result.digital_source_types == ()


def test_a_file_that_already_has_a_manifest_keeps_it_as_the_parent(creds):
    generated = sign_media(jpeg(), creds, {Use.TDM: Permission.ALLOWED}, mime_type="image/jpeg",
                           mode="ai_generated", thumbnail=False)
    resigned = sign_media(generated.data, creds, {Use.TDM: Permission.NOT_ALLOWED}, mime_type="image/jpeg",
                          mode="ai_generated", thumbnail=False)
    assert resigned.kept_manifest == generated.manifest != resigned.manifest
    assert resigned.result.reading(Use.TDM) is Reading.NOT_ALLOWED      # the new terms, not the old
    (kind,) = resigned.result.digital_source_types
    assert (kind.name, kind.active, kind.manifest) == ("trainedAlgorithmicMedia", False, generated.manifest)


def test_signing_to_a_path_leaves_the_source_alone_and_nothing_half_written(creds, tmp_path):
    source = tmp_path / "song.wav"
    source.write_bytes(wav())
    before = source.read_bytes()
    dest = tmp_path / "song.signed.wav"
    signed = sign_media(source, creds, {Use.AI_INPUT: Permission.NOT_ALLOWED}, dest=dest)
    assert signed.path == dest and signed.data is None and source.read_bytes() == before
    assert read_media(dest).reading(Use.AI_INPUT) is Reading.NOT_ALLOWED
    assert sorted(p.name for p in tmp_path.iterdir()) == ["song.signed.wav", "song.wav"]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff" + b"\x00" * 64)
    with pytest.raises(InvalidInput):
        sign_media(broken, creds, {Use.TDM: Permission.NOT_ALLOWED}, dest=tmp_path / "out.jpg")
    assert not (tmp_path / "out.jpg").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.jpg", "song.signed.wav", "song.wav"]


def test_credentials_c2pa_refuses_are_named_with_a_hint(creds):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    self_signed = (x509.CertificateBuilder().subject_name(_name("me")).issuer_name(_name("me"))
                   .public_key(key.public_key()).serial_number(1).not_valid_before(now)
                   .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    with pytest.raises(InvalidInput) as caught:
        sign_media(png(), SigningCredentials(_pem(self_signed), _key_pem(key)), {Use.TDM: Permission.NOT_ALLOWED},
                   mime_type="image/png", thumbnail=False)
    assert caught.value.problems[0].field == "credentials" and "emailProtection" in caught.value.hint
    with pytest.raises(InvalidInput) as caught:
        sign_media(png(), SigningCredentials(b"junk", b"junk", "md5"), {Use.TDM: Permission.NOT_ALLOWED},
                   mime_type="text/plain")
    assert {p.field for p in caught.value.problems} == {"algorithm", "certificate_chain", "private_key", "mime_type"}
    with pytest.raises(InvalidInput) as caught:
        sign_media(b"\x00" * 32, creds, {Use.TDM: Permission.NOT_ALLOWED})
    assert caught.value.problems[0].field == "mime_type"
    assert "certificate_chain=<" in repr(creds) and "PRIVATE" not in repr(creds)


def test_ed25519_credentials_sign_too():
    chain, key, root = _make_ca(ed25519.Ed25519PrivateKey.generate())
    signed = sign_media(jpeg(), SigningCredentials(chain, key, "ed25519"), {Use.AI_INPUT: Permission.ALLOWED},
                        mime_type="image/jpeg", thumbnail=False)
    assert read_media(signed.data, "image/jpeg", trust_anchors=root).validation == "trusted"


def test_credentials_from_the_environment(creds, tmp_path):
    (tmp_path / "chain.pem").write_bytes(creds.certificate_chain)
    (tmp_path / "key.pem").write_bytes(creds.private_key)
    loaded = SigningCredentials.from_env({"OBRA_C2PA_CERT": str(tmp_path / "chain.pem"),
                                          "OBRA_C2PA_KEY": str(tmp_path / "key.pem")})
    assert loaded == creds
    inline = SigningCredentials.from_env({"OBRA_C2PA_CERT": creds.certificate_chain.decode(),
                                          "OBRA_C2PA_KEY": creds.private_key.decode(), "OBRA_C2PA_ALG": "ES256"})
    assert inline == creds
    with pytest.raises(InvalidInput) as caught:
        SigningCredentials.from_env({"OBRA_C2PA_KEY": str(tmp_path / "missing.pem")})
    assert [p.field for p in caught.value.problems] == ["OBRA_C2PA_CERT", "OBRA_C2PA_KEY"]
    assert "OBRA_C2PA_CERT" in caught.value.hint


def test_a_thumbnailed_jpeg_signs_and_reads_back_with_timing(creds):
    """The default (a claim thumbnail, as C2PA viewers show) on a 640x480 picture; timings printed."""
    picture = jpeg(size=(640, 480))
    start = time.perf_counter()
    signed = sign_media(picture, creds, {u: Permission.NOT_ALLOWED for u in FOUR}, mime_type="image/jpeg")
    signing = time.perf_counter() - start
    start = time.perf_counter()
    result = read_media(signed.data, "image/jpeg")
    reading = time.perf_counter() - start
    assert readings(result) == dict.fromkeys(FOUR, Reading.NOT_ALLOWED)
    print(f"sign+verify {signing * 1000:.1f} ms, read {reading * 1000:.1f} ms")


# --- round trip: terms → signed file → read back ---------------------------------------------------

permission = st.sampled_from(list(Permission))
stated_terms = st.dictionaries(st.sampled_from(ALL_USES), permission)
media = st.sampled_from([("image/jpeg", jpeg()), ("image/png", png()), ("audio/wav", wav())])


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(terms=stated_terms, file=media, mode=st.sampled_from(["human", "ai_assisted", "ai_generated"]))
def test_round_trip_every_use_cawg_can_express(creds, terms, file, mode):
    mime, data = file
    signed = sign_media(data, creds, terms, mime_type=mime, mode=mode, licence_url="https://r.example/licence.xml",
                        thumbnail=False)
    expected = {use: p for use, p in terms.items() if use in CAWG_USES}
    assert signed.result.permissions() == expected
    want = {Permission.ALLOWED: Reading.ALLOWED, Permission.NOT_ALLOWED: Reading.NOT_ALLOWED,
            Permission.LICENCE: Reading.NOT_ALLOWED}
    for use in FOUR:
        assert signed.result.reading(use) is (want[terms[use]] if use in terms else Reading.UNKNOWN)
    assert signed.result.validation == "untrusted-signer"


@settings(max_examples=max(10, EXAMPLES // 2), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chosen=st.dictionaries(st.sampled_from(ALL_USES), permission, min_size=1))
def test_round_trip_from_the_terms_model(creds, chosen):
    uses = tuple(UseTerm(use=u, permission=p,
                         price=Price(model="flat", amount_minor=1000, currency="USD") if p is Permission.LICENCE else None)
                 for u, p in chosen.items())
    terms = AITerms(subject_kind="party", subject="7", uses=uses, contact="rights@label.example")
    signed = sign_media(png(), creds, terms, mime_type="image/png", thumbnail=False)
    assert signed.result.permissions() == {u: p for u, p in chosen.items() if u in CAWG_USES}
