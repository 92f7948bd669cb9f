"""Admin routes of the node core (``/admin/...``, bearer token): what the node holds."""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web

from ..appkeys import CONFIG, DB, NODE_KEY, OBJECTS
from ..auth import require_admin
from ..openapi import problem
from ..problems import Problem
from ..storage.db import schema_version

routes = web.RouteTableDef()

MAX_LIMIT = 1000


def status_summary(app: web.Application) -> dict[str, Any]:
    """What /admin/status answers (the dashboard's overview shows the same)."""
    config = app[CONFIG]
    return {
        "did": app[NODE_KEY].did,
        "role": config.role,
        "name": config.name,
        "url": config.url,
        "schema_version": schema_version(app[DB]),
        "objects": app[OBJECTS].counts_by_kind(),
        "peers": list(config.peers),
        "trust_roots": list(config.trust_roots),
    }


@routes.get("/admin/status")
async def admin_status(request: web.Request) -> web.Response:
    require_admin(request)
    return web.json_response(status_summary(request.app))


@routes.get("/admin/objects")
async def admin_objects(request: web.Request) -> web.Response:
    require_admin(request)
    try:
        limit = int(request.query.get("limit", "100"))
    except ValueError:
        raise Problem(400, "request.query", "limit must be an integer") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise Problem(400, "request.query", f"limit must be between 1 and {MAX_LIMIT}")
    metas = request.app[OBJECTS].list(
        kind=request.query.get("kind"), signer=request.query.get("signer"), limit=limit
    )
    return web.json_response({"objects": [dataclasses.asdict(m) for m in metas]})


_SECURED: dict[str, Any] = {
    "security": [{"adminToken": []}],
}
_AUTH_ERRORS = {"401": problem("auth.missing or auth.invalid: the admin bearer token is missing or wrong")}

OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/admin/status": {
        "get": {
            "summary": "Node identity, schema version and object counts by kind",
            "operationId": "adminStatus",
            **_SECURED,
            "responses": {
                "200": {"description": "status", "content": {"application/json": {}}},
                **_AUTH_ERRORS,
            },
        }
    },
    "/admin/objects": {
        "get": {
            "summary": "Metadata of stored objects, newest first",
            "operationId": "adminObjects",
            **_SECURED,
            "parameters": [
                {"name": "kind", "in": "query", "required": False, "schema": {"type": "string"}},
                {"name": "signer", "in": "query", "required": False, "schema": {"type": "string"}},
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100},
                },
            ],
            "responses": {
                "200": {"description": "object metadata", "content": {"application/json": {}}},
                "400": problem("request.query"),
                **_AUTH_ERRORS,
            },
        }
    },
}
