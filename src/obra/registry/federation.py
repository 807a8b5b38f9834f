"""Federation: one office exports its signed log, another imports and verifies it.

Registration numbers carry their issuing office (``UYMVD-2026-0000001-G`` is Montevideo's).
For a work registered in Montevideo to be verifiable in Madrid, Madrid imports Montevideo's
transparency log: the entries, a signed tree head, and Montevideo's key history. On import
Madrid checks that

* the tree head is signed by a key in Montevideo's history, valid at the head's time;
* the key history only ever grew (keys it saw before are still there, unchanged);
* the entries rebuild exactly the signed root;
* the tree it had imported before is a prefix of the new one (a consistency proof, both
  the one Montevideo sent and one recomputed from the imported entries), so Montevideo
  cannot rewrite history between imports without it being noticed.

Everything is kept in the same log tables, keyed by office, so afterwards Madrid can answer
inclusion proofs for Montevideo's numbers and check Montevideo's certificates offline.

Export format (``obra.log_export/1``)::

    {"format": "obra.log_export/1", "office": "UYMVD", "key_history": {...},
     "tree_head": {signed tree head}, "since": 0, "consistency_proof": ["hex", ...],
     "entries": [leaf, leaf, ...]}   # leaves since..tree_size-1, as in the log
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from obra import ids
from obra.errors import InvalidInput, NotFound, Unverifiable
from obra.transparency import merkle
from obra.registry.certificates import (MalformedCertificate, VerifiedCertificate, parse_certificate,
                                        verify_certificate)
from obra.transparency.signing import KeyHistory, KeyHistoryError, SignatureError, canonical, parse_time
from obra.transparency.translog import (LogInconsistent, TransparencyLog, TreeHeadError, log_state, make_leaf,
                                    verify_tree_head)

EXPORT_FORMAT = "obra.log_export/1"


class FederationError(Unverifiable):
    """Another office's log does not verify; nothing of it was imported."""


_OFFICE = re.compile(r"[A-Z0-9]{2,8}")


def _office_code(value: Any, error: type[Unverifiable], what: str) -> str:
    """An office code as registration numbers carry it (2 to 8 letters or digits), checked before any query:
    a NUL or an overlong string must be refused by name, not reach the database (PostgreSQL rejects NUL)."""
    if not isinstance(value, str) or not _OFFICE.fullmatch(value.upper()):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise error(f"the {what}'s office {shown} is not an office code (2 to 8 letters or digits, e.g. UYMVD)")
    return value.upper()


@dataclass(frozen=True)
class ImportResult:
    office: str
    old_size: int
    new_size: int
    added: int
    root_hash: str

    def to_dict(self) -> dict:
        return {"office": self.office, "old_size": self.old_size, "new_size": self.new_size,
                "added": self.added, "root_hash": self.root_hash}


def export_log(log: TransparencyLog, since: int = 0) -> dict:
    """The office's log from entry ``since`` on, with a fresh signed tree head and key history."""
    if not log.local:
        raise FederationError(f"export the log of office {log.office} from that office itself")
    sth = log.signed_tree_head()
    size = sth["tree_size"]
    if not 0 <= since <= size:
        raise NotFound(f"the log of office {log.office} has {size} entries; cannot export from {since}")
    proof = log.consistency_proof(since, size)["hashes"] if since else []
    return {"format": EXPORT_FORMAT, "office": log.office, "key_history": log.key_history().to_dict(),
            "tree_head": sth, "since": since, "consistency_proof": proof,
            "entries": [e.leaf for e in log.entries(since, size)]}


def _parse_export(data: bytes | str | dict) -> dict:
    if isinstance(data, (bytes, str)):
        try:
            data = json.loads(data)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise FederationError(f"the log export is not valid JSON ({str(exc)[:100]})") from None
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise FederationError(f"a log export is a JSON object with format {EXPORT_FORMAT!r}")
    for name, kind in (("office", str), ("key_history", dict), ("tree_head", dict), ("since", int),
                       ("consistency_proof", list), ("entries", list)):
        if not isinstance(data.get(name), kind) or isinstance(data.get(name), bool):
            raise FederationError(f"the log export's '{name}' must be a {kind.__name__}")
    return data


def _check_history_grew(old: KeyHistory, new: KeyHistory) -> None:
    if len(new.keys) < len(old.keys):
        raise FederationError(f"office {new.office}'s key history lost keys since the last import")
    for before, now in zip(old.keys, new.keys):
        if (before.key_id, before.valid_from) != (now.key_id, now.valid_from):
            raise FederationError(f"office {new.office}'s key history was rewritten since the last import "
                                  f"(key {before.key_id[:12]} changed)")
        if before.valid_until is not None and before.valid_until != now.valid_until:
            raise FederationError(f"office {new.office} changed the validity of retired key {before.key_id[:12]}")


def import_log(store, data: bytes | str | dict, trusted_history: KeyHistory | None = None) -> ImportResult:
    """Verify another office's exported log and add it to this store, all or nothing.

    ``trusted_history`` pins the office's keys obtained out of band (recommended for the
    first import); later imports accept a history only if it extends the one stored.
    """
    data = _parse_export(data)
    office = _office_code(data["office"], FederationError, "log export")
    if office == store.office.upper():
        raise FederationError(f"office {office} is this store's own office; its log is not imported")
    try:
        history = KeyHistory.parse(data["key_history"])
    except KeyHistoryError as exc:
        raise FederationError(f"office {office}'s key history: {exc}") from None
    if history.office != office:
        raise FederationError(f"the export is office {office}'s but its key history is {history.office}'s")
    if trusted_history is not None:
        _check_history_grew(trusted_history, history)
    try:
        head = verify_tree_head(data["tree_head"], history)
    except (TreeHeadError, SignatureError) as exc:
        raise FederationError(f"office {office}'s tree head: {exc}") from None
    since, leaves = data["since"], data["entries"]
    if since < 0 or since + len(leaves) != head.tree_size:
        raise FederationError(f"the export holds entries {since}..{since + len(leaves) - 1}, but the signed "
                              f"tree has {head.tree_size} entries")
    try:
        consistency = [bytes.fromhex(h) for h in data["consistency_proof"]]
    except (TypeError, ValueError):
        raise FederationError("the consistency proof must be a list of hex hashes") from None

    log = TransparencyLog(store, office)
    with store.begin() as conn:
        state = log._lock_state(conn)
        old_size, old_root = state["size"], state["root_hash"]
        if state["key_history"]:
            _check_history_grew(KeyHistory.parse(state["key_history"]), history)
        if since > old_size:
            raise FederationError(f"this store holds {old_size} entries of office {office}; the export starts "
                                  f"at {since}: import the entries in between first")
        if head.tree_size < old_size:
            raise FederationError(f"office {office}'s new tree head has {head.tree_size} entries, fewer than "
                                  f"the {old_size} already imported: its log shrank")
        if since == 0 and consistency:
            raise FederationError("an export from entry 0 carries no consistency proof")
        if since > 0:  # the proof the office sent, against the root this store holds for that size
            held = old_root if since == old_size else merkle.tree_root(since, log._fetcher(conn))
            try:
                merkle.verify_consistency(since, head.tree_size, held, head.root_hash, consistency)
            except merkle.ProofError as exc:
                raise FederationError(f"office {office}'s log is not an extension of the one imported "
                                      f"before: {exc}") from None
        stored = {e.index: e for e in log.entries(since, old_size, conn)} if since < old_size else {}
        previous_time = state["last_timestamp"]
        for offset, leaf in enumerate(leaves):
            index = since + offset
            checked = _check_leaf(office, index, leaf)
            if index < old_size:
                if stored[index].leaf_bytes != canonical(checked):
                    raise FederationError(f"office {office}'s entry {index} differs from the one imported "
                                          "before: the log was rewritten")
                continue
            if previous_time and checked["timestamp"] < previous_time:
                raise FederationError(f"office {office}'s entry {index} is dated before the entry preceding it")
            previous_time = checked["timestamp"]
            try:
                log._append_leaf(conn, state, checked)
            except LogInconsistent as exc:
                raise FederationError(str(exc)) from None
        new_root = merkle.fold_nodes(state["frontier"]) if state["size"] else merkle.EMPTY_ROOT
        if new_root != head.root_hash:
            raise FederationError(f"office {office}'s entries rebuild root {new_root.hex()[:16]}…, not the "
                                  f"signed root {head.root_hash.hex()[:16]}…: entries were altered or are missing")
        if old_size:
            proof = merkle.consistency_proof(old_size, head.tree_size, log._fetcher(conn))
            try:
                merkle.verify_consistency(old_size, head.tree_size, old_root, head.root_hash, proof)
            except merkle.ProofError as exc:
                raise FederationError(f"office {office}'s log forked: {exc}") from None
        conn.execute(update(log_state).where(log_state.c.office == office)
                     .values(key_history=history.to_json()))
        log._store_head(conn, head.signed)
    return ImportResult(office, old_size, head.tree_size, head.tree_size - old_size, head.root_hash.hex())


def _check_leaf(office: str, index: int, leaf: Any) -> dict:
    if not isinstance(leaf, dict):
        raise FederationError(f"office {office}'s entry {index} is not a JSON object")
    if leaf.get("office") != office or leaf.get("index") != index:
        raise FederationError(f"office {office}'s entry {index} says it is entry {leaf.get('index')!r} of "
                              f"office {leaf.get('office')!r}")
    timestamp = leaf.get("timestamp")
    parse_time(timestamp, f"entry {index} timestamp", FederationError)
    event = {k: v for k, v in leaf.items() if k not in ("office", "index", "timestamp")}
    try:
        return make_leaf(office, index, timestamp, event)
    except InvalidInput as exc:
        raise FederationError(f"office {office}'s entry {index}: {exc.problems[0]}") from None


def imported_offices(store) -> list[dict]:
    """Offices whose logs this store holds, with their sizes (its own office included)."""
    with store.connect() as conn:
        rows = conn.execute(select(log_state.c.office, log_state.c.size, log_state.c.root_hash)
                            .order_by(log_state.c.office)).all()
    return [{"office": r.office, "size": int(r.size), "root_hash": bytes(r.root_hash).hex(),
             "local": r.office == store.office} for r in rows]


def verify_number(store, number: str) -> dict:
    """Prove, from this store's copy of the issuing office's log, every event of ``number``.

    Works for the store's own numbers and for numbers of imported offices: each entry comes
    with an inclusion proof checked against the newest signed tree head held here.
    """
    number = ids.parse_registration_number(number)
    log = TransparencyLog(store, ids.office_of(number))
    sth = log.signed_tree_head() if log.local else log.latest_tree_head()
    if sth is None:
        raise NotFound(f"no log of office {log.office} is held here: import it with "
                       "'obra federation import'")
    head = verify_tree_head(sth, log.key_history())
    entries = [e for e in log.entries_for(number) if e.index < head.tree_size]
    if not entries:
        raise NotFound(f"{number} is not in the log of office {log.office} (as of {head.tree_size} entries)")
    out = []
    for e in entries:
        proof = log.inclusion_proof(e.index, head.tree_size)
        merkle.verify_inclusion(e.leaf_hash, e.index, head.tree_size,
                                [bytes.fromhex(h) for h in proof["hashes"]], head.root_hash)
        out.append({**e.to_dict(), "inclusion_proof": proof["hashes"]})
    return {"number": number, "office": log.office, "verified": True, "tree_head": sth, "entries": out}


def verify_certificate_here(store, cert_bytes: bytes, key_history: KeyHistory | None = None) -> VerifiedCertificate:
    """Verify a certificate with the key history held here, and check it against the log held here.

    Beyond the offline checks, if this store holds the issuing office's log at least as far
    as the certificate's tree head, the certificate's root must equal the root held here:
    otherwise the office showed different logs to different people (a fork).
    """
    cert = parse_certificate(cert_bytes)
    office = _office_code(cert.get("office"), MalformedCertificate, "certificate")
    log = TransparencyLog(store, office)
    if key_history is None:
        try:
            key_history = log.key_history()
        except NotFound:
            raise FederationError(f"no key history of office {office!r} is held here: import its log or "
                                  "pass its key history (--keys)") from None
    verified = verify_certificate(cert_bytes, key_history)
    if log.size() >= verified.tree_size:
        held = log.root(verified.tree_size).hex()
        if held != verified.root_hash:
            raise FederationError(f"the certificate's tree of size {verified.tree_size} has root "
                                  f"{verified.root_hash[:16]}…, but office {office}'s log held here has "
                                  f"{held[:16]}…: the office's log forked")
    return verified
