"""The OpenAPI document describes exactly the routes the app serves (core, and the role's when present)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from node.app import create_app
from node.openapi import METHODS, route_templates
from tests.node_fixtures import NODE, TOKEN, FakeClock, make_config


@pytest.mark.parametrize("role", ["office", "marketplace"])
async def test_every_route_is_described_and_vice_versa(
    aiohttp_client: Any, tmp_path: Path, role: str
) -> None:
    app = create_app(make_config(tmp_path, role=role), NODE, TOKEN, clock=FakeClock())
    client = await aiohttp_client(app)
    resp = await client.get("/openapi.json")
    assert resp.status == 200
    document = await resp.json()
    assert document["openapi"].startswith("3.1")
    described = {
        (method, path) for path, item in document["paths"].items() for method in item if method in METHODS
    }
    served = {(method, template) for method, template, _ in route_templates(app)}
    assert served == described
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation.get("responses"), (method, path)
            assert operation.get("operationId"), (method, path)
            if path.startswith("/admin/"):
                assert operation.get("security") == [{"adminToken": []}], (method, path)
