"""Item stores for range-based set reconciliation: the ``ItemStore`` protocol and an in-memory implementation.

The reconciler only ever asks a store positional questions about its items sorted by ``(timestamp, id)``:
how many there are, where a bound falls, which ids lie in a range and the order-free aggregates of a range
(count, sum of ids mod 2^256, XOR of the ids' first 16 bytes). Keeping the interface positional lets the
node back it with SQLite or a cache without the algorithm knowing, exactly as negentropy's storage does.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

ID_SIZE = 32
MAX_TIMESTAMP = 2**64 - 1
SUM_MODULUS = 2**256
XOR_BYTES = 16


@dataclass(frozen=True)
class RangeSums:
    """Order-free aggregates of a range: equal sets give equal sums, and sums compose by addition/XOR."""

    count: int
    id_sum: int  # sum of ids read as little-endian 256-bit integers, mod 2^256
    id_xor: int  # XOR of the ids' first 16 bytes read as little-endian integers


class ItemStore(Protocol):
    """A snapshot of items sorted by ``(timestamp, id)``; must not change during one reconciliation."""

    def __len__(self) -> int: ...

    def item(self, index: int) -> tuple[int, bytes]:
        """The ``(timestamp, id)`` at ``index`` (0 <= index < len)."""
        ...

    def lower_bound(self, timestamp: int, id_prefix: bytes, begin: int, end: int) -> int:
        """First index in [begin, end) whose item is >= (timestamp, id_prefix padded with zeros), else end."""
        ...

    def ids(self, begin: int, end: int) -> list[bytes]:
        """The ids of the items in [begin, end), in order."""
        ...

    def sums(self, begin: int, end: int) -> RangeSums:
        """The aggregates of the items in [begin, end)."""
        ...


def check_item(timestamp: int, item_id: bytes) -> None:
    """Refuse items the wire encoding cannot carry (programming error in the caller, hence ValueError)."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError("timestamp out of range 0..2^64-1")
    if len(item_id) != ID_SIZE:
        raise ValueError("ids are 32 bytes")


class MemoryStore:
    """Sorted items in compact arrays with lazily rebuilt prefix aggregates.

    Timestamps live in an ``array('Q')`` and ids in one ``bytearray`` (40 bytes per item), so 10^6 items
    fit in ~40 MB plus the prefix aggregates. Range sums are O(1) from prefix arrays; inserting marks the
    prefixes dirty from the insertion point, and the next query rebuilds only that tail (new objects
    usually carry the newest timestamps, so the tail is short).
    """

    def __init__(self, items: Iterable[tuple[int, bytes]] = ()) -> None:
        pairs = sorted(set(items))
        for ts, item_id in pairs:
            check_item(ts, item_id)
        self._ts = array("Q", (ts for ts, _ in pairs))
        self._ids = bytearray(b"".join(item_id for _, item_id in pairs))
        self._psum: list[int] = [0]
        self._pxor: list[int] = [0]
        self._clean = 0  # prefixes are valid for items [0, _clean)

    def __len__(self) -> int:
        return len(self._ts)

    def item(self, index: int) -> tuple[int, bytes]:
        return self._ts[index], bytes(self._ids[index * ID_SIZE : (index + 1) * ID_SIZE])

    def _position(self, timestamp: int, item_id: bytes, begin: int, end: int) -> int:
        lo = bisect.bisect_left(self._ts, timestamp, begin, end)
        hi = bisect.bisect_right(self._ts, timestamp, lo, end)
        while lo < hi:  # items sharing the timestamp, ordered by id
            mid = (lo + hi) // 2
            if self._ids[mid * ID_SIZE : (mid + 1) * ID_SIZE] < item_id:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def lower_bound(self, timestamp: int, id_prefix: bytes, begin: int, end: int) -> int:
        if timestamp > MAX_TIMESTAMP:
            return end
        return self._position(timestamp, id_prefix, begin, end)

    def contains(self, timestamp: int, item_id: bytes) -> bool:
        i = self._position(timestamp, item_id, 0, len(self))
        return i < len(self) and self.item(i) == (timestamp, item_id)

    def add(self, timestamp: int, item_id: bytes) -> bool:
        """Insert one item; returns False if it was already present."""
        check_item(timestamp, item_id)
        i = self._position(timestamp, item_id, 0, len(self))
        if i < len(self) and self.item(i) == (timestamp, item_id):
            return False
        self._ts.insert(i, timestamp)
        self._ids[i * ID_SIZE : i * ID_SIZE] = item_id
        self._clean = min(self._clean, i)
        return True

    def add_many(self, items: Iterable[tuple[int, bytes]]) -> int:
        """Insert several items; returns how many were new."""
        return sum(self.add(ts, item_id) for ts, item_id in items)

    def copy(self) -> MemoryStore:
        """An independent copy (cheap: the arrays are copied in C, prefixes share their integers)."""
        clone = MemoryStore()
        clone._ts = array("Q", self._ts)
        clone._ids = bytearray(self._ids)
        clone._psum = list(self._psum)
        clone._pxor = list(self._pxor)
        clone._clean = self._clean
        return clone

    def ids(self, begin: int, end: int) -> list[bytes]:
        blob = bytes(self._ids[begin * ID_SIZE : end * ID_SIZE])
        return [blob[k : k + ID_SIZE] for k in range(0, len(blob), ID_SIZE)]

    def _rebuild(self) -> None:
        n = len(self._ts)
        start = self._clean
        del self._psum[start + 1 :]
        del self._pxor[start + 1 :]
        s, x = self._psum[start], self._pxor[start]
        ids = self._ids
        frombytes = int.from_bytes
        mask = SUM_MODULUS - 1
        psum_append, pxor_append = self._psum.append, self._pxor.append
        for k in range(start * ID_SIZE, n * ID_SIZE, ID_SIZE):
            s = (s + frombytes(ids[k : k + ID_SIZE], "little")) & mask
            x ^= frombytes(ids[k : k + XOR_BYTES], "little")
            psum_append(s)
            pxor_append(x)
        self._clean = n

    def sums(self, begin: int, end: int) -> RangeSums:
        if self._clean < len(self._ts):
            self._rebuild()
        return RangeSums(
            count=end - begin,
            id_sum=(self._psum[end] - self._psum[begin]) % SUM_MODULUS,
            id_xor=self._pxor[end] ^ self._pxor[begin],
        )
