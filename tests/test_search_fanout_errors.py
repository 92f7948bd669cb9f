"""ask_office against offices that answer badly over real HTTP: an error status (with its problem code)
and answers over the size bound, announced by Content-Length or streamed without one."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web

from node.search.answers import MAX_ANSWER_BYTES, Office, SearchQuery
from node.search.fanout import FAILED, INVALID, ask_office
from tests.node_fixtures import NOW, OFFICE

QUERY = SearchQuery(q="ovalux", limit=5)


async def _unavailable(request: web.Request) -> web.Response:
    body = '{"type": "about:blank", "title": "x", "status": 503, "code": "node.busy"}'
    return web.Response(status=503, text=body, content_type="application/problem+json")


async def _huge(request: web.Request) -> web.Response:
    return web.Response(body=b"\xa0" * (MAX_ANSWER_BYTES + 1), content_type="application/cose")


async def _huge_streamed(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "application/cose"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    for _ in range(MAX_ANSWER_BYTES // 65536 + 2):
        await resp.write(b"\xa0" * 65536)
    await resp.write_eof()
    return resp


async def test_error_status_and_oversized_answers(aiohttp_server: Any) -> None:
    app = web.Application()
    app.router.add_get("/unavailable", _unavailable)
    app.router.add_get("/huge", _huge)
    app.router.add_get("/streamed", _huge_streamed)
    server = await aiohttp_server(app)

    async def ask(path: str) -> Any:
        office = Office(OFFICE.did, "EM Office", str(server.make_url(path)), None, True)
        async with aiohttp.ClientSession() as session:
            return await ask_office(session, office, QUERY, 10.0, lambda: float(NOW))

    failed = await ask("/unavailable")
    assert (failed.status, failed.code) == (FAILED, "search.http-status")
    assert failed.detail == "HTTP 503 (node.busy)" and failed.raw is None
    for path in ("/huge", "/streamed"):
        outcome = await ask(path)
        assert (outcome.status, outcome.code) == (INVALID, "search.too-large"), path
        assert outcome.raw is None and outcome.message is None
