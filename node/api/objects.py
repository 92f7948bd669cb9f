"""``POST /objects`` (store a signed object the node may hold) and ``GET /objects/{id}`` (its exact bytes)."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from protocol.errors import ProtocolError

from ..appkeys import CONFIG, OBJECTS
from ..ingest import Refused, ingest_credential, ingest_message
from ..metrics import kind_of, object_outcome
from ..openapi import problem
from ..problems import Problem, read_body
from .views import COSE_TYPE, now, object_content_type

routes = web.RouteTableDef()

COSE_BODY_TYPES = ("application/cose", "application/cbor")
JSON_BODY_TYPES = ("application/vc+json", "application/vc", "application/json")
BODY_TYPES = COSE_BODY_TYPES + JSON_BODY_TYPES
_ID = re.compile(r"^[0-9a-f]{64}$")

# HTTP status of each acceptance refusal; other codes (schema.*) answer 422.
REFUSAL_STATUS = {
    "objects.kind-not-accepted": 422,
    "validity.untrusted-root": 403,
    "validity.stale-sequence": 409,
    "objects.descriptor-mismatch": 422,
    "validity.untrusted-issuer": 403,
    "validity.stale-version": 409,
}


@routes.post("/objects")
async def post_object(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    raw = await read_body(request, BODY_TYPES, min(config.max_object, config.max_body))
    ingest = ingest_credential if request.content_type.lower() in JSON_BODY_TYPES else ingest_message
    try:
        stored = ingest(config, request.app[OBJECTS], raw, now(request))
    except Refused as exc:
        object_outcome(request.app, kind_of(raw), "rejected", exc.code)
        raise Problem(REFUSAL_STATUS.get(exc.code, 422), exc.code, exc.detail) from None
    except ProtocolError as exc:
        object_outcome(request.app, kind_of(raw), "rejected", exc.code)
        raise
    object_outcome(request.app, stored.kind, "accepted" if stored.inserted else "duplicate")
    return web.json_response(
        {"id": stored.id, "stored": stored.inserted},
        status=201 if stored.inserted else 200,
        headers={"Location": f"/objects/{stored.id}"} if stored.inserted else None,
    )


@routes.get("/objects/{id}")
async def get_object(request: web.Request) -> web.Response:
    id_hex = request.match_info["id"].lower()
    if not _ID.match(id_hex):
        raise Problem(404, "objects.not-found", "an object id is 64 hex digits (SHA-256)")
    etag = f'"{id_hex}"'
    raw = request.app[OBJECTS].get(id_hex)
    headers = {"ETag": etag, "Cache-Control": "public, max-age=31536000, immutable"}
    if etag in {t.strip() for t in request.headers.get("If-None-Match", "").split(",")}:
        return web.Response(status=304, headers=headers)
    return web.Response(body=raw, headers={**headers, "Content-Type": object_content_type(raw)})


_ID_RESPONSE: dict[str, Any] = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["id", "stored"],
                "properties": {
                    "id": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    "stored": {"type": "boolean"},
                },
            }
        }
    }
}

OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/objects": {
        "post": {
            "summary": "Store a signed object this node may hold: a COSE message (e.g. a trust list from a"
            " trust root) or a JSON credential (a status list from an accredited office)",
            "operationId": "postObject",
            "requestBody": {
                "required": True,
                "content": {
                    t: {"schema": {"type": "string", "contentMediaType": t}} for t in COSE_BODY_TYPES
                },
            },
            "responses": {
                "201": {"description": "stored; the answer carries its id", **_ID_RESPONSE},
                "200": {"description": "already stored", **_ID_RESPONSE},
                "400": problem(
                    "malformed CBOR/COSE (decode.*), bad signature (signature.invalid), empty body"
                ),
                "403": problem(
                    "validity.untrusted-root (trust list not from a configured root),"
                    " validity.untrusted-issuer (status list not from an accredited office)"
                ),
                "409": problem(
                    "validity.stale-sequence / validity.stale-version: not newer than the one held"
                ),
                "413": problem("request.too-large"),
                "415": problem("request.content-type"),
                "422": problem("objects.kind-not-accepted, schema.*, validity.*, unsupported.*"),
            },
        }
    },
    "/objects/{id}": {
        "get": {
            "summary": "A stored object's exact bytes; the ETag is its id",
            "operationId": "getObject",
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}},
            ],
            "responses": {
                "200": {
                    "description": "the object",
                    "content": {
                        COSE_TYPE: {"schema": {"type": "string", "contentMediaType": COSE_TYPE}},
                        "application/vc+json": {"schema": {"type": "object"}},
                    },
                },
                "304": {"description": "not modified"},
                "404": problem("objects.not-found"),
            },
        }
    },
}
