"""The aiohttp application of a node: core routes, middlewares, state, and the role's own routes.

``create_app`` opens the database (migrations applied) so that a broken node directory fails before the
node binds a port; cleanup contexts create the shared HTTP client and close the database last (role
modules add their own contexts after ours, so theirs are torn down first).
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import AsyncIterator, Callable

import aiohttp
from aiohttp import web

from protocol.keys import KeyPair

from . import gossip, metrics, ui
from .api import admin, objects, public
from .appkeys import (
    ADMIN_TOKEN,
    CLIENT,
    CLOCK,
    CONFIG,
    DB,
    DESCRIPTOR,
    ENDPOINTS,
    NODE_KEY,
    OBJECTS,
    OPENAPI_PATHS,
)
from .auth import admin_middleware
from .config import NodeConfig
from .descriptor import SOFTWARE, DescriptorHolder
from .metrics import observe_middleware
from .problems import problem_middleware
from .storage.db import open_database
from .storage.objects import ObjectStore

log = logging.getLogger("rightsmesh.node")

CORE_ENDPOINTS = {
    "descriptor": "/.well-known/rightsmesh",
    "health": "/healthz",
    "openapi": "/openapi.json",
    "objects": "/objects",
}
CLIENT_TIMEOUT = aiohttp.ClientTimeout(total=30, connect=5)
CLIENT_LIMIT_PER_HOST = 8

# Role packages (office and marketplace work): each exposes setup(app).
ROLE_MODULES = {"office": "node.office", "marketplace": "node.marketplace"}


async def _client_ctx(app: web.Application) -> AsyncIterator[None]:
    # A per-host connection limit: one slow or dead peer cannot take every connection (gossip).
    connector = aiohttp.TCPConnector(limit=100, limit_per_host=CLIENT_LIMIT_PER_HOST)
    async with aiohttp.ClientSession(
        timeout=CLIENT_TIMEOUT, headers={"User-Agent": SOFTWARE}, connector=connector
    ) as session:
        app[CLIENT] = session
        yield


async def _db_ctx(app: web.Application) -> AsyncIterator[None]:
    try:
        yield
    finally:
        app[DB].close()
        log.info("database closed")


def _setup_role(app: web.Application, role: str) -> None:
    importlib.import_module(ROLE_MODULES[role]).setup(app)


def create_app(
    config: NodeConfig, key: KeyPair, admin_token: str, *, clock: Callable[[], float] = time.time
) -> web.Application:
    app = web.Application(
        middlewares=[observe_middleware, problem_middleware, admin_middleware],
        client_max_size=config.max_body,
    )
    db = open_database(config.db_path, synchronous=config.sqlite_synchronous)
    app[CONFIG] = config
    app[DB] = db
    app[OBJECTS] = ObjectStore(db)
    app[NODE_KEY] = key
    app[ADMIN_TOKEN] = admin_token
    app[CLOCK] = clock
    endpoints = dict(CORE_ENDPOINTS)
    app[ENDPOINTS] = endpoints
    app[OPENAPI_PATHS] = {}
    app[DESCRIPTOR] = DescriptorHolder(config, key, endpoints)
    app.cleanup_ctx.append(_db_ctx)
    app.cleanup_ctx.append(_client_ctx)
    for module in (public, objects, admin):
        app.router.add_routes(module.routes)
    _setup_role(app, config.role)
    metrics.setup(app)
    ui.setup(app)
    gossip.setup(app)  # peer endpoints and the gossip engine, every role
    importlib.import_module("node.search").setup(app)  # federated register search, every role
    app.on_startup.append(_sign_descriptor)
    return app


async def _sign_descriptor(app: web.Application) -> None:
    """Sign the descriptor at startup, once every role has added its endpoints."""
    app[DESCRIPTOR].get(int(app[CLOCK]()))
