"""The engine's background loops: view upkeep (descriptor exchange, peer table persistence) and catch-up
by range-based set reconciliation with a random peer.

Catch-up runs at start and every ``gossip_interval`` seconds, and at once with a peer that just joined
(so a healed partition converges without waiting for new traffic): the node is the initiator, learns
which ids it lacks (fetched from that peer in bounded batches and validated like any pushed object) and
which the peer lacks (pushed to it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from protocol.errors import ProtocolError
from protocol.reconcile import Reconciler

from ..metrics import gossip_round
from .client import PeerCallError
from .engine import GossipEngine
from .wire import CBOR_TYPE, RECONCILE_TYPE, decode_list, encode_list

log = logging.getLogger("rightsmesh.gossip")

MAX_ROUNDS = 16  # reconciliation round trips per session
FETCH_BATCH = 256  # ids per fetch request
SAVE_EVERY = 30.0  # seconds between writes of the peer table (and at shutdown, and on admin changes)


async def maintain(engine: GossipEngine) -> None:
    """Keep the view filled from eligible peers, drop refused or failing ones, persist the table."""
    now = engine.now()
    eligible = {peer.key for peer in engine.peers.eligible(now)}
    for did in list(engine.tree.peers):
        if did not in eligible:
            engine.drop_from_view(did)
    if len(engine.peers):
        engine.ensure_own_descriptor()
        engine.index.refresh(int(now))
    check = engine.link_to_check()
    if check is not None and (url := engine._url(check)) is not None:
        await engine.hello(url)  # still linked both ways? if not, it leaves the view and frees a slot
    room = engine.config.gossip_view - len(engine.tree.peers)
    if room > 0:
        exclude = engine.tree.peers | engine.recently_full()
        candidates = engine.peers.choose(engine.rng, room, now, exclude=exclude)
        urls = [peer.url for peer in candidates if peer.url is not None]
        reached = await asyncio.gather(*(engine.hello(url) for url in urls))
        for new in reached:
            if new is not None:
                with contextlib.suppress(asyncio.QueueFull):
                    engine.reconcile_now.put_nowait(new)
    if engine.now() - engine.saved_at >= SAVE_EVERY:
        engine.save_peers()


async def maintain_loop(engine: GossipEngine) -> None:
    interval = min(1.0, engine.config.gossip_interval)
    while True:
        try:
            await maintain(engine)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("gossip maintenance failed")
        await asyncio.sleep(interval)


async def reconcile_with(engine: GossipEngine, did: str) -> tuple[int, int]:
    """One catch-up session with ``did``; returns (ids fetched and stored, ids pushed to it)."""
    reconciler = Reconciler(engine.index.items.copy())
    message: bytes | None = reconciler.initiate()
    have: list[bytes] = []
    need: list[bytes] = []
    for _ in range(MAX_ROUNDS):
        assert message is not None
        reply = await engine.call(did, "/peer/reconcile", message, RECONCILE_TYPE)
        try:
            message, more_have, more_need = reconciler.reconcile(reply)
        except ProtocolError as exc:
            engine.penalise(did)
            log.info("bad reconciliation reply from %s: %s", did, exc.code)
            return 0, 0
        have += more_have
        need += more_need
        if message is None:
            break
    stored = 0
    remaining = [item for item in dict.fromkeys(need) if not engine.store.has(item.hex())]
    while remaining:
        chunk, remaining = remaining[:FETCH_BATCH], remaining[FETCH_BATCH:]
        answer = await engine.call(did, "/peer/fetch", encode_list(chunk), CBOR_TYPE)
        raws = decode_list(answer, engine.config.max_body)
        result = await engine.receive(did, [(raw, 0, "") for raw in raws], solicited=True)
        stored += result.stored
        if result.refused:
            return stored, 0
        missing = [item for item in chunk if not engine.store.has(item.hex())]
        if len(raws) and len(missing) < len(chunk):  # a partial answer (size budget): ask for the rest
            remaining = missing + remaining
    if have:
        engine.link(did).put("push", tuple((item, 0, "") for item in have))
    return stored, len(have)


async def reconcile_loop(engine: GossipEngine) -> None:
    """Reconcile at start, every ``gossip_interval`` seconds with a random peer, and with new peers."""
    interval = engine.config.gossip_interval
    while True:
        target: str | None = None
        with contextlib.suppress(TimeoutError):
            # jittered x0.5-1.5 (specs/gossip.md): nodes started together do not reconcile in lockstep
            wait = interval * (0.5 + engine.rng.random())
            target = await asyncio.wait_for(engine.reconcile_now.get(), wait)
        try:
            if target is None:
                target = await pick_peer(engine)
            if target is not None:
                stored, pushed = await reconcile_with(engine, target)
                gossip_round(engine.app, "reconcile")
                if stored or pushed:
                    log.info("reconciled with %s: %d fetched, %d pushed", target, stored, pushed)
        except asyncio.CancelledError:
            raise
        except (PeerCallError, ProtocolError) as exc:
            gossip_round(engine.app, "reconcile", "error")
            log.info("reconciliation with %s failed: %s", target, exc)
        except Exception:
            log.exception("reconciliation with %s failed", target)


async def pick_peer(engine: GossipEngine) -> str | None:
    """A random eligible peer (its DID; a URL-only bootstrap peer is greeted first to learn it)."""
    chosen = engine.peers.choose(engine.rng, 1, engine.now())
    if not chosen:
        return None
    peer = chosen[0]
    if peer.did is not None:
        return peer.did
    return await engine.hello(peer.url) if peer.url is not None else None
