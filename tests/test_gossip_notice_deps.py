"""A notice whose right credential the node lacks waits while the node fetches the credential from the
peer that sent the notice (``/peer/credentials``), then is decided again; a sender that cannot produce it
is charged for the notice."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from node.appkeys import OBJECTS
from protocol import cbor
from protocol.ip_right import issue_ip_right_credential, right_from_json
from protocol.keys import KeyPair
from protocol.messages import sign_message
from protocol.notice import NoticeItem, Product, build_notice_payload
from protocol.register import parse_register, public_view
from protocol.sealed import Contact
from protocol.status_list import issue_status_list_credential, new_status_list
from protocol.trust_list import sign_trust_list
from protocol.vc import format_datetime
from tests.gossip_fixtures import LiveNode, peer_post, start_live
from tests.node_fixtures import ROOT

REPO = Path(__file__).resolve().parent.parent
OFFICE = KeyPair.from_seed(bytes([61]) * 32)
HOLDER = KeyPair.from_seed(bytes([62]) * 32)
ROGUE = KeyPair.from_seed(bytes([63]) * 32)
STATUS_URL = "https://office.example/status/1"


def iso(seconds: float) -> str:
    return format_datetime(datetime.fromtimestamp(int(seconds), UTC))


async def post_json(session: aiohttp.ClientSession, node: LiveNode, document: dict[str, Any]) -> None:
    async with session.post(node.url + "/objects", json=document) as resp:
        assert resp.status in (200, 201), await resp.text()


async def post_cose(session: aiohttp.ClientSession, node: LiveNode, raw: bytes) -> None:
    async with session.post(
        node.url + "/objects", data=raw, headers={"Content-Type": "application/cose"}
    ) as r:
        assert r.status in (200, 201), await r.text()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[LiveNode, LiveNode, dict[str, Any], bytes]]:
    """a holds the right credential, b does not; both hold the trust list and the status list; they are
    not connected (long gossip interval, no peers), so nothing moves unless the test makes it."""
    a = await start_live(tmp_path, "a", seed=71, gossip_interval=600.0)
    b = await start_live(tmp_path, "b", seed=72, gossip_interval=600.0)
    now = time.time()
    members = [(OFFICE.did, "office"), (a.key.did, "marketplace"), (b.key.did, "marketplace")]
    entries = [
        {
            "did": d,
            "role": r,
            "name": r,
            "jurisdiction": "EU",
            "valid_from": int(now) - 86400,
            "valid_until": int(now) + 86400 * 365,
        }
        for d, r in members
    ]
    trust = sign_trust_list(ROOT, entries, sequence=1, created=int(now) - 60)
    status = issue_status_list_credential(
        OFFICE, new_status_list(STATUS_URL, OFFICE.did, "revocation"), created=iso(now - 100)
    )
    entry = parse_register((REPO / "specs/examples/register-em.csv").read_bytes()).entries[0][1]
    credential = issue_ip_right_credential(
        OFFICE,
        HOLDER.did,
        right_from_json(public_view(entry)),
        created=iso(now - 1000),
        status_list_url=STATUS_URL,
        status_index=5,
    )
    notice = sign_message(
        HOLDER,
        "notice",
        build_notice_payload(
            created=int(now) - 5,
            notifier=HOLDER.did,
            contact=Contact("Ana Holder", "ana@brand.example"),
            explanation="The listed sneakers bear our registered word mark but are not genuine.",
            items=[NoticeItem("https://shop.example/item/123", "123", "seller-9")],
            rights=[credential["id"]],
            infringement="counterfeit",
            targets=[a.key.did],
            product=Product(brand="Acme", gtins=("4006381333931",)),
        ),
    )
    async with aiohttp.ClientSession() as session:
        for node in (a, b):
            await post_cose(session, node, trust)
            await post_json(session, node, status)
        await post_json(session, a, credential)
    try:
        yield a, b, credential, notice
    finally:
        await b.stop()
        await a.stop()


def held_notice(node: LiveNode, notice: bytes) -> bool:
    return hashlib.sha256(notice).hexdigest() in node.ids()


async def test_notice_waits_for_its_credential_from_the_sender(
    world: tuple[LiveNode, LiveNode, dict[str, Any], bytes],
) -> None:
    a, b, _, notice = world
    async with aiohttp.ClientSession() as session:
        # b learns where a is (a's own descriptor, as a hello from a), then a pushes the notice alone.
        own = a.engine.ensure_own_descriptor()
        status, _ = await peer_post(session, a.key, b.url + "/peer/hello", own, "application/cose")
        assert status == 200
        assert not held_notice(b, notice)
        entry = [[notice, 1, ""]]
        status, answer = await peer_post(session, a.key, b.url + "/peer/objects", cbor.encode(entry))
    assert status == 200, answer
    counts = json.loads(answer)
    assert counts["stored"] == 1 and counts["invalid"] == 0  # the notice, once the credential came
    assert held_notice(b, notice)
    assert b.app[OBJECTS].count("credential") == 1
    assert b.engine.peers.get(a.key.did).invalid == 0  # type: ignore[union-attr]


async def test_sender_that_cannot_produce_the_credential_is_charged(
    world: tuple[LiveNode, LiveNode, dict[str, Any], bytes],
) -> None:
    _, b, _, notice = world
    async with aiohttp.ClientSession() as session:
        status, answer = await peer_post(
            session, ROGUE, b.url + "/peer/objects", cbor.encode([[notice, 1, ""]])
        )
    assert status == 200 and json.loads(answer)["invalid"] == 1
    assert not held_notice(b, notice)
    assert b.engine.peers.get(ROGUE.did).invalid == 1  # type: ignore[union-attr]
