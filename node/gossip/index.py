"""The set a node reconciles: (created, id) of every stored object that gossip carries, that has not
expired and that is inside the retention window (plus the ids it declined as superseded), in an in-memory
:class:`protocol.reconcile_store.MemoryStore` loaded at start and updated on insert.

Why a filter: a peer refuses an expired object, or a kind its acceptance rules do not know, so offering
one would make it a difference in every round forever. ``GOSSIPED_KINDS`` are the kinds
:func:`protocol.acceptance.decide` (and ``decide_status_list``) can accept; a test keeps them in step.
"""

from __future__ import annotations

import heapq

from protocol.reconcile_store import MemoryStore
from protocol.retention import EVENT_KINDS, cutoff, is_retained

from ..storage.objects import ObjectStore

GOSSIPED_KINDS = frozenset(
    {
        "trust-list",
        "node-descriptor",
        "status-list",
        # the notice lifecycle (issue 6): credentials that notices reference, then the messages
        "credential",
        "notice",
        "receipt",
        "decision",
        "complaint",
        "marketplace-profile",
    }
)


MAX_DECLINED_BYTES = 16 << 20


class ReconcileIndex:
    """(created, id) items of the gossiped, unexpired, retained objects; rebuilt from the store when one
    expires or ages out of the window (``window`` seconds, 0 = forever: protocol/retention.py), so two
    nodes with the same window offer the same set whether or not they have pruned yet."""

    def __init__(self, store: ObjectStore, window: int = 0) -> None:
        self.store = store
        self.window = window
        self.items = MemoryStore()
        self._expiries: list[int] = []
        self._aging: list[int] = []  # created of the event-like items (a min-heap)
        self._declined: dict[str, tuple[int, bytes]] = {}  # id -> (created, bytes)
        self._declined_bytes = 0

    def load(self, now: int) -> int:
        """(Re)build from the database; returns the number of items."""
        expiries: list[int] = []
        aging: list[int] = []
        marks = ", ".join("?" for _ in GOSSIPED_KINDS)
        rows = self.store.db.execute(
            f"SELECT created, id, expires, kind FROM objects WHERE kind IN ({marks})"
            " AND (expires IS NULL OR expires > ?)",
            [*sorted(GOSSIPED_KINDS), now],
        )
        pairs = []
        for created, id_hex, expires, kind in rows:
            if not is_retained(kind, created, now, self.window):
                continue
            pairs.append((max(0, int(created)), bytes.fromhex(id_hex)))
            if expires is not None:
                expiries.append(int(expires))
            if kind in EVENT_KINDS:
                aging.append(int(created))
        # declined ids are superseded trust or status list versions: state-like, never aged out
        pairs += [(max(0, created), bytes.fromhex(id_hex)) for id_hex, (created, _) in self._declined.items()]
        items = MemoryStore(pairs)
        heapq.heapify(expiries)
        heapq.heapify(aging)
        self.items, self._expiries, self._aging = items, expiries, aging
        return len(items)

    def add(self, id_hex: str, kind: str, created: int, expires: int | None, now: int) -> bool:
        """Add a newly stored object if gossip carries it; True if it joined the set."""
        if kind not in GOSSIPED_KINDS or (expires is not None and expires <= now):
            return False
        if not is_retained(kind, created, now, self.window):
            return False
        if expires is not None:
            heapq.heappush(self._expiries, expires)
        if kind in EVENT_KINDS:
            heapq.heappush(self._aging, created)
        return self.items.add(max(0, created), bytes.fromhex(id_hex))

    def decline(self, id_hex: str, created: int, raw: bytes) -> None:
        """Count a valid object refused as superseded (this node holds a newer version) in the set, and
        keep its bytes in memory to hand to peers that ask: every node then ends with the same set
        whatever order the versions arrived in, and no peer offers it again in every round. Bounded by
        ``MAX_DECLINED_BYTES``; past that it is simply refetched and refused again."""
        if id_hex in self._declined or self._declined_bytes + len(raw) > MAX_DECLINED_BYTES:
            return
        self._declined[id_hex] = (created, raw)
        self._declined_bytes += len(raw)
        self.items.add(max(0, created), bytes.fromhex(id_hex))

    def declined(self, id_hex: str) -> bytes | None:
        """The bytes of a declined (superseded) object, if kept."""
        entry = self._declined.get(id_hex)
        return None if entry is None else entry[1]

    def refresh(self, now: int) -> None:
        """Drop expired and aged-out items (a rebuild, only when one has expired or left the window since
        the last one)."""
        limit = cutoff(now, self.window)
        aged = limit is not None and bool(self._aging) and self._aging[0] < limit
        if aged or (self._expiries and self._expiries[0] <= now):
            self.load(now)

    def __len__(self) -> int:
        return len(self.items)
