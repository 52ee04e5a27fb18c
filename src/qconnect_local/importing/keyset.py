"""A compact set of strings for the import's uniqueness checks (names and shortcut keys).

An import holds every name and shortcut key of the knowledge base and of the file's good rows
until it lands; as Python sets of str that is most of the import's memory budget (figures in
docs/performance.md). `KeySet` answers the same two questions (`in`, `add`) exactly, in a third
of the memory: open addressing over two arrays of 32-bit numbers (31 bits of each key's hash,
and where its UTF-8 bytes start in one shared bytearray, which therefore holds at most 4 GiB of
keys). A hash hit compares the stored bytes, so two different keys are never taken for one
another.

The import asks "is it free?" and then takes it: `vacancy` probes once and returns the slot
that `fill` then writes (no second hash and probe), and a size hint (`expected`, from the
upload's size) saves the regrowths, each of which re-inserts every key in Python.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable

_EMPTY = 0
_MIN_SLOTS = 1024
_HASH_BITS = 0x7FFFFFFF  # what a slot keeps of a key's hash (fits array "i")


class KeySet:
    __slots__ = ("_hashes", "_offsets", "_data", "_mask", "_size", "_vacant_hash")

    def __init__(self, keys: Iterable[str] = (), expected: int = 0) -> None:
        """`expected`: how many keys are likely to be added (a hint: slots for them are made
        up front, at most half full, as growing would leave them)."""
        self._data = bytearray()
        self._size = 0
        self._vacant_hash = 0
        keys = list(keys)
        slots = _MIN_SLOTS
        while slots < 2 * (len(keys) + expected) + 1:
            slots *= 2
        self._allocate(slots)
        for key in keys:
            self.add(key)

    def _allocate(self, slots: int) -> None:
        self._mask = slots - 1
        self._hashes = array("i", bytes(4 * slots))
        self._offsets = array("I", bytes(4 * slots))  # 1 + where the key starts in _data; 0: empty

    def __len__(self) -> int:
        return self._size

    def _equals(self, offset: int, key: str) -> bool:
        data = self._data
        start = offset - 1
        length = int.from_bytes(data[start : start + 4], "little")
        return data[start + 4 : start + 4 + length] == key.encode("utf-8", "surrogatepass")

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.vacancy(key) < 0

    def vacancy(self, key: str) -> int:
        """The slot `fill(slot, key)` would write, or -1 when `key` is in the set. Only a `fill`
        of this same key may follow (the slot is good until the set changes)."""
        h = hash(key) & _HASH_BITS
        hashes, offsets, mask = self._hashes, self._offsets, self._mask
        i = h & mask
        while True:
            offset = offsets[i]
            if offset == _EMPTY:
                self._vacant_hash = h
                return i
            if hashes[i] == h and self._equals(offset, key):
                return -1
            i = (i + 1) & mask

    def fill(self, slot: int, key: str) -> None:
        """Adds `key` at the slot `vacancy(key)` returned."""
        encoded = key.encode("utf-8", "surrogatepass")
        self._hashes[slot] = self._vacant_hash
        self._offsets[slot] = len(self._data) + 1
        self._data += len(encoded).to_bytes(4, "little")
        self._data += encoded
        self._size += 1
        if self._size * 2 > self._mask + 1:  # at most half full: short probe runs
            self._grow()

    def add(self, key: str) -> None:
        slot = self.vacancy(key)
        if slot >= 0:
            self.fill(slot, key)

    def _grow(self) -> None:
        old_hashes, old_offsets = self._hashes, self._offsets
        self._allocate((self._mask + 1) * 2)
        hashes, offsets, mask = self._hashes, self._offsets, self._mask
        for h, offset in zip(old_hashes, old_offsets, strict=True):
            if offset != _EMPTY:
                i = h & mask
                while offsets[i] != _EMPTY:
                    i = (i + 1) & mask
                hashes[i] = h
                offsets[i] = offset
