"""The signed licence: who may use what, how, where, until when, for how much — and exactly which items.

A licence is one RFC 8785 canonical JSON object (``format: obra.ai_licence/1``) signed with the
office's Ed25519 key exactly as certificates and check receipts are
(:meth:`obra.transparency.signing.OfficeKeys.sign_object`): the licensor (the office, on behalf
of the rightholders whose terms made the offers), the licensee, the use, territory, purpose,
user type, term, the price (totals per currency in minor units, the price models, revenue
shares), the quote it came from, and the **items**: their number and the root of a Merkle tree
over them.

**Items as Merkle leaves.** Item ``i`` of the licence (manifest order of the licensable items) is
the RFC 8785 canonical JSON of :func:`leaf_object` — ``position``, the registration ``number``,
the ``url`` and ``sha256`` the developer named, the price ``model``, ``currency``, ``unit_minor``,
``amount_minor`` and ``share_percent`` (members without a value left out). Leaves are hashed and
combined exactly as RFC 9162 §2.1.1 does for transparency logs
(:mod:`obra.transparency.merkle`: ``SHA-256(0x00 || leaf)``, ``SHA-256(0x01 || left || right)``),
so an inclusion proof shows one item is covered without the whole list, and any change to the
list — an item added, removed, reordered or repriced — changes the root the office signed.

:func:`verify_licence` checks a licence offline with only the office's published key history:
its shape, the signature by a key valid when it was issued, and (given them) the item list
against the root, or one item's inclusion proof. Expiry is read from the dates; revocation is
an event the office publishes (``aiuse.licence.revoked``): the online check
(``obra ai licence status``) reports it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any, Iterable, Iterator

from obra.canonical import canonical
from obra.errors import Unverifiable
from obra.transparency.merkle import InclusionProofError, MerkleTree, leaf_hash, verify_inclusion
from obra.transparency.signing import KeyHistory, OfficeKeys, verify_signed

__all__ = ["LICENCE_FORMAT", "LicenceError", "leaf_object", "leaf_bytes", "item_tree", "build_licence",
           "sign_licence", "licence_hash", "verify_licence", "inclusion_bundle", "read_items_jsonl"]

LICENCE_FORMAT = "obra.ai_licence/1"
MEMBERS = {"format", "licence_id", "office", "issued_at", "licensor", "licensee", "use", "territory", "purpose",
           "user_type", "term", "price", "items", "quote", "offers", "key_id", "signature"}
LEAF_FIELDS = ("position", "number", "url", "sha256", "model", "currency", "unit_minor", "amount_minor",
               "share_percent")


class LicenceError(Unverifiable):
    """The licence is malformed, not signed by the office, altered after signing, or its items do
    not match it; the message says which check failed and why."""


def leaf_object(position: int, row: dict) -> dict:
    """The licence's item ``position``: what its Merkle leaf is the canonical JSON of."""
    out: dict[str, Any] = {"position": position}
    for name in LEAF_FIELDS[1:]:
        value = row.get(name)
        if value is not None:
            out[name] = int(value) if name in ("unit_minor", "amount_minor") else str(value)
    return out


def leaf_bytes(leaf: dict) -> bytes:
    return canonical(leaf)


def item_tree(leaves: Iterable[dict]) -> MerkleTree:
    """The RFC 9162 Merkle tree over the items' canonical JSON."""
    return MerkleTree(leaf_hash(leaf_bytes(leaf)) for leaf in leaves)


def build_licence(*, licence_id: str, office: str, issued_at: str, licensee: dict, question: dict, price: dict,
                  item_count: int, merkle_root: str, quote: dict, offers: dict) -> dict:
    """The licence body (unsigned)."""
    return {"format": LICENCE_FORMAT, "licence_id": licence_id, "office": office, "issued_at": issued_at,
            "licensor": {"office": office, "on_behalf_of": "the rightholders whose AI-use terms made the offers "
                                                           "(see offers)"},
            "licensee": licensee, "use": question["use"], "territory": question.get("territory"),
            "purpose": question.get("purpose"), "user_type": question.get("user_type"),
            "term": {"valid_from": question["valid_from"], "valid_until": question["valid_until"]},
            "price": price,
            "items": {"count": item_count, "merkle_root": merkle_root,
                      "leaf": "RFC 8785 JSON of {position, number, url, sha256, model, currency, unit_minor, "
                              "amount_minor, share_percent}; RFC 9162 leaf and node hashes"},
            "quote": quote, "offers": offers}


def sign_licence(keys: OfficeKeys, body: dict, at: datetime) -> dict:
    return keys.sign_object(body, at)


def licence_hash(licence: dict) -> str:
    """SHA-256 of the signed licence's canonical JSON: what the ``aiuse.licence.issued`` event anchors."""
    return hashlib.sha256(canonical(licence)).hexdigest()


def read_items_jsonl(data: bytes | str) -> Iterator[dict]:
    """The leaves of an items file (one JSON object per line, as ``obra ai licence items`` writes)."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise LicenceError(f"line {n} of the item list is not JSON: {exc}") from None
        if not isinstance(value, dict):
            raise LicenceError(f"line {n} of the item list is not a JSON object")
        yield value


def inclusion_bundle(tree: MerkleTree, leaves: list[dict], position: int) -> dict:
    """One item with its inclusion proof in the licence's tree."""
    return {"position": position, "leaf": leaves[position], "tree_size": len(tree),
            "proof": [h.hex() for h in tree.inclusion_proof(position)]}


def verify_licence(licence: bytes | str | dict, key_history: KeyHistory | bytes | str | dict, *,
                   items: Iterable[dict] | bytes | str | None = None, proof: dict | None = None,
                   on: date | None = None) -> dict:
    """Check a licence offline; returns ``{licence, valid, expired, items_checked, proof_checked}``.

    Raises :class:`LicenceError` naming the first failing check: the format and members; the
    office's signature by a key valid at ``issued_at``; with ``items``, that they are exactly the
    items the licence covers (count, then Merkle root); with ``proof``, that the item it carries is
    under the signed root. ``expired`` compares the term with ``on`` (default: today).
    """
    licence, key_history = verify_signed(licence, key_history, format=LICENCE_FORMAT, members=MEMBERS,
                                         what="the licence", error=LicenceError)
    spec = licence.get("items") or {}
    count, root = spec.get("count"), spec.get("merkle_root")
    if not isinstance(count, int) or not isinstance(root, str) or len(root) != 64:
        raise LicenceError("the licence's items must state a count and a 64-hex Merkle root")
    items_checked = proof_checked = False
    if items is not None:
        leaves = list(read_items_jsonl(items)) if isinstance(items, (bytes, str)) else list(items)
        if len(leaves) != count:
            raise LicenceError(f"the item list has {len(leaves)} items but the licence covers {count}: items were "
                               f"{'added' if len(leaves) > count else 'removed'}")
        for i, leaf in enumerate(leaves):
            if leaf.get("position") != i:
                raise LicenceError(f"item {i} of the list says position {leaf.get('position')!r}: the list was "
                                   "reordered or altered")
        got = item_tree(leaves).root().hex()
        if got != root:
            raise LicenceError(f"the item list's Merkle root is {got}, not the signed root {root}: an item was "
                               "changed (its number, URL, hash or price) after the licence was signed")
        items_checked = True
    if proof is not None:
        try:
            leaf = proof["leaf"]
            position, size = int(proof["position"]), int(proof["tree_size"])
            path = [bytes.fromhex(h) for h in proof["proof"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise LicenceError(f"the inclusion proof is malformed: {exc}") from None
        if size != count:
            raise LicenceError(f"the inclusion proof is for a list of {size} items, the licence covers {count}")
        if not isinstance(leaf, dict) or leaf.get("position") != position:
            raise LicenceError("the proof's item does not carry its own position")
        try:
            verify_inclusion(leaf_hash(leaf_bytes(leaf)), position, size, path, bytes.fromhex(root))
        except InclusionProofError as exc:
            raise LicenceError(f"the item is not covered by this licence: {exc}") from None
        proof_checked = True
    today = on or date.today()
    term = licence.get("term") or {}
    try:
        start, end = date.fromisoformat(term["valid_from"]), date.fromisoformat(term["valid_until"])
    except (KeyError, TypeError, ValueError):
        raise LicenceError("the licence's term must give valid_from and valid_until as dates") from None
    return {"licence": licence, "valid": True, "expired": today > end, "not_yet_valid": today < start,
            "items_checked": items_checked, "proof_checked": proof_checked}
