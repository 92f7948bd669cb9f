"""Marketplace HTTP routes: the signed IP-protection profile and enrolment of right holders.

Public: ``GET /profile``, ``POST /enrol/challenge``, ``POST /enrol``. Admin (bearer token):
``PUT /admin/profile``, ``GET /admin/enrolments``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import rfc8785
from aiohttp import web

from protocol.issuance import NONCE_BYTES, make_nonce
from protocol.messages import sign_message, verify_message
from protocol.role_payloads import enrolment_result_payload
from protocol.vc import credential_types, issuer_of
from protocol.verify import CLOCK_LEEWAY, VerificationResult, verify_presentation

from .. import nonces
from ..api.views import COSE_SIGN1_TYPE, json_safe, now
from ..appkeys import CLIENT, DB, NODE_KEY, OBJECTS
from ..auth import require_admin
from ..openapi import ADMIN, AUTH_ERRORS, BODY_ERRORS, json_answer, problem
from ..problems import Problem, read_json
from ..storage.db import transaction
from . import status, store
from .keys import TRUST

routes = web.RouteTableDef()

CHALLENGE_TTL = 300
MAX_PRESENTATION = 256 * 1024
MAX_PROFILE = 64 * 1024


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@routes.get("/profile")
async def get_profile(request: web.Request) -> web.Response:
    """The current signed marketplace profile (COSE), or its decoded view with ``format=json``."""
    raw = store.current_profile(request.app[OBJECTS], request.app[NODE_KEY].did)
    if request.query.get("format") == "json":
        message = verify_message(raw, now(request), max_skew=10**9)
        return web.json_response(
            {
                "kind": message.kind,
                "signer": message.signer,
                "id": message.id_hex,
                "payload": json_safe(message.payload),
                "signed": b64url(raw),
            }
        )
    return web.Response(body=raw, headers={"Content-Type": COSE_SIGN1_TYPE, "Cache-Control": "max-age=300"})


@routes.put("/admin/profile")
async def put_profile(request: web.Request) -> web.Response:
    require_admin(request)
    profile = await read_json(request, MAX_PROFILE)
    with transaction(request.app[DB]):
        id_hex = store.publish_profile(request.app[OBJECTS], request.app[NODE_KEY], profile, now(request))
    return web.json_response({"id": id_hex}, status=201)


@routes.post("/enrol/challenge")
async def enrol_challenge(request: web.Request) -> web.Response:
    """A fresh single-use challenge; the presentation must answer it before it expires."""
    challenge = make_nonce(secrets.token_bytes(NONCE_BYTES))
    moment = now(request)
    db = request.app[DB]
    with transaction(db):
        try:
            nonces.add_nonce(db, challenge, store.CHALLENGE_PURPOSE, moment + CHALLENGE_TTL, moment)
        except nonces.RateLimited as exc:
            raise Problem(429, exc.code, exc.detail) from None
    return web.json_response(
        {"challenge": challenge, "domain": request.app[NODE_KEY].did, "expires": moment + CHALLENGE_TTL},
        headers={"Cache-Control": "no-store"},
    )


def _failure_body(result: VerificationResult) -> dict[str, Any]:
    return {
        "failures": [
            {"code": f.code, "detail": f.detail, "credential": f.credential_id} for f in result.failures
        ],
        "checked": list(result.checks.performed),
    }


def _rights(vp: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rights of a verified presentation's IPRightCredentials (one credential may be given bare)."""
    credentials = vp.get("verifiableCredential") or []
    if isinstance(credentials, Mapping):
        credentials = [credentials]
    rights = []
    for credential in credentials:
        if "IPRightCredential" not in credential_types(credential):
            continue
        subject = credential["credentialSubject"]
        cid = credential.get("id") or "urn:sha256:" + hashlib.sha256(rfc8785.dumps(credential)).hexdigest()
        right = {
            "credential": cid,
            "issuer": issuer_of(credential),
            "office": subject["officeCode"],
            "number": subject["applicationNumber"],
        }
        if "verbalElement" in subject:
            right["verbal_element"] = subject["verbalElement"]
        if "validUntil" in credential:
            right["valid_until"] = credential["validUntil"]
        rights.append(right)
    return rights


@routes.post("/enrol")
async def enrol(request: web.Request) -> web.Response:
    """Verify a presentation fully (proof, audience, challenge, issuer accreditation, validity, status,
    holder binding) and enrol its presenter; on failure a 422 problem lists every failed check."""
    vp = await read_json(request, MAX_PRESENTATION)
    if not isinstance(vp, dict):
        raise Problem(422, "schema.presentation", "the body is a Verifiable Presentation (a JSON object)")
    proof = vp.get("proof")
    challenge = proof.get("challenge") if isinstance(proof, dict) else None
    if not isinstance(challenge, str):
        raise Problem(422, "validity.challenge", "the presentation answers no challenge of this marketplace")
    moment = now(request)
    db, key = request.app[DB], request.app[NODE_KEY]
    why = store.challenge_state(db, challenge, moment)
    if why is not None:
        raise Problem(422, f"validity.challenge-{why}", f"the challenge is {why}; ask /enrol/challenge")
    trust = request.app[TRUST].get(request.app[OBJECTS], moment)
    urls = status.status_urls(vp, trust, moment)
    lists = await status.fetch_status_lists(request.app[CLIENT], db, urls, moment)
    failure: Problem | None = None
    # One transaction: the challenge is consumed (whatever else fails) and a valid enrolment recorded
    # together, one commit per request.
    with transaction(db):
        result = verify_presentation(
            vp,
            challenge=challenge,
            domain=key.did,
            now=datetime.fromtimestamp(moment, UTC),
            challenges=store.DbChallenges(db, moment),
            trust=trust,
            status_lists=lists,
            leeway=CLOCK_LEEWAY,
        )
        rights = _rights(vp) if result.valid else []
        presenter = result.checks.presenter
        if not result.valid:
            # status.unavailable often follows from another failure (an untrusted issuer's list is never
            # fetched): name the cause in ``code``; ``failures`` lists everything.
            first = next((f for f in result.failures if f.code != "status.unavailable"), result.failures[0])
            failure = Problem(422, first.code, first.detail, **_failure_body(result))
        elif not rights or presenter is None:
            failure = Problem(422, "enrol.no-rights", "the presentation holds no IPRightCredential")
        else:
            enrolment_id = f"urn:uuid:{uuid.uuid4()}"
            digest = hashlib.sha256(rfc8785.dumps(vp)).digest()
            checks = sorted(set(result.checks.performed))
            payload = enrolment_result_payload(
                marketplace=key.did,
                enrolment=enrolment_id,
                holder=presenter,
                challenge=challenge,
                presentation_hash=digest,
                rights=rights,
                checks=checks,
                created=moment,
            )
            receipt = sign_message(key, "enrolment-result", payload)
            store.save_enrolment(
                db,
                store.Enrolment(
                    enrolment_id, presenter, moment, challenge, digest.hex(), rights, checks, receipt
                ),
            )
    if failure is not None:
        raise failure
    return web.json_response(
        {
            "enrolment": enrolment_id,
            "holder": presenter,
            "rights": rights,
            "checks": checks,
            "receipt": b64url(receipt),
        },
        status=201,
    )


@routes.get("/admin/enrolments")
async def admin_enrolments(request: web.Request) -> web.Response:
    require_admin(request)
    return web.json_response(
        {"enrolments": store.list_enrolments(request.app[DB], request.query.get("holder"))}
    )


OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/profile": {
        "get": {
            "summary": "The marketplace's signed IP-protection profile (marketplace-profile message)",
            "operationId": "getProfile",
            "parameters": [
                {"name": "format", "in": "query", "required": False, "schema": {"enum": ["json"]}}
            ],
            "responses": {
                "200": {
                    "description": "COSE_Sign1 (or its JSON view)",
                    "content": {"application/cose": {}, "application/json": {}},
                },
                "404": problem("marketplace.no-profile"),
            },
        }
    },
    "/admin/profile": {
        "put": {
            "summary": "Publish a new profile (signed by the node key)",
            "operationId": "putProfile",
            **ADMIN,
            "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {
                "201": json_answer("the profile object id"),
                **AUTH_ERRORS,
                **BODY_ERRORS,
                "422": problem("schema.marketplace-profile.*"),
            },
        }
    },
    "/enrol/challenge": {
        "post": {
            "summary": "A fresh single-use enrolment challenge (expires in minutes)",
            "operationId": "enrolChallenge",
            "responses": {
                "200": json_answer("challenge, domain (the marketplace DID) and expiry"),
                "429": problem("rate.nonces: too many outstanding challenges"),
            },
        }
    },
    "/enrol": {
        "post": {
            "summary": "Enrol a right holder by a Verifiable Presentation answering a challenge",
            "operationId": "enrol",
            "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {
                "201": json_answer(
                    "the enrolment: id, holder, rights, checks, signed receipt (enrolment-result)"
                ),
                **BODY_ERRORS,
                "422": problem(
                    "validity.challenge-* (unknown, replayed, expired), the verifier's codes "
                    "(signature.*, validity.*, status.revoked, status.unavailable, trust.*), "
                    "with failures[] and checked[]"
                ),
            },
        }
    },
    "/admin/enrolments": {
        "get": {
            "summary": "Enrolled holders, newest first",
            "operationId": "listEnrolments",
            **ADMIN,
            "parameters": [
                {"name": "holder", "in": "query", "required": False, "schema": {"type": "string"}}
            ],
            "responses": {"200": json_answer("enrolments"), **AUTH_ERRORS},
        }
    },
}
