"""The marketplace's side of the notice lifecycle: inbox, receipts, decisions, complaints, matching.

``setup(app)`` (called by :func:`node.marketplace.setup`) adds the routes of :mod:`.routes`, listens to
the object store so that notices, decisions and complaints arriving by any path (POST /notices,
POST /objects, gossip) take effect, builds the match index from the stored objects at start, and
announces the endpoints in the node descriptor. CLI: ``rightsmesh market decide|notices|complain|
notifier|export-sor|match``.
"""

from __future__ import annotations

from aiohttp import web

from ..appkeys import CLOCK, ENDPOINTS, NODE_KEY, OBJECTS
from .keys import NOTICES
from .routes import routes
from .state import NoticeState

ENDPOINTS_NOTICES = {
    "notices": "/notices",
    "complaints": "/complaints",
    "decisions": "/decisions",
    "receipts": "/receipts",
    "match": "/match",
}


def setup(app: web.Application) -> None:
    state = NoticeState(app[OBJECTS], app[NODE_KEY], app[CLOCK])
    app[NOTICES] = state
    app[OBJECTS].on_insert.append(state.on_insert)
    app.router.add_routes(routes)
    app[ENDPOINTS].update(ENDPOINTS_NOTICES)
    app.on_startup.append(_load_index)


async def _load_index(app: web.Application) -> None:
    app[NOTICES].load()
