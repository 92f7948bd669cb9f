"""ask_office against offices that answer badly over real HTTP: an error status (with its problem code)
and answers over the size bound, announced by Content-Length or streamed without one; an office that
is not accredited is never contacted, whatever its URL would answer."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web

from node.search.answers import MAX_ANSWER_BYTES, Office, SearchQuery
from node.search.fanout import FAILED, INVALID, SKIPPED, ask_office, fan_out
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


async def test_unaccredited_offices_are_skipped_without_a_request(aiohttp_server: Any) -> None:
    hits: list[str] = []

    async def count(request: web.Request) -> web.Response:
        hits.append(request.path)
        return await _unavailable(request)

    app = web.Application()
    app.router.add_get("/unavailable", count)
    server = await aiohttp_server(app)
    url = str(server.make_url("/unavailable"))
    stranger = Office(OFFICE.did, "Stranger", url, None, False)
    local_called: list[SearchQuery] = []

    def local(query: SearchQuery) -> bytes:
        local_called.append(query)
        return b""

    async with aiohttp.ClientSession() as session:
        outcomes = await fan_out(
            session,
            [stranger, Office(OFFICE.did, "Self", url, None, False, local=True)],
            QUERY,
            10.0,
            lambda: float(NOW),
            local,
        )
        assert hits == [] and local_called == []
        for outcome in outcomes:
            assert (outcome.status, outcome.code) == (SKIPPED, "search.not-accredited")
            assert outcome.raw is None and outcome.detail is not None and "503" not in outcome.detail
        # The same URL as an accredited office is asked, and its status kept in the detail.
        asked = await ask_office(session, Office(OFFICE.did, "X", url, None, True), QUERY, 10.0, lambda: NOW)
    assert hits == ["/unavailable"] and asked.detail == "HTTP 503 (node.busy)"
