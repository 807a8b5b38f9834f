"""An office's signing keys: Ed25519 keys, their published history and key rotation.

A registration office signs tree heads and certificates with one *active* Ed25519 key.
Keys are rotated (a new key becomes active, the old one is retired) without breaking
anything already issued: the office publishes a **key history**, a JSON document listing
every key it ever used with the interval in which it was valid, and a signature made by a
key verifies only if its signing time falls inside that key's interval. Each new key is
endorsed by the key it replaces, so someone who trusted an earlier key can follow the chain.

Formats (documented in ``docs/verify-a-certificate.md`` for third parties):

* key id: lowercase hex SHA-256 of the 32-byte raw Ed25519 public key;
* time: UTC, ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always six fraction digits, so text order is
  time order);
* a signed JSON object carries ``key_id`` and ``signature`` (base64 of the Ed25519
  signature) members; the signed bytes are the RFC 8785 (JCS) canonical form of the object
  with the ``signature`` member removed.

Private keys live in ``<keys>/<OFFICE>/<key id>.pem`` (PKCS#8, mode 0600); the published
history is ``<keys>/<OFFICE>/history.json``, where ``<keys>`` is ``$OBRA_HOME/keys`` or, in
server mode with several hosts, the shared ``OBRA_KEYS_DIR`` (``docs/key-management.md``). A
retired key's private half is deleted: it can never sign again, yet what it signed still verifies.

An office has **one** key history. A host whose key directory does not hold the keys that
signed the tree heads already in the database refuses to create a key or to sign
(:class:`ForeignKeyHistory`), instead of starting a second history nobody can verify against.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from obra.canonical import canonical
from obra.store.paths import StorePaths
from obra.errors import ObraError, Unverifiable

KEY_HISTORY_FORMAT = "obra.key_history/1"
_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_HEX64_RE = re.compile(r"[0-9a-f]{64}")
_OFFICE_RE = re.compile(r"[A-Z0-9]{2,8}")


class SignatureError(Unverifiable):
    """A signature, key or key history does not check out; the message says which and why."""


class KeyHistoryError(SignatureError):
    """The published key history is malformed or internally inconsistent."""


class UnknownKey(SignatureError):
    """A document names a key id the office's key history does not contain."""


class KeyNotValid(SignatureError):
    """The key exists but was not valid at the time the document says it was signed."""


class BadSignature(SignatureError):
    """The signature does not match the signed bytes: the document was altered."""


class ForeignKeyHistory(ObraError):
    """This host's key directory lacks keys that signed the office's log in the shared database.

    Signing here would start a second key history for the same office, whose certificates
    verify against neither; so nothing is created or signed until the host points
    ``OBRA_KEYS_DIR`` at the office's shared keys.
    """

    status, exit_code, code = 503, 78, "foreign_key_history"
    hint = ("point OBRA_KEYS_DIR at the directory that holds the office's shared keys (the same on every "
            "host; see docs/key-management.md), then try again")


# --- time and canonical bytes --------------------------------------------------------

def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def format_time(moment: datetime) -> str:
    """The one timestamp format used in everything Obra signs."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: Any, what: str = "timestamp", error: type[ObraError] = SignatureError) -> datetime:
    """Parse a timestamp written by :func:`format_time`, refusing every other shape."""
    if not isinstance(value, str) or not _TIME_RE.fullmatch(value):
        raise error(f"{what} {value!r} is not a UTC time like 2026-01-31T12:00:00.000000Z")
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    except ValueError as exc:
        raise error(f"{what} {value!r} is not a real date and time ({exc})") from None


def verify_signed(document: bytes | str | dict, key_history: "KeyHistory | bytes | str | dict", *, format: str,
                  members: frozenset[str] | set[str], what: str, error: type[ObraError]) -> tuple[dict, "KeyHistory"]:
    """The checks every signed Obra document shares, done offline: it is a JSON object of
    ``format`` with exactly ``members``, issued by the office whose ``key_history`` is given, and
    signed by a key of that office valid at its ``issued_at``. Returns the document and the key
    history (parsed); raises ``error`` naming the first check that fails (``what`` names the
    document in the message: "the receipt", "the licence"...). Each document then checks what is
    its own (files, Merkle roots, proofs)."""
    if isinstance(document, (bytes, str)):
        try:
            document = json.loads(document)
        except (ValueError, RecursionError) as exc:
            raise error(f"{what} is not JSON: {str(exc)[:160]}") from None
    if not isinstance(document, dict):
        raise error(f"{what} must be a JSON object")
    if document.get("format") != format:
        raise error(f"{what}'s format must be {format!r}, not {document.get('format')!r}")
    missing, unexpected = set(members) - set(document), set(document) - set(members)
    if missing or unexpected:
        raise error(f"{what} " + "; ".join(x for x in (
            f"lacks {', '.join(sorted(missing))}" if missing else "",
            f"has unknown members {', '.join(sorted(unexpected))}" if unexpected else "") if x))
    if not isinstance(key_history, KeyHistory):
        try:
            key_history = KeyHistory.parse(key_history)
        except KeyHistoryError as exc:
            raise error(f"the office key history cannot be used: {exc}") from None
    if document.get("office") != key_history.office:
        raise error(f"{what} was issued by office {document.get('office')}, but the key history given is "
                    f"office {key_history.office}'s")
    issued = parse_time(document.get("issued_at"), "the issue time", error)
    try:
        key_history.verify_object(document, issued, what.removeprefix("the "))
    except SignatureError as exc:
        raise error(str(exc)) from None
    return document, key_history


def sign_with(private: Ed25519PrivateKey, key_id: str, objs: Iterable[dict]) -> list[dict]:
    """Each of ``objs`` plus ``key_id`` and its ``signature`` over the RFC 8785 form (without the signature)."""
    out = []
    for obj in objs:
        body = {k: v for k, v in obj.items() if k != "signature"}
        body["key_id"] = key_id
        out.append({**body, "signature": b64(private.sign(signing_input(body)))})
    return out


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """An office's Ed25519 private key from its PEM file."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError(f"{path} is not an Ed25519 private key")
    return key


def signing_input(obj: dict) -> bytes:
    """The bytes a signature over a JSON object covers: JCS of the object minus ``signature``."""
    return canonical({k: v for k, v in obj.items() if k != "signature"})


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """Lowercase hex SHA-256 of the raw 32-byte public key."""
    return hashlib.sha256(_raw(public_key)).hexdigest()


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(value: Any, what: str, error: type[ObraError] = SignatureError) -> bytes:
    if not isinstance(value, str):
        raise error(f"{what} must be a base64 string")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise error(f"{what} is not valid base64") from None


# --- the published key history --------------------------------------------------------

@dataclass(frozen=True)
class KeyRecord:
    """One key in an office's history, valid in ``[valid_from, valid_until)``."""

    key_id: str
    public_key: bytes
    valid_from: datetime
    valid_until: datetime | None = None
    endorsed_by: str | None = None
    endorsement: bytes | None = None

    @property
    def status(self) -> str:
        return "active" if self.valid_until is None else "retired"

    def valid_at(self, moment: datetime) -> bool:
        return self.valid_from <= moment and (self.valid_until is None or moment < self.valid_until)

    def endorsed_statement(self, office: str) -> bytes:
        """What the previous key signs to endorse this one."""
        return canonical({"type": "obra.key_endorsement/1", "office": office, "key_id": self.key_id,
                          "public_key": b64(self.public_key),
                          "valid_from": format_time(self.valid_from)})

    def to_dict(self) -> dict:
        return {
            "key_id": self.key_id,
            "algorithm": "Ed25519",
            "public_key": b64(self.public_key),
            "valid_from": format_time(self.valid_from),
            "valid_until": None if self.valid_until is None else format_time(self.valid_until),
            "status": self.status,
            "endorsed_by": self.endorsed_by,
            "endorsement": None if self.endorsement is None else b64(self.endorsement),
        }


@dataclass(frozen=True)
class KeyHistory:
    """Every signing key an office has used, oldest first; exactly the last one is active."""

    office: str
    keys: tuple[KeyRecord, ...]

    @classmethod
    def parse(cls, data: bytes | str | dict) -> "KeyHistory":
        """Parse and check a published key history; raises :class:`KeyHistoryError`."""
        if isinstance(data, (bytes, str)):
            try:
                data = json.loads(data)
            except (ValueError, UnicodeDecodeError) as exc:
                raise KeyHistoryError(f"the key history is not JSON ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != KEY_HISTORY_FORMAT:
            raise KeyHistoryError(f"a key history is a JSON object with format {KEY_HISTORY_FORMAT!r}")
        office = data.get("office")
        if not isinstance(office, str) or not _OFFICE_RE.fullmatch(office):
            raise KeyHistoryError(f"key history office {office!r} is not an office code like UYMVD")
        raw_keys = data.get("keys")
        if not isinstance(raw_keys, list) or not raw_keys:
            raise KeyHistoryError("the key history lists no keys")
        keys = []
        for i, k in enumerate(raw_keys):
            where = f"key history entry {i}"
            if not isinstance(k, dict):
                raise KeyHistoryError(f"{where} is not an object")
            if k.get("algorithm") != "Ed25519":
                raise KeyHistoryError(f"{where} uses algorithm {k.get('algorithm')!r}; only Ed25519")
            public = unb64(k.get("public_key"), f"{where} public_key", KeyHistoryError)
            if len(public) != 32:
                raise KeyHistoryError(f"{where} public_key is not a 32-byte Ed25519 key")
            key_id = hashlib.sha256(public).hexdigest()
            if k.get("key_id") != key_id:
                raise KeyHistoryError(f"{where} key_id does not match SHA-256 of its public key")
            until = k.get("valid_until")
            endorsement = k.get("endorsement")
            keys.append(KeyRecord(
                key_id=key_id, public_key=public,
                valid_from=parse_time(k.get("valid_from"), f"{where} valid_from", KeyHistoryError),
                valid_until=None if until is None else parse_time(until, f"{where} valid_until",
                                                                  KeyHistoryError),
                endorsed_by=k.get("endorsed_by"),
                endorsement=None if endorsement is None else unb64(endorsement, f"{where} endorsement",
                                                                   KeyHistoryError),
            ))
        history = cls(office, tuple(keys))
        history.check()
        return history

    def check(self) -> None:
        """Intervals follow each other without gap or overlap; each key endorses the next."""
        for i, k in enumerate(self.keys):
            last = i == len(self.keys) - 1
            if last != (k.valid_until is None):
                raise KeyHistoryError("exactly the newest key must be active (no valid_until)")
            if k.valid_until is not None and k.valid_until <= k.valid_from:
                raise KeyHistoryError(f"key {k.key_id[:12]} is retired before it became valid")
            if i == 0:
                continue
            prev = self.keys[i - 1]
            if prev.valid_until != k.valid_from:
                raise KeyHistoryError(
                    f"key {k.key_id[:12]} does not start when key {prev.key_id[:12]} was retired")
            if k.endorsed_by != prev.key_id or k.endorsement is None:
                raise KeyHistoryError(f"key {k.key_id[:12]} is not endorsed by the key it replaced")
            try:
                Ed25519PublicKey.from_public_bytes(prev.public_key).verify(
                    k.endorsement, k.endorsed_statement(self.office))
            except InvalidSignature:
                raise KeyHistoryError(
                    f"the endorsement of key {k.key_id[:12]} by {prev.key_id[:12]} is forged") from None

    def to_dict(self) -> dict:
        return {"format": KEY_HISTORY_FORMAT, "office": self.office,
                "keys": [k.to_dict() for k in self.keys]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @property
    def active(self) -> KeyRecord:
        return self.keys[-1]

    def key(self, key_id: str) -> KeyRecord:
        for k in self.keys:
            if k.key_id == key_id:
                return k
        raise UnknownKey(f"key {str(key_id)[:16]}… is not in the key history of office {self.office}")

    def key_for(self, key_id: str, at: datetime) -> KeyRecord:
        """The key ``key_id`` if it was valid at ``at``; else :class:`UnknownKey`/:class:`KeyNotValid`."""
        k = self.key(key_id)
        if not k.valid_at(at):
            until = "now" if k.valid_until is None else format_time(k.valid_until)
            raise KeyNotValid(
                f"key {key_id[:12]} of office {self.office} was valid from "
                f"{format_time(k.valid_from)} until {until}, not at {format_time(at)}")
        return k

    def verify_object(self, obj: dict, at: datetime, what: str) -> KeyRecord:
        """Check ``obj['signature']`` by ``obj['key_id']``, valid at ``at``; returns the key."""
        key_id = obj.get("key_id")
        if not isinstance(key_id, str) or not _HEX64_RE.fullmatch(key_id):
            raise SignatureError(f"the {what} has no valid key_id (64 hex characters)")
        k = self.key_for(key_id, at)
        signature = unb64(obj.get("signature"), f"the {what} signature")
        try:
            Ed25519PublicKey.from_public_bytes(k.public_key).verify(signature, signing_input(obj))
        except InvalidSignature:
            raise BadSignature(
                f"the {what} signature does not match its contents: something in it was "
                "altered after it was signed") from None
        return k


# --- the office's private side -------------------------------------------------------

def _owner_only_dirs(directory: Path) -> None:
    """Create ``directory`` and missing parents mode 0700 (whatever the umask)."""
    missing = []
    for folder in (directory, *directory.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(folder, 0o700)


class OfficeKeys:
    """The signing keys of one office on disk: create, rotate, sign, publish the history.

    ``directory`` is where the keys live (default ``<home>/keys/<OFFICE>``; a shared
    ``OBRA_KEYS_DIR/<OFFICE>`` in server mode). ``published`` returns the ids of the keys that
    signed what the office's database already holds (its tree heads): before creating a first
    key or signing anything, every one of them must be in this directory's history, else
    :class:`ForeignKeyHistory`.
    """

    def __init__(self, home: Path | str, office: str, *, directory: Path | str | None = None,
                 published: Callable[[], Iterable[str]] | None = None):
        office = str(office).upper()
        if not _OFFICE_RE.fullmatch(office):
            raise ValueError(f"office {office!r} is not an office code like UYMVD")
        self.office = office
        self.directory = Path(directory) if directory is not None else StorePaths(Path(home)).keys(office)
        self.history_path = self.directory / "history.json"
        self._published = published

    @contextmanager
    def _locked(self) -> Iterator[None]:
        _owner_only_dirs(self.directory)
        fd = os.open(self.directory / ".lock", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def history(self) -> KeyHistory:
        """The published history, creating the office's first key if there is none (and the
        database holds nothing signed by another history)."""
        if not self.history_path.exists():
            self.refuse_foreign(None)  # before anything is created on disk
            with self._locked():
                if not self.history_path.exists():
                    self.refuse_foreign(None)
                    self._write_new_key(None, utc_now())
        return KeyHistory.parse(self.history_path.read_bytes())

    def refuse_foreign(self, history: KeyHistory | None) -> None:
        """Raise :class:`ForeignKeyHistory` if the database holds signatures by keys ``history`` lacks."""
        if self._published is None:
            return
        held = {k.key_id for k in history.keys} if history is not None else set()
        foreign = sorted(set(self._published()) - held)
        if foreign:
            where = "holds no key history" if history is None else "does not hold them"
            raise ForeignKeyHistory(
                f"this database's log of office {self.office} is signed by keys this host does not hold "
                f"({', '.join(k[:12] for k in foreign)}): its key directory {self.directory} {where}. "
                "Point OBRA_KEYS_DIR at the office's shared keys")

    def rotate(self, at: datetime | None = None) -> KeyRecord:
        """Make a new active key, endorsed by and retiring the current one."""
        with self._locked():
            if not self.history_path.exists():
                self.refuse_foreign(None)
                return self._write_new_key(None, at or utc_now())
            history = KeyHistory.parse(self.history_path.read_bytes())
            at = at or utc_now()
            if at <= history.active.valid_from:
                raise SignatureError("a key rotation must be later than the current key's start")
            return self._write_new_key(history, at)

    def _write_new_key(self, history: KeyHistory | None, at: datetime) -> KeyRecord:
        private = Ed25519PrivateKey.generate()
        public = _raw(private.public_key())
        key_id = hashlib.sha256(public).hexdigest()
        record = KeyRecord(key_id, public, at)
        keys: list[KeyRecord] = []
        if history is not None:
            old = history.active
            old_private = self._private(old.key_id)
            record = KeyRecord(key_id, public, at, None, old.key_id,
                               old_private.sign(record.endorsed_statement(self.office)))
            keys = list(history.keys[:-1]) + [KeyRecord(old.key_id, old.public_key, old.valid_from, at,
                                                         old.endorsed_by, old.endorsement)]
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        path = self.directory / f"{key_id}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        new_history = KeyHistory(self.office, tuple(keys + [record]))
        new_history.check()
        tmp = self.history_path.with_suffix(".json.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(new_history.to_json())
        os.replace(tmp, self.history_path)
        if history is not None:  # the retired key can never sign again
            (self.directory / f"{history.active.key_id}.pem").unlink(missing_ok=True)
        return record

    def _private(self, key_id: str) -> Ed25519PrivateKey:
        """The private half of ``key_id``, for signing: refused if the database's log has another history."""
        if self._published is not None and self.history_path.exists():
            self.refuse_foreign(KeyHistory.parse(self.history_path.read_bytes()))
        path = self.directory / f"{key_id}.pem"
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except FileNotFoundError:
            raise SignatureError(f"the private key {key_id[:12]} of office {self.office} is missing "
                                 f"from {self.directory}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SignatureError(f"{path} is not an Ed25519 private key")
        return key

    def sign_object(self, obj: dict, at: datetime) -> dict:
        """``obj`` plus ``key_id`` and ``signature`` by the key active at ``at``."""
        return self.sign_objects([obj], at)[0]

    def sign_objects(self, objs: Iterable[dict], at: datetime) -> list[dict]:
        """Each of ``objs`` signed as :meth:`sign_object` signs it, the key history read, the
        database's history checked and the private key loaded once for all of them (a catalogue's
        hundred thousand transparency reports are one job, not a hundred thousand)."""
        history = self.history()
        active = history.active
        if not active.valid_at(at):
            raise KeyNotValid(f"the active key of office {self.office} starts at "
                              f"{format_time(active.valid_from)}, after {format_time(at)}")
        return sign_with(self._private(active.key_id), active.key_id, objs)

    def active_key_file(self, at: datetime) -> tuple[str, Path]:
        """The id and private-key file of the key active at ``at``, after the checks signing makes
        (the history, the database's history): for workers that sign in other processes."""
        history = self.history()
        active = history.active
        if not active.valid_at(at):
            raise KeyNotValid(f"the active key of office {self.office} starts at "
                              f"{format_time(active.valid_from)}, after {format_time(at)}")
        self._private(active.key_id)
        return active.key_id, self.directory / f"{active.key_id}.pem"
