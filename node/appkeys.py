"""Typed keys for the state an aiohttp application carries (``app[CONFIG]`` and so on)."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import sqlite_utils
from aiohttp import web

from protocol.keys import KeyPair

from .config import NodeConfig
from .descriptor import DescriptorHolder
from .storage.objects import ObjectStore

CONFIG = web.AppKey("config", NodeConfig)
DB = web.AppKey("db", sqlite_utils.Database)
OBJECTS = web.AppKey("objects", ObjectStore)
NODE_KEY = web.AppKey("node_key", KeyPair)
ADMIN_TOKEN = web.AppKey("admin_token", str)
CLOCK: web.AppKey[Callable[[], float]] = web.AppKey("clock")
CLIENT = web.AppKey("client", aiohttp.ClientSession)
# The current signed node descriptor (re-signed before it expires).
DESCRIPTOR = web.AppKey("descriptor", DescriptorHolder)
# Endpoint name -> path, announced in the node descriptor; role modules add theirs in setup(app).
ENDPOINTS: web.AppKey[dict[str, str]] = web.AppKey("endpoints")
# OpenAPI path items contributed by each route module, merged into /openapi.json.
OPENAPI_PATHS: web.AppKey[dict[str, dict[str, object]]] = web.AppKey("openapi_paths")
