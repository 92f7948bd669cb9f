"""Peer endpoints under ``/peer/`` (RFC 9421 signed requests only; refused peers get 403) and the admin
routes of the peer table. Bodies are CBOR arrays of byte strings (:mod:`node.gossip.wire`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from protocol.errors import ProtocolError, SchemaError
from protocol.plumtree import GraftReceived, IHaveReceived, PruneReceived, SendObjects
from protocol.reconcile import Reconciler

from ..httpsig import PEER_DID, peer_endpoint
from ..metrics import gossip_bytes
from ..openapi import problem
from ..problems import Problem, problem_response, read_json
from . import deps
from .engine import LINK_HEADER, LINKED, VIEW_FULL, GossipEngine
from .keys import GOSSIP
from .wire import CBOR_TYPE, COSE_TYPE, RECONCILE_TYPE, decode_ids, decode_ihave, decode_push, encode_list

routes = web.RouteTableDef()

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Every other peer request takes this many tokens of the sender's per-peer bucket (objects per second),
# so announcements, fetches and reconciliation rounds cannot be used to flood a node either.
REQUEST_COST = 1.0


def peer_route(path: str) -> Callable[[Handler], Handler]:
    """A signed POST peer route: refused (banned) peers get 403 ``peer.refused``; others are noted as
    in contact (and may join the view)."""

    def wrap(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            engine = request.app[GOSSIP]
            did = request[PEER_DID]
            if engine.peers.is_refused(did, engine.now()):
                raise Problem(403, "peer.refused", "this node refuses requests from that peer for now")
            if path != "/peer/objects":  # pushes are charged per object there
                room = engine.limits.per_peer.consume(did, engine.now(), REQUEST_COST)
                if not room.allowed:
                    return _too_many(room.retry_after)
            if path != "/peer/hello":
                engine.note_inbound(did)
            response = await handler(request)
            gossip_bytes(request.app, "received", request.content_length or 0)
            if isinstance(getattr(response, "body", None), bytes):
                gossip_bytes(request.app, "sent", len(response.body))  # type: ignore[attr-defined]
            return response

        signed = peer_endpoint(guarded)
        signed.__name__ = guarded.__name__ = handler.__name__
        signed.__module__ = guarded.__module__ = handler.__module__  # OpenAPI finds OPENAPI_PATHS by module
        routes.post(path)(signed)
        return handler

    return wrap


def _objects_answer(raws: list[bytes]) -> web.Response:
    return web.Response(body=encode_list(raws), content_type=CBOR_TYPE)


def _held(request: web.Request, ids: list[bytes], budget: int) -> list[bytes]:
    """The stored objects among ``ids``, in order, until ``budget`` bytes (the asker asks for the rest)."""
    store = request.app[GOSSIP].store
    out: list[bytes] = []
    size = 0
    index = request.app[GOSSIP].index
    for item_id in ids:
        raw = store.get(item_id.hex()) if store.has(item_id.hex()) else index.declined(item_id.hex())
        if raw is None:
            continue
        if out and size + len(raw) + 8 > budget:
            break
        out.append(raw)
        size += len(raw) + 8
    return out


@peer_route("/peer/objects")
async def push_objects(request: web.Request) -> web.Response:
    engine = request.app[GOSSIP]
    did = request[PEER_DID]
    entries = decode_push(await request.read(), engine.config.max_body)
    peer_room = engine.limits.per_peer.check(did, engine.now(), float(max(1, len(entries))))
    if not peer_room.allowed:
        return _too_many(peer_room.retry_after)
    result = await engine.receive(did, entries, solicited=False)
    if result.refused:
        raise Problem(403, "peer.refused", "too many invalid objects from this peer")
    if result.limited:
        return _too_many(result.limited)
    return web.json_response(dataclasses.asdict(result))


def _too_many(retry_after: float) -> web.Response:
    seconds = 3600 if retry_after == float("inf") else max(1, int(retry_after + 0.999))
    return problem_response(
        429, "peer.rate-limited", "too many objects; retry later", headers={"Retry-After": str(seconds)}
    )


@peer_route("/peer/ihave")
async def ihave(request: web.Request) -> web.Response:
    engine = request.app[GOSSIP]
    entries = decode_ihave(await request.read())
    ids, hops = tuple(e[0] for e in entries), tuple(e[1] for e in entries)
    engine.feed([IHaveReceived(request[PEER_DID], ids, hops)])
    return web.Response(status=204)


@peer_route("/peer/graft")
async def graft(request: web.Request) -> web.Response:
    """Graft: the peer wants ``ids`` and eager pushes from now on; the objects come in the answer."""
    engine = request.app[GOSSIP]
    did = request[PEER_DID]
    ids = decode_ids(await request.read())
    actions = engine.tree.handle_all([GraftReceived(did, tuple(ids))])
    wanted = [i for a in actions if isinstance(a, SendObjects) and a.peer == did for i in a.ids]
    engine.dispatch([a for a in actions if not (isinstance(a, SendObjects) and a.peer == did)])
    return _objects_answer(_held(request, wanted, engine.config.max_body - 1024))


@peer_route("/peer/prune")
async def prune(request: web.Request) -> web.Response:
    request.app[GOSSIP].feed([PruneReceived(request[PEER_DID])])
    return web.Response(status=204)


@peer_route("/peer/fetch")
async def fetch(request: web.Request) -> web.Response:
    engine = request.app[GOSSIP]
    ids = decode_ids(await request.read())
    return _objects_answer(_held(request, ids, engine.config.max_body - 1024))


@peer_route("/peer/credentials")
async def credentials(request: web.Request) -> web.Response:
    """Credentials by credential id (the ones a notice relies on): the held ones, up to the body limit."""
    engine = request.app[GOSSIP]
    raws = deps.held_credentials(engine.store, deps.decode_ids(await request.read()))
    budget, size = engine.config.max_body - 1024, 0
    out: list[bytes] = []
    for raw in raws:
        if out and size + len(raw) + 8 > budget:
            break
        out.append(raw)
        size += len(raw) + 8
    return _objects_answer(out)


@peer_route("/peer/reconcile")
async def reconcile(request: web.Request) -> web.Response:
    """One reconciliation round, the node answering: request and answer are reconcile messages."""
    engine = request.app[GOSSIP]
    engine.index.refresh(int(engine.now()))
    reply = Reconciler(engine.index.items).respond(await request.read())
    return web.Response(body=reply, content_type=RECONCILE_TYPE)


@peer_route("/peer/hello")
async def hello(request: web.Request) -> web.Response:
    """Descriptor exchange: the body is the caller's own signed descriptor, the answer is ours."""
    engine = request.app[GOSSIP]
    did = request[PEER_DID]
    if not engine.take_descriptor(did, await request.read()):
        raise Problem(422, "peer.descriptor", "the body must be the requesting node's own valid descriptor")
    engine.peers.record_contact(did, engine.now())
    own = engine.ensure_own_descriptor()
    linked = engine.accept_neighbour(did, high=request.query.get("priority") == "high")
    return web.Response(
        body=own, content_type=COSE_TYPE, headers={LINK_HEADER: LINKED if linked else VIEW_FULL}
    )


# -- admin: the peer table ---------------------------------------------------------------------------


def _peer_json(peer: Any) -> dict[str, Any]:
    values = dataclasses.asdict(peer)
    values["state"] = str(peer.state)
    return values


def peer_rows(engine: GossipEngine) -> list[dict[str, Any]]:
    """The peer table as /admin/peers answers it (the dashboard's peers page shows the same)."""
    now = engine.now()
    view = engine.tree.peers
    return [
        {
            **_peer_json(engine.peers.get(p.key, now)),
            "in_view": p.key in view,
            "eager": p.key in engine.tree.eager,
        }
        for p in engine.peers
    ]


@routes.get("/admin/peers")
async def admin_peers(request: web.Request) -> web.Response:
    engine = request.app[GOSSIP]
    return web.json_response({"peers": peer_rows(engine), "items": len(engine.index)})


@routes.post("/admin/peers")
async def admin_add_peer(request: web.Request) -> web.Response:
    """Add a bootstrap peer by URL (kept across restarts), greet it and reconcile with it now."""
    engine = request.app[GOSSIP]
    body = await read_json(request, 4096)
    url = body.get("url") if isinstance(body, dict) else None
    if not isinstance(url, str):
        raise Problem(400, "request.body", 'expected {"url": "http(s)://..."}')
    try:
        peer = engine.peers.add_bootstrap(url, engine.now())
    except (SchemaError, ProtocolError) as exc:
        raise Problem(400, exc.code, exc.detail) from None
    engine.save_peers()
    did = await engine.hello(peer.url or url)
    if did is not None:
        engine.reconcile_now.put_nowait(did)
    return web.json_response({"url": peer.url, "did": did, "reached": did is not None}, status=201)


_CBOR_BODY: dict[str, Any] = {
    "required": True,
    "content": {CBOR_TYPE: {"schema": {"type": "string", "contentMediaType": CBOR_TYPE}}},
}
_SIGNED = {
    "401": problem("httpsig.*: unsigned or badly signed request (RFC 9421; see specs/peers.md)"),
    "403": problem("peer.refused: the requesting peer is banned for now"),
    "429": problem(
        "peer.rate-limited (Retry-After): the per-peer limit (each request, or each pushed object)"
    ),
    "400": problem("decode.*: malformed body"),
}


def _peer_op(
    summary: str, op_id: str, ok: dict[str, Any], body: dict[str, Any] = _CBOR_BODY
) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "operationId": op_id,
            "requestBody": body,
            "responses": {**ok, **_SIGNED},
        }
    }


_OBJECTS_OK = {
    "200": {
        "description": "CBOR array of the objects' exact bytes",
        "content": {CBOR_TYPE: {"schema": {"type": "string", "contentMediaType": CBOR_TYPE}}},
    }
}
_SECURED: dict[str, Any] = {"security": [{"adminToken": []}]}
_AUTH = {"401": problem("auth.missing or auth.invalid")}

OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/peer/objects": _peer_op(
        "Eager push: a CBOR array of [object bytes, hops, root]; each is validated like POST /objects"
        " before it is stored or forwarded; invalid ones cost the peer score",
        "peerPushObjects",
        {
            "200": {
                "description": "counts: stored, known, invalid, ignored",
                "content": {"application/json": {}},
            },
            "429": problem("peer.rate-limited (Retry-After): per-peer or per-author limit"),
        },
    ),
    "/peer/ihave": _peer_op(
        "Announce ids the peer holds: a CBOR array of [32-byte id, hops]",
        "peerIHave",
        {"204": {"description": "noted"}},
    ),
    "/peer/graft": _peer_op(
        "Ask for ids and for eager push from now on (tree repair); answers with the objects held",
        "peerGraft",
        _OBJECTS_OK,
    ),
    "/peer/prune": _peer_op(
        "Duplicates arrived: push lazily (announcements only) from now on",
        "peerPrune",
        {"204": {"description": "noted"}},
        {"required": False, "content": {}},
    ),
    "/peer/fetch": _peer_op(
        "Objects by id (CBOR array of ids); answers with those held, up to the body limit",
        "peerFetch",
        _OBJECTS_OK,
    ),
    "/peer/credentials": _peer_op(
        "Right and authorisation credentials by credential id (CBOR array of UTF-8 ids): what a notice"
        " relies on, fetched by a node that received the notice from this one",
        "peerCredentials",
        _OBJECTS_OK,
    ),
    "/peer/reconcile": _peer_op(
        "One round of range-based set reconciliation over (created, id) (specs/reconcile.md)",
        "peerReconcile",
        {
            "200": {
                "description": "the reply message",
                "content": {
                    RECONCILE_TYPE: {"schema": {"type": "string", "contentMediaType": RECONCILE_TYPE}}
                },
            }
        },
        {"required": True, "content": {RECONCILE_TYPE: {"schema": {"type": "string"}}}},
    ),
    "/peer/hello": {
        "post": {
            **_peer_op(
                "Descriptor exchange and link request: send the caller's own signed node descriptor, get"
                " this node's, and whether the caller is now in this node's view (links are symmetric)",
                "peerHello",
                {
                    "200": {
                        "description": "this node's signed descriptor",
                        "headers": {
                            LINK_HEADER: {
                                "description": "linked: the caller is in this node's view; view-full: not",
                                "schema": {"type": "string", "enum": [LINKED, VIEW_FULL]},
                            }
                        },
                        "content": {COSE_TYPE: {"schema": {"type": "string", "contentMediaType": COSE_TYPE}}},
                    },
                    "422": problem("peer.descriptor: not the caller's own valid descriptor"),
                },
                {"required": True, "content": {COSE_TYPE: {"schema": {"type": "string"}}}},
            )["post"],
            "parameters": [
                {
                    "name": "priority",
                    "in": "query",
                    "required": False,
                    "description": "high: the caller's view is empty, so a full view makes room for it",
                    "schema": {"type": "string", "enum": ["high", "low"], "default": "low"},
                }
            ],
        }
    },
    "/admin/peers": {
        "get": {
            "summary": "The peer table (state, score, backoff, bans) and which peers are in the gossip view",
            "operationId": "adminPeers",
            **_SECURED,
            "responses": {"200": {"description": "peers", "content": {"application/json": {}}}, **_AUTH},
        },
        "post": {
            "summary": "Add a bootstrap peer by URL (persisted), greet it and reconcile with it",
            "operationId": "adminAddPeer",
            **_SECURED,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "responses": {
                "201": {"description": "added; whether it answered", "content": {"application/json": {}}},
                "400": problem("request.body, schema.peer-url"),
                **_AUTH,
            },
        },
    },
}
