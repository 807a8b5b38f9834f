"""RFC 9162 Merkle trees: the published test vectors, and proofs against naive recomputation.

The vectors are the ones every Certificate Transparency implementation checks against
(transparency-dev/merkle, proof/verify_test.go, Apache-2.0): eight leaves, their roots,
and known inclusion and consistency proofs.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obra.transparency import merkle

LEAVES = [bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                      "606162636465666768696a6b6c6d6e6f"]]
ROOTS = [bytes.fromhex(h) for h in [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]]
# (leaf index, tree size, proof) — indexes 0-based here
INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
CONSISTENCY = [
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


@pytest.fixture(scope="module")
def tree():
    return merkle.MerkleTree(merkle.leaf_hash(leaf) for leaf in LEAVES)


def test_empty_tree_root_is_sha256_of_nothing():
    assert merkle.EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle.MerkleTree().root() == merkle.EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_rfc_vectors(tree, size):
    assert tree.root(size) == ROOTS[size - 1]
    assert merkle.root_from_leaf_hashes([merkle.leaf_hash(x) for x in LEAVES[:size]]) == ROOTS[size - 1]


@pytest.mark.parametrize("index,size,proof", INCLUSION)
def test_inclusion_proofs_match_the_rfc_vectors(tree, index, size, proof):
    expected = [bytes.fromhex(h) for h in proof]
    assert tree.inclusion_proof(index, size) == expected
    merkle.verify_inclusion(merkle.leaf_hash(LEAVES[index]), index, size, expected, ROOTS[size - 1])


@pytest.mark.parametrize("old,new,proof", CONSISTENCY)
def test_consistency_proofs_match_the_rfc_vectors(tree, old, new, proof):
    expected = [bytes.fromhex(h) for h in proof]
    assert tree.consistency_proof(old, new) == expected
    merkle.verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], expected)


def _corrupt_inclusion(index, size, proof, root, leaf):
    """The probes of transparency-dev/merkle's corruptInclusionProof."""
    yield index - 1, size, root, leaf, proof
    yield index + 1, size, root, leaf, proof
    yield index ^ 2, size, root, leaf, proof
    yield index, size * 2, root, leaf, proof
    yield index, size // 2, root, leaf, proof
    yield index, size, root, merkle.leaf_hash(b"WrongLeaf"), proof
    yield index, size, merkle.EMPTY_ROOT, leaf, proof
    yield index, size, SOME_HASH, leaf, proof
    yield index, size, root, leaf, proof + [root]
    yield index, size, root, leaf, [root] + proof
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 8]) + bad[i][1:]
        yield index, size, root, leaf, bad
    if proof:
        yield index, size, root, leaf, proof[:-1]
    if len(proof) > 1:
        yield index, size, root, leaf, [proof[0], SOME_HASH] + proof[1:]


@pytest.mark.parametrize("index,size,proof", INCLUSION)
def test_corrupted_inclusion_proofs_are_refused(index, size, proof):
    proof = [bytes.fromhex(h) for h in proof]
    probes = list(_corrupt_inclusion(index, size, proof, ROOTS[size - 1], merkle.leaf_hash(LEAVES[index])))
    assert len(probes) >= 12
    for i, s, root, leaf, p in probes:
        with pytest.raises(merkle.InclusionProofError):
            merkle.verify_inclusion(leaf, i, s, p, root)


@pytest.mark.parametrize("old,new,proof", CONSISTENCY)
def test_corrupted_consistency_proofs_are_refused(old, new, proof):
    proof = [bytes.fromhex(h) for h in proof]
    r1, r2 = ROOTS[old - 1], ROOTS[new - 1]
    probes = [
        (old - 1, new, r1, r2, proof), (old + 1, new, r1, r2, proof), (old ^ 2, new, r1, r2, proof),
        (old, new * 2, r1, r2, proof), (old, new // 2, r1, r2, proof),
        (old, new, SOME_HASH, r2, proof), (old, new, r1, SOME_HASH, proof), (old, new, r2, r1, proof),
        (old, new, r1, r2, []), (old, new, r1, r2, proof + [r1]), (old, new, r1, r2, proof + [r2]),
        (old, new, r1, r2, [r1] + proof), (old, new, r1, r2, [r2] + proof),
        (old, new, r1, r2, [proof[0]] + proof), (old, new, r1, r2, proof[:-1]),
    ]
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 16]) + bad[i][1:]
        probes.append((old, new, r1, r2, bad))
    for o, n, a, b, p in probes:
        if (o, n) == (old, new) and (a, b) == (r1, r2) and p == proof:
            continue
        with pytest.raises(merkle.ConsistencyProofError):
            merkle.verify_consistency(o, n, a, b, p)


def test_a_log_that_shrank_or_forked_is_named_as_such():
    with pytest.raises(merkle.ConsistencyProofError, match="shrank"):
        merkle.verify_consistency(5, 3, ROOTS[4], ROOTS[2], [])
    with pytest.raises(merkle.ConsistencyProofError, match="forked"):
        merkle.verify_consistency(4, 4, ROOTS[3], SOME_HASH, [])


def test_hashes_of_the_wrong_length_are_refused():
    with pytest.raises(merkle.InclusionProofError, match="32-byte"):
        merkle.verify_inclusion(b"short", 0, 1, [], ROOTS[0])
    with pytest.raises(merkle.ConsistencyProofError, match="32-byte"):
        merkle.verify_consistency(1, 2, ROOTS[0], ROOTS[1], [b""])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=6), min_size=1, max_size=70), st.data())
def test_proofs_agree_with_naive_recomputation_for_any_tree(leaves, data):
    tree = merkle.MerkleTree()
    for leaf in leaves:
        tree.append(leaf)
    hashes = [merkle.leaf_hash(x) for x in leaves]
    n = len(leaves)
    size = data.draw(st.integers(1, n))
    index = data.draw(st.integers(0, size - 1))
    old = data.draw(st.integers(0, size))
    root = merkle.root_from_leaf_hashes(hashes[:size])
    assert tree.root(size) == root
    merkle.verify_inclusion(hashes[index], index, size, tree.inclusion_proof(index, size), root)
    merkle.verify_consistency(old, size, merkle.root_from_leaf_hashes(hashes[:old]), root,
                              tree.consistency_proof(old, size))
    # the frontier kept by the SQL log gives the same root
    frontier: list[bytes] = []
    for i, h in enumerate(hashes[:size]):
        frontier = merkle.next_frontier(i, h, frontier)
    assert merkle.fold_nodes(frontier) == root


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 64), st.data())
def test_a_proof_for_another_tree_never_verifies(n, data):
    a = merkle.MerkleTree(merkle.leaf_hash(bytes([i])) for i in range(n))
    b = merkle.MerkleTree(merkle.leaf_hash(bytes([i, 1])) for i in range(n))
    index = data.draw(st.integers(0, n - 1))
    with pytest.raises(merkle.InclusionProofError):
        merkle.verify_inclusion(merkle.leaf_hash(bytes([index])), index, n, b.inclusion_proof(index), a.root())
    old = data.draw(st.integers(1, n - 1))
    with pytest.raises(merkle.ConsistencyProofError):
        merkle.verify_consistency(old, n, a.root(old), b.root(), a.consistency_proof(old))


@settings(max_examples=300, deadline=None)
@given(st.integers(-3, 40), st.integers(-3, 40),
       st.lists(st.binary(min_size=0, max_size=40), max_size=8), st.binary(max_size=40), st.binary(max_size=40))
def test_garbage_proofs_never_crash_and_never_verify(index, size, proof, leaf, root):
    try:
        merkle.verify_inclusion(leaf, index, size, proof, root)
        # the only statement garbage can make true: a one-leaf tree whose root is the leaf
        assert (index, size, proof, leaf) == (0, 1, [], root)
    except merkle.ProofError:
        pass
    try:
        merkle.verify_consistency(index, size, leaf, root, proof)
        # the only true ones: from the empty tree, or a tree to itself
        assert proof == [] and (index == 0 or (index == size and leaf == root))
    except merkle.ProofError:
        pass
