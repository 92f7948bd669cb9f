"""Plumtree state machine: unit behaviour of each event, and whole networks of machines driven in memory
(no sockets, seeded randomness): everything reaches everyone, duplicates are few, trees repair."""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from typing import Any

from protocol.plumtree import (
    Action,
    Event,
    FetchObjects,
    GraftReceived,
    IHaveReceived,
    ObjectPublished,
    ObjectReceived,
    ObjectRejected,
    PeerDown,
    PeerUp,
    Plumtree,
    PlumtreeConfig,
    PruneReceived,
    SendGraft,
    SendIHave,
    SendObjects,
    SendPrune,
    Tick,
)

PURE = PlumtreeConfig(fanout=2, flood_hops=0)  # textbook Plumtree: eager tree from the first hop


def oid(n: int) -> bytes:
    return n.to_bytes(32, "big")


def kinds(actions: list[Action]) -> list[tuple[str, str]]:
    return sorted((type(a).__name__, a.peer) for a in actions)


def machine(peers: int, config: PlumtreeConfig = PURE) -> Plumtree:
    m = Plumtree("me", config)
    m.handle_all([Tick(0.0), *(PeerUp(f"p{i}") for i in range(peers))])
    return m


def test_first_peers_are_eager_then_lazy_and_publish_pushes_and_announces() -> None:
    m = machine(4)
    assert m.eager == {"p0", "p1"} and m.lazy == {"p2", "p3"}
    actions = m.handle(ObjectPublished(oid(1), 100))
    assert kinds(actions) == [("SendObjects", "p0"), ("SendObjects", "p1")]
    assert all(isinstance(a, SendObjects) and a.hops == 1 and a.root == "me" for a in actions)
    assert m.next_deadline() == PURE.ihave_interval
    assert m.handle(Tick(0.01)) == []  # announcements wait to be batched
    m.handle(ObjectPublished(oid(2), 100))
    flushed = m.handle(Tick(PURE.ihave_interval))
    assert sorted((a.peer, a.ids) for a in flushed if isinstance(a, SendIHave)) == [
        ("p2", (oid(1), oid(2))),
        ("p3", (oid(1), oid(2))),
    ]
    assert m.next_deadline() is None


def test_flooded_first_hops_go_to_every_peer() -> None:
    m = machine(4, PlumtreeConfig(fanout=2, flood_hops=2))
    pushed = m.handle(ObjectPublished(oid(1), 100))
    assert kinds(pushed) == [("SendObjects", f"p{i}") for i in range(4)]
    relayed = m.handle(ObjectReceived("p0", oid(2), 100, hops=1, root="x"))
    assert kinds(relayed) == [("SendObjects", f"p{i}") for i in range(1, 4)]
    assert {a.root for a in relayed if isinstance(a, SendObjects)} == {"me"}  # a new tree starts here
    assert m.eager == {"p0", "p1"}  # flooded copies do not shape the tree


def test_duplicates_prune_only_within_one_tree_and_never_when_solicited() -> None:
    m = machine(4)
    m.handle(ObjectReceived("p0", oid(1), 1, hops=3, root="r"))
    assert m.handle(ObjectReceived("p1", oid(1), 1, solicited=True)) == []
    assert m.handle(ObjectReceived("p1", oid(1), 1, hops=5, root="other")) == []  # trees meeting
    assert kinds(m.handle(ObjectReceived("p1", oid(1), 1, hops=4, root="r"))) == [("SendPrune", "p1")]
    assert "p1" in m.lazy and "p1" not in m.eager
    m.handle(ObjectReceived("p2", oid(2), 1, hops=3, root="r"))  # pushed by a lazy peer: link joins the tree
    assert "p2" in m.eager
    # held by the node but no longer cached: not forwarded again, and no tree to compare with, so no prune
    assert m.handle(ObjectReceived("p0", oid(9), 1, known=True, hops=3, root="r")) == []


def test_missing_announcement_grafts_then_fetches_from_the_next_announcer() -> None:
    m = machine(4)
    cfg = m.config
    assert m.handle(IHaveReceived("p2", (oid(7),), (3,))) == []
    m.handle(IHaveReceived("p3", (oid(7),)))
    m.handle(IHaveReceived("stranger", (oid(8),)))  # not a peer: ignored
    assert m.next_deadline() == cfg.graft_timeout
    graft = m.handle(Tick(cfg.graft_timeout))
    assert graft == [SendGraft("p2", (oid(7),))] and "p2" in m.eager
    fetch = m.handle(Tick(cfg.graft_timeout + cfg.retry_timeout))
    assert fetch == [FetchObjects("p3", (oid(7),))]
    m.handle(ObjectReceived("p3", oid(7), 1, solicited=True))
    assert m.handle(Tick(10.0)) == [] and m.next_deadline() is None
    # an object that arrives before the timer cancels it
    m.handle(IHaveReceived("p3", (oid(9),)))
    m.handle(ObjectReceived("p0", oid(9), 1, hops=2, root="r"))
    assert not any(isinstance(a, SendGraft | FetchObjects) for a in m.handle(Tick(20.0)))


def test_rejected_objects_are_never_requested_and_departed_peers_never_asked() -> None:
    m = machine(4)
    m.handle(ObjectRejected("p0", oid(5)))
    m.handle(IHaveReceived("p2", (oid(5),)))
    m.handle(IHaveReceived("p3", (oid(6),)))
    m.handle(PeerDown("p3"))
    assert m.handle(Tick(5.0)) == []
    assert "p3" not in m.peers


def test_graft_and_prune_received() -> None:
    m = machine(4)
    m.handle(ObjectPublished(oid(1), 1))
    answer = m.handle(GraftReceived("p3", (oid(1),)))
    assert answer == [SendObjects("p3", (oid(1),), 0, "")] and "p3" in m.eager
    m.handle(PruneReceived("p3"))
    assert "p3" in m.lazy and "p3" not in m.eager


def test_memory_is_bounded() -> None:
    cfg = PlumtreeConfig(
        fanout=0, flood_hops=0, max_missing=3, max_seen=5, max_ihave_queue=4, ihave_batch_max=100
    )
    m = machine(2, cfg)
    m.handle(IHaveReceived("p0", tuple(oid(i) for i in range(10))))
    assert len(m._missing) == 3
    for i in range(20):
        m.handle(ObjectPublished(oid(100 + i), 1))
    assert len(m._seen) == 5
    announced = [a for a in m.handle(Tick(1.0)) if isinstance(a, SendIHave)]
    assert [len(a.ids) for a in announced] == [4, 4]
    big = PlumtreeConfig(fanout=0, flood_hops=0, ihave_batch_max=3, max_batch=2)
    m = machine(1, big)
    out = m.handle_all([ObjectPublished(oid(i), 1) for i in range(3)])
    assert [a.ids for a in out if isinstance(a, SendIHave)] == [(oid(0), oid(1)), (oid(2),)]


# -- whole networks in memory ---------------------------------------------------------------------


@dataclass
class Net:
    """Machines joined by links with seeded latencies; messages delivered in time order from a heap."""

    size: int
    config: PlumtreeConfig
    seed: int
    degree: int = 6
    rng: random.Random = field(init=False)
    nodes: list[Plumtree] = field(init=False)
    has: list[set[bytes]] = field(init=False)
    alive: list[bool] = field(init=False)
    copies: dict[bytes, int] = field(default_factory=dict)
    heap: list[tuple[float, int, int, Any]] = field(default_factory=list)
    now: float = 0.0
    seq: int = 0
    lat: dict[tuple[int, int], float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.nodes = [Plumtree(str(i), self.config) for i in range(self.size)]
        self.has = [set() for _ in range(self.size)]
        self.alive = [True] * self.size
        for i in range(self.size):
            for j in self.rng.sample(range(self.size), self.degree // 2):
                if j != i and (min(i, j), max(i, j)) not in self.lat:
                    self.lat[(min(i, j), max(i, j))] = self.rng.uniform(0.01, 0.1)
                    self.feed(i, [PeerUp(str(j))])
                    self.feed(j, [PeerUp(str(i))])

    def at(self, when: float, node: int, what: Any) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (when, self.seq, node, what))

    def feed(self, i: int, events: list[Event]) -> None:
        if not self.alive[i]:
            return
        for action in self.nodes[i].handle_all([Tick(self.now), *events]):
            j = int(action.peer)
            when = self.now + self.lat[(min(i, j), max(i, j))]
            if isinstance(action, SendObjects):
                ids = tuple(x for x in action.ids if x in self.has[i])
                self.at(when, j, ("objects", i, ids, action.hops, action.root, False))
            elif isinstance(action, SendIHave):
                self.at(when, j, ("ihave", i, action.ids, action.hops))
            elif isinstance(action, SendGraft):
                self.at(when, j, ("graft", i, action.ids))
            elif isinstance(action, FetchObjects):
                self.at(when, j, ("fetch", i, action.ids))
            elif isinstance(action, SendPrune):
                self.at(when, j, ("prune", i))
        deadline = self.nodes[i].next_deadline()
        if deadline is not None:
            self.at(deadline, i, ("tick",))

    def publish(self, i: int, item: bytes) -> None:
        self.has[i].add(item)
        self.feed(i, [ObjectPublished(item, int(self.now))])

    def run(self, until: float) -> None:
        while self.heap and self.heap[0][0] <= until:
            self.now, _, i, what = heapq.heappop(self.heap)
            if not self.alive[i]:
                continue
            kind = what[0]
            if kind == "tick":
                self.feed(i, [])
            elif kind == "publish":
                self.publish(i, what[1])
            elif kind == "objects":
                _, src, ids, hops, root, solicited = what
                events: list[Event] = []
                for x in ids:
                    self.copies[x] = self.copies.get(x, 0) + 1
                    events.append(ObjectReceived(str(src), x, 1, solicited, x in self.has[i], hops, root))
                    self.has[i].add(x)
                self.feed(i, events)
            elif kind == "ihave":
                self.feed(i, [IHaveReceived(str(what[1]), what[2], what[3])])
            elif kind == "graft":
                src, ids = what[1], what[2]
                for action in self.nodes[i].handle(GraftReceived(str(src), ids)):
                    if isinstance(action, SendObjects):
                        held = tuple(x for x in action.ids if x in self.has[i])
                        self.at(self.now + 0.05, src, ("objects", i, held, 0, "", True))
            elif kind == "fetch":
                held = tuple(x for x in what[2] if x in self.has[i])
                self.at(self.now + 0.05, what[1], ("objects", i, held, 0, "", True))
            elif kind == "prune":
                self.feed(i, [PruneReceived(str(what[1]))])

    def publish_many(self, count: int, start: float, gap: float, base: int) -> list[bytes]:
        items = []
        for k in range(count):
            item = oid(base + k)
            items.append(item)
            self.at(
                start + k * gap,
                self.rng.choice([i for i in range(self.size) if self.alive[i]]),
                ("publish", item),
            )
        return items

    def reached_all(self, items: list[bytes]) -> bool:
        return all(x in self.has[i] for x in items for i in range(self.size) if self.alive[i])


def test_network_everything_reaches_everyone_with_few_duplicates() -> None:
    net = Net(40, PURE, seed=11)
    warm = net.publish_many(10, 0.0, 0.3, 0)
    net.run(10.0)
    assert net.reached_all(warm)
    measured = net.publish_many(20, 11.0, 0.3, 1000)
    net.run(30.0)
    assert net.reached_all(measured)
    copies = sum(net.copies[x] for x in measured) / (len(measured) * 39)
    flood = sum(len(m.peers) - 1 for m in net.nodes) / 40  # what pushing to every peer would cost
    assert copies <= 1.5 and flood >= 3 * copies, (copies, flood)


def test_network_with_default_config_reaches_everyone() -> None:
    net = Net(48, PlumtreeConfig(), seed=12)
    items = net.publish_many(25, 0.0, 0.2, 0)
    net.run(20.0)
    assert net.reached_all(items)


def test_tree_repairs_after_nodes_die() -> None:
    net = Net(40, PURE, seed=13)
    net.publish_many(10, 0.0, 0.3, 0)
    net.run(10.0)
    # kill the two busiest tree nodes, unannounced: their neighbours only learn through missing objects
    busiest = sorted(range(40), key=lambda i: len(net.nodes[i].eager), reverse=True)[:2]
    for i in busiest:
        net.alive[i] = False
    items = net.publish_many(15, 11.0, 0.3, 1000)
    net.run(40.0)
    assert net.reached_all(items)
    for i in range(40):
        if net.alive[i]:
            for dead in busiest:
                net.feed(i, [PeerDown(str(dead))])
    later = net.publish_many(10, 41.0, 0.3, 2000)
    net.run(60.0)
    assert net.reached_all(later)
