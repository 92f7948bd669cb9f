"""The application key of the gossip engine (a module of its own so routes and engine avoid a cycle)."""

from __future__ import annotations

from aiohttp import web

from .engine import GossipEngine

GOSSIP = web.AppKey("gossip", GossipEngine)
