"""``GET /search/rights``: search the registers of every accredited office this node knows, on any node.

The node asks each office that a trust list it holds accredits as ``office`` now (reached through the
node descriptors it holds, plus itself when it is such an office) in parallel under a per-office timeout
(``search_timeout`` in ``config.toml``) and answers JSON: per office, its exact signed answer (base64url
COSE_Sign1) and the verified view, or why it gave none; and the register entries of the valid answers,
merged, each tagged with the office that signed it. Described but unaccredited offices are listed as
``skipped`` and never contacted: a public search must not make the node fetch URLs anyone can announce.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from aiohttp import web

from protocol.messages import sign_message
from protocol.role_payloads import MAX_RESULTS, search_result_payload

from ..api.views import now
from ..appkeys import CLIENT, CLOCK, CONFIG, DB, DESCRIPTOR, NODE_KEY, OBJECTS
from ..openapi import problem
from ..problems import Problem
from ..trust import load_trust_store
from .answers import MAX_OFFICES, Office, QueryError, SearchQuery, accredited_offices, known_offices
from .fanout import NOT_ACCREDITED, STATES, complete, fan_out, merged_results, summary

routes = web.RouteTableDef()

#: The office endpoint a node descriptor announces for the register search (node/office/__init__.py).
OFFICE_SEARCH_PATH = "/rights/search"


def _local_answer(app: web.Application, moment: int) -> Callable[[SearchQuery], bytes]:
    """This office answering itself, in process: the same signed answer its ``/rights/search`` gives."""
    from ..office import store as office_store  # only office nodes have a register

    key = app[NODE_KEY]

    def answer(query: SearchQuery) -> bytes:
        results, total = office_store.search(
            app[DB],
            q=query.q,
            number=query.number,
            nice_class=query.nice_class,
            owner=query.owner,
            limit=query.limit,
        )
        payload = search_result_payload(key.did, query.echo(), results, total, moment)
        return sign_message(key, "search-result", payload)

    return answer


@routes.get("/search/rights")
async def federated_search(request: web.Request) -> web.Response:
    """Fan a register search out to the accredited offices; every answer is marked and verified."""
    try:
        query = SearchQuery.from_params(request.query)
    except QueryError as exc:
        raise Problem(400, "request.query", exc.detail, parameter=exc.name) from None
    app = request.app
    config, key, store, moment = app[CONFIG], app[NODE_KEY], app[OBJECTS], now(request)
    accredited = accredited_offices(load_trust_store(config, store, moment), moment)
    local_office = config.role == "office"
    asked_local = local_office and key.did in accredited
    offices, skipped = known_offices(
        store, moment, accredited, exclude=key.did, limit=MAX_OFFICES - (1 if asked_local else 0)
    )
    local = None
    if local_office:
        own = app[DESCRIPTOR].get(moment)
        myself = Office(
            did=key.did,
            name=config.name,
            search_url=config.url + OFFICE_SEARCH_PATH,
            descriptor=hashlib.sha256(own.raw).hexdigest(),
            accredited=asked_local,
            local=True,
        )
        if asked_local:
            offices.insert(0, myself)
            local = _local_answer(app, moment)
        else:
            skipped.insert(0, myself)
    offices += skipped  # never contacted: fan_out marks them skipped
    outcomes = await fan_out(app[CLIENT], offices, query, config.search_timeout, app[CLOCK], local)
    return web.json_response(
        {
            "query": query.echo(),
            "complete": complete(outcomes),
            "summary": summary(outcomes),
            "offices": [o.as_json() for o in outcomes],
            "results": merged_results(outcomes),
        }
    )


def _param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/search/rights": {
        "get": {
            "summary": "Federated register search: accredited offices in parallel, answers signed by each",
            "description": (
                "Asks, under a per-office timeout, each office that a trust list this node holds "
                f"accredits as office now (at most {MAX_OFFICES}), reached through the node descriptors "
                "it holds (and itself, if such an office). Offices described by a descriptor but not "
                f"accredited are listed with status skipped and code {NOT_ACCREDITED}: never contacted, "
                "since anyone can get a descriptor stored. Per office: status (" + ", ".join(STATES) + "), "
                "the exact signed search-result (base64url COSE_Sign1) and its verified payload, or an "
                "error code (search.timeout, search.unreachable, search.http-status, search.wrong-signer, "
                "search.query-mismatch, search.stale, search.too-large, search.not-accredited, decode.*, "
                "signature.*, schema.*). complete: every office asked answered validly. Only answers "
                "signed by the office's own DID for this query are merged into results."
            ),
            "operationId": "federatedSearchRights",
            "parameters": [
                _param("q", {"type": "string", "maxLength": 200}, "words of the mark or holder name"),
                _param("number", {"type": "string", "maxLength": 200}, "application or registration number"),
                _param("class", {"type": "integer", "minimum": 1, "maximum": 45}, "Nice class"),
                _param("owner", {"type": "string", "maxLength": 200}, "words of the holder name"),
                _param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_RESULTS}, "per office"),
            ],
            "responses": {
                "200": {
                    "description": "per-office outcomes and the merged valid results",
                    "content": {"application/json": {}},
                },
                "400": problem("request.query: a bad parameter"),
            },
        }
    }
}
