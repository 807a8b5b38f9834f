"""C2SP checkpoints of the office's log, checked by Obra and by a verifier written from the spec alone.

The external vectors are Go's golang.org/x/mod/sumdb/note tests (the PeterNeumann and
EnochRoot keys and notes) and the examples printed in c2sp.org/tlog-checkpoint and
c2sp.org/tlog-cosignature.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import re
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from obra.api.app import create_app
from obra.cli.common import current_principal, open_store
from obra.errors import InvalidInput, NotFound
from obra.registry.service import Registry
from obra.transparency import merkle
from obra.transparency.checkpoint import (
    InvalidNoteSignature,
    InvalidVerifierKey,
    MalformedNote,
    NoteError,
    UnverifiedNote,
    WrongLog,
    checkpoint_text,
    checkpoint_vkeys,
    open_note,
    origin_for,
    parse_checkpoint,
    sign_note,
    signed_checkpoint,
    verify_note,
    vkey,
)
from obra.transparency.signing import SignatureError
from obra.transparency.translog import TransparencyLog

HERE = Path(__file__).resolve().parent
DOC = HERE.parents[1] / "docs" / "verify-a-checkpoint.md"
VERIFIER = HERE / "c2sp_verifier.py"


def _load_verifier():
    spec = importlib.util.spec_from_file_location("c2sp_verifier", VERIFIER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


independent = _load_verifier()
INDEPENDENT_FAILS = (ValueError, InvalidSignature)

# golang.org/x/mod/sumdb/note, note_test.go
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
PETER_TEXT = ("If you think cryptography is the answer to your problem,\n"
              "then you don't know what your problem is.\n")
PETER_SIG = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
ENOCH_SIG = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"

# c2sp.org/tlog-cosignature: a log checkpoint with one witness cosignature
SPEC_COSIGNED = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n")


def _peter_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(PETER_SKEY.split("+", 4)[4])[1:])


@pytest.fixture
def tangos(registry, admin, log):
    """Five registrations and one correction (the log also holds whatever else the journal records)."""
    numbers = [registry.register(admin, "work", {"title": t}).number
               for t in ("La cumparsita", "Por una cabeza", "Libertango", "Oblivion", "Adiós Nonino")]
    registry.correct(admin, numbers[0], {"title": "La Cumparsita"}, "capitalisation")
    return numbers


# --- the external vectors -----------------------------------------------------------

def test_sign_and_vkey_reproduce_gos_note_package_byte_for_byte():
    key = _peter_key()
    assert vkey("PeterNeumann", key.public_key()) == PETER_VKEY
    assert sign_note(PETER_TEXT, "PeterNeumann", key) == PETER_TEXT + "\n" + PETER_SIG


def test_gos_example_note_verifies_with_obra_and_the_independent_verifier():
    note = PETER_TEXT + "\n" + PETER_SIG
    opened = open_note(note, [PETER_VKEY])
    assert opened.text == PETER_TEXT and [s.key for s in opened.verified] == ["PeterNeumann+c74f20a3"]
    assert independent.open_note(note, PETER_VKEY) == PETER_TEXT
    with pytest.raises(MalformedNote, match="at least 3 lines"):  # signed, but not a checkpoint
        verify_note(note, [PETER_VKEY])


def test_gos_unknown_signer_is_ignored_and_known_one_verified():
    note = PETER_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    only_peter = open_note(note, [PETER_VKEY])
    assert [s.key for s in only_peter.verified] == ["PeterNeumann+c74f20a3"]
    assert [s.key for s in only_peter.signatures] == ["PeterNeumann+c74f20a3", "EnochRoot+af0cfe78"]
    both = open_note(note, [PETER_VKEY, ENOCH_VKEY])
    assert len(both.verified) == 2
    with pytest.raises(UnverifiedNote, match="EnochRoot"):
        open_note(PETER_TEXT + "\n" + ENOCH_SIG, [PETER_VKEY])
    assert independent.open_note(note, ENOCH_VKEY) == PETER_TEXT


def test_gos_corrupted_signature_by_a_known_key_rejects_the_note():
    raw = (PETER_TEXT + "\n").encode() + PETER_SIG.encode()
    split = len(PETER_TEXT) + 1 + 60  # Go's test inserts ABCD 60 bytes into the signature line
    with pytest.raises(InvalidNoteSignature, match="altered"):
        open_note(raw[:split] + b"ABCD" + raw[split:], [PETER_VKEY])


@pytest.mark.parametrize("bad", [
    PETER_TEXT,
    PETER_TEXT + "\n",
    PETER_TEXT + "\n" + PETER_SIG[:-1],
    "\x01" + PETER_TEXT + "\n" + PETER_SIG,
    b"\xff" + (PETER_TEXT + "\n" + PETER_SIG).encode(),
    PETER_TEXT + "\n" + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
    PETER_TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
    PETER_TEXT + "\n" + PETER_SIG * 101,
])
def test_gos_malformed_notes_are_malformed(bad):
    with pytest.raises(MalformedNote):
        open_note(bad, [PETER_VKEY])


@pytest.mark.parametrize("bad", [
    PETER_VKEY[:-1], PETER_VKEY + "A", "Peter+Neumann+c74f20a3+AAAA", PETER_VKEY.replace("c74f20a3", "c74f20a4"),
    "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # type 0x65, key ID adjusted
])
def test_mangled_verifier_keys_are_refused(bad):
    with pytest.raises(InvalidVerifierKey):
        open_note(PETER_TEXT + "\n" + PETER_SIG, [bad])


def test_the_specs_cosigned_example_parses_with_both_signers():
    checkpoint = parse_checkpoint(SPEC_COSIGNED)
    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
    assert checkpoint.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert [s.key_name for s in checkpoint.note.signatures] == ["example.com/behind-the-sofa",
                                                                "witness.example.com/w1"]
    assert checkpoint.note.verified == ()  # parsing verifies nothing


# --- the office's checkpoints -------------------------------------------------------

def test_checkpoint_carries_the_logs_root_and_proves_inclusion(store, log, tangos):
    note = signed_checkpoint(log)
    vkeys = checkpoint_vkeys(log)
    size = log.size()
    assert size >= 6
    checkpoint = verify_note(note, vkeys, origin=origin_for("OBRA"))
    assert (checkpoint.origin, checkpoint.size) == ("obra.local/OBRA", size)
    assert checkpoint.root_hash == log.root(size)
    assert independent.verify_checkpoint(note, vkeys[-1]) == ("obra.local/OBRA", size, log.root(size))
    for index in (0, size // 2, size - 1):
        proof = log.inclusion_proof(index, checkpoint.size)
        merkle.verify_inclusion(log.entry(index).leaf_hash, index, checkpoint.size,
                                [bytes.fromhex(h) for h in proof["hashes"]], checkpoint.root_hash)
    older = verify_note(signed_checkpoint(log, 2), vkeys)
    assert older.size == 2 and older.root_hash == log.root(2) != checkpoint.root_hash
    assert signed_checkpoint(log, 2) == signed_checkpoint(log, 2)  # Ed25519 is deterministic: same bytes


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_every_single_byte_flip_is_caught_by_both_verifiers(store, log, tangos):
    note = signed_checkpoint(log).encode("utf-8")
    [active] = checkpoint_vkeys(log)
    assert verify_note(note, [active]).size == log.size()
    for position in range(len(note)):
        flipped = note[:position] + bytes([note[position] ^ 0x01]) + note[position + 1:]
        with pytest.raises(NoteError):
            verify_note(flipped, [active])
        with pytest.raises(INDEPENDENT_FAILS):
            independent.verify_checkpoint(flipped, active)


@pytest.fixture(scope="module")
def standalone_note():
    """A checkpoint signed with a throwaway key, for the property test (no store needed)."""
    key = Ed25519PrivateKey.generate()
    origin = "registry.example.org/log"
    root = merkle.root_from_leaf_hashes([merkle.leaf_hash(b"%d" % i) for i in range(7)])
    return sign_note(checkpoint_text(origin, 7, root), origin, key).encode(), vkey(origin, key.public_key())


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_change_of_any_byte_fails_verification(standalone_note, data):
    note, active = standalone_note
    position = data.draw(st.integers(0, len(note) - 1), label="position")
    mask = data.draw(st.integers(1, 255), label="xor mask")
    changed = note[:position] + bytes([note[position] ^ mask]) + note[position + 1:]
    with pytest.raises(NoteError):
        verify_note(changed, [active])
    with pytest.raises(INDEPENDENT_FAILS):
        independent.verify_checkpoint(changed, active)


def _witness_cosignature(note: str, name: str, key: Ed25519PrivateKey) -> str:
    """A c2sp.org/tlog-cosignature v1 Ed25519 line (signature type 0x04), built from the spec text."""
    body = note[:note.index("\n\n") + 1]
    key_id = hashlib.sha256(name.encode() + b"\n\x04" + key.public_key().public_bytes_raw()).digest()[:4]
    timestamp = int(time.time())
    signed = f"cosignature/v1\ntime {timestamp}\n{body}".encode()
    signature = struct.pack(">Q", timestamp) + key.sign(signed)
    return f"— {name} {base64.b64encode(key_id + signature).decode()}\n"


def test_signatures_by_unknown_keys_are_ignored_when_the_office_also_signed(store, log, tangos):
    note = signed_checkpoint(log)
    origin = origin_for(log.office)
    stranger = Ed25519PrivateKey.generate()
    cosigned = note + _witness_cosignature(note, "witness.example.com/w1", stranger)
    impostor = sign_note(note[:note.index("\n\n") + 1], origin, stranger).split("\n\n")[1]
    for extra in (cosigned, note + impostor):  # a witness; a stranger using the log's own name
        checkpoint = verify_note(extra, checkpoint_vkeys(log))
        assert checkpoint.size == log.size() and len(checkpoint.note.signatures) == 2
        assert [s.key_name for s in checkpoint.note.verified] == [origin]
        assert independent.verify_checkpoint(extra, checkpoint_vkeys(log)[-1])[1] == log.size()
    with pytest.raises(UnverifiedNote):  # the unknown signature alone is not enough
        verify_note(note.split("\n\n")[0] + "\n\n" + impostor, checkpoint_vkeys(log))
    with pytest.raises(WrongLog):
        verify_note(note, checkpoint_vkeys(log), origin="obra.local/ESMAD")


def test_a_checkpoint_signed_before_a_key_rotation_still_verifies(store, registry, admin, log, tangos):
    before, size = signed_checkpoint(log), log.size()
    log.keys.rotate()
    registry.register(admin, "work", {"title": "Verano porteño"})
    after = signed_checkpoint(log)
    old_vkey, new_vkey = vkeys = checkpoint_vkeys(log)
    assert verify_note(before, vkeys).size == size and verify_note(after, vkeys).size == log.size() > size
    assert independent.verify_checkpoint(before, old_vkey)[1] == size
    with pytest.raises(UnverifiedNote):  # only the retired key signed it
        verify_note(before, [new_vkey])
    with pytest.raises(UnverifiedNote):
        verify_note(after, [old_vkey])


def test_origin_comes_from_the_setting_and_a_bad_one_is_refused(store, log, tangos, monkeypatch):
    monkeypatch.setenv("OBRA_LOG_ORIGIN", "registry.example.org/{office}/log")
    note = signed_checkpoint(log)
    assert note.startswith(f"registry.example.org/OBRA/log\n{log.size()}\n")
    assert checkpoint_vkeys(log)[0].startswith("registry.example.org/OBRA/log+")
    assert verify_note(note, checkpoint_vkeys(log)).origin == "registry.example.org/OBRA/log"
    monkeypatch.setenv("OBRA_LOG_ORIGIN", "my log")
    with pytest.raises(InvalidInput, match="OBRA_LOG_ORIGIN"):
        signed_checkpoint(log)


def test_a_size_the_log_never_had_is_not_found_and_size_zero_is_the_empty_tree(store, log, tangos):
    with pytest.raises(NotFound, match=f"no tree of size {log.size() + 1}"):
        signed_checkpoint(log, log.size() + 1)
    empty = verify_note(signed_checkpoint(log, 0), checkpoint_vkeys(log))
    assert empty.size == 0 and empty.root_hash == merkle.EMPTY_ROOT


def test_errors_are_signature_errors():
    assert issubclass(NoteError, SignatureError)
    assert issubclass(InvalidNoteSignature, SignatureError)


# --- the surfaces -------------------------------------------------------------------

runner = CliRunner()


def _ok(args):
    from obra.cli.main import app  # the whole CLI: imported where it is used

    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result


def test_cli_prints_the_checkpoint_and_the_vkey(cli_home, monkeypatch):
    store = open_store()
    registry = Registry(store, sinks=[TransparencyLog(store)])
    for title in ("Mi Buenos Aires querido", "Volver", "Cuesta abajo"):
        registry.register(current_principal(store), "work", {"title": title})
    size, root2 = TransparencyLog(store).size(), TransparencyLog(store).root(2)
    store.dispose()
    note = _ok(["log", "checkpoint"]).stdout
    [active] = _ok(["log", "vkey"]).stdout.splitlines()
    assert independent.verify_checkpoint(note, active)[:2] == ("obra.local/UYMVD", size)
    assert independent.verify_checkpoint(_ok(["log", "checkpoint", "--size", "2"]).stdout, active)[2] == root2
    assert _ok(["log", "vkey", "--all"]).stdout.splitlines() == [active]
    from obra.cli.main import app

    assert runner.invoke(app, ["log", "checkpoint", "--size", str(size + 1)]).exit_code == 3  # not found
    monkeypatch.setenv("OBRA_LOG_ORIGIN", "bad origin")
    assert runner.invoke(app, ["log", "checkpoint"]).exit_code == 2  # invalid input
    monkeypatch.delenv("OBRA_LOG_ORIGIN")
    _ok(["keys", "rotate"])
    assert len(_ok(["log", "vkey", "--all"]).stdout.splitlines()) == 2
    assert verify_note(note, _ok(["log", "vkey", "--all"]).stdout.splitlines()).size == size
    assert json.loads(_ok(["log", "--json"]).stdout)["size"] >= size  # `obra log` itself still works


def test_api_serves_the_checkpoint_as_text_and_the_vkeys(store, log, tangos):
    client = TestClient(create_app(store))
    response = client.get("/log/checkpoint")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    keys = client.get("/log/checkpoint/vkeys").json()
    assert keys["origin"] == "obra.local/OBRA" and keys["vkeys"] == [keys["active"]]
    size = log.size()
    assert independent.verify_checkpoint(response.content, keys["active"]) == ("obra.local/OBRA", size, log.root(size))
    at3 = client.get("/log/checkpoint", params={"size": 3})
    assert verify_note(at3.text, keys["vkeys"]).root_hash == log.root(3)
    assert client.get("/log/checkpoint", params={"size": size + 1}).status_code == 404
    assert client.get("/log/checkpoint", params={"size": -1}).status_code == 422


# --- the documentation --------------------------------------------------------------

def _doc_verifier() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)
    [code] = [b for b in blocks if b.startswith("# c2sp_verifier.py")]
    return code


def test_the_documented_verifier_is_the_tested_one_and_imports_nothing_of_obra():
    code = _doc_verifier()
    assert code == VERIFIER.read_text(encoding="utf-8")
    imports = {m for line in code.splitlines() for m in re.findall(r"^(?:import|from) ([\w.]+)", line)}
    assert imports == {"base64", "hashlib", "sys", "cryptography.hazmat.primitives.asymmetric.ed25519"}


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_the_documented_verifier_runs_as_a_script(store, log, tangos, tmp_path):
    script = tmp_path / "c2sp_verifier.py"
    script.write_text(_doc_verifier(), encoding="utf-8")
    note = tmp_path / "checkpoint.txt"
    note.write_bytes(signed_checkpoint(log).encode())
    [active] = checkpoint_vkeys(log)
    result = subprocess.run([sys.executable, str(script), str(note), active],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    size = log.size()
    assert result.stdout == f"valid: obra.local/OBRA size {size} root {base64.b64encode(log.root(size)).decode()}\n"
    note.write_bytes(note.read_bytes().replace(b"\n%d\n" % size, b"\n%d\n" % (size - 1)))
    result = subprocess.run([sys.executable, str(script), str(note), active],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0 and "InvalidSignature" in result.stderr
