"""Epidemic broadcast trees (Leitão, Pereira, Rodrigues 2007, "Plumtree") as a sans-IO state machine.

The node feeds events in (``handle(event)``) and carries out the actions that come back; nothing here
touches a socket or a clock: time arrives with ``Tick(now)``, and ``next_deadline()`` tells the driver
when the next tick is due. Objects are opaque ids: the node validates an object *before* reporting it
with ``ObjectReceived`` (an invalid one is reported with ``ObjectRejected`` or not at all), so this
machine can only ever forward valid objects.

Each peer is either *eager* (new objects are pushed to it in full) or *lazy* (it gets id announcements,
batched). A duplicate pushed by an eager peer prunes that link to lazy, so the eager links converge to a
spanning tree and each node receives about one full copy. An announcement for an object that does not
arrive within ``graft_timeout`` grafts the announcer (the link becomes eager again: tree repair); if that
fails too, the object is fetched from the next announcer every ``retry_timeout``.

Two refinements keep latency low with about one copy per node. Within ``flood_hops`` of its origin an
object goes to every peer, so many trees start at once (copies carry the ``root`` where their tree began,
and only two copies from the same root reveal a cycle worth pruning). And the graft timeout is short
(150 ms), so a slow tree path is soon bypassed by the announcement path, which then joins the tree.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = [
    "Action",
    "Event",
    "FetchObjects",
    "GraftReceived",
    "IHaveReceived",
    "ObjectPublished",
    "ObjectReceived",
    "ObjectRejected",
    "PeerDown",
    "PeerUp",
    "Plumtree",
    "PlumtreeConfig",
    "PruneReceived",
    "SendGraft",
    "SendIHave",
    "SendObjects",
    "SendPrune",
    "Tick",
]


# -- events -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeerUp:
    """A connection to ``peer`` is usable (configured, learned from a descriptor, or back after failure)."""

    peer: str


@dataclass(frozen=True)
class PeerDown:
    """``peer`` failed or was refused; it is forgotten until the next ``PeerUp``."""

    peer: str


@dataclass(frozen=True)
class ObjectPublished:
    """This node created and stored a new valid object."""

    id: bytes
    created: int


@dataclass(frozen=True)
class ObjectReceived:
    """A *valid* object arrived from ``peer``. ``solicited``: it answers our graft, fetch or reconciliation
    (such copies never prune). ``known``: the node already held it (a duplicate even if no longer cached).
    ``hops``, ``root``: the tags the sender attached (``SendObjects``), carried unchanged by the node."""

    peer: str
    id: bytes
    created: int
    solicited: bool = False
    known: bool = False
    hops: int = 1
    root: str = ""


@dataclass(frozen=True)
class ObjectRejected:
    """The object ``id`` from ``peer`` failed validation: never ask anyone for it again."""

    peer: str
    id: bytes


@dataclass(frozen=True)
class IHaveReceived:
    """``peer`` announces ``ids``; ``hops`` (parallel, optional) are the announcer's distances from the
    origins, as sent in ``SendIHave.hops``."""

    peer: str
    ids: tuple[bytes, ...]
    hops: tuple[int, ...] = ()


@dataclass(frozen=True)
class GraftReceived:
    """``peer`` asks for ``ids`` and to be pushed to eagerly from now on."""

    peer: str
    ids: tuple[bytes, ...]


@dataclass(frozen=True)
class PruneReceived:
    """``peer`` got duplicates from us: push to it lazily from now on."""

    peer: str


@dataclass(frozen=True)
class Tick:
    """The current time (seconds, any monotonic origin); fires due timers and announcement batches."""

    now: float


Event = (
    PeerUp
    | PeerDown
    | ObjectPublished
    | ObjectReceived
    | ObjectRejected
    | IHaveReceived
    | GraftReceived
    | PruneReceived
    | Tick
)


# -- actions ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendObjects:
    """Push the full objects (those the node holds) to ``peer`` in one batch. The push carries ``hops``
    (distance from the origin) and ``root`` (the node where this copy started along the tree), which the
    receiving node hands back in ``ObjectReceived``; a graft answer carries hops 0 and no root."""

    peer: str
    ids: tuple[bytes, ...]
    hops: int = 0
    root: str = ""


@dataclass(frozen=True)
class SendIHave:
    """Announce ``ids`` to ``peer`` in one batch, each with our hop distance from its origin."""

    peer: str
    ids: tuple[bytes, ...]
    hops: tuple[int, ...] = ()


@dataclass(frozen=True)
class SendGraft:
    """Ask ``peer`` for ``ids`` and to push eagerly to us (tree repair); the answer comes as solicited
    ``ObjectReceived`` events."""

    peer: str
    ids: tuple[bytes, ...]


@dataclass(frozen=True)
class SendPrune:
    peer: str


@dataclass(frozen=True)
class FetchObjects:
    """Fetch ``ids`` from ``peer`` without changing the tree (retry after a graft did not deliver)."""

    peer: str
    ids: tuple[bytes, ...]


Action = SendObjects | SendIHave | SendGraft | SendPrune | FetchObjects


# -- machine ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlumtreeConfig:
    """Timers in seconds; every queue and cache is bounded (what overflows is left to reconciliation)."""

    fanout: int = 8  # eager peers a node starts with; the rest are lazy
    flood_hops: int = 2  # objects fewer hops than this from their origin go to every peer
    ihave_interval: float = 0.05  # announcements wait at most this long to be batched
    ihave_batch_max: int = 512  # ...or until this many are queued for one peer
    graft_timeout: float = 0.15  # wait after the first announcement before grafting its sender
    retry_timeout: float = 0.5  # then ask the next announcer this often
    max_announcers: int = 8  # remembered announcers per missing id
    max_missing: int = 10_000  # missing ids awaited at once
    max_ihave_queue: int = 4096  # queued announcements per peer (oldest dropped)
    max_batch: int = 256  # ids per action
    seen_ttl: float = 3600.0  # how long an id is remembered as seen
    max_seen: int = 200_000


DEFAULT_PLUMTREE_CONFIG = PlumtreeConfig()


@dataclass
class _Missing:
    since: float
    announcers: deque[str] = field(default_factory=deque)
    attempts: int = 0


@dataclass(slots=True)
class _Seen:
    expiry: float
    hops: int  # our distance from the origin
    root: str | None = None  # root of the tree that brought the first copy (None: not a tree copy)
    parent: str | None = None  # the eager peer that brought it along that tree


class _Batch:
    """Collects the actions of one ``handle`` call, merging ids per (kind, peer, tags)."""

    def __init__(self, max_batch: int) -> None:
        self.max_batch = max_batch
        self.objects: dict[tuple[str, int, str], list[bytes]] = {}
        self.ihave: dict[str, dict[bytes, int]] = {}
        self.requests: dict[tuple[type[SendGraft] | type[FetchObjects], str], list[bytes]] = {}
        self.prunes: list[str] = []

    def push(self, peer: str, item_id: bytes, hops: int, root: str) -> None:
        self.objects.setdefault((peer, hops, root), []).append(item_id)

    def request(self, kind: type[SendGraft] | type[FetchObjects], peer: str, item_id: bytes | None) -> None:
        ids = self.requests.setdefault((kind, peer), [])
        if item_id is not None:
            ids.append(item_id)

    def actions(self) -> list[Action]:
        out: list[Action] = [SendPrune(p) for p in dict.fromkeys(self.prunes)]
        n = self.max_batch
        for (peer, hops, root), ids in self.objects.items():
            unique = list(dict.fromkeys(ids))
            out += [SendObjects(peer, tuple(unique[k : k + n]), hops, root) for k in range(0, len(unique), n)]
        for peer, announced in self.ihave.items():
            pairs = list(announced.items())
            for k in range(0, len(pairs), n):
                chunk = pairs[k : k + n]
                out.append(SendIHave(peer, tuple(i for i, _ in chunk), tuple(h for _, h in chunk)))
        for (kind, peer), ids in self.requests.items():
            unique = list(dict.fromkeys(ids))
            out += [kind(peer, tuple(unique[k : k + n])) for k in range(0, max(len(unique), 1), n)]
        return out


class Plumtree:
    """Plumtree state of one node. Not thread-safe; one instance per node."""

    def __init__(self, me: str = "", config: PlumtreeConfig = DEFAULT_PLUMTREE_CONFIG) -> None:
        self.me = me  # this node's name as peers know it (tags the trees it starts)
        self.config = config
        self.now = 0.0
        self.eager: set[str] = set()
        self.lazy: set[str] = set()
        self._seen: dict[bytes, _Seen] = {}  # insertion order = expiry order
        self._missing: dict[bytes, _Missing] = {}
        self._timers: list[tuple[float, int, bytes]] = []
        self._timer_seq = 0
        self._ihave: dict[str, dict[bytes, int]] = {}  # per lazy peer: id -> hops, queued
        self._flush_at: float | None = None

    # -- public API ---------------------------------------------------------------------------------

    def handle(self, event: Event) -> list[Action]:
        """Process one event; returns the actions to carry out, ids merged per peer."""
        return self.handle_all((event,))

    def handle_all(self, events: Iterable[Event]) -> list[Action]:
        """Process several events (e.g. one received batch) and merge their actions per peer."""
        batch = _Batch(self.config.max_batch)
        for event in events:
            self._dispatch(event, batch)
        return batch.actions()

    def next_deadline(self) -> float | None:
        """When the driver should next send ``Tick`` (None: nothing pending)."""
        times = [t for t in (self._flush_at, self._timers[0][0] if self._timers else None) if t is not None]
        return min(times) if times else None

    def has_seen(self, item_id: bytes) -> bool:
        return item_id in self._seen

    @property
    def peers(self) -> set[str]:
        return self.eager | self.lazy

    # -- events -------------------------------------------------------------------------------------

    def _dispatch(self, event: Event, batch: _Batch) -> None:
        if isinstance(event, Tick):
            self._tick(event.now, batch)
        elif isinstance(event, PeerUp):
            if event.peer not in self.peers:
                (self.eager if len(self.eager) < self.config.fanout else self.lazy).add(event.peer)
        elif isinstance(event, PeerDown):
            self.eager.discard(event.peer)
            self.lazy.discard(event.peer)
            self._ihave.pop(event.peer, None)
        elif isinstance(event, ObjectPublished):
            self._remember(event.id, _Seen(0.0, 0))
            self._forward(event.id, None, 0, self.me, batch)
        elif isinstance(event, ObjectReceived):
            self._received(event, batch)
        elif isinstance(event, ObjectRejected):
            self._remember(event.id, _Seen(0.0, 0))
            self._missing.pop(event.id, None)
        elif isinstance(event, IHaveReceived):
            self._ihave_received(event, batch)
        elif isinstance(event, GraftReceived):
            self._make_eager(event.peer)
            for item_id in event.ids[: self.config.max_batch]:
                batch.push(event.peer, item_id, 0, "")
        elif isinstance(event, PruneReceived) and event.peer in self.eager:
            self.eager.discard(event.peer)
            self.lazy.add(event.peer)

    def _received(self, event: ObjectReceived, batch: _Batch) -> None:
        peer, hops, flood_hops = event.peer, max(event.hops, 0), self.config.flood_hops
        # Copies near the origin are flooded, so several trees start at once and their copies meet: only
        # two copies of one tree (same root) reveal a cycle in the eager links worth pruning.
        tree_copy = not event.solicited and hops > flood_hops
        seen = self._seen.get(event.id)
        if event.known or seen is not None:
            if tree_copy and seen is not None and seen.root == event.root and peer in self.eager:
                self._prune(peer, batch)
            return
        self._missing.pop(event.id, None)
        if tree_copy:
            self._remember(event.id, _Seen(0.0, hops, event.root, peer))
            if peer in self.peers:
                self._make_eager(peer)  # it pushed to us: the link is part of the tree both ways
            self._forward(event.id, peer, hops, event.root, batch)
        else:  # a flooded copy, or one we asked for: a new tree starts here
            hops = flood_hops if event.solicited else hops
            self._remember(event.id, _Seen(0.0, hops))
            self._forward(event.id, peer, hops, self.me, batch)

    def _ihave_received(self, event: IHaveReceived, batch: _Batch) -> None:
        if event.peer not in self.peers:
            return
        cfg = self.config
        for item_id in event.ids[: cfg.max_batch]:
            seen = self._seen.get(item_id)
            if seen is not None:
                continue
            missing = self._missing.get(item_id)
            if missing is None:
                if len(self._missing) >= cfg.max_missing:
                    continue
                missing = self._missing[item_id] = _Missing(self.now)
                self._schedule(self.now + cfg.graft_timeout, item_id)
            if event.peer not in missing.announcers and len(missing.announcers) < cfg.max_announcers:
                missing.announcers.append(event.peer)

    def _tick(self, now: float, batch: _Batch) -> None:
        self.now = max(self.now, now)
        while self._seen:
            oldest = next(iter(self._seen))
            if self._seen[oldest].expiry > self.now:
                break
            del self._seen[oldest]
        while self._timers and self._timers[0][0] <= self.now:
            _, _, item_id = heapq.heappop(self._timers)
            self._timer_fired(item_id, batch)
        if self._flush_at is not None and self._flush_at <= self.now:
            for peer in sorted(self._ihave):
                self._flush_peer(peer, batch)
            self._flush_at = None

    def _timer_fired(self, item_id: bytes, batch: _Batch) -> None:
        missing = self._missing.get(item_id)
        if missing is None:
            return
        while missing.announcers and missing.announcers[0] not in self.peers:
            missing.announcers.popleft()
        if not missing.announcers:
            del self._missing[item_id]  # nobody left to ask: reconciliation will bring it
            return
        peer = missing.announcers.popleft()
        if missing.attempts == 0:
            self._make_eager(peer)
            batch.request(SendGraft, peer, item_id)
        else:
            batch.request(FetchObjects, peer, item_id)
        missing.attempts += 1
        self._schedule(self.now + self.config.retry_timeout, item_id)

    # -- helpers ------------------------------------------------------------------------------------

    def _remember(self, item_id: bytes, seen: _Seen) -> None:
        seen.expiry = self.now + self.config.seen_ttl
        self._seen.pop(item_id, None)
        self._seen[item_id] = seen
        while len(self._seen) > self.config.max_seen:
            del self._seen[next(iter(self._seen))]

    def _make_eager(self, peer: str) -> None:
        self.lazy.discard(peer)
        self.eager.add(peer)

    def _prune(self, peer: str, batch: _Batch) -> None:
        self.eager.discard(peer)
        self.lazy.add(peer)
        batch.prunes.append(peer)

    def _schedule(self, when: float, item_id: bytes) -> None:
        self._timer_seq += 1
        heapq.heappush(self._timers, (when, self._timer_seq, item_id))

    def _forward(self, item_id: bytes, source: str | None, hops: int, root: str, batch: _Batch) -> None:
        cfg = self.config
        flood = hops < cfg.flood_hops
        for peer in sorted(self.peers if flood else self.eager):
            if peer != source:
                batch.push(peer, item_id, hops + 1, root)
        if flood:
            return
        for peer in sorted(self.lazy):
            if peer == source:
                continue
            queue = self._ihave.setdefault(peer, {})
            queue[item_id] = hops
            if len(queue) > cfg.max_ihave_queue:
                del queue[next(iter(queue))]
            if len(queue) >= cfg.ihave_batch_max:
                self._flush_peer(peer, batch)
        if self._ihave and self._flush_at is None:
            self._flush_at = self.now + cfg.ihave_interval

    def _flush_peer(self, peer: str, batch: _Batch) -> None:
        queue = self._ihave.pop(peer, None)
        if queue:
            batch.ihave.setdefault(peer, {}).update(queue)
