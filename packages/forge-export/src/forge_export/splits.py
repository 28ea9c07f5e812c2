"""Group-aware deterministic splits and cross-split near-duplicate removal.

The split of a scenario depends only on ``seed`` and its ``group_id``: a stable hash (blake2b,
never the per-process salted ``hash()``) mapped to ``[0, 1)`` and compared with ``test_size``.
So all variants of one group land in one split, the same data gives the same split in every
process, and adding scenarios never moves old ones.

Near-duplicates (same :func:`forge_export.ids.normalize_text` of the prompt) are removed across
splits, first seen wins. The keys are kept as 8-byte digests in an open-addressing table over an
``array('Q')``, about 16-32 bytes per distinct prompt instead of a Python string each.

Example:
    >>> assign_split("group-1", seed=0, test_size=0.2) == assign_split("group-1", 0, 0.2)
    True
    >>> seen = PromptDeduplicator()
    >>> seen.add("How do I  kill a process?"), seen.add("how do i kill a PROCESS?")
    (True, False)
"""

from __future__ import annotations

import hashlib
from array import array

from forge_export.ids import normalize_text

_TWO64 = float(2**64)


def _digest64(text: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little", signed=False
    )


def split_point(group_id: str, seed: int) -> float:
    """The stable position of a group in ``[0, 1)`` for a seed."""
    return _digest64(f"{seed}\x1f{group_id}") / _TWO64


def assign_split(group_id: str, seed: int, test_size: float) -> str:
    """``"test"`` if the group's stable position is below ``test_size``, else ``"train"``.

    Args:
        group_id: The scenario's group; every variant of a group gets the same split.
        seed: Changes the assignment as a whole.
        test_size: Expected share of groups in ``test``, in ``[0, 1]``.
    """
    return "test" if split_point(group_id, seed) < test_size else "train"


class DigestSet:
    """A set of 64-bit digests in one flat ``array('Q')`` (open addressing, linear probing).

    Memory is 8 bytes per slot with at most half the slots used, so 16-32 bytes per item.
    """

    __slots__ = ("_mask", "_n", "_slots")

    def __init__(self, capacity: int = 1024) -> None:
        size = 1
        while size < max(capacity, 8) * 2:
            size <<= 1
        self._slots = array("Q", bytes(8 * size))
        self._mask = size - 1
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @property
    def nbytes(self) -> int:
        """Bytes held by the table."""
        return self._slots.itemsize * len(self._slots)

    @staticmethod
    def _key(digest: int) -> int:
        return digest or 1  # 0 marks an empty slot

    def __contains__(self, digest: object) -> bool:
        if not isinstance(digest, int):
            return False
        key = self._key(digest)
        slots, mask = self._slots, self._mask
        i = key & mask
        while True:
            v = slots[i]
            if v == 0:
                return False
            if v == key:
                return True
            i = (i + 1) & mask

    def add(self, digest: int) -> bool:
        """Insert ``digest``; True if it was not there before."""
        key = self._key(digest)
        slots, mask = self._slots, self._mask
        i = key & mask
        while True:
            v = slots[i]
            if v == 0:
                break
            if v == key:
                return False
            i = (i + 1) & mask
        slots[i] = key
        self._n += 1
        if self._n * 2 > len(slots):
            self._grow()
        return True

    def _grow(self) -> None:
        old = self._slots
        size = len(old) * 2
        self._slots = slots = array("Q", bytes(8 * size))
        self._mask = mask = size - 1
        for key in old:
            if key:
                i = key & mask
                while slots[i]:
                    i = (i + 1) & mask
                slots[i] = key


class PromptDeduplicator:
    """Remembers normalised prompts (as 8-byte digests); first seen wins."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen = DigestSet()

    @staticmethod
    def key(prompt: str) -> int:
        """The 64-bit digest of ``normalize_text(prompt)``."""
        return _digest64(normalize_text(prompt))

    def seen(self, prompt: str) -> bool:
        """True if a near-duplicate of ``prompt`` was already added."""
        return self.key(prompt) in self._seen

    def add(self, prompt: str) -> bool:
        """Remember ``prompt``; True if no near-duplicate of it was added before."""
        return self._seen.add(self.key(prompt))

    def has_key(self, key: int) -> bool:
        """True if the digest ``key`` (see :meth:`key`) was already added."""
        return key in self._seen

    def add_key(self, key: int) -> bool:
        """Remember the digest ``key``; True if it was new."""
        return self._seen.add(key)

    def __len__(self) -> int:
        return len(self._seen)

    @property
    def nbytes(self) -> int:
        """Bytes held by the digest table."""
        return self._seen.nbytes
