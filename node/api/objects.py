"""``POST /objects`` (store a signed object the node may hold) and ``GET /objects/{id}`` (its exact bytes)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from protocol.acceptance import STATUS_LIST_KIND, Accept, Decision, Refuse, decide, decide_status_list
from protocol.cbor import Limits
from protocol.messages import verify_message
from protocol.status_list import LIST_TYPE, verify_status_list_credential
from protocol.vc import credential_types, format_datetime, load_json, parse_datetime

from ..appkeys import CONFIG, OBJECTS
from ..openapi import problem
from ..problems import Problem, read_body
from ..storage.db import transaction
from ..trust import held_status_list_version, load_trust_store, trust_state
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
    store = request.app[OBJECTS]
    raw = await read_body(request, BODY_TYPES, min(config.max_object, config.max_body))
    if request.content_type.lower() in JSON_BODY_TYPES:
        return _store_credential(request, raw)
    message = verify_message(raw, now(request), limits=Limits(max_bytes=config.max_object))
    if store.has(message.id_hex):
        return _stored(message.id_hex, False)
    with transaction(store.db):
        decision = decide(message, trust_state(config, store))
        _refuse_if(decision)
        assert isinstance(decision, Accept)
        id_hex, inserted = store.put(
            message.raw,
            kind=message.kind,
            signer=message.signer,
            created=message.created,
            expires=message.expires,
            fields=decision.fields,
            received_at=now(request),
        )
    return _stored(id_hex, inserted)


def _refuse_if(decision: Decision) -> None:
    if isinstance(decision, Refuse):
        raise Problem(REFUSAL_STATUS.get(decision.code, 422), decision.code, decision.detail)


def _stored(id_hex: str, inserted: bool) -> web.Response:
    return web.json_response(
        {"id": id_hex, "stored": inserted},
        status=201 if inserted else 200,
        headers={"Location": f"/objects/{id_hex}"} if inserted else None,
    )


def _store_credential(request: web.Request, raw: bytes) -> web.Response:
    """A JSON credential: only a Bitstring Status List credential from an accredited office, for now."""
    config = request.app[CONFIG]
    store = request.app[OBJECTS]
    id_hex = hashlib.sha256(raw).hexdigest()
    if store.has(id_hex):
        return _stored(id_hex, False)
    document = load_json(raw)
    if not isinstance(document, dict):
        raise Problem(422, "schema.credential", "a credential is a JSON object")
    if LIST_TYPE not in credential_types(document):
        raise Problem(
            422, "objects.kind-not-accepted", f"this node accepts only {LIST_TYPE} credentials as JSON"
        )
    clock = now(request)
    moment = datetime.fromtimestamp(clock, UTC)
    status_list = verify_status_list_credential(document, now=moment)
    with transaction(store.db):
        trust = load_trust_store(config, store, clock)
        decision = decide_status_list(
            status_list, trust, held_status_list_version(store, status_list.url), clock
        )
        _refuse_if(decision)
        assert isinstance(decision, Accept)
        valid_from = parse_datetime(document.get("validFrom", format_datetime(moment)), "validFrom")
        valid_until = document.get("validUntil")
        stored_id, inserted = store.put(
            raw,
            kind=STATUS_LIST_KIND,
            signer=status_list.issuer,
            created=int(valid_from.timestamp()),
            expires=None
            if valid_until is None
            else int(parse_datetime(valid_until, "validUntil").timestamp()),
            fields=decision.fields,
            received_at=clock,
        )
    return _stored(stored_id, inserted)


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
