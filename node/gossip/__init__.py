"""Gossip federation inside a node: every node receives every valid object, with no hub.

``setup(app)`` (called by :func:`node.app.create_app` for every role) adds the signed peer endpoints
(``/peer/...``) and ``/admin/peers``, and a cleanup context that runs the engine: Plumtree dissemination
(:mod:`node.gossip.engine`), view upkeep and catch-up reconciliation (:mod:`node.gossip.loops`), and the
retention prune (:mod:`node.gossip.retention`). Objects
stored by any route are announced through the ``ObjectStore.on_insert`` listener, so role code needs
no call of its own; objects from peers go through :mod:`node.ingest` exactly as POST /objects does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from ..appkeys import ENDPOINTS
from ..httpsig import PEER_AUTH, setup_peer_auth
from ..metrics import set_peer_states
from .engine import GossipEngine
from .keys import GOSSIP
from .loops import maintain_loop, reconcile_loop
from .retention import prune_loop
from .routes import routes

__all__ = ["GOSSIP", "GossipEngine", "setup"]


def setup(app: web.Application) -> None:
    if PEER_AUTH not in app:
        setup_peer_auth(app)
    app[GOSSIP] = engine = GossipEngine(app)
    set_peer_states(app, engine.peer_states)
    app.router.add_routes(routes)
    app[ENDPOINTS]["peer_hello"] = "/peer/hello"
    app.cleanup_ctx.append(_engine_ctx)


async def _engine_ctx(app: web.Application) -> AsyncIterator[None]:
    engine = app[GOSSIP]
    engine.start()
    tasks = [
        asyncio.create_task(engine.tree_loop(), name="gossip-tree"),
        asyncio.create_task(maintain_loop(engine), name="gossip-maintain"),
        asyncio.create_task(reconcile_loop(engine), name="gossip-reconcile"),
        asyncio.create_task(prune_loop(engine), name="gossip-prune"),
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await engine.stop()
