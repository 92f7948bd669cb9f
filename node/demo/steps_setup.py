"""Story steps that set the federation up: nodes, trust list, peers, registers, marketplace profiles."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from protocol.messages import verify_message

from ..keystore import save_key
from .procs import DemoError, run_cli, spawn_node, wait_ready
from .steps_rights import iso
from .wallets import wallet
from .world import EM_NUMBER, EXAMPLES, Node, Party, World, dk_register_csv


async def start_nodes(world: World) -> str:
    """Initialise the six node directories, the trust root's key and the two wallets (``rightsmesh
    wallet new``, alongside the ``rightsmesh init`` runs), then run the nodes."""
    root_dir = world.root_dir
    root_dir.mkdir(parents=True, exist_ok=True)
    save_key(root_dir / "root.key", world.root)

    async def new_wallet(party: Party) -> None:
        answer = await wallet(party, "new")
        party.did = str(answer.body.get("did") or "")
        if not party.did.startswith("did:"):
            raise DemoError(f"`rightsmesh wallet new` for {party.name} printed no DID: {answer.body}")

    async def init(node: Node) -> None:
        result = await run_cli(
            "init",
            "--role",
            node.cast.role,
            "--name",
            node.name,
            "--dir",
            str(node.dir),
            "--listen",
            "127.0.0.1:0",
            "--trust-root",
            world.root.did,
        )
        node.did = next(
            (line.split(" ", 1)[1] for line in result.stdout.splitlines() if line.startswith("did: ")), ""
        )
        if not node.did:
            raise DemoError(f"`rightsmesh init` for {node.name} printed no DID")
        _tune(node.dir / "config.toml")

    world.progress(f"rightsmesh init x{len(world.nodes)}, rightsmesh wallet new x2")
    await asyncio.gather(
        *(init(n) for n in world.nodes), *(new_wallet(p) for p in (world.holder, world.agent))
    )
    for node in world.nodes:
        node.process = spawn_node(node.dir)
    healthy: list[Node] = []

    async def ready(node: Node) -> None:
        assert node.process is not None
        node.url = await wait_ready(node.process, world.api.session)
        healthy.append(node)
        world.progress(f"rightsmesh run: {len(healthy)}/{len(world.nodes)} nodes healthy")

    world.progress(f"rightsmesh run: 0/{len(world.nodes)} nodes healthy")
    await asyncio.gather(*(ready(n) for n in world.nodes))  # one shared startup bound, not one per node
    for node in world.nodes:
        health = await world.api.json("GET", f"{node.url}/healthz")
        if health.get("did") != node.did or health.get("role") != node.cast.role:
            raise DemoError(f"{node.name} answers /healthz with another identity: {health}")
        world.note(f"{node.name:<14} {node.cast.role:<11} {node.url}  {node.did[:24]}...")
    for party in (world.holder, world.agent):
        world.note(f"{party.name}: wallet {party.dir.name}  {party.did[:24]}... (rightsmesh wallet new)")
    return (
        f"{len(world.nodes)} nodes up ({len(world.offices)} offices, {len(world.big)} big and "
        f"{len(world.small)} small marketplaces); root key and 2 wallets created"
    )


# A demo wants catch-up in about a second, not the production default (config keys: specs/node-api.md).
DEMO_SETTINGS = {"gossip_interval": "1.0", "gossip_timeout": "2.0"}


def _tune(config: Path) -> None:
    """Replace the gossip timing lines ``rightsmesh init`` wrote (config.toml is flat ``key = value``)."""
    lines = config.read_text("utf-8").splitlines()
    lines = [
        f"{line.split('=', 1)[0].strip()} = {DEMO_SETTINGS[line.split('=', 1)[0].strip()]}"
        if line.split("=", 1)[0].strip() in DEMO_SETTINGS
        else line
        for line in lines
    ]
    config.write_text("\n".join(lines) + "\n", "utf-8")


def _entries(world: World, now: int) -> list[dict[str, Any]]:
    def entry(did: str, role: str, name: str, jurisdiction: str) -> dict[str, Any]:
        return {
            "did": did,
            "role": role,
            "name": name,
            "jurisdiction": jurisdiction,
            "valid_from": now - 3600,
            "valid_until": now + 365 * 86400,
        }

    entries = [entry(n.did, n.cast.role, n.name, n.cast.jurisdiction) for n in world.nodes]
    entries.append(entry(world.agent.did, "trusted-flagger", world.agent.name, "EU"))
    return entries


async def publish_trust_list(world: World) -> str:
    """The offline root signs the trust list (CLI, root key file); it is published to every node."""
    now = int(time.time())
    entries_path = world.root_dir / "entries.json"
    entries_path.write_text(json.dumps(_entries(world, now), indent=1))
    out = world.root_dir / "trust-list-1.cose"
    await run_cli(
        "trust-list",
        "sign",
        "--key",
        str(world.root_dir / "root.key"),
        "--sequence",
        "1",
        "--created",
        iso(now - 5),
        "--out",
        str(out),
        str(entries_path),
    )
    data = out.read_bytes()
    listed = verify_message(data, now)
    if listed.signer != world.root.did:
        raise DemoError("the trust list is not signed by the root")

    async def publish(node: Node) -> str:
        answer = await world.api.expect(
            "POST", f"{node.url}/objects", data=data, content_type="application/cose"
        )
        return str(answer.json()["id"])

    ids = await asyncio.gather(*(publish(n) for n in world.nodes))
    if len(set(ids)) != 1 or ids[0] != listed.id_hex:
        raise DemoError(f"nodes stored the trust list under different ids: {sorted(set(ids))}")
    world.note(
        f"trust list {listed.id_hex[:16]}...: {len(listed.payload['entries'])} entries, "
        f"root {world.root.did[:24]}..."
    )
    return (
        f"sequence 1 accredits {len(world.offices)} offices, {len(world.markets)} marketplaces and "
        f"1 trusted flagger; accepted by {len(ids)}/{len(world.nodes)} nodes"
    )


async def connect_peers(world: World) -> str:
    """Each node learns two peers (a ring and a chord); gossip spreads the rest of the view."""
    nodes = world.nodes
    links = {(i, (i + 1) % len(nodes)) for i in range(len(nodes))}
    links |= {(i, (i + 3) % len(nodes)) for i in range(0, len(nodes), 2)}

    async def link(a: int, b: int) -> bool:
        body = await world.api.json(
            "POST", f"{nodes[a].url}/admin/peers", json_body={"url": nodes[b].url}, token=nodes[a].token
        )
        if body.get("did") not in (None, nodes[b].did):
            raise DemoError(f"{nodes[b].url} answered as {body.get('did')}, not {nodes[b].did}")
        return bool(body.get("reached"))

    reached = await asyncio.gather(*(link(a, b) for a, b in sorted(links)))
    if not all(reached):
        raise DemoError(f"{reached.count(False)} of {len(reached)} peers did not answer the greeting")
    return f"{len(links)} peer links (ring and chords); every greeting answered"


async def import_registers(world: World) -> str:
    """Each office imports its register (CLI on the running node's directory) and answers a signed
    register search."""
    em, dk = world.offices
    dk_file = world.base / "register-dk.csv"
    dk_file.write_text(dk_register_csv())
    counts: list[int] = []
    for office, path in ((em, EXAMPLES / "register-em.csv"), (dk, dk_file)):
        result = await run_cli("office", "import", "--dir", str(office.dir), str(path), "--json")
        summary = json.loads(result.stdout)
        counts.append(int(summary["accepted"]))
        world.note(f"{office.name}: {summary['accepted']} entries imported from {path.name}")
    for office in world.offices:
        answer = await world.api.expect("GET", f"{office.url}/rights/search", params={"q": "OVALUX"})
        found = verify_message(answer.body, int(time.time()))
        if found.signer != office.did or found.kind != "search-result":
            raise DemoError(f"{office.name}'s search result is not signed by it")
        numbers = [r["application_number"] for r in found.payload["results"]]
        world.note(f"{office.name}: search 'OVALUX' -> {numbers} (signed by the office)")
    return f"EM {counts[0]} and DK {counts[1]} register entries; signed searches verified ({EM_NUMBER} found)"


async def publish_profiles(world: World) -> str:
    """Every marketplace signs its IP-protection profile (service 1)."""
    template = json.loads((EXAMPLES / "marketplace-profile.json").read_text())

    async def publish(node: Node) -> None:
        host = node.cast.slug + ".example"
        profile = {
            **template,
            "name": node.name,
            "programme": f"{node.name} Brand Protection",
            "programme_url": f"https://{host}/brand-protection",
            "notice_endpoint": f"https://{host}/notices",
            "counter_notice_url": f"https://{host}/complaints",
            "contact_point": {
                **template["contact_point"],
                "email": f"ip@{host}",
                "url": f"https://{host}/contact",
            },
            "turnaround_hours": 24 if node.cast.size == "big" else 72,
        }
        await world.api.expect("PUT", f"{node.url}/admin/profile", json_body=profile, token=node.token)
        answer = await world.api.expect("GET", f"{node.url}/profile")
        message = verify_message(answer.body, int(time.time()))
        if message.signer != node.did or message.payload.get("name") != node.name:
            raise DemoError(f"{node.name}'s profile is not the one it signed")

    await asyncio.gather(*(publish(n) for n in world.markets))
    return f"{len(world.markets)} signed IP-protection profiles served at /profile"
