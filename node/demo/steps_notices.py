"""Story steps about notices (service 4): one notice to several marketplaces, gossip, decisions, a
complaint that reverses one, a refused notice after revocation, a /match hit where no one was notified,
and a federated register search from a small platform."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from .procs import DemoError
from .steps_rights import holds, short, wait_for
from .wallets import notice_status, wallet
from .world import DK_NUMBER, EM_NUMBER, Node, World

GTIN = "4006381333931"
SELLER = "seller-7731"
IMAGE = hashlib.sha256(b"rightsmesh demo: counterfeit OVALUX trainer, product photo").hexdigest()
PHASH = 0x9F3A_61C4_0E5D_B278


def notice_file(world: World, rights: list[str], listing: str = "41077") -> Path:
    """The agent's notice as a ``rightsmesh wallet notify`` input file (``BASE/notices/LISTING.json``)."""
    spec = {
        "explanation": (
            "The listed trainers bear the OVALUX mark (EUTM 018003578, DK VR202100458) without the "
            "holder's consent; the product, sold below cost, is not a genuine Brivel Sports product."
        ),
        "items": [
            {
                "url": f"https://{m.cast.slug}.example/listing/{listing}{i}",
                "listing_id": f"{listing}{i}",
                "seller_id": SELLER,
            }
            for i, m in enumerate(world.markets[:3])
        ],
        "contact": {"name": world.agent.name, "email": "notices@lumen-brand.example"},
        "infringement": "counterfeit",
        "product": {"brand": "OVALUX", "gtin": [GTIN], "image_sha256": [IMAGE], "phash": [f"{PHASH:016x}"]},
        "rights": rights,
    }
    folder = world.base / "notices"
    folder.mkdir(exist_ok=True)
    path = folder / f"{listing}.json"
    path.write_text(json.dumps(spec, indent=1))
    return path


async def notify(world: World, path: Path, targets: list[Node], gossip_only: list[Node]) -> dict[str, Any]:
    """``rightsmesh wallet notify`` by the agent; its answer: the notice id and one delivery per target
    (exit 1 when some marketplace refused: the refusal is in its delivery)."""
    args = [a for m in targets for a in ("--marketplace", m.url)]
    args += [a for m in gossip_only for a in ("--gossip-only", m.url)]
    world.progress(f"rightsmesh wallet notify ({len(targets)} marketplaces)")
    answer = await wallet(world.agent, "notify", *args, str(path), expect=(0, 1))
    if not isinstance(answer.body, dict) or "deliveries" not in answer.body:
        raise DemoError(f"`rightsmesh wallet notify` failed: {answer.error}")
    return dict(answer.body)


async def file_notice(world: World) -> str:
    """The agent's wallet (``rightsmesh wallet notify``) files ONE notice naming three marketplaces (the
    contact sealed to each) and sends it to the first only; the other two are named but get it by
    gossip. The first answers with a signed receipt that says the notifier is a trusted flagger (art. 22)."""
    targets = world.markets[:3]
    rights = [world.facts[f"credential:{n}"] for n in (EM_NUMBER, DK_NUMBER)]
    answer = await notify(world, notice_file(world, rights), targets, targets[1:])
    notice_id = answer["notice"]
    deliveries = answer["deliveries"]
    world.facts["notice"] = notice_id
    world.facts["notice-sent-at"] = time.monotonic()
    failed = [d for d in deliveries if d.get("error")]
    if failed:
        raise DemoError(f"{len(failed)} marketplaces refused the notice: {failed[0]['error']}")
    names = {m.did: m.name for m in world.markets}
    direct = [d for d in deliveries if d.get("receipt")]
    if [d["marketplace"] for d in direct] != [targets[0].did]:
        raise DemoError(f"expected one direct delivery to {targets[0].name}, got {len(direct)}")
    d = direct[0]
    world.note(
        f"{names[d['marketplace']]}: sent directly; receipt {short(d['receipt'])} "
        f"(trusted flagger: {d['trusted_flagger']}, enrolled: {d['enrolled']})"
    )
    world.note(f"{', '.join(m.name for m in targets[1:])}: named (contact sealed to them), not sent")
    return (
        f"notice {short(notice_id)} names {len(targets)} marketplaces, sent to 1; "
        f"receipt says trusted flagger: {d['trusted_flagger']}"
    )


async def agent_status(world: World) -> dict[str, dict[str, Any]]:
    """``rightsmesh wallet status`` by the agent (fetches receipts and decisions, then reports): per
    marketplace DID of the demo's notice, its receipt id and standing outcome."""
    world.progress("rightsmesh wallet status")
    answer = await wallet(world.agent, "status")
    return dict(notice_status(answer, world.facts["notice"])["marketplaces"])


async def gossip_notice(world: World) -> str:
    """The notice spreads by gossip to every node (the named marketplaces it was not sent to, the never
    notified one, the offices); the named ones sign receipts on arrival, which reach the agent's wallet."""
    notice_id = world.facts["notice"]

    async def everywhere() -> bool:
        return all(await asyncio.gather(*(holds(world, n, notice_id) for n in world.nodes)))

    await wait_for("the notice reaching every node", everywhere)
    took = time.monotonic() - world.facts["notice-sent-at"]
    world.note(f"all {len(world.nodes)} nodes hold notice {short(notice_id)} within {took:.2f}s of sending")
    targets = {m.did for m in world.markets[:3]}
    seen: dict[str, dict[str, Any]] = {}

    async def receipts() -> bool:
        seen.update(await agent_status(world))
        return targets <= {did for did, m in seen.items() if m.get("receipt")}

    took_receipts = await wait_for("receipts from every named marketplace in the wallet", receipts)
    names = {m.did: m.name for m in world.markets}
    got = sorted(names.get(did, did) for did, m in seen.items() if m.get("receipt"))
    world.note(f"agent's wallet holds signed receipts from {', '.join(got)} ({took_receipts:.2f}s more)")
    quiet = world.markets[3]
    inbox = await world.api.json("GET", f"{quiet.url}/admin/notices", token=quiet.token)
    world.note(
        f"{quiet.name} (not named) holds it for matching; notices in its inbox: {len(inbox['notices'])}"
    )
    return f"notice at all {len(world.nodes)} nodes within {took:.2f}s; 3 receipts in the wallet"


async def decide(world: World, market: Node, body: dict[str, Any]) -> dict[str, Any]:
    result = await world.api.json("POST", f"{market.url}/admin/decisions", json_body=body, token=market.token)
    return dict(result)


async def decisions(world: World) -> str:
    """The two big marketplaces remove the listing (art. 17 statements of reasons); the decisions reach
    the agent's wallet and, by gossip, the small platforms."""
    notice_id = world.facts["notice"]
    for market in world.big:
        result = await decide(
            world,
            market,
            {
                "notice": notice_id,
                "action": "restrict",
                "decision_facts": "The listing offered goods bearing the notified mark without consent.",
            },
        )
        world.facts[f"decision:{market.cast.slug}"] = result["decision"]
        world.note(f"{market.name}: decision {short(result['decision'])} restrict (signed, TDB vocabulary)")
    small = world.markets[3]

    async def arrived() -> bool:
        got = await world.api.json("GET", f"{small.url}/decisions", params={"notice": notice_id})
        return all(m.did in got.get("outcomes", {}) for m in world.big)

    took = await wait_for("the decisions reaching a small marketplace", arrived)
    world.note(f"{small.name} holds both decisions after {took:.2f}s (gossip)")
    outcome = _outcomes(world, await agent_status(world))
    world.note(f"agent's wallet (rightsmesh wallet status): outcomes {outcome}")
    if any(outcome.get(m.name) != "restrict" for m in world.big):
        raise DemoError(f"the wallet does not show both removals: {outcome}")
    return f"{len(world.big)} removals decided; in the agent's wallet and at the small platforms"


def _outcomes(world: World, marketplaces: dict[str, dict[str, Any]]) -> dict[str, str]:
    names = {m.did: m.name for m in world.markets}
    return {
        names.get(did, did): m["outcome"]["action"] for did, m in marketplaces.items() if m.get("outcome")
    }


async def complaint(world: World) -> str:
    """The seller complains at Mercato Sud (art. 20); on review it reverses its decision with a new one
    that supersedes it, and the agent's wallet shows the final outcome per marketplace."""
    market = world.big[1]
    decision_id = world.facts[f"decision:{market.cast.slug}"]
    filed = await world.api.json(
        "POST",
        f"{market.url}/admin/complaints",
        json_body={
            "decision": decision_id,
            "explanation": "The trainers are genuine OVALUX goods bought from an authorised distributor.",
            "seller_ref": SELLER,
        },
        token=market.token,
    )
    world.note(f"{market.name}: seller's complaint {short(filed['complaint'])} recorded")
    result = await decide(
        world,
        market,
        {
            "notice": world.facts["notice"],
            "action": "no-action",
            "complaint": filed["complaint"],
            "decision_facts": "On complaint, the seller proved the goods came from a distributor.",
        },
    )
    if result.get("supersedes") != decision_id:
        raise DemoError(f"the new decision does not supersede {decision_id}: {result.get('supersedes')}")
    world.note(
        f"{market.name}: decision {short(result['decision'])} no-action supersedes {short(decision_id)}"
    )
    outcome = _outcomes(world, await agent_status(world))
    world.note(f"agent's wallet, final outcomes: {outcome}")
    if outcome.get(market.name) != "no-action" or outcome.get(world.big[0].name) != "restrict":
        raise DemoError(f"the wallet's outcomes are not the expected ones: {outcome}")
    return f"{market.name} reversed its decision after the seller's complaint; {world.big[0].name} stands"


async def refused_notice(world: World) -> str:
    """After the revocation a new notice relying on the revoked DK credential is refused."""
    path = notice_file(world, [world.facts[f"credential:{DK_NUMBER}"]], "52088")
    answer = await notify(world, path, [world.big[0]], [])
    refusal = answer["deliveries"][0].get("error")
    if refusal is None:
        raise DemoError(f"{world.big[0].name} accepted a notice backed by a revoked credential")
    world.note(f"{world.big[0].name}: {refusal}")
    return f"new notice on the revoked credential refused: {refusal.split(':', 1)[0]}"


async def match(world: World) -> str:
    """Atelier Ouest, a small platform that was never notified, checks its own listings with /match and
    finds the counterfeit, with what the other marketplaces decided."""
    small = world.markets[3]
    listings = [
        {"title": "OVALUX runner trainers, all sizes", "brand": "OVALUX", "gtin": GTIN, "seller_id": SELLER},
        {"title": "Plain cotton socks", "brand": "Nordsok", "seller_id": "seller-0042"},
    ]
    body = await world.api.json("POST", f"{small.url}/match", json_body={"listings": listings})
    hits = body["results"][0]["matches"]
    found = next((m for m in hits if m["notice"] == world.facts["notice"]), None)
    if found is None:
        raise DemoError(f"{small.name}'s /match did not find the notice: {hits}")
    if body["results"][1]["matches"]:
        raise DemoError(f"{small.name}'s /match matched an unrelated listing")
    names = {m.did: m.name for m in world.markets}
    reasons = sorted({r["kind"] for r in found["reasons"]})
    decided = {names.get(o["marketplace"], o["marketplace"]): o["action"] for o in found["outcomes"]}
    world.note(f"listing 1 -> notice {short(found['notice'])}, score {found['score']}, reasons {reasons}")
    world.note(f"elsewhere: {decided}; listing 2 (unrelated) -> no match")
    return f"hit at {small.name} (never notified) by {', '.join(reasons)}; decided elsewhere: {decided}"


async def federated_search(world: World) -> str:
    """A small marketplace searches every office's register at once; each answer is signed by its office."""
    small = world.markets[2]

    async def both() -> bool:
        body = await world.api.json("GET", f"{small.url}/search/rights", params={"q": "OVALUX"})
        world.facts["search"] = body
        answered = {o["did"] for o in body.get("offices", []) if o.get("status") == "answered"}
        return all(o.did in answered for o in world.offices)

    await wait_for("both offices answering a federated search", both, timeout=15, interval=0.5)
    body = world.facts["search"]
    names = {o.did: o.name for o in world.offices}
    for office in body["offices"]:
        world.note(
            f"{names.get(office['did'], office['name'])}: {office['status']} in {office['elapsed_ms']} ms"
        )
    numbers = sorted(r.get("application_number", "?") for r in body.get("results", []))
    return f"{small.name} searched {len(body['offices'])} offices at once: {numbers}"
