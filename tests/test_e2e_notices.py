"""End to end with real processes: the notice lifecycle through the CLI (``rightsmesh wallet`` / ``market``).

An office issues a right credential (offer code, wallet redeem) → the holder enrols at two marketplaces →
authorises an agent → the agent files one notice naming both → both receive it and decide → the
decisions reach the agent's wallet → a seller's complaint reverses one decision → ``wallet status``
shows the final outcomes; a third marketplace that was never notified finds the product through /match.

Until the gossip engine carries objects between these nodes on its own, both marketplaces are notified
directly, and the third marketplace is handed the objects through ``POST /objects`` — the very ingest
path gossip uses — by :func:`relay` (switch to waiting for gossip once node/gossip/ runs in ``run``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from protocol.keys import KeyPair
from protocol.trust_list import sign_trust_list
from tests.nodeproc import NodeProcess, init_node, run_cli, start_node

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
ROOT_KEY = KeyPair.from_seed(bytes([91]) * 32)
NUMBER = "018003578"


def cli(*args: str) -> Any:
    result = run_cli(*args)
    assert result.returncode == 0, f"{args[:2]}: {result.stderr}{result.stdout}"
    return json.loads(result.stdout) if result.stdout.strip() else None


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[dict[str, NodeProcess]]:
    dirs = {
        "office": init_node(tmp_path, "office", "EM Office", trust_roots=[ROOT_KEY.did]),
        "m1": init_node(tmp_path, "marketplace", "Bazaar Nord", trust_roots=[ROOT_KEY.did]),
        "m2": init_node(tmp_path, "marketplace", "Markt Sud", trust_roots=[ROOT_KEY.did]),
        "m3": init_node(tmp_path, "marketplace", "Small Shop", trust_roots=[ROOT_KEY.did]),
    }
    imported = run_cli(
        "office", "import", "--dir", str(dirs["office"]), str(REPO / "specs/examples/register-em.csv")
    )
    assert imported.returncode == 0, imported.stderr
    started: dict[str, NodeProcess] = {}
    try:
        for name, directory in dirs.items():
            started[name] = start_node(directory)
        yield started
    finally:
        for node in started.values():
            node.stop()


async def did_of(session: aiohttp.ClientSession, node: NodeProcess) -> str:
    async with session.get(f"{node.url}/healthz") as resp:
        return str((await resp.json())["did"])


async def post_object(
    session: aiohttp.ClientSession, node: NodeProcess, body: bytes, json_body: bool
) -> None:
    content_type = "application/json" if json_body else "application/cose"
    async with session.post(f"{node.url}/objects", data=body, headers={"Content-Type": content_type}) as resp:
        assert resp.status in (200, 201), await resp.text()


async def relay(
    session: aiohttp.ClientSession, source: NodeProcess, target: NodeProcess, ids: list[str]
) -> None:
    """Hand objects held by ``source`` to ``target`` through POST /objects (gossip's ingest path)."""
    for id_hex in ids:
        async with session.get(f"{source.url}/objects/{id_hex}") as resp:
            assert resp.status == 200
            raw = await resp.read()
        await post_object(session, target, raw, raw[:1] == b"{")


async def test_notice_lifecycle(nodes: dict[str, NodeProcess], tmp_path: Path) -> None:
    office, m1, m2, m3 = nodes["office"], nodes["m1"], nodes["m2"], nodes["m3"]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        dids = {name: await did_of(session, node) for name, node in nodes.items()}
        now = int(time.time())
        entries = [
            {
                "did": did,
                "role": "office" if name == "office" else "marketplace",
                "name": name,
                "jurisdiction": "EU",
                "valid_from": now - 60,
                "valid_until": now + 86400,
            }
            for name, did in dids.items()
        ]
        trust = sign_trust_list(ROOT_KEY, entries, sequence=1, created=now - 5)
        for node in nodes.values():
            await post_object(session, node, trust, False)

        # issuance: offer code (office CLI) -> holder wallet redeems it
        holder_w, agent_w = tmp_path / "holder-wallet", tmp_path / "agent-wallet"
        holder = cli("wallet", "new", "--dir", str(holder_w))["did"]
        agent = cli("wallet", "new", "--dir", str(agent_w))["did"]
        code = cli("office", "offer", "--dir", str(office.dir), "--number", NUMBER, "--json")["code"]
        right = cli("wallet", "redeem", "--dir", str(holder_w), "--office", office.url, "--code", code)[
            "credential"
        ]

        # enrolment at two marketplaces
        for market in (m1, m2):
            enrolled = cli("wallet", "enrol", "--dir", str(holder_w), "--marketplace", market.url)
            assert enrolled["holder"] == holder and {"trust", "status", "holder-binding"} <= set(
                enrolled["checks"]
            )

        # the holder authorises an agent, which takes in the authorisation and the right credential
        grant_file = tmp_path / "grant.json"
        grant = cli(
            "wallet",
            "authorise",
            "--dir",
            str(holder_w),
            "--agent",
            agent,
            "--until",
            "2099-12-31",
            "--out",
            str(grant_file),
        )
        assert (
            cli("wallet", "import", "--dir", str(agent_w), str(grant_file))["type"]
            == "AgentAuthorisationCredential"
        )
        right_file = next(
            p for p in (holder_w / "credentials").glob("*.json") if json.loads(p.read_text())["id"] == right
        )
        assert cli("wallet", "import", "--dir", str(agent_w), str(right_file))["type"] == "IPRightCredential"

        # the agent files one notice naming both marketplaces
        spec = tmp_path / "notice.json"
        spec.write_text(
            json.dumps(
                {
                    "explanation": "The sneakers listed bear the registered word mark but are counterfeit.",
                    "items": [
                        {
                            "url": "https://bazaar.example/item/123",
                            "listing_id": "123",
                            "seller_id": "seller-9",
                        }
                    ],
                    "contact": {"name": "Ana Agent", "email": "ana@agency.example"},
                    "infringement": "counterfeit",
                    "product": {"brand": "Acme", "gtin": ["4006381333931"], "phash": ["8f3c0000ffff1234"]},
                }
            )
        )
        sent = cli(
            "wallet",
            "notify",
            "--dir",
            str(agent_w),
            "--marketplace",
            m1.url,
            "--marketplace",
            m2.url,
            str(spec),
        )
        notice = sent["notice"]
        assert [d["error"] for d in sent["deliveries"]] == [None, None]
        assert all(d["receipt"] and d["enrolled"] for d in sent["deliveries"])

        # both inboxes hold it with the agent's contact opened; both decide
        decisions = {}
        for name, market in (("m1", m1), ("m2", m2)):
            inbox = cli("market", "notices", "--dir", str(market.dir), "--node", market.url)["notices"]
            assert [n["notice"] for n in inbox] == [notice]
            assert inbox[0]["contact"] == {"name": "Ana Agent", "email": "ana@agency.example"}
            assert inbox[0]["role"] == "agent" and inbox[0]["holder"] == holder
            decisions[name] = cli(
                "market",
                "decide",
                "--dir",
                str(market.dir),
                "--node",
                market.url,
                "--notice",
                notice,
                "--action",
                "restrict",
                "--facts",
                "Counterfeit goods bearing the notified mark.",
                "--field",
                'territorial_scope=["DE","FR"]',
            )["decision"]

        status = cli("wallet", "status", "--dir", str(agent_w))["notices"]
        outcome = status[0]["marketplaces"]
        assert {dids["m1"], dids["m2"]} == set(outcome)
        assert all(v["receipt"] and v["outcome"]["action"] == "restrict" for v in outcome.values())

        # the seller complains at m2; m2 reverses its decision
        complaint = cli(
            "market",
            "complaint",
            "--dir",
            str(m2.dir),
            "--node",
            m2.url,
            "--decision",
            decisions["m2"],
            "--explanation",
            "The goods are genuine: invoice from the brand's own distributor.",
            "--seller-ref",
            "seller-9",
        )["complaint"]
        reversed_ = cli(
            "market",
            "decide",
            "--dir",
            str(m2.dir),
            "--node",
            m2.url,
            "--notice",
            notice,
            "--action",
            "no-action",
            "--complaint",
            complaint,
            "--facts",
            "On complaint, the goods were shown to be genuine.",
        )
        assert reversed_["supersedes"] == decisions["m2"]

        status = cli("wallet", "status", "--dir", str(agent_w))["notices"][0]["marketplaces"]
        assert status[dids["m1"]]["outcome"]["action"] == "restrict"
        assert status[dids["m2"]]["outcome"] == {
            "action": "no-action",
            "decision": reversed_["decision"],
            "superseded": [decisions["m2"]],
            "after_complaint": True,
        }
        # the holder's own wallet learns the same outcomes from any node it names
        cli("wallet", "status", "--dir", str(holder_w), "--node", m1.url)

        # TDB export: m1 has one statement, m2 none (reversed); no personal data
        sor1 = run_cli("market", "export-sor", "--dir", str(m1.dir))
        assert sor1.returncode == 0 and len(json.loads(sor1.stdout)) == 1
        assert "ana@agency.example" not in sor1.stdout and holder not in sor1.stdout
        assert cli("market", "export-sor", "--dir", str(m2.dir)) == []

        # a third marketplace, never notified, finds the product through /match
        async with session.get(f"{m1.url}/decisions", params={"notice": notice}) as resp:
            held_decisions = [d["id"] for d in (await resp.json())["decisions"]]
        async with session.get(f"{m2.url}/decisions", params={"notice": notice}) as resp:
            held_decisions += [d["id"] for d in (await resp.json())["decisions"]]
        status_url = json.loads(right_file.read_text())["credentialStatus"]["statusListCredential"]
        async with session.get(status_url) as resp:
            await post_object(session, m3, await resp.read(), True)
        for document in (json.loads(right_file.read_text()), grant):  # the credentials the notice names
            await post_object(session, m3, json.dumps(document).encode(), True)
        await relay(session, m1, m3, [notice])
        await relay(session, m1, m3, held_decisions[:1])
        await relay(session, m2, m3, held_decisions[1:])
        listings = tmp_path / "listings.json"
        listings.write_text(
            json.dumps(
                {
                    "listings": [
                        {"title": "ACME sneakers", "phash": "8f3c0000ffff1230"},
                        {"title": "garden hose", "gtin": "96385074"},
                    ]
                }
            )
        )
        found = cli("market", "match", "--node", m3.url, str(listings))["results"]
        assert found[0]["matches"][0]["notice"] == notice
        assert {r["kind"] for r in found[0]["matches"][0]["reasons"]} == {"brand", "phash"}
        assert found[0]["matches"][0]["restricted_by"] == [dids["m1"]]
        assert found[1]["matches"] == []
        assert cli("market", "notices", "--dir", str(m3.dir), "--node", m3.url)["notices"] == []
