"""Merkle tree hashing, inclusion proofs and consistency proofs exactly as in RFC 9162 §2.1.

This is the data structure under the transparency log (Certificate Transparency style):
every registration event is a leaf; the root of the tree of the first ``n`` leaves is what
the office signs; an *inclusion proof* shows one leaf is in the tree of size ``n`` and a
*consistency proof* shows the tree of size ``m`` is a prefix of the tree of size ``n`` (the
log was only ever appended to). Anyone can check both with nothing but SHA-256.

Hashing (RFC 9162 §2.1.1)::

    MTH({})       = SHA-256()
    leaf hash     = SHA-256(0x00 || leaf bytes)
    node hash     = SHA-256(0x01 || left || right)
    MTH(D[n])     = node(MTH(D[0:k]), MTH(D[k:n]))   k = largest power of two < n

Storage model: a tree is read through its *complete subtrees* ``(level, index)``, the node
covering leaves ``[index * 2**level, (index + 1) * 2**level)``. Once written such a node
never changes, so a log stores each one once and every proof is assembled from at most
``2 * log2(n)`` of them; nothing is rehashed per proof. :class:`MerkleTree` keeps them in
memory; the transparency log keeps them in SQL and answers the same batched lookups.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

from obra.errors import Unverifiable

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Node = tuple[int, int]
"""A complete subtree: ``(level, index)`` covers leaves ``[index << level, (index + 1) << level)``."""

NodeFetcher = Callable[[Iterable[Node]], Mapping[Node, bytes]]
"""Returns the hash of each asked-for complete subtree (one batch per proof)."""


class ProofError(Unverifiable):
    """A Merkle proof does not prove what it claims; the message says which check failed."""


class InclusionProofError(ProofError):
    """An inclusion proof does not lead from the leaf to the signed root."""


class ConsistencyProofError(ProofError):
    """A consistency proof does not show the older tree is a prefix of the newer one."""


def leaf_hash(leaf: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || leaf)."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes, recomputed from scratch (the naive reference)."""
    level = list(hashes)
    if not level:
        return EMPTY_ROOT
    # Pairing left to right and promoting an odd last node gives exactly RFC 9162's MTH.
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


# --- ranges and the complete subtrees that make them up -------------------------------

def range_nodes(start: int, end: int) -> list[Node]:
    """Complete subtrees, left to right, whose fold is MTH(D[start:end]).

    RFC 9162's recursion only ever asks for ranges whose start is a multiple of a power of
    two at least as large as the range, so the range decomposes by the binary digits of its
    size, largest first.
    """
    size = end - start
    if size <= 0:
        raise ValueError(f"empty range [{start}, {end})")
    out: list[Node] = []
    while size:
        level = size.bit_length() - 1
        width = 1 << level
        if start % width:
            raise ValueError(f"range [{start}, {end}) is not an RFC 9162 subtree")
        out.append((level, start >> level))
        start += width
        size -= width
    return out


def fold_nodes(hashes: Sequence[bytes]) -> bytes:
    """Combine the hashes of :func:`range_nodes` into the range's MTH (right to left)."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose MTHs form PATH(index, D[size]), leaf-side first (RFC 9162 §2.1.3.1)."""
    if not 0 <= index < size:
        raise InclusionProofError(f"leaf index {index} is outside a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    start, n, m = 0, size, index
    while n > 1:
        k = _split(n)
        if m < k:
            ranges.append((start + k, start + n))
            n = k
        else:
            ranges.append((start, start + k))
            start, n, m = start + k, n - k, m - k
    ranges.reverse()
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The ranges whose MTHs form PROOF(old_size, D[new_size]) (RFC 9162 §2.1.4.1)."""
    if not 0 <= old_size <= new_size:
        raise ConsistencyProofError(
            f"cannot prove a tree of size {old_size} is a prefix of one of size {new_size}")
    if old_size == 0 or old_size == new_size:
        return []
    ranges: list[tuple[int, int]] = []
    start, m, n, complete = 0, old_size, new_size, True
    while m != n:
        k = _split(n)
        if m <= k:
            ranges.append((start + k, start + n))
            n = k
        else:
            ranges.append((start, start + k))
            start, m, n, complete = start + k, m - k, n - k, False
    if not complete:
        ranges.append((start, start + m))
    ranges.reverse()
    return ranges


def _hash_ranges(ranges: Sequence[tuple[int, int]], fetch: NodeFetcher) -> list[bytes]:
    plans = [range_nodes(a, b) for a, b in ranges]
    wanted = {node for plan in plans for node in plan}
    got = fetch(wanted) if wanted else {}
    missing = wanted - set(got)
    if missing:
        raise ProofError(f"the log is missing {len(missing)} stored subtree hash(es), "
                         f"e.g. level {min(missing)[0]} index {min(missing)[1]}")
    return [fold_nodes([got[node] for node in plan]) for plan in plans]


def tree_root(size: int, fetch: NodeFetcher) -> bytes:
    """MTH of the first ``size`` leaves, from at most log2(size) stored subtrees."""
    if size == 0:
        return EMPTY_ROOT
    return _hash_ranges([(0, size)], fetch)[0]


def inclusion_proof(index: int, size: int, fetch: NodeFetcher) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162, read from stored subtrees."""
    return _hash_ranges(inclusion_ranges(index, size), fetch)


def consistency_proof(old_size: int, new_size: int, fetch: NodeFetcher) -> list[bytes]:
    """PROOF(old_size, D[new_size]) of RFC 9162, read from stored subtrees."""
    return _hash_ranges(consistency_ranges(old_size, new_size), fetch)


def new_nodes_on_append(size: int, leaf: bytes, frontier: Sequence[bytes]) -> list[tuple[Node, bytes]]:
    """Complete subtrees created by appending leaf hash ``leaf`` as leaf number ``size``.

    ``frontier`` holds the hashes of ``range_nodes(0, size)`` (the right edge of the tree);
    the new leaf completes one subtree per trailing one-bit of ``size``.
    """
    out: list[tuple[Node, bytes]] = [((0, size), leaf)]
    h, level, idx = leaf, 0, size
    f = len(frontier) - 1
    while idx & 1:
        h = node_hash(frontier[f], h)
        f -= 1
        level, idx = level + 1, idx >> 1
        out.append(((level, idx), h))
    return out


def next_frontier(size: int, leaf: bytes, frontier: Sequence[bytes]) -> list[bytes]:
    """The frontier of the tree of size ``size + 1``."""
    created = new_nodes_on_append(size, leaf, frontier)
    merged = len(created) - 1
    return list(frontier[: len(frontier) - merged]) + [created[-1][1]]


# --- verification, exactly RFC 9162 §2.1.3.2 and §2.1.4.2 ------------------------------

def _check_hash(value: bytes, what: str, cls: type[ProofError]) -> None:
    if not isinstance(value, (bytes, bytearray)) or len(value) != HASH_SIZE:
        raise cls(f"{what} must be a {HASH_SIZE}-byte SHA-256 hash")


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root a valid inclusion proof leads to (RFC 9162 §2.1.3.2 steps 1–5)."""
    _check_hash(leaf, "the leaf hash", InclusionProofError)
    if not isinstance(index, int) or not isinstance(size, int) or isinstance(index, bool):
        raise InclusionProofError("leaf index and tree size must be integers")
    if not 0 <= index < size:
        raise InclusionProofError(f"leaf index {index} is outside a tree of size {size}")
    fn, sn, r = index, size - 1, bytes(leaf)
    for i, p in enumerate(proof):
        _check_hash(p, f"inclusion proof element {i}", InclusionProofError)
        if sn == 0:
            raise InclusionProofError(
                f"the inclusion proof is too long: {len(proof)} hashes for leaf {index} "
                f"in a tree of size {size}")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InclusionProofError(
            f"the inclusion proof is too short: {len(proof)} hashes for leaf {index} "
            f"in a tree of size {size}")
    return r


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Raise :class:`InclusionProofError` unless ``proof`` shows leaf ``index`` is under ``root``."""
    _check_hash(root, "the root hash", InclusionProofError)
    got = root_from_inclusion_proof(leaf, index, size, proof)
    if got != root:
        raise InclusionProofError(
            f"the inclusion proof for leaf {index} leads to root {got.hex()}, not to the "
            f"signed root {bytes(root).hex()} of the tree of size {size}: the entry, the proof "
            "or the tree head was altered, or they belong to different trees")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> None:
    """Raise :class:`ConsistencyProofError` unless the old tree is a prefix of the new one."""
    for name, v in (("old tree size", old_size), ("new tree size", new_size)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise ConsistencyProofError(f"the {name} must be a non-negative integer")
    _check_hash(old_root, "the old root", ConsistencyProofError)
    _check_hash(new_root, "the new root", ConsistencyProofError)
    for i, p in enumerate(proof):
        _check_hash(p, f"consistency proof element {i}", ConsistencyProofError)
    if old_size > new_size:
        raise ConsistencyProofError(
            f"the log shrank from {old_size} to {new_size} entries: an append-only log never does")
    if old_size == new_size:
        if proof:
            raise ConsistencyProofError("a proof between equal tree sizes must be empty")
        if old_root != new_root:
            raise ConsistencyProofError(
                f"two different roots for the same tree size {old_size}: the log forked")
        return
    if old_size == 0:
        if proof:
            raise ConsistencyProofError("a proof from the empty tree must be empty")
        return
    if not proof:
        raise ConsistencyProofError(f"an empty proof cannot show {old_size} → {new_size}")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is a node
        path.insert(0, bytes(old_root))
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ConsistencyProofError(
                f"the consistency proof {old_size} → {new_size} has too many hashes")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ConsistencyProofError(
            f"the consistency proof {old_size} → {new_size} has too few hashes")
    if fr != old_root:
        raise ConsistencyProofError(
            f"the consistency proof does not reproduce the old root of size {old_size}: "
            "the older tree head is not a prefix of the newer one (the log was rewritten)")
    if sr != new_root:
        raise ConsistencyProofError(
            f"the consistency proof does not reproduce the new root of size {new_size}: "
            "the newer tree head does not extend the older one (the log forked)")


# --- in-memory tree -------------------------------------------------------------------

class MerkleTree:
    """An append-only Merkle tree held in memory, with every complete subtree cached.

    Appending costs amortised one hash; a root or proof reads at most 2·log2(n) cached
    subtrees. Used for federation imports, tests and as the reference the SQL log matches.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()):
        self._levels: list[list[bytes]] = [[]]
        for h in leaf_hashes:
            self.append_hash(h)

    def __len__(self) -> int:
        return len(self._levels[0])

    def append(self, leaf: bytes) -> int:
        """Append leaf *data*; returns its index."""
        return self.append_hash(leaf_hash(leaf))

    def append_hash(self, h: bytes) -> int:
        """Append an already hashed leaf; returns its index."""
        index = len(self._levels[0])
        self._levels[0].append(h)
        level = 0
        while len(self._levels[level]) % 2 == 0:
            row = self._levels[level]
            parent = node_hash(row[-2], row[-1])
            if level + 1 == len(self._levels):
                self._levels.append([])
            self._levels[level + 1].append(parent)
            level += 1
        return index

    def fetch(self, nodes: Iterable[Node]) -> dict[Node, bytes]:
        """The :data:`NodeFetcher` of this tree."""
        out = {}
        for level, idx in nodes:
            if level < len(self._levels) and idx < len(self._levels[level]):
                out[(level, idx)] = self._levels[level][idx]
        return out

    def root(self, size: int | None = None) -> bytes:
        return tree_root(len(self) if size is None else self._size(size), self.fetch)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(index, len(self) if size is None else self._size(size), self.fetch)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        return consistency_proof(old_size, len(self) if new_size is None else self._size(new_size),
                                 self.fetch)

    def _size(self, size: int) -> int:
        if not 0 <= size <= len(self):
            raise ProofError(f"tree size {size} is beyond the {len(self)} leaves in this tree")
        return size
