"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and the compact range for appends.

Leaves are numbered from 0. A *perfect subtree* ``(level, index)`` covers the leaves
``[index * 2**level, (index + 1) * 2**level)``; its hash never changes once the tree has grown
past it, so it can be stored once and looked up by a `NodeLookup` when building proofs. Level 0
is the leaf hash itself.

All hashes are SHA-256 with the RFC 6962 domain separation: ``0x00`` before leaf data, ``0x01``
before a pair of child hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import TypeAlias

HASH_SIZE = 32
EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

NodeLookup: TypeAlias = Callable[[int, int], bytes]
"""``(level, index) -> hash`` of a perfect subtree already in the tree."""


# --- hashing -------------------------------------------------------------------------------


def leaf_hash(header: bytes, payload_hash: bytes) -> bytes:
    """The leaf data is ``header || payload_hash``.

    `payload_hash` must be `HASH_SIZE` bytes: its fixed length is what makes the
    concatenation unambiguous (the header is everything before the last 32 bytes).
    """
    if len(payload_hash) != HASH_SIZE:
        raise ValueError(f"payload_hash must be {HASH_SIZE} bytes, not {len(payload_hash)}")
    return hashlib.sha256(_LEAF_PREFIX + header + payload_hash).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Both children must be `HASH_SIZE` bytes."""
    if len(left) != HASH_SIZE or len(right) != HASH_SIZE:
        raise ValueError(f"child hashes must be {HASH_SIZE} bytes")
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


# --- tree shape ----------------------------------------------------------------------------


def split_point(n: int) -> int:
    """k with k < n <= 2k, k a power of two: where RFC 6962 splits a tree of n >= 2 leaves."""
    if n < 2:
        raise ValueError(f"a tree of {n} leaves has no split point")
    return 1 << ((n - 1).bit_length() - 1)


def perfect_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """Leaves ``[start, end)`` as aligned perfect subtrees ``(level, index)``, left to right.

    Greedy: each step takes the largest block that is aligned at the current position and
    fits before `end`. For a tree ``[0, n)`` these are the subtrees of the set bits of n,
    largest first.
    """
    if not 0 <= start <= end:
        raise ValueError(f"invalid leaf range [{start}, {end})")
    out: list[tuple[int, int]] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        out.append((level, start >> level))
        start += 1 << level
    return out


def _fold(peaks: Sequence[bytes]) -> bytes:
    """``node(P1, node(P2, ... Pk))``: MTH of adjacent perfect subtrees given largest first."""
    root = peaks[-1]
    for peak in reversed(peaks[:-1]):
        root = node_hash(peak, root)
    return root


def range_root(start: int, end: int, node: NodeLookup) -> bytes:
    """MTH of leaves ``[start, end)`` from stored perfect-subtree hashes.

    Only for ranges whose start is a multiple of the smallest power of two >= their length:
    those are the ranges RFC 6962's recursion produces, and for them the MTH is the right fold
    of their perfect subtrees. Other ranges raise ValueError: in general the fold would be the
    hash of a different tree shape.
    """
    length = end - start
    if start < 0 or length <= 0:
        raise ValueError(f"empty or invalid leaf range [{start}, {end})")
    if start % (1 << (length - 1).bit_length()):
        raise ValueError(f"leaf range [{start}, {end}) is not a subtree of any RFC 6962 tree")
    return _fold([node(level, index) for level, index in perfect_subtrees(start, end)])


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH of the given leaf hashes, bottom up: pair neighbours, carry an odd last node up.

    Carrying the odd node up unchanged gives exactly the RFC 6962 tree: at every level the
    nodes are the complete perfect subtrees plus, at the end, the MTH of the leftover leaves.
    """
    if any(len(leaf) != HASH_SIZE for leaf in leaves):
        raise ValueError(f"leaf hashes must be {HASH_SIZE} bytes")
    if not leaves:
        return EMPTY_ROOT
    sha256 = hashlib.sha256
    level = list(leaves)
    while len(level) > 1:
        pairs = zip(level[0::2], level[1::2], strict=False)  # an odd last node is left out
        upper = [sha256(_NODE_PREFIX + left + right).digest() for left, right in pairs]
        if len(level) % 2:
            upper.append(level[-1])
        level = upper
    return level[0]


# --- proofs --------------------------------------------------------------------------------


def inclusion_proof(index: int, size: int, node: NodeLookup) -> list[bytes]:
    """RFC 6962 PATH(index, D[size]): sibling subtree roots, leaf end first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    top_down: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        middle = start + split_point(end - start)
        if index < middle:
            top_down.append(range_root(middle, end, node))
            end = middle
        else:
            top_down.append(range_root(start, middle, node))
            start = middle
    return top_down[::-1]


def consistency_proof(old_size: int, new_size: int, node: NodeLookup) -> list[bytes]:
    """RFC 6962 PROOF(old_size, D[new_size]) = SUB(old_size, D[new_size], True)."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to {new_size}")
    top_down: list[bytes] = []
    start, end, whole_old_tree = 0, new_size, True
    while end != old_size:  # invariant: start < old_size <= end
        middle = start + split_point(end - start)
        if old_size <= middle:
            top_down.append(range_root(middle, end, node))
            end = middle
        else:
            top_down.append(range_root(start, middle, node))
            start = middle
            whole_old_tree = False
    if not whole_old_tree:
        top_down.append(range_root(start, end, node))
    return top_down[::-1]


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) -------------------------------------------


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_proof(values: object, length: int) -> bool:
    """A sequence of exactly `length` hashes (length checked first: proofs may be hostile)."""
    return (
        isinstance(values, Sequence) and len(values) == length and all(_is_hash(v) for v in values)
    )


def _inclusion_length(index: int, size: int) -> int:
    """Nodes in PATH(index, D[size]): one per level below the split between `index` and the
    last leaf, plus one per perfect subtree on the left above it."""
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def _consistency_length(old_size: int, new_size: int) -> int:
    """Nodes in PROOF(old_size, D[new_size]) for 0 < old_size < new_size: the inclusion path
    of leaf old_size - 1 above the perfect subtree that ends the old tree, plus that subtree's
    root unless it is the whole old tree (old_size a power of two)."""
    shift = (old_size & -old_size).bit_length() - 1
    path = _inclusion_length(old_size - 1, new_size) - shift
    return path + (0 if old_size == 1 << shift else 1)


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """True iff `proof` is the RFC 6962 PATH of `leaf` at `index` in the tree with `root`.

    The tree size is not bound by the proof alone (trees of other sizes can share a path
    shape), so `size` and `root` must come from the same signed checkpoint.
    """
    if not (_is_size(index) and _is_size(size) and _is_hash(leaf) and _is_hash(root)):
        return False
    if index >= size or not _is_proof(proof, _inclusion_length(index, size)):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> bool:
    """True iff `proof` shows the tree with `new_root` extends the one with `old_root`.

    Requires 0 < old_size <= new_size; for equal sizes the proof is empty and the roots equal.
    """
    if not (_is_size(old_size) and _is_size(new_size)):
        return False
    if not (_is_hash(old_root) and _is_hash(new_root)) or not 0 < old_size <= new_size:
        return False
    if old_size == new_size:
        return _is_proof(proof, 0) and old_root == new_root
    if not _is_proof(proof, _consistency_length(old_size, new_size)):
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


# --- appending -----------------------------------------------------------------------------


class CompactRange:
    """The right edge of a tree being appended to: one perfect-subtree root per set bit of size.

    Invariant: ``peaks`` are the roots of ``perfect_subtrees(0, size)``, largest first.
    """

    __slots__ = ("_peaks", "_size")

    def __init__(self, size: int = 0, peaks: Sequence[bytes] = ()) -> None:
        if not _is_size(size):
            raise ValueError(f"invalid tree size {size!r}")
        if len(peaks) != size.bit_count():
            raise ValueError(f"size {size} needs {size.bit_count()} peaks, not {len(peaks)}")
        if not all(_is_hash(p) for p in peaks):
            raise ValueError(f"peaks must be {HASH_SIZE}-byte hashes")
        self._size = size
        self._peaks = list(peaks)

    @classmethod
    def from_nodes(cls, size: int, node: NodeLookup) -> CompactRange:
        """Rebuild from the stored perfect subtrees of a tree of `size` leaves."""
        return cls(size, [node(level, index) for level, index in perfect_subtrees(0, size)])

    @property
    def size(self) -> int:
        return self._size

    @property
    def peaks(self) -> list[bytes]:
        """A copy, largest subtree first."""
        return list(self._peaks)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; return the perfect subtrees ``(level, index, hash)`` it completed.

        Level 0 (the leaf itself) is not reported. Every perfect subtree of level >= 1 is
        reported exactly once over a run of appends, by the append of its last leaf.
        """
        if not _is_hash(leaf):
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes")
        position = self._size
        self._size = position + 1
        peaks = self._peaks
        if not position & 1:  # a left child: nothing completes (every other leaf)
            peaks.append(leaf)
            return []
        # Peaks are HASH_SIZE bytes by the invariant, so node_hash's checks are not repeated.
        sha256 = hashlib.sha256
        completed: list[tuple[int, int, bytes]] = []
        level, current = 0, leaf
        while (position >> level) & 1:
            level += 1
            current = sha256(_NODE_PREFIX + peaks.pop() + current).digest()
            completed.append((level, position >> level, current))
        peaks.append(current)
        return completed

    def root(self) -> bytes:
        """MTH of all leaves so far (EMPTY_ROOT when empty)."""
        return _fold(self._peaks) if self._peaks else EMPTY_ROOT

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, root={self.root().hex()})"
