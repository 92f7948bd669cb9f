"""Office HTTP routes: register search (signed answer), issuance offers and redemption, revocation, status.

Public: ``GET /rights/search``, ``POST /issuance/nonce``, ``POST /issuance/credential``,
``GET /status/{list}``. Admin (bearer token): ``POST /admin/offers``, ``GET /admin/offers``,
``POST /admin/revocations``, ``GET /admin/credentials``.
"""

from __future__ import annotations

import base64
import dataclasses
import secrets
from typing import Any

from aiohttp import web

from protocol.issuance import NONCE_BYTES, check_key_proof, make_nonce, mark_redeemed, parse_code, redeem
from protocol.messages import sign_message
from protocol.role_payloads import search_result_payload

from .. import nonces
from ..api.views import COSE_SIGN1_TYPE, now
from ..appkeys import CONFIG, DB, NODE_KEY
from ..auth import require_admin
from ..errors import NodeError
from ..openapi import ADMIN, AUTH_ERRORS, BODY_ERRORS, json_answer, problem
from ..problems import Problem, read_json
from ..storage.db import transaction
from . import issue, service, store

routes = web.RouteTableDef()

NONCE_TTL = 300
NONCE_PURPOSE = "c_nonce"
MAX_ISSUANCE_BODY = 64 * 1024
MAX_QUERY_TEXT = 200


def _query_text(request: web.Request, name: str) -> str | None:
    value = request.query.get(name, "").strip()
    if len(value) > MAX_QUERY_TEXT:
        raise Problem(400, "request.query", f"{name} is longer than {MAX_QUERY_TEXT} characters")
    return value or None


def _query_int(request: web.Request, name: str, low: int, high: int, default: int | None) -> int | None:
    text = request.query.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise Problem(400, "request.query", f"{name} must be an integer") from None
    if not low <= value <= high:
        raise Problem(400, "request.query", f"{name} must be between {low} and {high}")
    return value


@routes.get("/rights/search")
async def search_rights(request: web.Request) -> web.Response:
    """Search the register; the answer is a ``search-result`` message signed by the office."""
    q, number, owner = (_query_text(request, n) for n in ("q", "number", "owner"))
    nice_class = _query_int(request, "class", 1, 45, None)
    limit = _query_int(request, "limit", 1, store.MAX_LIMIT, store.DEFAULT_LIMIT)
    assert limit is not None
    results, total = store.search(
        request.app[DB], q=q, number=number, nice_class=nice_class, owner=owner, limit=limit
    )
    query: dict[str, Any] = {"limit": limit}
    for name, value in (("q", q), ("number", number), ("owner", owner), ("class", nice_class)):
        if value is not None:
            query[name] = value
    key = request.app[NODE_KEY]
    raw = sign_message(
        key, "search-result", search_result_payload(key.did, query, results, total, now(request))
    )
    if request.query.get("format") == "json":
        return web.json_response(
            {
                "office": key.did,
                "query": query,
                "results": results,
                "total": total,
                "truncated": total > len(results),
                "signed": base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii"),
            }
        )
    return web.Response(body=raw, headers={"Content-Type": COSE_SIGN1_TYPE})


@routes.post("/admin/offers")
async def admin_create_offer(request: web.Request) -> web.Response:
    require_admin(request)
    body = await read_json(request, 4096)
    if not isinstance(body, dict) or not isinstance(body.get("number"), str):
        raise Problem(422, "request.schema", 'expected {"number": "...", "ttl"?: int, "max_attempts"?: int}')
    options = {k: body[k] for k in ("ttl", "max_attempts") if k in body}
    if any(isinstance(v, bool) or not isinstance(v, int) for v in options.values()):
        raise Problem(422, "request.schema", "ttl and max_attempts are integers")
    db = request.app[DB]
    with transaction(db):
        new = service.create_offer(db, body["number"], now(request), **options)
    return web.json_response(new.as_json(), status=201)


@routes.get("/admin/offers")
async def admin_list_offers(request: web.Request) -> web.Response:
    require_admin(request)
    offers = store.list_offers(request.app[DB], request.query.get("right"))
    return web.json_response(
        {"offers": [{k: v for k, v in dataclasses.asdict(o).items() if k != "code_hash"} for o in offers]}
    )


@routes.post("/issuance/nonce")
async def issuance_nonce(request: web.Request) -> web.Response:
    """A fresh ``c_nonce`` for one proof of key possession (OpenID4VCI nonce endpoint)."""
    nonce = make_nonce(secrets.token_bytes(NONCE_BYTES))
    db = request.app[DB]
    moment = now(request)
    with transaction(db):
        try:
            nonces.add_nonce(db, nonce, NONCE_PURPOSE, moment + NONCE_TTL, moment)
        except nonces.RateLimited as exc:
            raise Problem(429, exc.code, exc.detail) from None
    return web.json_response(
        {"c_nonce": nonce, "c_nonce_expires_in": NONCE_TTL, "audience": request.app[NODE_KEY].did},
        headers={"Cache-Control": "no-store"},
    )


@routes.post("/issuance/credential")
async def issuance_credential(request: web.Request) -> web.Response:
    """Redeem an offer code with a key-possession proof; answer the IPRightCredential bound to the prover.

    A wrong code counts an attempt (committed even though the request fails); the c_nonce is used up by
    any request that names it; the offer is consumed only when the credential is issued.
    """
    body = await read_json(request, MAX_ISSUANCE_BODY)
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("code"), str)
        or not isinstance(body.get("proof"), dict)
    ):
        raise Problem(422, "request.schema", 'expected {"code": "...", "proof": {presentation}}')
    offer_id, _ = parse_code(body["code"])
    db = request.app[DB]
    moment = now(request)
    key = request.app[NODE_KEY]
    failure: Problem | None = None
    with transaction(db):
        try:
            offer = store.load_offer(db, offer_id)
        except NodeError as exc:
            raise Problem(404, exc.code, exc.detail) from None
        outcome = redeem(offer, body["code"], moment)
        store.save_offer(db, outcome.offer)
        if outcome.error is not None:
            status = 403 if outcome.error.code in ("validity.offer-code", "validity.offer-locked") else 410
            failure = Problem(
                status,
                outcome.error.code,
                outcome.error.detail,
                attempts_left=max(0, outcome.offer.max_attempts - outcome.offer.attempts),
            )
    if failure is not None:  # the attempt count is committed, then the request fails
        raise failure
    try:
        proof_nonce = body["proof"].get("proof", {}).get("challenge")
    except AttributeError:
        proof_nonce = None
    if not isinstance(proof_nonce, str):
        raise Problem(422, "schema.key-proof", "the proof carries no challenge (the c_nonce)")
    with transaction(db):
        why = nonces.take_nonce(db, proof_nonce, NONCE_PURPOSE, moment)
    if why is not None:
        raise Problem(
            422, f"validity.nonce-{why}", f"the c_nonce is {why}; ask /issuance/nonce for a fresh one"
        )
    holder = check_key_proof(body["proof"], nonce=proof_nonce, audience=key.did)
    with transaction(db):
        offer = store.load_offer(db, offer_id)
        again = redeem(offer, body["code"], moment)  # re-checked inside the issuing transaction
        if again.error is not None:
            raise Problem(409, again.error.code, again.error.detail)
        credential = issue.issue_credential(key, request.app[CONFIG].url, db, offer.right_key, holder, moment)
        store.save_offer(db, mark_redeemed(offer, holder))
    return web.json_response(credential, status=201, content_type="application/vc+json")


@routes.post("/admin/revocations")
async def admin_revoke(request: web.Request) -> web.Response:
    require_admin(request)
    body = await read_json(request, 4096)
    if not isinstance(body, dict) or not isinstance(body.get("credential"), str):
        raise Problem(422, "request.schema", 'expected {"credential": "<credential id>"}')
    db = request.app[DB]
    with transaction(db):
        result = issue.revoke(request.app[NODE_KEY], db, body["credential"], now(request))
    return web.json_response(result)


@routes.get("/admin/credentials")
async def admin_credentials(request: web.Request) -> web.Response:
    require_admin(request)
    return web.json_response(
        {"credentials": store.list_credentials(request.app[DB], request.query.get("right"))}
    )


@routes.get("/status/{list}")
async def status_list(request: web.Request) -> web.Response:
    """The current status list credential; ``ETag`` = list and version, so readers revalidate cheaply."""
    list_id = request.match_info["list"]
    row = store.status_list_row(request.app[DB], list_id)
    if row is None:
        raise Problem(404, "office.unknown-status-list", "no such status list")
    etag = f'"{list_id}-{row["version"]}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if etag in (t.strip() for t in request.headers.get("If-None-Match", "").split(",")):
        return web.Response(status=304, headers=headers)
    return web.Response(text=row["credential"], content_type="application/vc+json", headers=headers)


OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/rights/search": {
        "get": {
            "summary": "Search the office register; answer signed by the office (search-result message)",
            "operationId": "searchRights",
            "parameters": [
                {"name": n, "in": "query", "required": False, "schema": s}
                for n, s in (
                    ("q", {"type": "string"}),
                    ("number", {"type": "string"}),
                    ("owner", {"type": "string"}),
                    ("class", {"type": "integer", "minimum": 1, "maximum": 45}),
                    ("limit", {"type": "integer", "minimum": 1, "maximum": store.MAX_LIMIT}),
                    ("format", {"enum": ["json"]}),
                )
            ],
            "responses": {
                "200": {
                    "description": "COSE_Sign1 search-result (or its JSON view with format=json)",
                    "content": {"application/cose": {}, "application/json": {}},
                },
                "400": problem("request.query: a bad parameter"),
            },
        }
    },
    "/admin/offers": {
        "post": {
            "summary": "Create an issuance offer for a register entry; answers the one-time code",
            "operationId": "createOffer",
            **ADMIN,
            "requestBody": {
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["number"],
                            "properties": {
                                "number": {"type": "string"},
                                "ttl": {"type": "integer"},
                                "max_attempts": {"type": "integer"},
                            },
                        }
                    }
                }
            },
            "responses": {
                "201": json_answer("the offer id, code and expiry"),
                **AUTH_ERRORS,
                **BODY_ERRORS,
                "404": problem("office.unknown-right"),
                "409": problem("office.right-not-in-force, office.offer-ttl, office.offer-attempts"),
                "422": problem("request.schema"),
            },
        },
        "get": {
            "summary": "List issuance offers (state, attempts, expiry; never the code)",
            "operationId": "listOffers",
            **ADMIN,
            "parameters": [{"name": "right", "in": "query", "required": False, "schema": {"type": "string"}}],
            "responses": {"200": json_answer("offers"), **AUTH_ERRORS},
        },
    },
    "/issuance/nonce": {
        "post": {
            "summary": "A fresh c_nonce (challenge) for a proof of key possession",
            "operationId": "issuanceNonce",
            "responses": {
                "200": json_answer("c_nonce, c_nonce_expires_in, audience (the office DID)"),
                "429": problem("rate.nonces: too many outstanding nonces"),
            },
        }
    },
    "/issuance/credential": {
        "post": {
            "summary": "Redeem an offer code with a key-possession presentation; answers the credential",
            "operationId": "issuanceCredential",
            "requestBody": {
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["code", "proof"],
                            "properties": {"code": {"type": "string"}, "proof": {"type": "object"}},
                        }
                    }
                }
            },
            "responses": {
                "201": {"description": "IPRightCredential", "content": {"application/vc+json": {}}},
                **BODY_ERRORS,
                "403": problem("validity.offer-code (attempt counted), validity.offer-locked"),
                "404": problem("office.unknown-offer"),
                "409": problem("a concurrent redemption won"),
                "410": problem("validity.offer-expired, validity.offer-redeemed"),
                "422": problem(
                    "schema.offer-code, schema.key-proof, validity.nonce-*, validity.challenge, "
                    "validity.domain, signature.*"
                ),
            },
        }
    },
    "/admin/revocations": {
        "post": {
            "summary": "Revoke an issued credential: publishes a new status list version",
            "operationId": "revokeCredential",
            **ADMIN,
            "requestBody": {
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["credential"],
                            "properties": {"credential": {"type": "string"}},
                        }
                    }
                }
            },
            "responses": {
                "200": json_answer("the status list, its new version and the revoked index"),
                **AUTH_ERRORS,
                **BODY_ERRORS,
                "404": problem("office.unknown-credential"),
                "422": problem("request.schema"),
            },
        }
    },
    "/admin/credentials": {
        "get": {
            "summary": "Credentials this office issued, with their status entries and revocation times",
            "operationId": "listCredentials",
            **ADMIN,
            "parameters": [{"name": "right", "in": "query", "required": False, "schema": {"type": "string"}}],
            "responses": {"200": json_answer("credentials"), **AUTH_ERRORS},
        }
    },
    "/status/{list}": {
        "get": {
            "summary": "The current BitstringStatusListCredential of this office",
            "operationId": "getStatusList",
            "parameters": [{"name": "list", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "status list credential", "content": {"application/vc+json": {}}},
                "304": {"description": "not modified since the version named in If-None-Match"},
                "404": problem("office.unknown-status-list"),
            },
        }
    },
}
