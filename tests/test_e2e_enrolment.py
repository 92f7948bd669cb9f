"""End to end with real processes: an office and a marketplace (``rightsmesh run``) on 127.0.0.1.

The office imports the sample register; an admin creates an offer (CLI on the live node's directory);
a wallet-like client (plain Python: protocol/ functions and aiohttp) redeems it with a key-possession
proof, then enrols at the marketplace with a presentation. The office then revokes the credential (CLI)
and a new enrolment fails with ``status.revoked``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from protocol.issuance import key_proof
from protocol.keys import KeyPair
from protocol.messages import verify_message
from protocol.presentation import create_presentation
from protocol.trust_list import sign_trust_list
from protocol.vc import format_datetime
from tests.nodeproc import NodeProcess, run_cli
from tests.role_nodes import office_and_market

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
ROOT_KEY = KeyPair.from_seed(bytes([77]) * 32)
WALLET = KeyPair.from_seed(bytes([78]) * 32)
NUMBER = "018003578"


def iso() -> str:
    return format_datetime(datetime.fromtimestamp(int(time.time()), UTC))


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[tuple[NodeProcess, NodeProcess]]:
    with office_and_market(tmp_path, ROOT_KEY.did) as pair:
        yield pair


async def did_of(session: aiohttp.ClientSession, node: NodeProcess) -> str:
    async with session.get(f"{node.url}/healthz") as resp:
        return str((await resp.json())["did"])


async def post_json(session: aiohttp.ClientSession, url: str, body: Any = None) -> tuple[int, Any]:
    async with session.post(url, json=body) as resp:
        return resp.status, await resp.json(content_type=None)


async def enrol(
    session: aiohttp.ClientSession, market: NodeProcess, credential: dict[str, Any]
) -> tuple[int, Any]:
    status, challenge = await post_json(session, f"{market.url}/enrol/challenge")
    assert status == 200
    vp = create_presentation(
        WALLET, [credential], challenge=challenge["challenge"], domain=challenge["domain"], created=iso()
    )
    return await post_json(session, f"{market.url}/enrol", vp)


async def test_issue_enrol_revoke(nodes: tuple[NodeProcess, NodeProcess]) -> None:
    office, market = nodes
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        office_did, market_did = await did_of(session, office), await did_of(session, market)
        now = int(time.time())
        entries = [
            {
                "did": did,
                "role": role,
                "name": role,
                "jurisdiction": "EU",
                "valid_from": now - 60,
                "valid_until": now + 86400,
            }
            for did, role in ((office_did, "office"), (market_did, "marketplace"))
        ]
        trust = sign_trust_list(ROOT_KEY, entries, sequence=1, created=now - 5)
        async with session.post(
            f"{market.url}/objects", data=trust, headers={"Content-Type": "application/cose"}
        ) as resp:
            assert resp.status in (200, 201), await resp.text()

        # register search at the office, signed by it
        async with session.get(f"{office.url}/rights/search", params={"number": NUMBER}) as resp:
            found = verify_message(await resp.read(), int(time.time()))
        assert found.signer == office_did and found.payload["results"][0]["application_number"] == NUMBER

        # the office admin creates an offer on the live node's directory
        offered = run_cli("office", "offer", "--dir", str(office.dir), "--number", NUMBER, "--json")
        assert offered.returncode == 0, offered.stderr
        code = json.loads(offered.stdout)["code"]

        # the wallet redeems it with a proof of key possession
        status, nonce = await post_json(session, f"{office.url}/issuance/nonce")
        assert status == 200 and nonce["audience"] == office_did
        proof = key_proof(WALLET, nonce=nonce["c_nonce"], audience=office_did, created=iso())
        status, credential = await post_json(
            session, f"{office.url}/issuance/credential", {"code": code, "proof": proof}
        )
        assert status == 201, credential
        assert credential["credentialSubject"]["id"] == WALLET.did
        assert credential["credentialStatus"]["statusListCredential"].startswith(office.url)
        status, again = await post_json(
            session, f"{office.url}/issuance/credential", {"code": code, "proof": proof}
        )
        assert status == 410 and again["code"] == "validity.offer-redeemed"

        # enrolment at the marketplace
        status, enrolled = await enrol(session, market, credential)
        assert status == 201, enrolled
        assert enrolled["holder"] == WALLET.did and enrolled["rights"][0]["number"] == NUMBER
        assert {"trust", "status", "holder-binding"} <= set(enrolled["checks"])
        async with session.get(f"{market.url}/profile") as resp:
            assert verify_message(await resp.read(), int(time.time())).signer == market_did

        # the office revokes (CLI on the live directory); the next enrolment fails
        revoked = run_cli(
            "office", "revoke", "--dir", str(office.dir), "--credential", credential["id"], "--json"
        )
        assert revoked.returncode == 0, revoked.stderr
        assert json.loads(revoked.stdout)["version"] == 2
        status, refused = await enrol(session, market, credential)
        assert status == 422 and refused["code"] == "status.revoked", refused

    listed = run_cli("market", "enrolments", "--dir", str(market.dir))
    assert [e["holder"] for e in json.loads(listed.stdout)] == [WALLET.did]
