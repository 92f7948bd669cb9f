"""The gossip engine of a node: drives :class:`protocol.plumtree.Plumtree` with events and carries out
its actions over signed HTTP, validates every object a peer sends before it is stored or forwarded,
scores peers, and keeps the peer table, the dissemination view and the reconciliation index.

Events come from peer requests (routes), from objects stored locally (an ``ObjectStore.on_insert``
listener), and from a timer (``Tick`` at the tree's next deadline). The background loops (view upkeep,
reconciliation) live in :mod:`node.gossip.loops`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
from collections.abc import Iterable, Sequence
from typing import Any

import aiohttp
from aiohttp import web

from protocol.errors import ProtocolError
from protocol.peers import PeerPolicy
from protocol.plumtree import (
    Action,
    Event,
    FetchObjects,
    ObjectPublished,
    ObjectReceived,
    PeerDown,
    PeerUp,
    Plumtree,
    PlumtreeConfig,
    SendGraft,
    SendIHave,
    SendObjects,
    SendPrune,
    Tick,
)
from protocol.ratelimit import GossipLimits
from protocol.retention import window_seconds

from ..appkeys import CLIENT, CLOCK, CONFIG, DESCRIPTOR, NODE_KEY, OBJECTS
from ..batch_check import BatchChecker
from ..errors import NodeError
from ..ingest import Refused, accept_object, check_message
from ..metrics import gossip_bytes, gossip_round
from . import inbound
from .client import Caller, PeerCallError, PeerLink
from .inbound import HARMLESS, Received
from .index import ReconcileIndex
from .peerstore import StoredPeerTable, load_peers, save_peers
from .wire import CBOR_TYPE, COSE_TYPE, decode_list, encode_ihave, encode_list, encode_push

log = logging.getLogger("rightsmesh.gossip")

INVALID_COST = PeerPolicy().invalid_cost * 1.05
# The /peer/hello answer says whether the caller is now in the answering node's view.
LINK_HEADER, LINKED, VIEW_FULL = "Rightsmesh-Link", "linked", "view-full"
LINK_CHECK = 30.0  # seconds between two confirmations that a view member still holds us in its view


def tree_config(fanout: int) -> PlumtreeConfig:
    """Every push here is a signed HTTP request (a few ms of CPU at each end), so the node floods only
    the first hop and batches announcements for longer than the simulation does; tree repair waits
    ``ihave_interval + graft_timeout`` (under half a second)."""
    return PlumtreeConfig(fanout=fanout, flood_hops=1, ihave_interval=0.5)


class GossipEngine:
    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.config = app[CONFIG]
        self.store = app[OBJECTS]
        self.key = app[NODE_KEY]
        self.did = self.key.did
        self.clock = app[CLOCK]
        self.rng = random.Random()
        self.tree = Plumtree(self.did, tree_config(self.config.gossip_fanout))
        self.peers = StoredPeerTable(self.did)
        self.limits = GossipLimits.with_defaults()
        self.checker = BatchChecker(self.config, self.config.verify_workers)
        self.index = ReconcileIndex(self.store, window_seconds(self.config.retention_days))
        self.links: dict[str, PeerLink] = {}
        self.link_checked: dict[str, float] = {}  # view member -> when we last knew it holds us too
        self.view_full: dict[str, float] = {}  # peer -> when it last answered that its view is full
        self.caller: Caller | None = None
        self._local: list[tuple[str, str, int, int | None]] = []
        self._receiving = False
        self._wake = asyncio.Event()
        self._in_loop = False
        self.saved_at = 0.0
        self._descriptor_created: dict[str, int] = {}  # DID -> created of its newest descriptor seen
        self.reconcile_now: asyncio.Queue[str] = asyncio.Queue(maxsize=64)

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        now = self.clock()
        self.peers.restore(load_peers(self.store.db))
        self._learn_held_descriptors()
        for url in self.config.peers:
            self.peers.add_bootstrap(url, now)
        self.index.load(int(now))
        self.store.on_insert.append(self._on_insert)
        self.checker.start()
        total = self.config.gossip_timeout
        timeout = aiohttp.ClientTimeout(total=total, connect=min(2.0, total))
        self.caller = Caller(self.app[CLIENT], self.key, self.clock, timeout, self.config.max_body)
        if len(self.peers):
            self.ensure_own_descriptor()

    async def stop(self) -> None:
        self.store.on_insert.remove(self._on_insert)
        self.checker.close()
        for link in list(self.links.values()):
            await link.close()
        self.links.clear()
        self.save_peers()

    def _learn_held_descriptors(self) -> None:
        """The newest held descriptor of each node: its URL and the time the next one must beat."""
        rows = self.store.db.execute(
            "SELECT o.signer, o.created, f.value FROM objects o JOIN object_fields f"
            " ON f.object_id = o.id AND f.name = 'url' WHERE o.kind = 'node-descriptor' ORDER BY o.created"
        )
        for signer, created, url in rows:
            self.learn_descriptor(signer, url, int(created))

    def save_peers(self) -> None:
        save_peers(self.store.db, self.peers)
        self.saved_at = self.now()

    def now(self) -> float:
        return self.clock()

    @property
    def max_view(self) -> int:
        """Peers kept in the view counting those that reached out to us (links stay mostly symmetric)."""
        return self.config.gossip_view + self.config.gossip_view // 2

    def peer_states(self) -> dict[str, int]:
        """How many known peers are in each state (the /metrics gauge)."""
        now = self.now()
        counts: dict[str, int] = {}
        for peer in self.peers:
            state = str(self.peers.get(peer.key, now).state)  # type: ignore[union-attr]
            counts[state] = counts.get(state, 0) + 1
        return counts

    # -- local objects ------------------------------------------------------------------------------

    def _on_insert(self, id_hex: str, kind: str, created: int, expires: int | None) -> None:
        if not self._receiving:
            self._local.append((id_hex, kind, created, expires))
            self._wake.set()

    def ensure_own_descriptor(self) -> bytes:
        """Hold (and so gossip) the node's current signed descriptor; returns its bytes."""
        now = int(self.now())
        raw = self.app[DESCRIPTOR].get(now).raw
        if not self.store.has(hashlib.sha256(raw).hexdigest()):
            try:
                accept_object(self.config, self.store, check_message(self.config, raw, now), now)
            except (ProtocolError, Refused) as exc:  # a misconfigured node (e.g. no URL): say so
                log.warning("own descriptor not stored: %s", exc)
        return raw

    def _take_local(self) -> list[Event]:
        events: list[Event] = []
        pending, self._local = self._local, []
        now = int(self.now())
        for id_hex, kind, created, expires in pending:
            if self.store.has(id_hex) and self.index.add(id_hex, kind, created, expires, now):
                events.append(ObjectPublished(bytes.fromhex(id_hex), created))
        return events

    async def tree_loop(self) -> None:
        """Feed local publications and timer ticks to the tree; sleep until its next deadline."""
        loop = asyncio.get_running_loop()
        while True:
            deadline = self.tree.next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()
            self._in_loop = True
            try:
                self.feed(self._take_local())
            finally:
                self._in_loop = False

    # -- the tree -----------------------------------------------------------------------------------

    def feed(self, events: Sequence[Event]) -> list[Action]:
        """Run events through the tree (after a Tick at the current time) and carry out the actions."""
        actions = self.tree.handle_all([Tick(asyncio.get_running_loop().time()), *events])
        self.dispatch(actions)
        if not self._in_loop:
            self._wake.set()  # the tree's next deadline may have moved
        return actions

    def dispatch(self, actions: Iterable[Action]) -> None:
        for action in actions:
            if isinstance(action, SendObjects):
                hops, root = getattr(action, "hops", 0), getattr(action, "root", "")
                self.link(action.peer).put("push", tuple((i, hops, root) for i in action.ids))
            elif isinstance(action, SendIHave):
                hops_list = tuple(getattr(action, "hops", ())) or (0,) * len(action.ids)
                self.link(action.peer).put("ihave", tuple(zip(action.ids, hops_list, strict=True)))
            elif isinstance(action, SendGraft):
                self.link(action.peer).put("graft", action.ids)
            elif isinstance(action, FetchObjects):
                self.link(action.peer).put("fetch", action.ids)
            elif isinstance(action, SendPrune):
                self.link(action.peer).put("prune")

    def link(self, peer: str) -> PeerLink:
        link = self.links.get(peer)
        if link is None:
            link = self.links[peer] = PeerLink(peer, self._run_op)
        return link

    def add_to_view(self, did: str) -> None:
        peer = self.peers.get(did)
        if peer is not None and peer.url is not None and did not in self.tree.peers:
            self.feed([PeerUp(did)])

    def drop_from_view(self, did: str) -> None:
        if did in self.tree.peers:
            self.feed([PeerDown(did)])
        link = self.links.pop(did, None)
        if link is not None:
            link.task.cancel()

    def note_inbound(self, did: str) -> None:
        """An authenticated request from ``did``: contact recorded; a known peer joins the view if room."""
        self.peers.record_contact(did, self.now())
        if did not in self.tree.peers and len(self.tree.peers) < self.max_view:
            self.add_to_view(did)
            self.link_checked[did] = self.now()

    def accept_neighbour(self, did: str, *, high: bool) -> bool:
        """A peer that greeted us asks to be in our view (links must be symmetric: a node in nobody's
        view gets no pushes or announcements, only what catch-up brings every few seconds). With room,
        it joins; when full, a ``high`` priority request (the caller's view is empty: a newcomer, or a
        node whose links all failed) still joins, in place of a random member, which finds out at its
        next link check and greets another node. Returns whether ``did`` is now in the view."""
        if did not in self.tree.peers and len(self.tree.peers) >= self.max_view:
            if not high:
                return False
            self.drop_from_view(self.rng.choice(sorted(self.tree.peers)))
        self.add_to_view(did)
        self.link_checked[did] = self.now()
        return did in self.tree.peers

    # -- carrying out actions -----------------------------------------------------------------------

    def _url(self, did: str) -> str | None:
        peer = self.peers.get(did)
        return None if peer is None else peer.url

    async def call(self, did: str, path: str, body: bytes = b"", content_type: str | None = None) -> bytes:
        """A signed request to a peer; failures count against it (and take it out of the view)."""
        url = self._url(did)
        if url is None or self.caller is None or self.peers.is_refused(did, self.now()):
            raise PeerCallError(0, "no usable URL for this peer", unavailable=False)
        gossip_bytes(self.app, "sent", len(body))
        try:
            answer = await self.caller.post(url, path, body, content_type)
        except PeerCallError as exc:
            if exc.unavailable or exc.status in (401, 403):
                self.peers.record_failure(did, self.now(), self.rng.random())
                self.drop_from_view(did)
            raise
        gossip_bytes(self.app, "received", len(answer))
        self.peers.record_contact(did, self.now())
        return answer

    async def _run_op(self, did: str, op: str, ids: tuple[Any, ...]) -> None:
        try:
            if op == "push":
                await self.push(did, ids)
            elif op == "ihave":
                await self.call(did, "/peer/ihave", encode_ihave(ids), CBOR_TYPE)
            elif op == "prune":
                await self.call(did, "/peer/prune")
            else:  # graft or fetch: the answer carries the objects
                answer = await self.call(did, f"/peer/{op}", encode_list(ids), CBOR_TYPE)
                raws = decode_list(answer, self.config.max_body)
                await self.receive(did, [(raw, 0, "") for raw in raws], solicited=True)
            gossip_round(self.app, op)
        except PeerCallError as exc:
            gossip_round(self.app, op, "error")
            log.info("gossip %s to %s: %s", op, did, exc)
        except ProtocolError as exc:  # a malformed answer
            gossip_round(self.app, op, "bad-answer")
            self.penalise(did)
            log.info("gossip %s from %s: bad answer %s", op, did, exc.code)

    async def push(self, did: str, entries: Sequence[tuple[bytes, int, str]]) -> None:
        """Push the held objects (id, hops, root) in batches of at most ``max_body`` bytes."""
        batch: list[tuple[bytes, int, str]] = []
        size = 0
        budget = self.config.max_body - 4096
        for item_id, hops, root in entries:
            try:
                raw = self.store.get(item_id.hex())
            except NodeError:
                declined = self.index.declined(item_id.hex())
                if declined is None:
                    continue
                raw = declined
            if batch and size + len(raw) + 16 + len(root) > budget:
                await self.call(did, "/peer/objects", encode_push(batch), CBOR_TYPE)
                batch, size = [], 0
            batch.append((raw, hops, root))
            size += len(raw) + 16 + len(root)
        if batch:
            await self.call(did, "/peer/objects", encode_push(batch), CBOR_TYPE)

    # -- receiving ----------------------------------------------------------------------------------

    async def receive(
        self, did: str, entries: Sequence[tuple[bytes, int, str]], *, solicited: bool, retry: bool = False
    ) -> Received:
        """Validate objects from a peer, store the valid ones, score the peer, tell the tree
        (:func:`node.gossip.inbound.receive`)."""
        return await inbound.receive(self, did, entries, solicited=solicited, retry=retry)

    def penalise(self, did: str) -> None:
        """One invalid object (or answer) from ``did``. Slightly above the policy's cost, so that score
        recovered in the seconds between offences never lets a peer send more than 10 before its ban."""
        self.peers.record_invalid(did, self.now(), INVALID_COST)

    def learn_descriptor(self, did: str, url: object, created: int) -> None:
        """A verified descriptor names where ``did`` is; only the newest one held counts (an old one
        arriving late, e.g. by reconciliation after a restart on another port, must not win)."""
        if not isinstance(url, str) or did == self.did or created < self._descriptor_created.get(did, -1):
            return
        self._descriptor_created[did] = created
        try:
            self.peers.learn(did, url, self.now())
        except ProtocolError:
            return

    # -- descriptor exchange ------------------------------------------------------------------------

    def take_descriptor(self, did: str, raw: bytes) -> bool:
        """A peer's own descriptor (hello): verified, signed by ``did``, stored, and the peer learned."""
        now = int(self.now())
        try:
            checked = check_message(self.config, raw, now)
            if checked.kind != "node-descriptor" or checked.signer != did:
                raise Refused("objects.descriptor-mismatch", "a hello carries the sender's own descriptor")
            self._receiving = True
            try:
                ingested = accept_object(self.config, self.store, checked, now)
            finally:
                self._receiving = False
        except (ProtocolError, Refused) as exc:
            if exc.code not in HARMLESS:
                self.penalise(did)
            return False
        self.index.add(ingested.id, ingested.kind, ingested.created, ingested.expires, now)
        assert checked.message is not None
        self.learn_descriptor(did, checked.message.payload.get("url"), checked.message.created)
        if ingested.inserted:
            self.feed([ObjectReceived(did, bytes.fromhex(ingested.id), ingested.created, solicited=True)])
        return True

    async def hello(self, url: str) -> str | None:
        """Exchange descriptors with the peer at ``url`` and ask to be linked; returns its DID if the link
        holds (both views hold the other), else None (the peer is still learned, for catch-up)."""
        if self.caller is None:
            return None
        own = self.ensure_own_descriptor()
        now = self.now()
        priority = "low" if self.tree.peers else "high"
        try:
            reply = await self.caller.exchange(url, f"/peer/hello?priority={priority}", own, COSE_TYPE)
            answer = reply.body
            checked = check_message(self.config, answer, int(now))
        except (PeerCallError, ProtocolError) as exc:
            self.peers.record_failure(url, now, self.rng.random())
            log.info("hello to %s failed: %s", url, exc)
            return None
        did = checked.signer
        if did == self.did or self.peers.is_refused(did, now) or not self.take_descriptor(did, answer):
            return None
        self.peers.learn(did, url, now)  # reached at this URL: that is where it is (a bootstrap row merges)
        self.peers.record_contact(did, now)
        self.link_checked[did] = now
        if reply.headers.get(LINK_HEADER, LINKED) != LINKED:  # its view is full: no one-way link
            self.drop_from_view(did)
            self.view_full[did] = now
            return None
        self.add_to_view(did)
        return did

    def recently_full(self) -> set[str]:
        """Peers that answered ``view-full`` less than ``LINK_CHECK`` seconds ago (not greeted again yet)."""
        now = self.now()
        self.view_full = {d: t for d, t in self.view_full.items() if now - t < LINK_CHECK}
        return set(self.view_full)

    def link_to_check(self) -> str | None:
        """A view member whose link was last confirmed ``LINK_CHECK`` seconds ago or more (at random)."""
        now = self.now()
        due = sorted(d for d in self.tree.peers if now - self.link_checked.get(d, 0.0) >= LINK_CHECK)
        self.link_checked = {d: t for d, t in self.link_checked.items() if d in self.tree.peers}
        return self.rng.choice(due) if due else None
