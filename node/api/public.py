"""Public, read-only routes: the signed node descriptor, health, and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..appkeys import CONFIG, DB, DESCRIPTOR, NODE_KEY
from ..descriptor import software_version
from ..openapi import build_document, problem
from .views import COSE_SIGN1_TYPE, json_safe, now

routes = web.RouteTableDef()


@routes.get("/.well-known/rightsmesh")
async def well_known(request: web.Request) -> web.Response:
    descriptor = request.app[DESCRIPTOR].get(now(request))
    if request.query.get("format") == "json":
        key = request.app[NODE_KEY]
        return web.json_response(
            {
                "kind": "node-descriptor",
                "signer": key.did,
                "kid": key.kid,
                "payload": json_safe(descriptor.payload),
            }
        )
    return web.Response(
        body=descriptor.raw,
        headers={"Content-Type": COSE_SIGN1_TYPE, "Cache-Control": "max-age=300"},
    )


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    request.app[DB].execute("SELECT 1").fetchone()
    config = request.app[CONFIG]
    return web.json_response({"status": "ok", "role": config.role, "did": request.app[NODE_KEY].did})


@routes.get("/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    document = build_document(
        request.app,
        title=f"rightsmesh node ({config.role})",
        version=software_version(),
        server_url=config.url,
    )
    return web.json_response(document)


_DESCRIPTOR_JSON: dict[str, Any] = {
    "type": "object",
    "required": ["kind", "signer", "kid", "payload"],
    "properties": {
        "kind": {"const": "node-descriptor"},
        "signer": {"type": "string"},
        "kid": {"type": "string"},
        "payload": {
            "type": "object",
            "required": [
                "created",
                "did",
                "role",
                "name",
                "url",
                "endpoints",
                "software",
                "x25519",
                "expires",
            ],
        },
    },
}

OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/.well-known/rightsmesh": {
        "get": {
            "summary": "The node descriptor, a COSE_Sign1 message of kind node-descriptor",
            "operationId": "getNodeDescriptor",
            "parameters": [
                {
                    "name": "format",
                    "in": "query",
                    "required": False,
                    "schema": {"enum": ["json"]},
                    "description": "json: the decoded, unsigned view instead of the signed bytes",
                }
            ],
            "responses": {
                "200": {
                    "description": "The signed descriptor (or its JSON view)",
                    "content": {
                        "application/cose": {
                            "schema": {"type": "string", "contentMediaType": "application/cose"}
                        },
                        "application/json": {"schema": _DESCRIPTOR_JSON},
                    },
                }
            },
        }
    },
    "/healthz": {
        "get": {
            "summary": "Liveness: the node answers and its database is readable",
            "operationId": "getHealth",
            "responses": {
                "200": {
                    "description": "healthy",
                    "content": {"application/json": {"schema": {"type": "object", "required": ["status"]}}},
                },
                "500": problem("the database is unusable"),
            },
        }
    },
    "/openapi.json": {
        "get": {
            "summary": "This OpenAPI 3.1 document",
            "operationId": "getOpenApi",
            "responses": {"200": {"description": "OpenAPI document", "content": {"application/json": {}}}},
        }
    },
}
