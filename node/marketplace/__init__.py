"""The marketplace role: a signed IP-protection profile and enrolment of right holders by presentation.

``setup(app)`` adds the routes of :mod:`node.marketplace.routes`, the trust cache, and announces the
endpoints in the node descriptor. CLI: ``rightsmesh market ...`` (:mod:`node.commands.market`).
"""

from __future__ import annotations

from aiohttp import web

from .. import notices
from ..appkeys import CONFIG, ENDPOINTS
from .keys import TRUST
from .routes import routes
from .store import TrustCache

ENDPOINTS_MARKETPLACE = {
    "profile": "/profile",
    "enrol_challenge": "/enrol/challenge",
    "enrol": "/enrol",
}


def setup(app: web.Application) -> None:
    app.router.add_routes(routes)
    app[TRUST] = TrustCache(app[CONFIG].trust_roots)
    app[ENDPOINTS].update(ENDPOINTS_MARKETPLACE)
    notices.setup(app)  # the notice lifecycle (node/notices/, issue 6)
