"""Range-based set reconciliation over ``(timestamp, id)`` items, in the manner of negentropy (NIP-77).

Sans-IO: a ``Reconciler`` wraps an ``ItemStore`` snapshot and turns received messages into replies.
The initiator calls ``initiate()`` then ``reconcile(reply)`` until it returns ``None`` as next message;
it alone learns the difference (``have``: ids it holds that the peer lacks, ``need``: ids the peer holds
that it lacks). The responder calls ``respond(message)`` for each message and keeps no state.

Besides negentropy's fingerprints and id lists, a range can carry its raw aggregates (count, sum of ids
mod 2^256, XOR of id prefixes): when the two sides differ by exactly one item in that range, the
difference of the sums *is* the missing id, checked against the XOR. Differences usually isolate early,
so most of them resolve at that step without descending to id lists, which keeps the bytes close to
the size of the difference (see specs/reconcile.md for the rules and figures).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

from protocol.errors import DecodeError
from protocol.reconcile_store import ID_SIZE, SUM_MODULUS, XOR_BYTES, ItemStore, RangeSums
from protocol.reconcile_wire import (
    FINGERPRINT_SIZE,
    INFINITE_BOUND,
    MIN_BOUND,
    MODE_DIFF,
    MODE_FINGERPRINT,
    MODE_IDLIST,
    MODE_SKIP,
    MODE_SUMS,
    SUM_SIZE,
    XOR_SIZE,
    Bound,
    Reader,
    Writer,
    encode_varint,
    minimal_bound,
)

__all__ = ["DEFAULT_CONFIG", "ReconcileConfig", "Reconciler", "fingerprint"]

# A mismatching range is sent as sums when the expected number of differences in it is at most this
# (Poisson: P(exactly one | at least one) ~ 0.77 at 0.5); denser ranges are split into pieces expected to
# hold _PIECE_DENSITY differences each.
_SINGLE_DENSITY = 0.5
_PIECE_DENSITY = 0.25
# Room kept free for the closing fingerprint entry when a frame fills up: bound(2) + mode(1) + fingerprint.
_CLOSING_ENTRY = 2 + 1 + FINGERPRINT_SIZE


@dataclass(frozen=True)
class ReconcileConfig:
    """Tuning knobs; both sides may differ, the protocol converges regardless.

    ``idlist_max``: a mismatching range with at most this many own items is answered with its id list.
    ``sums_max``: a mismatching fingerprint range with at most this many items is answered with its sums.
    ``branch_max``: most buckets a range is split into at once.
    ``frame_size_limit``: largest message produced; ``max_message``: largest message accepted.
    """

    idlist_max: int = 32
    sums_max: int = 1024
    branch_max: int = 1024
    frame_size_limit: int = 131072
    max_message: int = 1 << 21

    def __post_init__(self) -> None:
        if self.idlist_max < 1 or self.sums_max < self.idlist_max or self.branch_max < 2:
            raise ValueError("need 1 <= idlist_max <= sums_max and branch_max >= 2")
        if self.frame_size_limit < 4096 + 512 * self.idlist_max or self.max_message < self.frame_size_limit:
            raise ValueError("frame_size_limit must be >= 4096 + 512 * idlist_max and <= max_message")


DEFAULT_CONFIG = ReconcileConfig()


def fingerprint(sums: RangeSums) -> bytes:
    """negentropy v1 fingerprint: SHA-256(sum of ids mod 2^256, 32 bytes LE || varint(count))[:16]."""
    data = sums.id_sum.to_bytes(SUM_SIZE, "little") + encode_varint(sums.count)
    return hashlib.sha256(data).digest()[:FINGERPRINT_SIZE]


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


class _Output:
    """Builds one outgoing message: merges skipped ranges, enforces the frame size limit."""

    def __init__(self, store: ItemStore, config: ReconcileConfig) -> None:
        self.store = store
        self.config = config
        self.writer = Writer()
        self.last_bound = MIN_BOUND  # bound of the last entry written
        self.last_index = 0  # own index at that bound
        self.full = False
        self.entries = 0

    def _open(self, lower: Bound) -> tuple[int, int]:
        mark = self.writer.mark()
        if lower != self.last_bound:  # ranges skipped since the last entry: one SKIP covers them all
            self.writer.bound(lower)
            self.writer.varint(MODE_SKIP)
        return mark

    def _close(self, mark: tuple[int, int], upper: Bound, upper_index: int) -> bool:
        if len(self.writer.buf) + _CLOSING_ENTRY > self.config.frame_size_limit:
            self.writer.rollback(mark)
            self._finish_full()
            return False
        self.last_bound, self.last_index = upper, upper_index
        self.entries += 1
        return True

    def _finish_full(self) -> None:
        """Frame full: one fingerprint over everything not yet settled, so the peer asks again for it."""
        self.writer.bound(INFINITE_BOUND)
        self.writer.varint(MODE_FINGERPRINT)
        self.writer.raw(fingerprint(self.store.sums(self.last_index, len(self.store))))
        self.entries += 1
        self.full = True

    def fingerprint(self, lower: Bound, upper: Bound, lo: int, hi: int) -> bool:
        mark = self._open(lower)
        self.writer.bound(upper)
        self.writer.varint(MODE_FINGERPRINT)
        self.writer.raw(fingerprint(self.store.sums(lo, hi)))
        return self._close(mark, upper, hi)

    def sums(self, lower: Bound, upper: Bound, lo: int, hi: int) -> bool:
        s = self.store.sums(lo, hi)
        mark = self._open(lower)
        self.writer.bound(upper)
        self.writer.varint(MODE_SUMS)
        self.writer.varint(s.count)
        self.writer.raw(s.id_sum.to_bytes(SUM_SIZE, "little"))
        self.writer.raw(s.id_xor.to_bytes(XOR_SIZE, "little"))
        return self._close(mark, upper, hi)

    def id_list(self, lower: Bound, upper: Bound, lo: int, hi: int) -> bool:
        mark = self._open(lower)
        self.writer.bound(upper)
        self.writer.varint(MODE_IDLIST)
        self.writer.varint(hi - lo)
        self.writer.raw(b"".join(self.store.ids(lo, hi)))
        return self._close(mark, upper, hi)

    def diff(self, lower: Bound, upper: Bound, hi: int, you_lack: list[bytes], i_lack: list[bytes]) -> bool:
        mark = self._open(lower)
        self.writer.bound(upper)
        self.writer.varint(MODE_DIFF)
        for ids in (you_lack, i_lack):
            self.writer.varint(len(ids))
            self.writer.raw(b"".join(ids))
        return self._close(mark, upper, hi)

    def split(self, lower: Bound, upper: Bound, lo: int, hi: int, buckets: int) -> bool:
        """Fingerprints of ``buckets`` consecutive slices of own items, with the shortest bounds between."""
        count = hi - lo
        buckets = max(1, min(buckets, count))
        mark = self._open(lower)
        start = lo
        for i in range(1, buckets + 1):
            end = lo + count * i // buckets
            bound = upper if i == buckets else minimal_bound(self.store.item(end - 1), self.store.item(end))
            self.writer.bound(bound)
            self.writer.varint(MODE_FINGERPRINT)
            self.writer.raw(fingerprint(self.store.sums(start, end)))
            start = end
        return self._close(mark, upper, hi)


class Reconciler:
    """One side of a reconciliation session over a store snapshot (see module docstring)."""

    def __init__(self, store: ItemStore, config: ReconcileConfig = DEFAULT_CONFIG) -> None:
        self.store = store
        self.config = config
        self._initiated = False
        self._reported: set[bytes] = set()

    def initiate(self) -> bytes:
        """First message: the aggregates of the whole set (answers d = 0 and d = 1 in one round trip)."""
        self._initiated = True
        self._reported.clear()
        out = _Output(self.store, self.config)
        out.sums(MIN_BOUND, INFINITE_BOUND, 0, len(self.store))
        return bytes(out.writer.buf)

    def reconcile(self, message: bytes) -> tuple[bytes | None, list[bytes], list[bytes]]:
        """Initiator: process a reply; returns (next message or None when done, have ids, need ids)."""
        if not self._initiated:
            raise DecodeError("decode.role", "reconcile() before initiate()")
        have: list[bytes] = []
        need: list[bytes] = []
        out = self._process(message, True, have, need)
        return (bytes(out.writer.buf) if out.entries else None), have, need

    def respond(self, message: bytes) -> bytes:
        """Responder: answer one message from an initiator."""
        return bytes(self._process(message, False, [], []).writer.buf)

    # -- processing ---------------------------------------------------------------------------------

    def _process(self, message: bytes, initiator: bool, have: list[bytes], need: list[bytes]) -> _Output:
        entries = _decode_entries(message, self.config.max_message, initiator)
        n = len(self.store)
        ranges: list[tuple[Bound, Bound, int, int, _Entry, bool]] = []
        lower, lo = MIN_BOUND, 0
        fingerprints = mismatches = 0
        for entry in entries:
            upper = entry.bound
            if upper == INFINITE_BOUND:
                hi = n
            else:
                hi = self.store.lower_bound(upper.timestamp, upper.prefix, lo, n)
            differs = False
            if entry.mode == MODE_FINGERPRINT:
                differs = fingerprint(self.store.sums(lo, hi)) != entry.fingerprint
                fingerprints += 1
                mismatches += differs
            ranges.append((lower, upper, lo, hi, entry, differs))
            lower, lo = upper, hi
        # Share of the peer's fingerprints that differ -> expected differences per mismatching range.
        density = math.inf if mismatches == fingerprints else -math.log(1 - mismatches / fingerprints)
        out = _Output(self.store, self.config)
        for lower, upper, lo, hi, entry, differs in ranges:
            if out.full:
                break
            if entry.mode == MODE_FINGERPRINT and differs:
                self._on_fingerprint_mismatch(out, lower, upper, lo, hi, density)
            elif entry.mode == MODE_SUMS:
                self._on_sums(entry, out, initiator, lower, upper, lo, hi, have, need)
            elif entry.mode == MODE_IDLIST:
                self._on_id_list(entry.ids, out, initiator, lower, upper, lo, hi, have, need)
            elif entry.mode == MODE_DIFF:
                self._report(entry.ids, need)
                self._report(entry.ids2, have)
        return out

    def _report(self, ids: Sequence[bytes], into: list[bytes]) -> None:
        for item_id in ids:
            if item_id not in self._reported:
                self._reported.add(item_id)
                into.append(item_id)

    def _on_fingerprint_mismatch(
        self, out: _Output, lower: Bound, upper: Bound, lo: int, hi: int, density: float
    ) -> None:
        """Sums when the range likely holds one difference, an id list when small, else split it."""
        count = hi - lo
        cfg = self.config
        if density <= _SINGLE_DENSITY and count > 2:
            out.sums(lower, upper, lo, hi)
        elif count <= cfg.idlist_max:
            out.id_list(lower, upper, lo, hi)
        else:
            pieces = _ceil_div(count, cfg.idlist_max)
            if not math.isinf(density):
                pieces = min(pieces, math.ceil(density / _PIECE_DENSITY))
            out.split(lower, upper, lo, hi, max(2, min(cfg.branch_max, pieces)))

    def _split_small(self, out: _Output, lower: Bound, upper: Bound, lo: int, hi: int) -> None:
        """Split so that the pieces can be settled by id lists next (or by sums when still large)."""
        count = hi - lo
        cfg = self.config
        size = cfg.idlist_max if count <= cfg.sums_max else cfg.sums_max
        out.split(lower, upper, lo, hi, min(cfg.branch_max, max(2, _ceil_div(count, size))))

    def _on_sums(
        self,
        entry: _Entry,
        out: _Output,
        initiator: bool,
        lower: Bound,
        upper: Bound,
        lo: int,
        hi: int,
        have: list[bytes],
        need: list[bytes],
    ) -> None:
        count, their_sum, their_xor = entry.count, entry.id_sum, entry.id_xor
        mine = self.store.sums(lo, hi)
        if (count, their_sum, their_xor) == (mine.count, mine.id_sum, mine.id_xor):
            return
        missing = _single_difference(
            count - mine.count, (their_sum - mine.id_sum) % SUM_MODULUS, their_xor ^ mine.id_xor
        )
        if missing is not None:
            they_have = count > mine.count
            if initiator:
                self._report([missing], need if they_have else have)
            else:
                you_lack, i_lack = ([], [missing]) if they_have else ([missing], [])
                out.diff(lower, upper, hi, you_lack, i_lack)
            return
        if hi - lo <= self.config.idlist_max:
            out.id_list(lower, upper, lo, hi)
        else:
            self._split_small(out, lower, upper, lo, hi)

    def _on_id_list(
        self,
        ids: Sequence[bytes],
        out: _Output,
        initiator: bool,
        lower: Bound,
        upper: Bound,
        lo: int,
        hi: int,
        have: list[bytes],
        need: list[bytes],
    ) -> None:
        theirs = set(ids)
        if initiator:
            mine = self.store.ids(lo, hi)
            mine_set = set(mine)
            self._report([i for i in mine if i not in theirs], have)
            self._report([i for i in ids if i not in mine_set], need)
        elif hi - lo + len(ids) <= 8 * self.config.idlist_max:
            mine = self.store.ids(lo, hi)
            mine_set = set(mine)
            you_lack = [i for i in mine if i not in theirs]
            i_lack = [i for i in ids if i not in mine_set]
            if you_lack or i_lack:
                out.diff(lower, upper, hi, you_lack, i_lack)
        else:
            self._split_small(out, lower, upper, lo, hi)


def _single_difference(count_delta: int, sum_delta: int, xor_delta: int) -> bytes | None:
    """The one id that explains the difference, if exactly one item differs (±1 in count), else None."""
    if count_delta == 1:
        candidate = sum_delta
    elif count_delta == -1:
        candidate = (-sum_delta) % SUM_MODULUS
    else:
        return None
    if candidate & ((1 << (8 * XOR_BYTES)) - 1) != xor_delta:
        return None
    return candidate.to_bytes(ID_SIZE, "little")


@dataclass(frozen=True)
class _Entry:
    """One decoded range entry; fields not used by its mode keep their defaults."""

    bound: Bound
    mode: int
    fingerprint: bytes = b""
    count: int = 0
    id_sum: int = 0
    id_xor: int = 0
    ids: tuple[bytes, ...] = ()
    ids2: tuple[bytes, ...] = ()


def _decode_entries(message: bytes, max_size: int, initiator: bool) -> list[_Entry]:
    """Decode and check a whole message before acting on any of it."""
    reader = Reader(message, max_size)
    entries: list[_Entry] = []
    while not reader.at_end():
        bound = reader.bound()
        mode = reader.mode()
        if mode == MODE_SKIP:
            entries.append(_Entry(bound, mode))
        elif mode == MODE_FINGERPRINT:
            entries.append(_Entry(bound, mode, fingerprint=reader.take(FINGERPRINT_SIZE)))
        elif mode == MODE_SUMS:
            count = reader.varint()
            id_sum = int.from_bytes(reader.take(SUM_SIZE), "little")
            id_xor = int.from_bytes(reader.take(XOR_SIZE), "little")
            entries.append(_Entry(bound, mode, count=count, id_sum=id_sum, id_xor=id_xor))
        elif mode == MODE_IDLIST:
            entries.append(_Entry(bound, mode, ids=tuple(reader.id_list())))
        else:
            if not initiator:
                raise DecodeError("decode.unexpected-mode", "a responder never receives a diff")
            first = tuple(reader.id_list())
            entries.append(_Entry(bound, mode, ids=first, ids2=tuple(reader.id_list())))
    return entries
