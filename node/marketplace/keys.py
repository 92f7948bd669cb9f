"""AppKeys of the marketplace role."""

from __future__ import annotations

from aiohttp import web

from .store import TrustCache

TRUST = web.AppKey("marketplace_trust", TrustCache)
