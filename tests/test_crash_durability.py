"""What a node acknowledged survives ``kill -9``: issuance, revocation and enrolment, with real processes.

An office (sample register imported) and a marketplace run as ``rightsmesh run`` processes. Over HTTP the
office's admin creates two offers, a wallet (node.wallet.ops) redeems one and enrols at the marketplace;
the marketplace is SIGKILLed right after the enrolment answer, the office right after the revocation
answer. Both restart on their directories (the office on its old port, so the status URL inside the
issued credential still resolves) and must hold everything they acknowledged: the credential (revoked),
the spent offer, the other offer still open, the revoked status list version, the enrolment.
POST /objects has its own kill -9 test in test_node_process.py.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from node.wallet import Wallet, WalletError, ops
from protocol.keys import KeyPair
from protocol.status_list import verify_status_list_credential
from protocol.trust_list import sign_trust_list
from protocol.vc import parse_datetime
from tests.nodeproc import NodeProcess
from tests.role_nodes import office_and_market, start_pair

pytestmark = pytest.mark.slow

ROOT_KEY = KeyPair.from_seed(bytes([91]) * 32)
WALLET = KeyPair.from_seed(bytes([92]) * 32)
NUMBER = "018003578"  # in specs/examples/register-em.csv


def admin(node: NodeProcess) -> dict[str, str]:
    return {"Authorization": f"Bearer {node.admin_token}"}


async def call(
    session: aiohttp.ClientSession, method: str, url: str, *, expect: int, **kw: Any
) -> tuple[Any, Any]:
    async with session.request(method, url, **kw) as resp:
        body = await resp.read()
        assert resp.status == expect, (method, url, resp.status, body[:500])
        return (json.loads(body) if body else None), resp.headers


async def accredit(session: aiohttp.ClientSession, office: NodeProcess, market: NodeProcess) -> None:
    """Publish to the marketplace a trust list accrediting both nodes (their DIDs from /healthz)."""
    now = int(time.time())
    entries = []
    for node, role in ((office, "office"), (market, "marketplace")):
        health, _ = await call(session, "GET", f"{node.url}/healthz", expect=200)
        entries.append(
            {
                "did": health["did"],
                "role": role,
                "name": role,
                "jurisdiction": "EU",
                "valid_from": now - 60,
                "valid_until": now + 86400,
            }
        )
    trust = sign_trust_list(ROOT_KEY, entries, sequence=1, created=now - 5)
    async with session.post(
        f"{market.url}/objects", data=trust, headers={"Content-Type": "application/cose"}
    ) as resp:
        assert resp.status in (200, 201), await resp.text()


def integrity_ok(directory: Path) -> None:
    with sqlite3.connect(directory / "node.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


async def test_issuance_revocation_and_enrolment_survive_kill_9(tmp_path: Path) -> None:
    wallet = Wallet.create(tmp_path / "wallet", key=WALLET)
    timeout = aiohttp.ClientTimeout(total=30)
    with office_and_market(tmp_path, ROOT_KEY.did) as (office, market):
        office_dir, market_dir = office.dir, market.dir
        office_port = urlsplit(office.url).port
        async with aiohttp.ClientSession(timeout=timeout) as session:
            await accredit(session, office, market)
            offers = [
                (
                    await call(
                        session,
                        "POST",
                        f"{office.url}/admin/offers",
                        expect=201,
                        json={"number": NUMBER},
                        headers=admin(office),
                    )
                )[0]
                for _ in range(2)
            ]
            spent, kept = offers
            credential = await ops.redeem(wallet, session, office.url, spent["code"], int(time.time()))
            status_url = credential["credentialStatus"]["statusListCredential"]
            index = int(credential["credentialStatus"]["statusListIndex"])
            assert status_url.startswith(office.url + "/status/")

            enrolled = await ops.enrol(wallet, session, market.url, int(time.time()))
            assert market.kill() == -9  # right after the enrolment answer

            revoked, _ = await call(
                session,
                "POST",
                f"{office.url}/admin/revocations",
                expect=200,
                json={"credential": credential["id"]},
                headers=admin(office),
            )
            assert office.kill() == -9  # right after the revocation answer
        assert revoked == {
            "credential": credential["id"],
            "status_list": status_url,
            "status_index": index,
            "version": 2,
        }
    # office_and_market's stop() found both already dead

    office, market = start_pair(office_dir, market_dir, office_listen=f"127.0.0.1:{office_port}")
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            # the issued credential is still listed, revoked
            listed, _ = await call(
                session, "GET", f"{office.url}/admin/credentials", expect=200, headers=admin(office)
            )
            assert [(c["id"], c["holder"], c["status_index"]) for c in listed["credentials"]] == [
                (credential["id"], WALLET.did, index)
            ]
            assert listed["credentials"][0]["revoked_at"] is not None

            # the redeemed offer stays spent, the other one open
            listed, _ = await call(
                session, "GET", f"{office.url}/admin/offers", expect=200, headers=admin(office)
            )
            states = {o["id"]: (o["state"], o["holder"]) for o in listed["offers"]}
            assert states == {spent["offer"]: ("redeemed", WALLET.did), kept["offer"]: ("open", None)}
            with pytest.raises(WalletError) as exc:
                await ops.redeem(wallet, session, office.url, spent["code"], int(time.time()))
            assert exc.value.code == "validity.offer-redeemed"

            # the status list is served at the credential's own URL in its revoked version
            document, headers = await call(session, "GET", status_url, expect=200)
            list_id = status_url.rsplit("/", 1)[1]
            assert headers["ETag"] == f'"{list_id}-2"'
            current = verify_status_list_credential(
                document, now=parse_datetime(document["validFrom"], "validFrom")
            )
            assert current.version == 2 and current.get(index)
            await call(session, "GET", status_url, expect=304, headers={"If-None-Match": headers["ETag"]})

            # the open offer redeems after the crash; its bit is a fresh one, not the revoked index reused
            second = await ops.redeem(wallet, session, office.url, kept["code"], int(time.time()))
            assert second["credentialStatus"]["statusListCredential"] == status_url
            assert int(second["credentialStatus"]["statusListIndex"]) != index

            # the marketplace still holds the enrolment it acknowledged
            listed, _ = await call(
                session, "GET", f"{market.url}/admin/enrolments", expect=200, headers=admin(market)
            )
            assert [(e["id"], e["holder"]) for e in listed["enrolments"]] == [
                (enrolled["enrolment"], WALLET.did)
            ]
            assert listed["enrolments"][0]["rights"] == enrolled["rights"]

            # and, reading the office's list after both crashes, refuses the revoked credential
            with pytest.raises(WalletError) as exc:
                await ops.enrol(wallet, session, market.url, int(time.time()), rights=[credential["id"]])
            assert exc.value.code == "status.revoked"
    finally:
        market_code = market.stop()
        office_code = office.stop()
    assert (office_code, market_code) == (0, 0), office.stderr + market.stderr
    integrity_ok(office_dir)
    integrity_ok(market_dir)
