"""RFC 6962 Merkle tree: checked against the RFC's recursive definitions, written out below.

The reference (MTH, PATH, SUB/PROOF) is a direct transcription of RFC 6962 §2.1 over a fixed
list of leaf hashes, with its own SHA-256 calls, so it shares no code with `audit.merkle`.
Every tree size 1..69 is checked exhaustively: every index, every old size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    CompactRange,
    NodeLookup,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    perfect_subtrees,
    range_root,
    root_of,
    split_point,
    verify_consistency,
    verify_inclusion,
)

MAX_N = 69
SIZES = range(1, MAX_N + 1)
LEAVES_KEPT = MAX_N + 2  # a couple beyond MAX_N for "wrong size" checks


# --- the reference, from RFC 6962 §2.1 -----------------------------------------------------


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def ref_leaf(i: int) -> bytes:
    """Leaf hash of entry i: SHA-256(0x00 || header || payload hash)."""
    return sha256(b"\x00" + f"header {i}".encode() + sha256(f"payload {i}".encode()))


def ref_node(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def ref_split(n: int) -> int:
    """The largest power of two smaller than n."""
    k = 1
    while 2 * k < n:
        k *= 2
    return k


LEAVES = [ref_leaf(i) for i in range(LEAVES_KEPT)]


def ref_mth_list(d: Sequence[bytes]) -> bytes:
    """MTH over a list of leaf hashes."""
    if not d:
        return sha256(b"")
    if len(d) == 1:
        return d[0]
    k = ref_split(len(d))
    return ref_node(ref_mth_list(d[:k]), ref_mth_list(d[k:]))


@cache
def ref_mth(start: int, end: int) -> bytes:
    """MTH(LEAVES[start:end])."""
    n = end - start
    if n == 0:
        return sha256(b"")
    if n == 1:
        return LEAVES[start]
    k = ref_split(n)
    return ref_node(ref_mth(start, start + k), ref_mth(start + k, end))


def ref_path(m: int, start: int, end: int) -> list[bytes]:
    """PATH(m, LEAVES[start:end])."""
    n = end - start
    if n == 1:
        return []
    k = ref_split(n)
    if m < k:
        return [*ref_path(m, start, start + k), ref_mth(start + k, end)]
    return [*ref_path(m - k, start + k, end), ref_mth(start, start + k)]


def ref_sub(m: int, start: int, end: int, whole: bool) -> list[bytes]:
    """SUB(m, LEAVES[start:end], whole)."""
    n = end - start
    if m == n:
        return [] if whole else [ref_mth(start, end)]
    k = ref_split(n)
    if m <= k:
        return [*ref_sub(m, start, start + k, whole), ref_mth(start + k, end)]
    return [*ref_sub(m - k, start + k, end, False), ref_mth(start, start + k)]


def ref_proof(m: int, n: int) -> list[bytes]:
    """PROOF(m, LEAVES[0:n])."""
    return ref_sub(m, 0, n, True)


def ref_path_sides(m: int, n: int) -> list[bool]:
    """For PATH(m, D[n]), leaf end first: is each sibling on the right?"""
    if n == 1:
        return []
    k = ref_split(n)
    if m < k:
        return [*ref_path_sides(m, k), True]
    return [*ref_path_sides(m - k, n - k), False]


def recursion_ranges(start: int, end: int) -> list[tuple[int, int]]:
    """Every range [a, b) whose MTH the RFC recursion for LEAVES[start:end] evaluates."""
    if end - start <= 1:
        return [(start, end)]
    middle = start + ref_split(end - start)
    return [(start, end), *recursion_ranges(start, middle), *recursion_ranges(middle, end)]


def all_perfect(n: int) -> dict[tuple[int, int], bytes]:
    """Every perfect subtree (level, index) of a tree of n leaves, level 0 included."""
    nodes: dict[tuple[int, int], bytes] = {}
    level = 0
    while 1 << level <= n:
        for index in range(n >> level):
            nodes[level, index] = ref_mth(index << level, (index + 1) << level)
        level += 1
    return nodes


def lookup(nodes: dict[tuple[int, int], bytes]) -> NodeLookup:
    """A node lookup over stored subtrees; asking for one not stored raises KeyError."""

    def node(level: int, index: int) -> bytes:
        return nodes[level, index]

    return node


@cache
def store(n: int) -> NodeLookup:
    """A node lookup holding exactly the perfect subtrees of a tree of n leaves."""
    return lookup(all_perfect(n))


def flip(h: bytes, bit: int = 0) -> bytes:
    return bytes([h[0] ^ (1 << bit)]) + h[1:]


# --- hashing and shape ---------------------------------------------------------------------


class TestHashing:
    def test_empty_root_is_sha256_of_nothing(self) -> None:
        assert EMPTY_ROOT.hex() == (
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        )
        assert root_of([]) == EMPTY_ROOT
        assert CompactRange().root() == EMPTY_ROOT
        assert HASH_SIZE == 32

    def test_leaf_hash_prefixes_zero(self) -> None:
        payload = sha256(b"payload")
        assert leaf_hash(b"header", payload) == sha256(b"\x00header" + payload)
        assert leaf_hash(b"", payload) == sha256(b"\x00" + payload)
        assert leaf_hash(b"header 3", sha256(b"payload 3")) == LEAVES[3]

    def test_node_hash_prefixes_one(self) -> None:
        a, b = LEAVES[0], LEAVES[1]
        assert node_hash(a, b) == sha256(b"\x01" + a + b)
        assert node_hash(a, b) != node_hash(b, a)

    def test_leaf_and_node_are_domain_separated(self) -> None:
        """A node can never pass for a leaf whose data is the two children."""
        a, b = LEAVES[0], LEAVES[1]
        assert leaf_hash(a, b) != node_hash(a, b)

    @pytest.mark.parametrize("length", [0, 1, 31, 33, 64])
    def test_leaf_hash_wants_a_32_byte_payload_hash(self, length: int) -> None:
        with pytest.raises(ValueError, match="32 bytes"):
            leaf_hash(b"header", b"\x00" * length)

    @pytest.mark.parametrize(("left", "right"), [(b"", b"\x00" * 32), (b"\x00" * 32, b"x" * 33)])
    def test_node_hash_wants_32_byte_children(self, left: bytes, right: bytes) -> None:
        with pytest.raises(ValueError, match="32 bytes"):
            node_hash(left, right)


class TestShape:
    def test_split_point(self) -> None:
        for n in range(2, 5000):
            k = split_point(n)
            assert k == ref_split(n)
            assert k & (k - 1) == 0
            assert k < n <= 2 * k

    @pytest.mark.parametrize("n", [-1, 0, 1])
    def test_split_point_needs_two_leaves(self, n: int) -> None:
        with pytest.raises(ValueError):
            split_point(n)

    def test_perfect_subtrees_are_the_greedy_aligned_cover(self) -> None:
        for start in range(0, 80):
            for end in range(start, 80):
                blocks = perfect_subtrees(start, end)
                position = start
                for level, index in blocks:
                    size = 1 << level
                    assert index * size == position, "contiguous and aligned"
                    assert position + size <= end
                    # greedy: the next size up is misaligned here or too long
                    assert position % (2 * size) != 0 or position + 2 * size > end
                    position += size
                assert position == end

    def test_perfect_subtrees_of_a_tree_follow_the_bits_of_its_size(self) -> None:
        for n in range(0, 300):
            levels = [level for level, _ in perfect_subtrees(0, n)]
            assert levels == [b for b in reversed(range(n.bit_length())) if n >> b & 1]

    def test_perfect_subtrees_examples(self) -> None:
        assert perfect_subtrees(0, 0) == []
        assert perfect_subtrees(5, 5) == []
        assert perfect_subtrees(0, 7) == [(2, 0), (1, 2), (0, 6)]
        assert perfect_subtrees(1, 8) == [(0, 1), (1, 1), (2, 1)]
        assert perfect_subtrees(3, 13) == [(0, 3), (2, 1), (2, 2), (0, 12)]

    @pytest.mark.parametrize(("start", "end"), [(-1, 3), (4, 3), (-2, -1)])
    def test_perfect_subtrees_rejects_bad_ranges(self, start: int, end: int) -> None:
        with pytest.raises(ValueError):
            perfect_subtrees(start, end)


# --- roots ---------------------------------------------------------------------------------


@pytest.mark.parametrize("n", SIZES)
def test_root_of_matches_mth(n: int) -> None:
    assert root_of(LEAVES[:n]) == ref_mth(0, n) == ref_mth_list(LEAVES[:n])


def test_root_of_rejects_leaves_that_are_not_hashes() -> None:
    with pytest.raises(ValueError):
        root_of([LEAVES[0], b"raw data, not a leaf hash"])


class TestRangeRoot:
    @pytest.mark.parametrize("n", SIZES)
    def test_every_range_of_the_recursion(self, n: int) -> None:
        for start, end in recursion_ranges(0, n):
            assert range_root(start, end, store(n)) == ref_mth(start, end)

    def test_any_range_is_right_or_refused(self) -> None:
        """Outside the recursion's ranges the stored subtrees give another shape: refuse."""
        node = store(MAX_N)
        answered = 0
        for start in range(MAX_N):
            for end in range(start + 1, MAX_N + 1):
                try:
                    got = range_root(start, end, node)
                except ValueError:
                    continue
                answered += 1
                assert got == ref_mth(start, end)
        assert answered > MAX_N

    def test_misaligned_range_is_refused(self) -> None:
        # node(l1, node(l2, l3)) is not MTH(D[1:4]) = node(node(l1, l2), l3)
        with pytest.raises(ValueError, match="not a subtree"):
            range_root(1, 4, store(8))

    @pytest.mark.parametrize(("start", "end"), [(0, 0), (3, 3), (4, 2), (-1, 1)])
    def test_empty_or_inverted_range_is_refused(self, start: int, end: int) -> None:
        with pytest.raises(ValueError):
            range_root(start, end, store(8))


class TestCompactRange:
    def test_appends_match_mth_and_report_every_subtree_once(self) -> None:
        compact = CompactRange()
        reported: dict[tuple[int, int], bytes] = {}
        for i in range(MAX_N):
            completed = compact.append(LEAVES[i])
            for level, index, digest in completed:
                assert level >= 1
                assert (index + 1) << level == i + 1, "completed by this leaf"
                assert digest == ref_mth(index << level, (index + 1) << level)
                assert (level, index) not in reported
                reported[level, index] = digest
            n = i + 1
            assert compact.size == n
            assert compact.root() == ref_mth(0, n)
            assert compact.peaks == [
                ref_mth(index << level, (index + 1) << level)
                for level, index in perfect_subtrees(0, n)
            ]
        expected = {key: h for key, h in all_perfect(MAX_N).items() if key[0] >= 1}
        assert reported == expected

    def test_completed_subtrees_per_append(self) -> None:
        """Appending leaf i completes one subtree per trailing one bit of i."""
        compact = CompactRange()
        for i in range(MAX_N):
            levels = [level for level, _, _ in compact.append(LEAVES[i])]
            trailing_ones = (i ^ (i + 1)).bit_length() - 1
            assert levels == list(range(1, trailing_ones + 1))

    @pytest.mark.parametrize("n", range(MAX_N + 1))
    def test_from_nodes_round_trips(self, n: int) -> None:
        grown = CompactRange()
        for leaf in LEAVES[:n]:
            grown.append(leaf)
        rebuilt = CompactRange.from_nodes(n, store(max(n, 1)))
        assert rebuilt.size == n
        assert rebuilt.peaks == grown.peaks
        assert rebuilt.root() == grown.root() == ref_mth(0, n)
        copied = CompactRange(grown.size, grown.peaks)
        for leaf in LEAVES[n:MAX_N]:
            assert rebuilt.append(leaf) == grown.append(leaf) == copied.append(leaf)
        assert rebuilt.root() == grown.root() == copied.root() == ref_mth(0, MAX_N)

    def test_peaks_is_a_copy(self) -> None:
        compact = CompactRange()
        compact.append(LEAVES[0])
        compact.peaks.clear()
        assert compact.peaks == [LEAVES[0]]

    @pytest.mark.parametrize(
        ("size", "peaks"),
        [
            (-1, []),
            (1, []),
            (3, [LEAVES[0]]),
            (2, [LEAVES[0], LEAVES[1]]),
            (0, [LEAVES[0]]),
            (1, [b"short"]),
        ],
    )
    def test_constructor_checks_one_peak_per_set_bit(self, size: int, peaks: list[bytes]) -> None:
        with pytest.raises(ValueError):
            CompactRange(size, peaks)

    def test_append_wants_a_leaf_hash(self) -> None:
        compact = CompactRange()
        with pytest.raises(ValueError):
            compact.append(b"raw data")
        assert compact.size == 0


# --- proof generation ----------------------------------------------------------------------


@pytest.mark.parametrize("n", SIZES)
def test_inclusion_proof_is_path(n: int) -> None:
    for i in range(n):
        assert inclusion_proof(i, n, store(n)) == ref_path(i, 0, n)


@pytest.mark.parametrize("n", SIZES)
def test_consistency_proof_is_proof(n: int) -> None:
    for m in range(1, n + 1):
        assert consistency_proof(m, n, store(n)) == ref_proof(m, n)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (3, 3), (4, 3), (-1, 3)])
def test_inclusion_proof_refuses_leaves_outside_the_tree(index: int, size: int) -> None:
    with pytest.raises(ValueError):
        inclusion_proof(index, size, store(MAX_N))


@pytest.mark.parametrize(("old", "new"), [(0, 0), (0, 5), (6, 5), (-1, 5)])
def test_consistency_proof_refuses_bad_sizes(old: int, new: int) -> None:
    with pytest.raises(ValueError):
        consistency_proof(old, new, store(MAX_N))


# --- verification --------------------------------------------------------------------------


def variants(proof: list[bytes]) -> list[list[bytes]]:
    """Every proof one edit away: each element altered, removed, duplicated; one added."""
    out: list[list[bytes]] = []
    for j in range(len(proof)):
        out.append([*proof[:j], flip(proof[j]), *proof[j + 1 :]])
        out.append([*proof[:j], flip(proof[j], 7), *proof[j + 1 :]])
        out.append(proof[:j] + proof[j + 1 :])
        out.append([*proof[: j + 1], proof[j], *proof[j + 1 :]])
    out.append([*proof, LEAVES[0]])
    out.append([LEAVES[0], *proof])
    return out


class TestVerifyInclusion:
    @pytest.mark.parametrize("n", SIZES)
    def test_accepts_every_valid_proof(self, n: int) -> None:
        root = ref_mth(0, n)
        for i in range(n):
            assert verify_inclusion(i, n, LEAVES[i], ref_path(i, 0, n), root)

    @pytest.mark.parametrize("n", SIZES)
    def test_rejects_altered_root_leaf_or_proof(self, n: int) -> None:
        root = ref_mth(0, n)
        for i in range(n):
            proof = ref_path(i, 0, n)
            assert not verify_inclusion(i, n, LEAVES[i], proof, flip(root))
            assert not verify_inclusion(i, n, flip(LEAVES[i]), proof, root)
            assert not verify_inclusion(i, n, LEAVES[i + 1], proof, root)
            for altered in variants(proof):
                assert not verify_inclusion(i, n, LEAVES[i], altered, root)

    @pytest.mark.parametrize("n", SIZES)
    def test_rejects_wrong_index(self, n: int) -> None:
        root = ref_mth(0, n)
        for i in range(n):
            proof = ref_path(i, 0, n)
            for other in range(n + 2):
                if other != i:
                    assert not verify_inclusion(other, n, LEAVES[i], proof, root)
            # an index at or past the size, even with the size it "belongs" to
            assert not verify_inclusion(n, n, LEAVES[i], proof, root)
            assert not verify_inclusion(i, i, LEAVES[i], proof, root)

    @pytest.mark.parametrize("n", SIZES)
    def test_rejects_wrong_size(self, n: int) -> None:
        """Claiming another size, with that size's true root, never verifies."""
        for i in range(n):
            proof = ref_path(i, 0, n)
            for other in range(0, LEAVES_KEPT + 1):
                if other != n:
                    root = ref_mth(0, other)
                    assert not verify_inclusion(i, other, LEAVES[i], proof, root)

    @pytest.mark.parametrize("n", SIZES)
    def test_proof_binds_the_size_only_through_its_shape(self, n: int) -> None:
        """Against the *same* root, another size verifies iff its PATH has the same shape.

        RFC 6962 proofs commit to the root, not to the size: the size must come from the
        same signed checkpoint as the root. (e.g. leaf 0 of 5 leaves verifies as leaf 0 of 6.)
        """
        root = ref_mth(0, n)
        for i in range(n):
            proof = ref_path(i, 0, n)
            for other in range(i + 1, LEAVES_KEPT + 1):
                same_shape = ref_path_sides(i, other) == ref_path_sides(i, n)
                assert verify_inclusion(i, other, LEAVES[i], proof, root) == same_shape

    def test_rejects_everything_in_an_empty_tree(self) -> None:
        assert not verify_inclusion(0, 0, LEAVES[0], [], EMPTY_ROOT)
        assert not verify_inclusion(0, 0, EMPTY_ROOT, [], EMPTY_ROOT)

    def test_single_leaf_tree(self) -> None:
        assert verify_inclusion(0, 1, LEAVES[0], [], LEAVES[0])
        assert not verify_inclusion(0, 1, LEAVES[0], [LEAVES[1]], LEAVES[0])


class TestVerifyConsistency:
    @pytest.mark.parametrize("n", SIZES)
    def test_accepts_every_valid_proof(self, n: int) -> None:
        for m in range(1, n + 1):
            assert verify_consistency(m, n, ref_proof(m, n), ref_mth(0, m), ref_mth(0, n))

    @pytest.mark.parametrize("n", SIZES)
    def test_rejects_altered_roots_or_proof(self, n: int) -> None:
        new_root = ref_mth(0, n)
        for m in range(1, n + 1):
            proof, old_root = ref_proof(m, n), ref_mth(0, m)
            assert not verify_consistency(m, n, proof, flip(old_root), new_root)
            assert not verify_consistency(m, n, proof, old_root, flip(new_root))
            assert not verify_consistency(m, n, proof, new_root, old_root) or m == n
            for altered in variants(proof):
                assert not verify_consistency(m, n, altered, old_root, new_root)

    @pytest.mark.parametrize("n", SIZES)
    def test_rejects_wrong_sizes(self, n: int) -> None:
        """With the true roots of the claimed sizes, only the real proof for them verifies."""
        for m in range(1, n + 1):
            proof = ref_proof(m, n)
            claims = [(other, n) for other in range(0, n + 2)]
            claims += [(m, other) for other in range(0, LEAVES_KEPT + 1)]
            for old, new in claims:
                if (old, new) == (m, n):
                    continue
                expected = 0 < old <= new and ref_proof(old, new) == proof
                old_root, new_root = ref_mth(0, max(old, 0)), ref_mth(0, new)
                assert verify_consistency(old, new, proof, old_root, new_root) == expected

    @pytest.mark.parametrize("n", SIZES)
    def test_rejects_old_size_larger_or_zero(self, n: int) -> None:
        root = ref_mth(0, n)
        for m in range(1, n):
            proof, old_root = ref_proof(m, n), ref_mth(0, m)
            assert not verify_consistency(n, m, proof, root, old_root)
            assert not verify_consistency(n, m, proof, old_root, root)
        assert not verify_consistency(0, n, [], EMPTY_ROOT, root)
        assert not verify_consistency(0, n, [root], EMPTY_ROOT, root)
        assert not verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)

    def test_equal_sizes_need_equal_roots_and_no_proof(self) -> None:
        root = ref_mth(0, 5)
        assert verify_consistency(5, 5, [], root, root)
        assert not verify_consistency(5, 5, [], root, ref_mth(0, 6))
        assert not verify_consistency(5, 5, [root], root, root)


# --- malformed input -----------------------------------------------------------------------

H = LEAVES[0]
BAD_SIZES: list[object] = [-1, -(2**70), True, 1.0, "1", None, b"\x01"]
BAD_HASHES: list[object] = [b"", H[:31], H + b"\x00", bytearray(H), H.hex(), None, 0]
BAD_PROOFS: list[object] = [
    None,
    H,
    H.hex(),
    [None],
    [H[:31]],
    [bytearray(H)],
    [H.hex()],
    iter([H]),
    {H},
    42,
]


class TestMalformedInputIsRejectedNotRaised:
    def test_inclusion(self) -> None:
        proof, root = ref_path(2, 0, 5), ref_mth(0, 5)
        call: Callable[..., bool] = verify_inclusion
        for bad_size in BAD_SIZES:
            assert call(bad_size, 5, LEAVES[2], proof, root) is False
            assert call(2, bad_size, LEAVES[2], proof, root) is False
        for bad_hash in BAD_HASHES:
            assert call(2, 5, bad_hash, proof, root) is False
            assert call(2, 5, LEAVES[2], proof, bad_hash) is False
            assert call(2, 5, LEAVES[2], [bad_hash, *proof[1:]], root) is False
        for bad_proof in BAD_PROOFS:
            assert call(2, 5, LEAVES[2], bad_proof, root) is False
        assert call(2, 5, LEAVES[2], tuple(proof), root) is True

    def test_consistency(self) -> None:
        proof, old, new = ref_proof(3, 7), ref_mth(0, 3), ref_mth(0, 7)
        call: Callable[..., bool] = verify_consistency
        for bad_size in BAD_SIZES:
            assert call(bad_size, 7, proof, old, new) is False
            assert call(3, bad_size, proof, old, new) is False
        for bad_hash in BAD_HASHES:
            assert call(3, 7, proof, bad_hash, new) is False
            assert call(3, 7, proof, old, bad_hash) is False
            assert call(3, 7, [bad_hash, *proof[1:]], old, new) is False
        for bad_proof in BAD_PROOFS:
            assert call(3, 7, bad_proof, old, new) is False
            assert call(7, 7, bad_proof, new, new) is False
        assert call(3, 7, tuple(proof), old, new) is True

    def test_huge_sizes(self) -> None:
        for size in (2**64, 2**70 + 12345, 2**200):
            assert not verify_inclusion(size - 1, size, H, [H] * 64, H)
            assert not verify_consistency(size // 3, size, [H] * 64, H, H)
        assert not verify_inclusion(0, 2**64, H, [H] * 10**6, H)

    @settings(max_examples=300, deadline=None)
    @given(
        index=st.integers(-5, 2**70),
        size=st.integers(-5, 2**70),
        proof=st.lists(st.binary(min_size=31, max_size=33), max_size=80),
        leaf=st.binary(min_size=32, max_size=32),
    )
    def test_random_input_never_raises(
        self, index: int, size: int, proof: list[bytes], leaf: bytes
    ) -> None:
        assert verify_inclusion(index, size, leaf, proof, leaf) in (True, False)
        assert verify_consistency(index, size, proof, leaf, leaf) in (True, False)


# --- bigger random trees -------------------------------------------------------------------


def leaves_for(seed: int, n: int) -> list[bytes]:
    return [sha256(b"\x00" + seed.to_bytes(8, "big") + i.to_bytes(8, "big")) for i in range(n)]


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 2000), seed=st.integers(0, 2**32), data=st.data())
def test_bigger_trees_agree(n: int, seed: int, data: st.DataObject) -> None:
    leaves = leaves_for(seed, n)
    root = root_of(leaves)
    assert root == ref_mth_list(leaves)

    compact = CompactRange()
    nodes: dict[tuple[int, int], bytes] = {}
    for i, leaf in enumerate(leaves):
        nodes[0, i] = leaf
        for level, index, digest in compact.append(leaf):
            nodes[level, index] = digest
    assert compact.root() == root
    assert range_root(0, n, lookup(nodes)) == root

    index = data.draw(st.integers(0, n - 1), label="index")
    proof = inclusion_proof(index, n, lookup(nodes))
    assert verify_inclusion(index, n, leaves[index], proof, root)
    assert len(proof) <= (n - 1).bit_length()

    old = data.draw(st.integers(1, n), label="old size")
    proof = consistency_proof(old, n, lookup(nodes))
    assert verify_consistency(old, n, proof, root_of(leaves[:old]), root)
    assert len(proof) <= (n - 1).bit_length() + 1
    assert CompactRange.from_nodes(old, lookup(nodes)).root() == root_of(leaves[:old])
