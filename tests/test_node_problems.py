"""The request helpers and problem middleware as role modules use them, on a small app of real routes."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from node.errors import Conflict, NodeError
from node.problems import Problem, problem_middleware, read_json
from protocol.errors import SchemaError, UnsupportedError


@pytest.fixture
async def client(aiohttp_client: Any) -> TestClient:
    async def echo(request: web.Request) -> web.Response:
        return web.json_response({"got": await read_json(request, 100)})

    async def raises(request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        if kind == "schema":
            raise SchemaError("schema.thing", "bad thing")
        if kind == "unsupported":
            raise UnsupportedError("unsupported.thing")
        if kind == "conflict":
            raise Conflict("offers.used", "already redeemed")
        if kind == "node":
            raise NodeError("config.x", "bad config")
        if kind == "problem":
            raise Problem(429, "rate.limited", "slow down", retry_after=3)
        raise KeyError("secret internals")

    app = web.Application(middlewares=[problem_middleware])
    app.router.add_post("/echo", echo)
    app.router.add_get("/raise/{kind}", raises)
    return await aiohttp_client(app)


async def test_read_json(client: TestClient) -> None:
    resp = await client.post("/echo", json={"a": [1, 2]})
    assert (await resp.json()) == {"got": {"a": [1, 2]}}
    resp = await client.post("/echo", data=b'{"a":', headers={"Content-Type": "application/json"})
    assert resp.status == 400 and (await resp.json(content_type=None))["code"] == "request.json"
    resp = await client.post(
        "/echo", data=b"[" * 50 + b"]" * 50, headers={"Content-Type": "application/ld+json"}
    )
    assert resp.status == 200
    resp = await client.post("/echo", data=b"[" * 5000, headers={"Content-Type": "application/json"})
    assert resp.status == 413 and (await resp.json(content_type=None))["max_bytes"] == 100
    resp = await client.post("/echo", data=b"{}", headers={"Content-Type": "text/plain"})
    assert resp.status == 415 and (await resp.json(content_type=None))["code"] == "request.content-type"


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("schema", 422, "schema.thing"),
        ("unsupported", 422, "unsupported.thing"),
        ("conflict", 409, "offers.used"),
        ("node", 400, "config.x"),
        ("problem", 429, "rate.limited"),
        ("bug", 500, "internal.error"),
    ],
)
async def test_errors_become_problems(client: TestClient, kind: str, status: int, code: str) -> None:
    resp = await client.get(f"/raise/{kind}")
    assert resp.status == status
    assert resp.content_type == "application/problem+json"
    body = await resp.json(content_type=None)
    assert body["code"] == code and body["status"] == status
    assert "secret" not in body["detail"]
    if kind == "problem":
        assert body["retry_after"] == 3
