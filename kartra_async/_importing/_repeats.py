"""Counting rows that name a lead an earlier row already named, in little memory.

Real exports repeat emails; the summary says how many rows did. Each lead key (casefolded email,
else ``id N``) is kept as a 64-bit fingerprint in an open-addressing table of machine words:
8 to 23 bytes per distinct lead (the table doubles at 70 % full), against some 100 for a set of
strings: the one part of an import whose memory grows with the input (16 MB per million leads at
most). A false "repeat" needs
two of the run's leads to share 64 bits of BLAKE2b: for ten million distinct leads the chance of
even one is about 1 in 370 000.
"""

from __future__ import annotations

import hashlib
from array import array


class SeenLeads:
    """A set of lead keys that answers "seen before?" while adding."""

    def __init__(self) -> None:
        self._slots = array("Q", [0]) * 1024
        self._used = 0

    def add(self, key: str) -> bool:
        """Add ``key``; True if it was already there."""
        digest = hashlib.blake2b(key.casefold().encode("utf-8", "surrogateescape"), digest_size=8)
        mark = int.from_bytes(digest.digest(), "little") | 1  # 0 marks an empty slot
        if (self._used + 1) * 10 > len(self._slots) * 7:
            self._grow()
        if _insert(self._slots, mark):
            return True
        self._used += 1
        return False

    def __len__(self) -> int:
        return self._used

    def _grow(self) -> None:
        old = self._slots
        self._slots = array("Q", [0]) * (len(old) * 2)
        for mark in old:
            if mark:
                _insert(self._slots, mark)


def _insert(slots: array[int], mark: int) -> bool:
    """Put ``mark`` in ``slots`` (linear probing); True if it was already there."""
    mask = len(slots) - 1
    index = (mark >> 1) & mask
    while True:
        current = slots[index]
        if current == mark:
            return True
        if current == 0:
            slots[index] = mark
            return False
        index = (index + 1) & mask
