"""Dashboard pages of a marketplace's notice inbox: filters, notice detail with its verification results,
the decision form and the seller-complaint form. Actions call the functions the admin API calls
(:func:`node.notices.routes.decide_notice`, :func:`node.notices.routes.record_seller_complaint`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from yarl import URL

from protocol.authorisation import CREDENTIAL_TYPE as AUTHORISATION_TYPE
from protocol.errors import ProtocolError
from protocol.ip_right import CREDENTIAL_TYPE as RIGHT_TYPE
from protocol.messages import SignedMessage, verify_message
from protocol.notice_acceptance import check_credential
from protocol.trust_list import TrustStore
from protocol.vc import issuer_of, subject_of

from ..appkeys import CONFIG, DB, NODE_KEY, OBJECTS
from ..notice_accept import held_credentials, held_status_lists, notice_fields
from ..notices import store
from ..notices.routes import decide_notice, entry_view, record_seller_complaint
from ..trust import load_trust_store
from .render import NAV, NavItem, UIError, now, read_form, render, require_login
from .spec import html_page, html_post

routes = web.RouteTableDef()

NAV_ITEMS = (NavItem("Notices", "/ui/market/notices"), NavItem("Complaints", "/ui/market/complaints"))
STATUSES = ("open", "decided", "restrict", "no-action")
_ID = re.compile(r"^[0-9a-f]{64}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DAY = 86400


def _day(text: str, name: str) -> int | None:
    """A ``YYYY-MM-DD`` filter as Unix seconds at 00:00 UTC."""
    if not text:
        return None
    if not _DATE.match(text):
        raise UIError(422, f"{name} is a date YYYY-MM-DD")
    try:
        return int(datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())
    except ValueError:
        raise UIError(422, f"{name} is not a real date") from None


def _notice_id(text: str) -> str:
    if not _ID.match(text):
        raise UIError(404, "A notice id is 64 lower-case hex digits.")
    return text


@routes.get("/ui/market/notices")
async def inbox_page(request: web.Request) -> web.Response:
    """The inbox as /admin/notices lists it (trusted flaggers first), with the same filters."""
    session = require_login(request)
    q = {
        name: request.query.get(name, "").strip()[:300]
        for name in ("status", "right", "flagger", "from", "to")
    }
    if q["status"] and q["status"] not in STATUSES:
        raise UIError(422, f"status is one of {', '.join(STATUSES)}")
    since, until = _day(q["from"], "from"), _day(q["to"], "to")
    entries = store.list_inbox(
        request.app[DB],
        status=q["status"] or None,
        right=q["right"] or None,
        trusted_flagger={"yes": True, "no": False}.get(q["flagger"]),
        since=since,
        until=None if until is None else until + DAY,
    )
    context = {"q": q, "statuses": STATUSES, "notices": [entry_view(request, e) for e in entries]}
    return render(request, "market_notices.html", context, session=session)


def _credential_check(
    request: web.Request, document: dict[str, Any], kind: str, trust: TrustStore, moment: int
) -> str:
    lists = held_status_lists(request.app[OBJECTS], [document])
    try:
        check_credential(document, kind=kind, now=moment, trust=trust, status_lists=lists)
    except ProtocolError as exc:
        return exc.code
    return "valid"


def verification(request: web.Request, message: SignedMessage, moment: int) -> list[dict[str, str]]:
    """What the node checks on a notice, checked again now: signature, each referenced credential (issuer
    accredited, validity, revocation), and the acceptance rules as a whole."""
    objects = request.app[OBJECTS]
    rows = [{"check": "signature (COSE_Sign1, EdDSA)", "subject": message.signer, "result": "valid"}]
    rights = message.payload.get("rights")
    ids = [r for r in rights if isinstance(r, str)] if isinstance(rights, list) else []
    auth = message.payload.get("authorisation")
    wanted = [(cid, RIGHT_TYPE) for cid in ids] + (
        [(auth, AUTHORISATION_TYPE)] if isinstance(auth, str) else []
    )
    held = held_credentials(objects, [cid for cid, _ in wanted])
    trust = load_trust_store(request.app[CONFIG], objects, moment)  # verified once for every row
    for cid, kind in wanted:
        document = held.get(cid)
        label = "right credential" if kind == RIGHT_TYPE else "authorisation"
        if document is None:
            rows.append({"check": label, "subject": cid, "result": "not held"})
            continue
        subject = subject_of(document).get("id", "")
        rows.append(
            {
                "check": f"{label} (issuer {issuer_of(document)}, subject {subject})",
                "subject": cid,
                "result": _credential_check(request, document, kind, trust, moment),
            }
        )
    decision = notice_fields(message, objects, trust, moment)
    code = getattr(decision, "code", None)
    rows.append(
        {
            "check": "acceptance rules (authority, targets, revocation)",
            "subject": "notice",
            "result": "accepted" if code is None else str(code),
        }
    )
    return rows


@routes.get("/ui/market/notices/{id}")
async def notice_page(request: web.Request) -> web.Response:
    session = require_login(request)
    notice_id = _notice_id(request.match_info["id"])
    db, objects, moment = request.app[DB], request.app[OBJECTS], now(request)
    entry = store.inbox_entry(db, notice_id)
    if entry is None:
        raise UIError(404, "This notice is not in the inbox.")
    message = verify_message(objects.get(notice_id), entry.received_at, max_skew=10**9)  # see entry_view
    own = request.app[NODE_KEY].did
    decisions = [
        {"id": m.id_hex, "decision": d, "own": d.marketplace == own}
        for m, d in sorted(store.decision_records(objects, notice_id, moment), key=lambda md: md[1].created)
    ]
    complaints = [c for c in store.list_complaints(db) if c["notice_id"] == notice_id]
    context = {
        "n": entry_view(request, entry),
        "checks": verification(request, message, moment),
        "decisions": decisions,
        "own_decisions": [d for d in decisions if d["own"]],
        "complaints": complaints,
        "done": request.query.get("done", "")[:40],
    }
    return render(request, "market_notice.html", context, session=session)


@routes.post("/ui/market/notices/{id}/decision")
async def decide(request: web.Request) -> web.StreamResponse:
    """The decision form: action and the facts (art. 17); the rest comes from the notice."""
    session = require_login(request)
    notice_id = _notice_id(request.match_info["id"])
    form = await read_form(request, session)
    action = form.get("action", "")
    if action not in ("restrict", "no-action"):
        raise UIError(422, "Choose an action: restrict or no action.")
    body: dict[str, Any] = {
        "notice": notice_id,
        "action": action,
        "decision_facts": form.get("facts", "").strip(),
    }
    if form.get("complaint"):
        body["complaint"] = form["complaint"]
    decide_notice(request, body)
    raise web.HTTPSeeOther(URL(f"/ui/market/notices/{notice_id}").with_query(done="decision"))


@routes.post("/ui/market/notices/{id}/complaint")
async def complain(request: web.Request) -> web.StreamResponse:
    """Record a seller's complaint (art. 20) against this marketplace's decision on the notice."""
    session = require_login(request)
    notice_id = _notice_id(request.match_info["id"])
    form = await read_form(request, session)
    body = {"decision": form.get("decision", ""), "explanation": form.get("explanation", "").strip()}
    if form.get("seller_ref", "").strip():
        body["seller_ref"] = form["seller_ref"].strip()
    record_seller_complaint(request, body)
    raise web.HTTPSeeOther(URL(f"/ui/market/notices/{notice_id}").with_query(done="complaint"))


@routes.get("/ui/market/complaints")
async def complaints_page(request: web.Request) -> web.Response:
    session = require_login(request)
    open_only = request.query.get("status") == "open"
    context = {"complaints": store.list_complaints(request.app[DB], open_only), "open_only": open_only}
    return render(request, "market_complaints.html", context, session=session)


def setup(app: web.Application) -> None:
    app.router.add_routes(routes)
    app[NAV].extend(NAV_ITEMS)


_ID_PARAM = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]


def _with_id(item: dict[str, Any]) -> dict[str, Any]:
    for operation in item.values():
        operation["parameters"] = [*_ID_PARAM, *operation.get("parameters", [])]
    return item


OPENAPI_PATHS = {
    "/ui/market/notices": html_page(
        "uiMarketNotices",
        "Notice inbox, trusted flaggers first; filters status, right, flagger (yes/no), from/to (dates)",
        ("status", "right", "flagger", "from", "to"),
    ),
    "/ui/market/notices/{id}": _with_id(
        html_page("uiMarketNotice", "A notice: content, verification results, decisions, forms", ("done",))
    ),
    "/ui/market/notices/{id}/decision": _with_id(
        html_post(
            "uiMarketDecide",
            "Decide (form: action restrict|no-action, facts, complaint?): a signed decision",
            {"303": "decided: back to the notice", "404": "no such notice", "422": "schema.decision-*"},
        )
    ),
    "/ui/market/notices/{id}/complaint": _with_id(
        html_post(
            "uiMarketComplaint",
            "Record a seller's complaint (form: decision, explanation, seller_ref?)",
            {"303": "recorded: back to the notice", "404": "no such decision", "422": "schema.complaint-*"},
        )
    ),
    "/ui/market/complaints": html_page("uiMarketComplaints", "Complaints received (art. 20)", ("status",)),
}
