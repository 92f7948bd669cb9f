"""Federated register search (service 2 from any node): ``GET /search/rights`` fans out to the offices
that a trust list the node holds accredits (specs/search.md).

``setup(app)`` is called for every role; it adds the route and announces it in the node descriptor as
``federated_search``. CLI: ``rightsmesh search --node URL`` (:mod:`node.commands.search`).
"""

from __future__ import annotations

from aiohttp import web

from ..appkeys import ENDPOINTS
from .routes import routes

ENDPOINTS_SEARCH = {"federated_search": "/search/rights"}


def setup(app: web.Application) -> None:
    app.router.add_routes(routes)
    app[ENDPOINTS].update(ENDPOINTS_SEARCH)
