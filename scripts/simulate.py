"""Gossip simulation: the real protocol core (protocol.plumtree for dissemination, protocol.reconcile for
periodic catch-up) over an in-memory network, driven by a discrete-event simulator (a heap of timed
deliveries).

Model: each node opens links to ``degree/2`` random others (so ~``degree`` peers each); one-way latency per
link uniform in 10-100 ms; each message is lost with probability ``--loss``. Nodes chosen as dead die
unannounced after the warm-up objects have shaped the trees (and before the measured ones); a sender
notices a dead peer ``--detect`` seconds after its first message to it, drops it (PeerDown) and links
to a random replacement, as a node would with peers learned from node descriptors. Every
``--recon-interval`` seconds (jittered) each live node runs a full reconciliation session (the real
protocol.reconcile messages over its (created, id) set) with a random peer, costing one link round trip
per protocol round trip, then fetches what it lacks and pushes what the peer lacks.

Prints, per scenario: time for an object to reach 99 % and 100 % of live nodes (p50/p99 over the
published objects), full copies received per live node per object, announcement bytes, and delivery.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from protocol.plumtree import (
    Action,
    Event,
    FetchObjects,
    GraftReceived,
    IHaveReceived,
    ObjectPublished,
    ObjectReceived,
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
from protocol.reconcile import Reconciler
from protocol.reconcile_store import MemoryStore

HEADER = 16  # bytes of framing per control message in the byte counts
ID = 32


@dataclass
class Node:
    index: int
    alive: bool
    machine: Plumtree
    store: MemoryStore = field(default_factory=MemoryStore)
    received_at: dict[bytes, float] = field(default_factory=dict)
    neighbours: set[int] = field(default_factory=set)
    suspected: set[int] = field(default_factory=set)
    tick_at: float = math.inf


@dataclass
class Stats:
    copies: int = 0  # full objects received by live nodes (eager, graft, fetch and sync copies)
    ihave_bytes: int = 0
    control_bytes: int = 0  # graft, prune, fetch requests
    recon_bytes: int = 0
    recon_sessions: int = 0
    grafts: int = 0
    prunes: int = 0


class Simulation:
    def __init__(self, args: argparse.Namespace, dead_fraction: float, seed: int) -> None:
        self.args = args
        self.rng = random.Random(seed)
        self.now = 0.0
        self.heap: list[tuple[float, int, str, tuple[Any, ...]]] = []
        self.seq = 0
        self.stats = Stats()
        config = PlumtreeConfig(
            fanout=args.fanout,
            flood_hops=args.flood_hops,
            graft_timeout=args.graft_timeout,
            ihave_interval=args.ihave_interval,
        )
        n = args.nodes
        self.doomed = self.rng.sample(range(n), int(n * dead_fraction))
        self.nodes = [Node(i, True, Plumtree(str(i), config)) for i in range(n)]
        self.latency: dict[tuple[int, int], float] = {}
        for node in self.nodes:
            for other in self.rng.sample(range(n), args.degree // 2 + 1):
                if other != node.index and len(node.neighbours) < args.degree // 2:
                    self.link(node.index, other)
        self.published: dict[bytes, tuple[int, float]] = {}
        self.copies_of: dict[bytes, int] = {}
        self.measured: list[bytes] = []
        self.ihave_of: dict[bytes, float] = {}
        self.warmup_ids: set[bytes] = set()
        for node in self.nodes:
            if node.alive:
                self.schedule(self.rng.uniform(0, args.recon_interval), "recon", (node.index,))

    # -- plumbing -----------------------------------------------------------------------------------

    def schedule(self, when: float, kind: str, payload: tuple[Any, ...]) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (when, self.seq, kind, payload))

    def lat(self, a: int, b: int) -> float:
        key = (min(a, b), max(a, b))
        if key not in self.latency:
            self.latency[key] = self.rng.uniform(0.010, 0.100)
        return self.latency[key]

    def link(self, a: int, b: int) -> None:
        if a == b or b in self.nodes[a].neighbours:
            return
        for x, y in ((a, b), (b, a)):
            self.nodes[x].neighbours.add(y)
            if self.nodes[x].alive:
                self.feed(x, [PeerUp(str(y))])

    def send(self, src: int, dst: int, kind: str, payload: tuple[Any, ...]) -> None:
        target = self.nodes[dst]
        if not target.alive:
            if dst not in self.nodes[src].suspected:
                self.nodes[src].suspected.add(dst)
                self.schedule(self.now + self.args.detect, "down", (src, dst))
            return
        if self.args.loss and self.rng.random() < self.args.loss:
            return
        self.schedule(self.now + self.lat(src, dst), kind, (dst, src, *payload))

    def feed(self, index: int, events: list[Event]) -> None:
        node = self.nodes[index]
        actions = node.machine.handle_all([Tick(self.now), *events])
        self.perform(index, actions)
        deadline = node.machine.next_deadline()
        if deadline is not None and deadline < node.tick_at:
            node.tick_at = deadline
            self.schedule(deadline, "tick", (index,))

    def perform(self, index: int, actions: list[Action], solicited_for: int | None = None) -> None:
        stats = self.stats
        for action in actions:
            peer = int(action.peer)
            if isinstance(action, SendObjects):
                have = tuple(i for i in action.ids if i in self.nodes[index].received_at)
                if have:
                    self.send(index, peer, "objects", (have, peer == solicited_for, action.hops, action.root))
            elif isinstance(action, SendIHave):
                stats.ihave_bytes += HEADER + ID * len(action.ids)
                for item_id in action.ids:
                    self.ihave_of[item_id] = self.ihave_of.get(item_id, 0.0) + ID + HEADER / len(action.ids)
                self.send(index, peer, "ihave", (action.ids, action.hops))
            elif isinstance(action, SendGraft):
                stats.grafts += 1
                stats.control_bytes += HEADER + ID * len(action.ids)
                self.send(index, peer, "graft", (action.ids,))
            elif isinstance(action, FetchObjects):
                stats.control_bytes += HEADER + ID * len(action.ids)
                self.send(index, peer, "fetch", (action.ids,))
            elif isinstance(action, SendPrune):
                stats.prunes += 1
                stats.control_bytes += HEADER
                self.send(index, peer, "prune", ())

    def accept(
        self, index: int, src: int, ids: tuple[bytes, ...], solicited: bool, hops: int, root: str = ""
    ) -> list[Event]:
        node = self.nodes[index]
        events: list[Event] = []
        for item_id in ids:
            self.stats.copies += 1
            self.copies_of[item_id] = self.copies_of.get(item_id, 0) + 1
            known = item_id in node.received_at
            created = int(self.published[item_id][1])
            if not known:
                node.received_at[item_id] = self.now
                node.store.add(created, item_id)
            events.append(ObjectReceived(str(src), item_id, created, solicited, known, hops, root))
        return events

    # -- scenario -----------------------------------------------------------------------------------

    def publish(self, index: int, measured: bool) -> None:
        item_id = self.rng.randbytes(32)
        self.published[item_id] = (index, self.now)
        if measured:
            self.measured.append(item_id)
        else:
            self.warmup_ids.add(item_id)
        node = self.nodes[index]
        node.received_at[item_id] = self.now
        node.store.add(int(self.now), item_id)
        self.feed(index, [ObjectPublished(item_id, int(self.now))])

    def reconcile(self, index: int) -> None:
        node = self.nodes[index]
        self.schedule(self.now + self.args.recon_interval * self.rng.uniform(0.5, 1.5), "recon", (index,))
        candidates = sorted(node.neighbours - node.suspected)
        if not candidates:
            return
        peer = self.rng.choice(candidates)
        if not self.nodes[peer].alive:
            self.send(index, peer, "ihave", ((), ()))  # the attempt reveals the failure
            return
        initiator = Reconciler(node.store)
        responder = Reconciler(self.nodes[peer].store)
        message: bytes | None = initiator.initiate()
        rounds, need, have = 0, [], []
        while message is not None:
            reply = responder.respond(message)
            self.stats.recon_bytes += len(message) + len(reply)
            rounds += 1
            message, h, n = initiator.reconcile(reply)
            have += h
            need += n
        self.stats.recon_sessions += 1
        done = self.now + rounds * 2 * self.lat(index, peer)
        if need:  # fetch: one more round trip, the answer arrives as a solicited batch
            self.stats.control_bytes += HEADER + ID * len(need)
            self.schedule(done + 2 * self.lat(index, peer), "objects", (index, peer, tuple(need), True, 0))
        if have:
            self.schedule(done + self.lat(index, peer), "objects", (peer, index, tuple(have), True, 0))

    def run(self, until: float) -> None:
        args = self.args
        live = [n.index for n in self.nodes if n.alive]
        for k in range(args.warmup_objects):  # let the eager links settle into trees; not measured
            self.schedule(k * args.warmup_interval, "publish", (self.rng.choice(live), False))
        live = [i for i in live if i not in set(self.doomed)]
        start = args.warmup_objects * args.warmup_interval + 1.0
        self.schedule(start - 0.5, "kill", ())  # nodes die after the trees formed, unannounced
        for k in range(args.objects):
            self.schedule(start + k * args.interval, "publish", (self.rng.choice(live), True))
        while self.heap and self.heap[0][0] <= until:
            self.now, _, kind, payload = heapq.heappop(self.heap)
            if kind in ("tick", "recon") and not self.nodes[payload[0]].alive:
                continue
            if kind == "tick":
                node = self.nodes[payload[0]]
                if node.tick_at <= self.now:
                    node.tick_at = math.inf
                    self.feed(payload[0], [])
            elif kind == "kill":
                for i in self.doomed:
                    self.nodes[i].alive = False
            elif kind == "publish":
                self.publish(*payload)
            elif kind == "recon":
                self.reconcile(payload[0])
            elif kind == "down":
                src, dst = payload
                self.nodes[src].neighbours.discard(dst)
                self.feed(src, [PeerDown(str(dst))])
                self.link(src, self.rng.randrange(len(self.nodes)))  # a replacement from known descriptors
            else:
                self.deliver(kind, payload)

    def deliver(self, kind: str, payload: tuple[Any, ...]) -> None:
        dst, src = payload[0], payload[1]
        if not self.nodes[dst].alive:
            return
        if src not in self.nodes[dst].neighbours and kind != "objects":
            return
        if kind == "objects":
            self.feed(dst, self.accept(dst, src, *payload[2:]))
        elif kind == "ihave":
            if payload[2]:
                self.feed(dst, [IHaveReceived(str(src), payload[2], payload[3])])
        elif kind == "graft":
            node = self.nodes[dst]
            actions = node.machine.handle(GraftReceived(str(src), payload[2]))
            self.perform(dst, actions, solicited_for=src)
        elif kind == "fetch":
            have = tuple(i for i in payload[2] if i in self.nodes[dst].received_at)
            if have:
                self.send(dst, src, "objects", (have, True, 0))
        elif kind == "prune":
            self.feed(dst, [PruneReceived(str(src))])

    # -- figures ------------------------------------------------------------------------------------

    def report(self, label: str) -> dict[str, float]:
        """Figures over the measured objects only (the warm-up ones shaped the trees)."""
        live = [n for n in self.nodes if n.alive]
        need99 = math.ceil(0.99 * len(live))
        t99: list[float] = []
        t100: list[float] = []
        delivered = 0
        for item_id in self.measured:
            t0 = self.published[item_id][1]
            times = sorted(n.received_at[item_id] - t0 for n in live if item_id in n.received_at)
            delivered += len(times)
            t99.append(times[need99 - 1] if len(times) >= need99 else math.inf)
            t100.append(times[-1] if len(times) == len(live) else math.inf)
        per_object = len(live) * len(self.measured)
        warm = len(live) * max(1, len(self.warmup_ids))
        s = self.stats
        fig = {
            "t99_p50": pct(t99, 50),
            "t99_p99": pct(t99, 99),
            "t100_p50": pct(t100, 50),
            "t100_p99": pct(t100, 99),
            "copies": sum(self.copies_of.get(i, 0) for i in self.measured) / per_object,
            "warmup_copies": sum(self.copies_of.get(i, 0) for i in self.warmup_ids) / warm,
            "ihave_bytes": sum(self.ihave_of.get(i, 0.0) for i in self.measured) / per_object,
            "delivery": delivered / per_object,
        }
        print(
            f"{label:<12} live={len(live):>5}  reach 99 %: p50 {ms(fig['t99_p50'])} p99 {ms(fig['t99_p99'])}"
            f"  reach 100 %: p50 {ms(fig['t100_p50'])} p99 {ms(fig['t100_p99'])}  delivery "
            f"{100 * fig['delivery']:.3f} %"
        )
        print(
            f"{'':<12} full copies/node/object {fig['copies']:.2f} (warm-up {fig['warmup_copies']:.2f}),"
            f" IHAVE bytes/node/object {fig['ihave_bytes']:.0f}; whole run: grafts {s.grafts}, prunes"
            f" {s.prunes}, reconciliation {s.recon_sessions} sessions, {s.recon_bytes / len(live):.0f} B/node"
        )
        return fig


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)]


def ms(value: float) -> str:
    return f"{value * 1000:6.0f} ms" if math.isfinite(value) else "   never "


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--degree", type=int, default=8)
    parser.add_argument("--fanout", type=int, default=8, help="initial eager peers per node")
    parser.add_argument("--flood-hops", type=int, default=2, help="hops from the origin pushed to every peer")
    parser.add_argument("--graft-timeout", type=float, default=0.15)
    parser.add_argument("--ihave-interval", type=float, default=0.05)
    parser.add_argument("--loss", type=float, default=0.0, help="probability that a message is lost")
    parser.add_argument(
        "--dead",
        type=float,
        nargs="*",
        default=[0.0, 0.3, 0.5],
        help="fractions of dead nodes, one scenario each",
    )
    parser.add_argument("--objects", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between publications")
    parser.add_argument("--warmup-objects", type=int, default=40, help="published first, not measured")
    parser.add_argument("--warmup-interval", type=float, default=0.2)
    parser.add_argument("--recon-interval", type=float, default=5.0)
    parser.add_argument("--detect", type=float, default=1.0, help="seconds to notice a dead peer")
    parser.add_argument("--settle", type=float, default=30.0, help="seconds simulated after the last publish")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def scenario(args: argparse.Namespace, dead: float) -> Simulation:
    """One scenario run to its end (last publication plus ``--settle``); figures from ``report()``."""
    sim = Simulation(args, dead, args.seed)
    sim.run(args.warmup_objects * args.warmup_interval + 1.0 + args.objects * args.interval + args.settle)
    return sim


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(
        f"N={args.nodes} degree~{args.degree} fanout={args.fanout} loss={args.loss} objects={args.objects} "
        f"every {args.interval}s, reconciliation every ~{args.recon_interval}s, latency 10-100 ms one way"
    )
    failures: list[str] = []
    for dead in args.dead:
        started = time.perf_counter()
        fig = scenario(args, dead).report(f"dead {100 * dead:.0f} %")
        print(f"{'':<26} ({time.perf_counter() - started:.1f} s of CPU for the scenario)")
        if dead == 0 and args.loss == 0:
            if fig["t99_p99"] > 0.5:
                failures.append(f"99 % reached in p99 {fig['t99_p99']:.3f} s (target <= 0.5 s)")
            if fig["copies"] > 1.5:
                failures.append(f"{fig['copies']:.2f} copies per node (target <= 1.5)")
        if dead == 0.3 and fig["delivery"] < 1.0:
            failures.append(f"delivery {fig['delivery']:.4f} with 30 % dead (target 100 %)")
        if dead == 0.5 and fig["delivery"] < 0.995:
            failures.append(f"delivery {fig['delivery']:.4f} with 50 % dead (target >= 99.5 %)")
    print(
        "targets (99 % in p99 <= 0.5 s, <= 1.5 copies, 100 % / 99.5 % delivery with 30 % / 50 % dead):",
        "MET" if not failures else "MISSED",
    )
    for failure in failures:
        print("  " + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
