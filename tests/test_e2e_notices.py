"""End to end with real processes: the notice lifecycle through the CLI (``rightsmesh wallet`` / ``market``).

An office issues a right credential (offer code, wallet redeem) → the holder enrols at two marketplaces →
authorises an agent → the agent files one notice naming both → both receive it and decide → the
decisions reach the agent's wallet → a seller's complaint reverses one decision → ``wallet status``
shows the final outcomes; a third marketplace that was never notified finds the product through /match.

The marketplaces bootstrap from the office as their gossip peer. The agent sends the notice to the first
marketplace only; the second, named in it, receives it by gossip (and signs its receipt then); decisions
travel by gossip too; the third marketplace holds everything by gossip alone. Waits are bounded loops.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest

from protocol.keys import KeyPair
from protocol.trust_list import sign_trust_list
from tests.nodeproc import NodeProcess, init_node, run_cli, start_node

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
ROOT_KEY = KeyPair.from_seed(bytes([91]) * 32)
NUMBER = "018003578"
T = TypeVar("T")


WAIT = 60.0
GOSSIP_SETTINGS = {"gossip_interval": "1.0", "gossip_timeout": "2.0"}


def configure(directory: Path) -> Path:
    """Short gossip intervals for the test (config.toml is flat: replace the lines init wrote)."""
    path = directory / "config.toml"
    text = path.read_text()
    for key, value in GOSSIP_SETTINGS.items():
        text, count = re.subn(rf"^{key} = .*$", f"{key} = {value}", text, flags=re.M)
        if not count:
            text += f"{key} = {value}\n"
    path.write_text(text)
    return directory


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str) -> T:
    deadline = time.monotonic() + WAIT
    while True:
        value = await probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {WAIT} s: {what}")
        await asyncio.sleep(0.25)


def cli(*args: str) -> Any:
    result = run_cli(*args)
    assert result.returncode == 0, f"{args[:2]}: {result.stderr}{result.stdout}"
    return json.loads(result.stdout) if result.stdout.strip() else None


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[dict[str, NodeProcess]]:
    roots = [ROOT_KEY.did]
    office_dir = configure(init_node(tmp_path, "office", "EM Office", trust_roots=roots))
    imported = run_cli(
        "office", "import", "--dir", str(office_dir), str(REPO / "specs/examples/register-em.csv")
    )
    assert imported.returncode == 0, imported.stderr
    started: dict[str, NodeProcess] = {}
    try:
        started["office"] = start_node(office_dir)
        peers = [started["office"].url]
        for name, title in (("m1", "Bazaar Nord"), ("m2", "Markt Sud"), ("m3", "Small Shop")):
            started[name] = start_node(
                configure(init_node(tmp_path, "marketplace", title, trust_roots=roots, peers=peers))
            )
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


async def admin_get(session: aiohttp.ClientSession, node: NodeProcess, path: str, **params: str) -> Any:
    headers = {"Authorization": f"Bearer {node.admin_token}"}
    async with session.get(node.url + path, headers=headers, params=params) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


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
        cli(
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
        right_file = tmp_path / "right.json"
        cli("wallet", "export", "--dir", str(holder_w), "--credential", right, "--out", str(right_file))
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
        # sent to m1 only; m2 is named (it can read the contact) and receives it by gossip
        sent = cli(
            "wallet",
            "notify",
            "--dir",
            str(agent_w),
            "--marketplace",
            m1.url,
            "--marketplace",
            m2.url,
            "--gossip-only",
            m2.url,
            str(spec),
        )
        notice = sent["notice"]
        direct, by_gossip = sent["deliveries"]
        assert direct["error"] is None and direct["receipt"] and direct["enrolled"] is True
        assert by_gossip["error"] is None and by_gossip["receipt"] is None

        async def in_inbox(market: NodeProcess) -> list[Any] | None:
            found = (await admin_get(session, market, "/admin/notices"))["notices"]
            return found or None

        decisions = {}
        for name, market, via in (("m1", m1, "direct"), ("m2", m2, "gossip")):
            inbox = await eventually(lambda m=market: in_inbox(m), f"the notice in {name}'s inbox")
            assert [n["notice"] for n in inbox] == [notice] and inbox[0]["via"] == via
            assert inbox[0]["contact"] == {"name": "Ana Agent", "email": "ana@agency.example"}
            assert inbox[0]["role"] == "agent" and inbox[0]["holder"] == holder and inbox[0]["enrolled"]
            listed = cli("market", "notices", "--dir", str(market.dir), "--node", market.url)["notices"]
            assert [n["notice"] for n in listed] == [notice]
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

        # the decisions (and m2's receipt, signed when gossip brought the notice) reach the wallet
        def agent_status() -> dict[str, Any]:
            notices = cli("wallet", "status", "--dir", str(agent_w))["notices"]
            assert [n["notice"] for n in notices] == [notice]
            return dict(notices[0]["marketplaces"])

        outcome = agent_status()
        assert set(outcome) == {dids["m1"], dids["m2"]}
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

        # decisions travel by gossip: m1 learns m2's reversal
        async def m1_knows_reversal() -> dict[str, Any] | None:
            async with session.get(f"{m1.url}/decisions", params={"notice": notice}) as resp:
                body = await resp.json()
            return body if body["outcomes"].get(dids["m2"], {}).get("action") == "no-action" else None

        await eventually(m1_knows_reversal, "m2's reversal at m1")
        status = agent_status()
        assert status[dids["m1"]]["outcome"]["action"] == "restrict"
        assert status[dids["m2"]]["outcome"] == {
            "action": "no-action",
            "decision": reversed_["decision"],
            "superseded": [decisions["m2"]],
            "after_complaint": True,
        }

        # TDB export: m1 has one statement, m2 none (reversed); no personal data
        sor1 = run_cli("market", "export-sor", "--dir", str(m1.dir))
        assert sor1.returncode == 0 and len(json.loads(sor1.stdout)) == 1
        assert "ana@agency.example" not in sor1.stdout and holder not in sor1.stdout
        assert cli("market", "export-sor", "--dir", str(m2.dir)) == []

        # a third marketplace, never notified, finds the product through /match, with both outcomes
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

        async def m3_matches() -> list[Any] | None:
            async with session.post(f"{m3.url}/match", json=json.loads(listings.read_text())) as resp:
                results = (await resp.json())["results"]
            first = results[0]["matches"]
            return results if first and len(first[0]["outcomes"]) == 2 else None

        await eventually(m3_matches, "the notice and both decisions at m3")
        found = cli("market", "match", "--node", m3.url, str(listings))["results"]
        assert found[0]["matches"][0]["notice"] == notice
        assert {r["kind"] for r in found[0]["matches"][0]["reasons"]} == {"brand", "phash"}
        assert found[0]["matches"][0]["restricted_by"] == [dids["m1"]]
        assert found[1]["matches"] == []
        assert cli("market", "notices", "--dir", str(m3.dir), "--node", m3.url)["notices"] == []
