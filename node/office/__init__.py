"""The office role: register import and search, credential issuance by one-time offers, revocation.

``setup(app)`` adds the office routes (see :mod:`node.office.routes`) and announces their endpoints in
the node descriptor. CLI: ``rightsmesh office ...`` (:mod:`node.commands.office`).
"""

from __future__ import annotations

from aiohttp import web

from ..appkeys import ENDPOINTS
from .routes import routes

ENDPOINTS_OFFICE = {
    "search": "/rights/search",
    "issuance_nonce": "/issuance/nonce",
    "issuance_credential": "/issuance/credential",
    "status": "/status/",
}


def setup(app: web.Application) -> None:
    app.router.add_routes(routes)
    app[ENDPOINTS].update(ENDPOINTS_OFFICE)
