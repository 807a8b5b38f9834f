"""C2SP checkpoints: the office's tree head as a signed note any transparency-log witness reads.

Obra's own signed tree head (``obra.tree_head/1``) is a JSON object only Obra's tools read.
The transparency-log ecosystem (Go's ``golang.org/x/mod/sumdb/note``, sigsum, litewitness,
armored-witness, …) reads *checkpoints* instead. A checkpoint is a signed note
(c2sp.org/signed-note), and its text is the tree head (c2sp.org/tlog-checkpoint)::

    obra.local/UYMVD                                       <- origin: which log
    42                                                     <- tree size, decimal
    s8cK0mWm0c4d1JcY5QhTVb6iVQbmN1cXbyGm3yBqf0I=           <- RFC 9162 root hash, base64

    — obra.local/UYMVD AbCdEf…                             <- signature line(s)

Serving these lets a witness cosign Obra's log (its cosignature is one more signature
line) and lets an auditor check the log with tools that know nothing of Obra. The root
hash is the same RFC 9162 root as Obra's own tree head, since the leaf and node hashing
(0x00 and 0x01 prefixes, SHA-256) is the one those tools expect.

Choices, and why:

* **Origin** (:func:`origin_for`). The specification recommends a schema-less URL that
  names the log uniquely, like ``example.com/log42``. It need not be reachable. The
  operator sets it with ``OBRA_LOG_ORIGIN`` (``{office}`` is replaced by the office code);
  the default is ``obra.local/<OFFICE>``. Set it to a domain you control before anyone
  outside pins it: the origin is also the key name, and the key ID hashes the name, so
  changing the origin later changes every verifier key.
* **Keys**. The office signs with its active Ed25519 key from its key history
  (:mod:`obra.transparency.signing`), so rotating keys works as it does for certificates.
  A checkpoint carries no time, so the verifier keys of *every* key in the history
  (:func:`checkpoint_vkeys`) verify checkpoints signed before a rotation.
* **Determinism**. Ed25519 signatures are deterministic, so the checkpoint for a given
  size and key is the same bytes every time. Nothing is stored.
* **Strictness**. Base64 must be canonical (RFC 4648 §3.5). Without that rule, changing
  the unused low bits of a signature's last character would still verify. A bad signature
  by a known key rejects the whole note (the spec allows that), and signatures by unknown
  keys, such as a witness's cosignature, are ignored, as the spec requires.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from obra.errors import InvalidInput, Problem
from obra.transparency.signing import BadSignature, SignatureError
from obra.transparency.translog import LogError, TransparencyLog

ORIGIN_ENV = "OBRA_LOG_ORIGIN"
DEFAULT_ORIGIN = "obra.local/{office}"
ED25519 = 0x01  # the signature type byte of c2sp.org/signed-note "Ed25519 signatures"
MAX_SIGNATURES = 100  # the spec: verifiers SHOULD cap the count and MUST accept at least 16
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
_SIZE_RE = re.compile(r"0|[1-9][0-9]*")


class NoteError(SignatureError):
    """A signed note or checkpoint does not check out; the message says what and where."""


class MalformedNote(NoteError):
    """The bytes are not a well-formed signed note or checkpoint (c2sp.org/signed-note)."""


class InvalidVerifierKey(NoteError):
    """A verifier key string (``<name>+<hex key ID>+<base64 key>``) is malformed."""


class UnverifiedNote(NoteError):
    """No signature in the note is by one of the verifier keys given."""


class InvalidNoteSignature(NoteError, BadSignature):
    """A signature by a known key does not match the note: the note was altered."""


class WrongLog(NoteError):
    """The checkpoint is validly signed, but for a different log (origin) than expected."""


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: the key name, the 32-bit key ID and the signature bytes."""

    key_name: str
    key_id: int
    signature: bytes

    @property
    def key(self) -> str:
        """``name+hexid``, how Go's note package and its errors name a key."""
        return f"{self.key_name}+{self.key_id:08x}"


@dataclass(frozen=True)
class SignedNote:
    """A note's text (ending in a newline), all its signatures, and those that verified."""

    text: str
    signatures: tuple[NoteSignature, ...]
    verified: tuple[NoteSignature, ...] = ()


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head read from a checkpoint note: origin, size, root hash, extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()
    note: SignedNote | None = field(default=None, compare=False)  # the signatures, and which verified


# --- names, keys and encodings ------------------------------------------------------

def _valid_name(name: str) -> bool:
    """The spec's key name rule: non-empty, no Unicode space, no ``+`` (and, for a note, no control)."""
    return bool(name) and "+" not in name and not any(c.isspace() or c < " " for c in name)


def origin_for(office: str) -> str:
    """The origin line (and key name) of ``office``'s log: ``OBRA_LOG_ORIGIN`` or ``obra.local/<OFFICE>``.

    ``{office}`` in the setting is replaced by the office code, so one setting serves a
    deployment that hosts several offices.
    """
    template = os.environ.get(ORIGIN_ENV) or DEFAULT_ORIGIN
    origin = template.replace("{office}", str(office).upper())
    if not _valid_name(origin):
        raise InvalidInput(Problem(
            f"the log origin {origin!r} must be non-empty, without spaces, control characters or '+'; "
            "use a schema-less URL you control, like registry.example.org/log", field=ORIGIN_ENV))
    return origin


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str, error: type[NoteError]) -> bytes:
    """Standard padded base64, refusing non-canonical encodings (RFC 4648 §3.5)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise error(f"{what} is not standard base64") from None
    if _b64(raw) != text:
        raise error(f"{what} is not canonical base64 (its padding bits or '=' are wrong)")
    return raw


def _raw_public(public_key: Ed25519PublicKey | bytes) -> bytes:
    if isinstance(public_key, Ed25519PublicKey):
        return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if not isinstance(public_key, (bytes, bytearray)) or len(public_key) != 32:
        raise InvalidVerifierKey("an Ed25519 public key is 32 bytes")
    return bytes(public_key)


def key_id(key_name: str, public_key: Ed25519PublicKey | bytes) -> int:
    """The Ed25519 key ID: SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4], big-endian."""
    digest = hashlib.sha256(key_name.encode("utf-8") + b"\n" + bytes([ED25519]) + _raw_public(public_key))
    return int.from_bytes(digest.digest()[:4], "big")


def vkey(key_name: str, public_key: Ed25519PublicKey | bytes) -> str:
    """The verifier key string witnesses are configured with: ``<name>+<hex8 key ID>+<base64(0x01 || key)>``."""
    if not _valid_name(key_name):
        raise InvalidVerifierKey(f"key name {key_name!r} must be non-empty, without spaces or '+'")
    raw = _raw_public(public_key)
    return f"{key_name}+{key_id(key_name, raw):08x}+{_b64(bytes([ED25519]) + raw)}"


def _parse_vkey(text: str) -> tuple[str, int, Ed25519PublicKey]:
    if not isinstance(text, str):
        raise InvalidVerifierKey(f"a verifier key is a string, not {type(text).__name__}")
    parts = text.strip().split("+", 2)  # the base64 key may itself contain '+'
    if len(parts) != 3:
        raise InvalidVerifierKey(f"verifier key {text!r} is not <name>+<hex key ID>+<base64 key>")
    name, hex_id, key_b64 = parts
    if not _valid_name(name) or not re.fullmatch(r"[0-9a-fA-F]{8}", hex_id):
        raise InvalidVerifierKey(f"verifier key {text!r}: the name or the 8-hex-digit key ID is malformed")
    raw = _unb64(key_b64, f"the key of verifier key {name}+{hex_id}", InvalidVerifierKey)
    if not raw or raw[0] != ED25519:
        kind = f"0x{raw[0]:02x}" if raw else "none"
        raise InvalidVerifierKey(f"verifier key {name}+{hex_id} has signature type {kind}; only "
                                 "Ed25519 note signatures (0x01) are supported")
    if len(raw) != 33:
        raise InvalidVerifierKey(f"verifier key {name}+{hex_id}: an Ed25519 key is 32 bytes, not {len(raw) - 1}")
    if key_id(name, raw[1:]) != int(hex_id, 16):
        raise InvalidVerifierKey(f"verifier key {name}+{hex_id}: the key ID does not match the name and "
                                 "key (a copy error, or the key was made for another name)")
    return name, int(hex_id, 16), Ed25519PublicKey.from_public_bytes(raw[1:])


# --- signed notes ---------------------------------------------------------------------

def _check_text(text: str, what: str) -> None:
    for i, c in enumerate(text):
        if c < " " and c != "\n":
            line = text.count("\n", 0, i) + 1
            raise MalformedNote(f"{what} line {line} contains control character U+{ord(c):04X}; "
                                "signed notes allow no control characters but newline")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedNote(f"{what} is not valid UTF-8") from None


def sign_note(text: str, key_name: str, private_key: Ed25519PrivateKey) -> str:
    """``text`` signed by ``private_key`` under ``key_name``: text, blank line, one signature line."""
    if not text.endswith("\n"):
        raise MalformedNote("the note text must end with a newline")
    _check_text(text, "the note text")
    if not _valid_name(key_name):
        raise MalformedNote(f"key name {key_name!r} must be non-empty, without spaces or '+'")
    kid = key_id(key_name, private_key.public_key())
    signature = private_key.sign(text.encode("utf-8"))
    return f"{text}\n{SIGNATURE_PREFIX}{key_name} {_b64(kid.to_bytes(4, 'big') + signature)}\n"


def _parse_note(note: str | bytes) -> SignedNote:
    """Split a signed note into text and signature lines, checking only the format."""
    if isinstance(note, (bytes, bytearray)):
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedNote(f"the note is not valid UTF-8 (byte {exc.start})") from None
    if not isinstance(note, str):
        raise MalformedNote(f"a signed note is text, not {type(note).__name__}")
    _check_text(note, "the note")
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedNote("the note has no blank line separating its text from its signatures")
    text, block = note[:split + 1], note[split + 2:]
    if not block or not block.endswith("\n"):
        raise MalformedNote("the note must end with signature lines, each ending in a newline")
    first = text.count("\n") + 2
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNote(f"the note has {len(lines)} signatures; at most {MAX_SIGNATURES} are read")
    signatures = []
    for number, line in enumerate(lines, start=first):
        if not line.startswith(SIGNATURE_PREFIX):
            raise MalformedNote(f"note line {number} is not a signature line "
                                "(em dash U+2014, space, key name, space, base64 signature)")
        name, _, encoded = line[len(SIGNATURE_PREFIX):].partition(" ")
        if not _valid_name(name):
            raise MalformedNote(f"note line {number}: key name {name!r} is empty or contains a space or '+'")
        raw = _unb64(encoded, f"the signature on note line {number}", MalformedNote)
        if len(raw) < 5:
            raise MalformedNote(f"the signature on note line {number} is shorter than a key ID and a signature")
        signatures.append(NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:]))
    return SignedNote(text, tuple(signatures))


def open_note(note: str | bytes, vkeys: Iterable[str] | str) -> SignedNote:
    """Verify a signed note against trusted verifier keys; the note, with what verified.

    Signatures by keys not in ``vkeys`` are ignored (a witness's cosignature, a rotated
    key). Every signature by a known key must verify, and at least one must be present.
    """
    known: dict[tuple[str, int], Ed25519PublicKey] = {}
    for text in [vkeys] if isinstance(vkeys, str) else list(vkeys):
        name, kid, public = _parse_vkey(text)
        earlier = known.get((name, kid))
        if earlier is not None and _raw_public(earlier) != _raw_public(public):
            raise InvalidVerifierKey(f"two different verifier keys are both named {name}+{kid:08x}")
        known[(name, kid)] = public
    parsed = _parse_note(note)
    message = parsed.text.encode("utf-8")
    verified = []
    for sig in parsed.signatures:
        public = known.get((sig.key_name, sig.key_id))
        if public is None:
            continue
        try:
            public.verify(sig.signature, message)
        except InvalidSignature:
            raise InvalidNoteSignature(f"the signature by {sig.key} does not match the note: the note "
                                       "was altered after it was signed") from None
        verified.append(sig)
    if not verified:
        present = ", ".join(s.key for s in parsed.signatures)
        trusted = ", ".join(f"{n}+{k:08x}" for n, k in known) or "none"
        raise UnverifiedNote(f"no signature by a trusted key: the note is signed by {present}; "
                             f"the trusted keys are {trusted}")
    return SignedNote(parsed.text, parsed.signatures, tuple(verified))


# --- checkpoints ----------------------------------------------------------------------

def checkpoint_text(origin: str, size: int, root_hash: bytes) -> str:
    """The checkpoint body: origin, decimal tree size, base64 root hash, each ending in a newline."""
    if not origin or "\n" in origin:
        raise MalformedNote("the origin must be one non-empty line")
    _check_text(origin, "the origin")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise MalformedNote(f"the tree size must be a non-negative integer, not {size!r}")
    if not isinstance(root_hash, (bytes, bytearray)) or len(root_hash) != 32:
        raise MalformedNote("the root hash must be a 32-byte SHA-256 hash")
    return f"{origin}\n{size}\n{_b64(bytes(root_hash))}\n"


def _checkpoint_of(note: SignedNote) -> Checkpoint:
    lines = note.text[:-1].split("\n")
    if len(lines) < 3:
        raise MalformedNote(f"a checkpoint has at least 3 lines (origin, tree size, root hash); "
                            f"this note's text has {len(lines)}")
    for number, line in enumerate(lines, start=1):
        if not line:
            raise MalformedNote(f"checkpoint line {number} is empty; every checkpoint line must have text")
    origin, size, root = lines[:3]
    if not _SIZE_RE.fullmatch(size) or int(size) >= 2**64:
        raise MalformedNote(f"checkpoint line 2, the tree size {size!r}, is not a decimal number "
                            "without leading zeros")
    root_hash = _unb64(root, "checkpoint line 3, the root hash,", MalformedNote)
    if len(root_hash) != 32:
        raise MalformedNote(f"checkpoint line 3, the root hash, is {len(root_hash)} bytes, not 32 (SHA-256)")
    return Checkpoint(origin, int(size), root_hash, tuple(lines[3:]), note)


def parse_checkpoint(note: str | bytes) -> Checkpoint:
    """Read a checkpoint note WITHOUT verifying it: only to choose keys or to show it.

    The spec says the text must be ignored until a trusted signature verifies; use
    :func:`verify_note` for anything you rely on.
    """
    return _checkpoint_of(_parse_note(note))


def verify_note(note: str | bytes, vkeys: Iterable[str] | str, origin: str | None = None) -> Checkpoint:
    """Verify a checkpoint against trusted verifier keys (and, if given, the expected origin).

    Raises a :class:`NoteError`: :class:`MalformedNote`, :class:`InvalidVerifierKey`,
    :class:`UnverifiedNote` (no trusted signature), :class:`InvalidNoteSignature` (altered)
    or :class:`WrongLog`.
    """
    checkpoint = _checkpoint_of(open_note(note, vkeys))
    if origin is not None and checkpoint.origin != origin:
        raise WrongLog(f"the checkpoint is for log {checkpoint.origin!r}, not {origin!r}")
    return checkpoint


# --- the office's own checkpoints -----------------------------------------------------

def _own(log: TransparencyLog) -> None:
    if not log.local:
        raise LogError(f"the log of office {log.office} is an imported copy; only office "
                       f"{log.office} itself publishes checkpoints of it")


def signed_checkpoint(log: TransparencyLog, size: int | None = None) -> str:
    """The checkpoint of ``log`` at ``size`` (default: now), signed by the office's active key."""
    _own(log)
    active = log.keys.history().active
    if size is None:
        size = log.size()
    root = log.root(size)  # NotFound for a size the log never had
    origin = origin_for(log.office)
    private = log.keys._private(active.key_id)
    if _raw_public(private.public_key()) != active.public_key:
        raise SignatureError(f"the private key file of key {active.key_id[:12]} of office {log.office} "
                             "does not hold that key")
    return sign_note(checkpoint_text(origin, size, root), origin, private)


def checkpoint_vkeys(log: TransparencyLog) -> list[str]:
    """Verifier keys of every key in the office's history, oldest first; the last is the active key.

    The retired ones verify checkpoints signed before a rotation; a retired key's private
    half is deleted, so it can sign nothing new.
    """
    _own(log)
    origin = origin_for(log.office)
    return [vkey(origin, record.public_key) for record in log.key_history().keys]
