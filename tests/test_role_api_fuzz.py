"""Office and marketplace endpoints on junk: every answer is a 4xx problem+json, never a 500.

Hypothesis drives JSON bodies shaped like the real ones (right keys, wrong values) and query strings;
one in-process app per role serves all examples.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.app import create_app
from protocol.issuance import key_proof
from protocol.keys import KeyPair
from tests.node_fixtures import NODE, NOW, TOKEN, FakeClock, iso, make_config

AUTH = {"Authorization": f"Bearer {TOKEN}"}
WALLET = KeyPair.from_seed(bytes([12]) * 32)
REPO = Path(__file__).resolve().parent.parent
PROFILE = json.loads((REPO / "specs" / "examples" / "marketplace-profile.json").read_text())

leaf = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.text(max_size=20)
        | st.floats(allow_nan=False, allow_infinity=False))
junk = st.recursive(
    leaf, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
    max_leaves=8,
)
QUERY = st.dictionaries(st.sampled_from(["q", "number", "class", "owner", "limit"]), st.text(max_size=12))


def _replace_one(document: Any, data: st.DataObject) -> Any:
    """``document`` with one value somewhere in it replaced by junk (or a key removed)."""
    doc = copy.deepcopy(document)
    node = doc
    while isinstance(node, dict) and node:
        key = data.draw(st.sampled_from(sorted(node)))
        if isinstance(node[key], dict) and node[key] and data.draw(st.booleans()):
            node = node[key]
            continue
        if data.draw(st.booleans()):
            node[key] = data.draw(junk)
        else:
            del node[key]
        break
    return doc


class Served:
    """An app on a real loopback server, driven from the synchronous hypothesis test."""

    def __init__(self, tmp: Path, role: str) -> None:
        self.loop = asyncio.new_event_loop()
        app = create_app(make_config(tmp, role=role, name=role), NODE, TOKEN, clock=FakeClock())
        self.client = TestClient(TestServer(app), loop=self.loop)
        self.loop.run_until_complete(self.client.start_server())

    def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, str, str]:
        async def go() -> tuple[int, str, str]:
            async with self.client.request(method, path, **kwargs) as resp:
                return resp.status, resp.content_type, (await resp.read()).decode("utf-8", "replace")

        return self.loop.run_until_complete(go())

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = Served(tmp_path_factory.mktemp("office"), "office")
    yield served
    served.close()


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = Served(tmp_path_factory.mktemp("market"), "marketplace")
    yield served
    served.close()


def _no_server_error(answer: tuple[int, str, str]) -> None:
    status, content_type, text = answer
    assert status < 500, text
    if status >= 400:
        assert content_type == "application/problem+json", text
        assert json.loads(text)["code"]


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(st.data())
def test_issuance_credential_junk(office: Served, data: st.DataObject) -> None:
    proof = key_proof(WALLET, nonce="n" * 22, audience=NODE.did, created=iso(NOW))
    body = _replace_one({"code": "abcdefgh-abcdefghijklmnop", "proof": proof}, data)
    _no_server_error(office.call("POST", "/issuance/credential", json=body))


@FUZZ
@given(junk, QUERY)
def test_office_admin_and_search_junk(office: Served, body: Any, query: dict[str, str]) -> None:
    _no_server_error(office.call("POST", "/admin/offers", json=body, headers=AUTH))
    _no_server_error(office.call("POST", "/admin/revocations", json=body, headers=AUTH))
    _no_server_error(office.call("GET", "/rights/search", params=query))


@FUZZ
@given(st.data())
def test_enrol_and_profile_junk(market: Served, data: st.DataObject) -> None:
    status, _, text = market.call("POST", "/enrol/challenge")
    assert status == 200, text
    challenge = json.loads(text)["challenge"]
    vp = key_proof(WALLET, nonce=challenge, audience=NODE.did, created=iso(NOW))
    vp["verifiableCredential"] = [{"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:x:1",
                                   "type": ["VerifiableCredential"], "issuer": NODE.did,
                                   "credentialStatus": {"type": "BitstringStatusListEntry"}}]
    _no_server_error(market.call("POST", "/enrol", json=_replace_one(vp, data)))
    _no_server_error(market.call("PUT", "/admin/profile", json=_replace_one(PROFILE, data), headers=AUTH))
