"""Notice-lifecycle HTTP routes of a marketplace.

Public: ``POST /notices`` (a signed notice, answered with a signed receipt), ``POST /complaints`` (a
notifier's signed complaint), ``GET /decisions?notice=ID`` and ``GET /receipts?notice=ID`` (what this
node holds, from any marketplace), ``POST /match`` (listings against held notices).
Admin: ``GET /admin/notices``, ``POST /admin/decisions``, ``POST /admin/complaints`` (a seller's
complaint, recorded), ``GET /admin/complaints``, ``GET /admin/notifiers``,
``POST /admin/notifiers/{did}/warn|suspend|reinstate``, ``GET /admin/sor``.

Notices reference their credentials by id: the notifier posts the right credential (and an agent its
authorisation) to ``POST /objects`` first, or the node already holds them by gossip; a notice whose
credential is not held is refused with ``validity.notice.credential-missing`` and nothing is stored.
"""

from __future__ import annotations

import base64
from typing import Any, NoReturn

from aiohttp import web

from protocol.complaint import build_complaint_payload
from protocol.decision import decision_from_message
from protocol.errors import ProtocolError
from protocol.matching import DEFAULT_LIMIT, DEFAULT_MAX_DISTANCE, parse_listing
from protocol.messages import SignedMessage, sign_message, verify_message
from protocol.notice import parse_notice
from protocol.sealed import open_contact

from ..api.views import json_safe, now
from ..appkeys import CLIENT, CONFIG, DB, NODE_KEY, OBJECTS
from ..auth import require_admin
from ..ingest import Checked, Refused, accept_object, check_message
from ..marketplace import status
from ..marketplace.keys import TRUST
from ..metrics import kind_of, object_outcome
from ..notice_accept import held_credentials
from ..problems import Problem, read_body, read_json
from ..storage.db import transaction
from . import store
from .decide import build_decision
from .keys import NOTICES
from .openapi import OPENAPI_PATHS as OPENAPI_PATHS

routes = web.RouteTableDef()

COSE_TYPES = ("application/cose", "application/cbor")
MAX_REQUEST = 64 * 1024
MAX_LISTINGS = 100
REFUSAL_STATUS = {"validity.untrusted-marketplace": 403, "objects.kind-not-accepted": 422}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _object_id(value: Any, name: str) -> str:
    if not isinstance(value, str) or len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise Problem(400, f"request.bad-{name}", f"{name} is an object id (64 lower-case hex digits)")
    return value


def _check(request: web.Request, raw: bytes) -> Checked:
    """Size, structure, signature and times, as gossip checks them (node/ingest.py); a refusal is
    counted in the metrics like every other rejected object."""
    try:
        return check_message(request.app[CONFIG], raw, now(request))
    except ProtocolError as exc:
        object_outcome(request.app, kind_of(raw), "rejected", exc.code, source="notice")
        raise


def _refuse(request: web.Request, kind: str, exc: Problem | ProtocolError) -> NoReturn:
    """Count a refusal decided here (before the shared acceptance path), then raise it."""
    object_outcome(request.app, kind, "rejected", exc.code, source="notice")
    raise exc


def _accept(request: web.Request, checked: Checked) -> tuple[str, bool]:
    """Store through the shared validation path (node/ingest.py): the same rules as gossip."""
    try:
        ingested = accept_object(request.app[CONFIG], request.app[OBJECTS], checked, now(request))
    except Refused as exc:
        object_outcome(request.app, checked.kind, "rejected", exc.code, source="notice")
        raise Problem(REFUSAL_STATUS.get(exc.code, 422), exc.code, exc.detail) from None
    outcome = "accepted" if ingested.inserted else "duplicate"
    object_outcome(request.app, ingested.kind, outcome, source="notice")
    return ingested.id, ingested.inserted


def _message(checked: Checked) -> SignedMessage:
    assert checked.message is not None  # check_message always sets it
    return checked.message


async def _refresh_status(request: web.Request, message: SignedMessage) -> None:
    """Fetch the status lists of the credentials a notice relies on, so a revocation bites at once."""
    rights = message.payload.get("rights")
    ids = [r for r in rights if isinstance(r, str)] if isinstance(rights, list) else []
    documents = list(held_credentials(request.app[OBJECTS], ids).values())
    if not documents:
        return
    moment = now(request)
    trust = request.app[TRUST].get(request.app[OBJECTS], moment)
    urls = status.status_urls({"verifiableCredential": documents}, trust, moment)
    if urls:
        await status.fetch_status_lists(request.app[CLIENT], request.app[DB], urls, moment)


@routes.post("/notices")
async def post_notice(request: web.Request) -> web.Response:
    """A notice (art. 16): validated as gossip validates it, answered with a signed receipt (art. 16(4))."""
    raw = await read_body(request, COSE_TYPES, min(request.app[CONFIG].max_object, MAX_REQUEST))
    checked = _check(request, raw)
    message = _message(checked)
    db = request.app[DB]
    try:
        if message.kind != "notice":
            raise Problem(422, "notice.wrong-kind", f"POST /notices takes a notice, not a {message.kind}")
        if not parse_notice(message.payload).is_target(request.app[NODE_KEY].did):
            raise Problem(422, "notice.not-addressed", "this notice names other marketplaces")
        if store.is_suspended(db, message.signer, now(request)):
            raise Problem(
                403, "notice.notifier-suspended", "this marketplace has suspended the notifier (art. 23)"
            )
    except (Problem, ProtocolError) as exc:
        _refuse(request, message.kind, exc)
    await _refresh_status(request, message)
    id_hex, inserted = _accept(request, checked)
    with transaction(db):
        entry = store.inbox_entry(db, id_hex)
        if entry is None:
            raise Problem(409, "notice.not-in-inbox", "the notice is held but not in this inbox")
        if inserted:
            store.mark_direct(db, id_hex)
    receipt = request.app[OBJECTS].get(entry.receipt_id) if entry.receipt_id else b""
    return web.json_response(
        {
            "notice": id_hex,
            "receipt": b64url(receipt),
            "enrolled": entry.enrolled,
            "trusted_flagger": entry.trusted_flagger,
        },
        status=201 if inserted else 200,
    )


def _signed_list(request: web.Request, kind: str, notice_id: str) -> list[dict[str, Any]]:
    objects = request.app[OBJECTS]
    out = []
    for meta in objects.list(kind=kind, field=("notice", notice_id), limit=1000):
        raw = objects.get(meta.id)
        try:
            message = verify_message(raw, now(request), max_skew=10**9)
        except ProtocolError:
            continue  # expired since it was stored: no longer shown (as store.decision_records does)
        out.append(
            {
                "id": meta.id,
                "signer": meta.signer,
                "signed": b64url(raw),
                "payload": json_safe(message.payload),
            }
        )
    return out


@routes.get("/decisions")
async def get_decisions(request: web.Request) -> web.Response:
    """Every decision this node holds on a notice, from any marketplace, with its signed bytes."""
    notice_id = _object_id(request.query.get("notice"), "notice")
    outcomes = store.outcomes(request.app[OBJECTS], notice_id, now(request))
    data: dict[str, Any] = {"notice": notice_id, "decisions": _signed_list(request, "decision", notice_id)}
    data["outcomes"] = {
        did: {
            "decision": o.decision_id.hex(),
            "action": o.decision.action,
            "superseded": [s.hex() for s in o.superseded],
        }
        for did, o in outcomes.items()
    }
    return web.json_response(data)


@routes.get("/receipts")
async def get_receipts(request: web.Request) -> web.Response:
    notice_id = _object_id(request.query.get("notice"), "notice")
    return web.json_response({"notice": notice_id, "receipts": _signed_list(request, "receipt", notice_id)})


@routes.post("/complaints")
async def post_complaint(request: web.Request) -> web.Response:
    """A notifier's complaint (art. 20) against a decision of this marketplace, signed by the notifier."""
    raw = await read_body(request, COSE_TYPES, MAX_REQUEST)
    checked = _check(request, raw)
    message = _message(checked)
    if message.kind != "complaint":
        _refuse(
            request,
            message.kind,
            Problem(422, "complaint.wrong-kind", f"POST /complaints takes a complaint, not a {message.kind}"),
        )
    if message.payload.get("marketplace") != request.app[NODE_KEY].did:
        _refuse(
            request,
            message.kind,
            Problem(422, "complaint.not-addressed", "the complaint is about another marketplace"),
        )
    id_hex, inserted = _accept(request, checked)
    return web.json_response({"complaint": id_hex}, status=201 if inserted else 200)


# ---------------------------------------------------------------------------------------------------
# admin


def entry_view(request: web.Request, entry: store.InboxEntry) -> dict[str, Any]:
    raw = request.app[OBJECTS].get(entry.notice_id)
    # Read as of its receipt (when it was verified): a notice that has expired since stays in the inbox
    # instead of failing the whole listing with validity.expired.
    message = verify_message(raw, entry.received_at, max_skew=10**9)
    notice = parse_notice(message.payload)
    try:
        contact = open_contact(notice.sealed, request.app[NODE_KEY], notifier=message.signer)
        notifier = {"name": contact.name, "email": contact.email}
    except ProtocolError as exc:
        notifier = {"error": exc.code}
    return {
        "notice": entry.notice_id,
        "received_at": entry.received_at,
        "via": entry.via,
        "notifier": entry.notifier,
        "contact": notifier,
        "holder": entry.holder,
        "role": entry.role,
        "trusted_flagger": entry.trusted_flagger,
        "enrolled": entry.enrolled,
        "status": "open" if entry.outcome is None else "decided",
        "outcome": entry.outcome,
        "decision": entry.decision_id,
        "rights": list(notice.rights),
        "infringement": notice.infringement,
        "explanation": notice.explanation,
        "items": [{"url": i.url, "listing_id": i.listing_id, "seller_id": i.seller_id} for i in notice.items],
        "brand": notice.product.brand,
        "gtin": list(notice.product.gtins),
    }


def _int_query(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value is None:
        return None
    if not value.isdigit():
        raise Problem(400, f"request.bad-{name}", f"{name} is Unix seconds")
    return int(value)


@routes.get("/admin/notices")
async def admin_notices(request: web.Request) -> web.Response:
    """The inbox: trusted flaggers first (art. 22), then oldest first; filters status, right, trusted_flagger,
    notifier, since, until (Unix seconds of receipt)."""
    require_admin(request)
    q = request.query
    status_filter = q.get("status")
    if status_filter not in (None, "open", "decided", "restrict", "no-action"):
        raise Problem(400, "request.bad-status", "status is open, decided, restrict or no-action")
    flagged = q.get("trusted_flagger")
    entries = store.list_inbox(
        request.app[DB],
        status=status_filter,
        right=q.get("right"),
        trusted_flagger=None if flagged is None else flagged in ("1", "true"),
        notifier=q.get("notifier"),
        since=_int_query(request, "since"),
        until=_int_query(request, "until"),
    )
    return web.json_response({"notices": [entry_view(request, e) for e in entries]})


@routes.post("/admin/decisions")
async def admin_decide(request: web.Request) -> web.Response:
    """Decide on a held notice: a signed decision (art. 17, TDB vocabulary) stored as an object."""
    require_admin(request)
    body = await read_json(request, MAX_REQUEST)
    return web.json_response(decide_notice(request, body), status=201)


def decide_notice(request: web.Request, body: Any) -> dict[str, Any]:
    """Sign and store this marketplace's decision on a held notice (the admin API and the dashboard)."""
    if not isinstance(body, dict):
        raise Problem(422, "schema.decision-request", "a JSON object with notice, action, decision_facts")
    notice_id = _object_id(body.get("notice"), "notice")
    objects, key, db = request.app[OBJECTS], request.app[NODE_KEY], request.app[DB]
    if not objects.has(notice_id):
        raise Problem(404, "notice.not-found", "this node holds no such notice")
    notice_message = verify_message(objects.get(notice_id), now(request), max_skew=10**9)
    if notice_message.kind != "notice":
        raise Problem(422, "notice.not-a-notice", "the object is not a notice")
    entry = store.inbox_entry(db, notice_id)
    standing = store.outcomes(objects, notice_id, now(request)).get(key.did)
    complaint_id = body.get("complaint")
    if complaint_id is not None and not objects.has(_object_id(complaint_id, "complaint")):
        raise Problem(404, "complaint.not-found", "this node holds no such complaint")
    payload = build_decision(
        key,
        body,
        notice_message=notice_message,
        notice=parse_notice(notice_message.payload),
        standing=standing,
        trusted_flagger=entry.trusted_flagger if entry else False,
        complaint_url=request.app[CONFIG].url + "/complaints",
        now=now(request),
    )
    signed = sign_message(key, "decision", payload)
    id_hex, _ = _accept(request, _check(request, signed))
    return {
        "decision": id_hex,
        "supersedes": standing.decision_id.hex() if standing else None,
        "signed": b64url(signed),
    }


@routes.post("/admin/complaints")
async def admin_record_complaint(request: web.Request) -> web.Response:
    """Record a seller's complaint (art. 20) against a decision of this marketplace, signed by it."""
    require_admin(request)
    body = await read_json(request, MAX_REQUEST)
    return web.json_response({"complaint": record_seller_complaint(request, body)}, status=201)


def record_seller_complaint(request: web.Request, body: Any) -> str:
    """Sign and store a seller's complaint against one of this marketplace's decisions; its object id."""
    if not isinstance(body, dict):
        raise Problem(422, "schema.complaint-request", "a JSON object with decision, explanation")
    decision_id = _object_id(body.get("decision"), "decision")
    objects, key = request.app[OBJECTS], request.app[NODE_KEY]
    if not objects.has(decision_id):
        raise Problem(404, "decision.not-found", "this node holds no such decision")
    decision = decision_from_message(verify_message(objects.get(decision_id), now(request), max_skew=10**9))
    if decision.marketplace != key.did:
        raise Problem(422, "complaint.not-addressed", "the decision is another marketplace's")
    payload = build_complaint_payload(
        created=now(request),
        decision=bytes.fromhex(decision_id),
        notice=decision.notice,
        marketplace=key.did,
        complainant="seller",
        explanation=body.get("explanation"),  # type: ignore[arg-type]
        seller_ref=body.get("seller_ref"),
    )
    signed = sign_message(key, "complaint", payload)
    id_hex, _ = _accept(request, _check(request, signed))
    return id_hex


@routes.get("/admin/complaints")
async def admin_complaints(request: web.Request) -> web.Response:
    require_admin(request)
    open_only = request.query.get("status") == "open"
    return web.json_response({"complaints": store.list_complaints(request.app[DB], open_only)})


@routes.get("/admin/notifiers")
async def admin_notifiers(request: web.Request) -> web.Response:
    """Per notifier: notices received, accepted (restricted), rejected (no action), open; warning and
    suspension (art. 23)."""
    require_admin(request)
    return web.json_response({"notifiers": store.list_notifiers(request.app[DB])})


async def _reason(request: web.Request) -> tuple[str, dict[str, Any]]:
    body = await read_json(request, 4096) if request.can_read_body else {}
    if not isinstance(body, dict):
        raise Problem(422, "schema.notifier-request", "a JSON object with reason")
    reason = body.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 2000:
        raise Problem(422, "schema.notifier-request", "reason is text of at most 2000 characters")
    return reason, body


@routes.post("/admin/notifiers/{did}/warn")
async def admin_warn(request: web.Request) -> web.Response:
    require_admin(request)
    did = request.match_info["did"]
    reason, _ = await _reason(request)
    db = request.app[DB]
    with transaction(db):
        store.warn(db, did, reason, now(request))
    return web.json_response(store.notifier_record(db, did))


@routes.post("/admin/notifiers/{did}/suspend")
async def admin_suspend(request: web.Request) -> web.Response:
    """Suspend a notifier who was warned (art. 23(2)); ``until`` (Unix seconds) ends it, else indefinite."""
    require_admin(request)
    did = request.match_info["did"]
    reason, body = await _reason(request)
    until = body.get("until")
    if until is not None and (not isinstance(until, int) or isinstance(until, bool) or until <= now(request)):
        raise Problem(422, "schema.notifier-request", "until is a future Unix time")
    db = request.app[DB]
    with transaction(db):
        if not store.warned(db, did):
            raise Problem(409, "notifier.not-warned", "art. 23(2): warn the notifier before suspending")
        store.suspend(db, did, reason, now(request), until)
    return web.json_response(store.notifier_record(db, did))


@routes.post("/admin/notifiers/{did}/reinstate")
async def admin_reinstate(request: web.Request) -> web.Response:
    require_admin(request)
    did = request.match_info["did"]
    db = request.app[DB]
    with transaction(db):
        store.reinstate(db, did)
    return web.json_response(store.notifier_record(db, did))


@routes.get("/admin/sor")
async def admin_sor(request: web.Request) -> web.Response:
    require_admin(request)
    statements = store.export_statements(request.app[OBJECTS], request.app[NODE_KEY].did, now(request))
    return web.json_response({"statements": statements})


# ---------------------------------------------------------------------------------------------------
# matching


@routes.post("/match")
async def post_match(request: web.Request) -> web.Response:
    """Listings (title, brand, gtin, seller_id, image_sha256, phash) against the notices held, ranked,
    with what each marketplace decided."""
    body = await read_json(request, 256 * 1024)
    listings = body.get("listings") if isinstance(body, dict) else None
    if not isinstance(listings, list) or not 1 <= len(listings) <= MAX_LISTINGS:
        raise Problem(422, "schema.match.listings", f"listings: an array of 1..{MAX_LISTINGS} listings")
    limit = body.get("limit", DEFAULT_LIMIT)
    distance = body.get("max_distance", DEFAULT_MAX_DISTANCE)
    for name, value, top in (("limit", limit, 100), ("max_distance", distance, 64)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
            raise Problem(422, f"schema.match.bad-{name.replace('_', '-')}", f"{name}: an integer 0..{top}")
    parsed = [parse_listing(item) for item in listings]
    index = request.app[NOTICES].index
    results = []
    for i, listing in enumerate(parsed):
        report = index.match(listing, limit=limit, max_distance=distance)
        results.append(
            {
                "listing": i,
                "truncated": list(report.truncated),
                "matches": [
                    {
                        "notice": m.notice_id.hex(),
                        "score": m.score,
                        "reasons": [
                            {"kind": r.kind, "detail": r.detail, "score": r.score} for r in m.reasons
                        ],
                        "restricted_by": list(m.restricted_by),
                        "outcomes": [
                            {
                                "marketplace": o.marketplace,
                                "decision": o.decision_id.hex(),
                                "action": o.decision.action,
                                "superseded": [s.hex() for s in o.superseded],
                            }
                            for o in m.outcomes
                        ],
                    }
                    for m in report.matches
                ],
            }
        )
    return web.json_response({"results": results})
