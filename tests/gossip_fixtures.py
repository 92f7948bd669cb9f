"""In-process gossip nodes for tests: real apps on real 127.0.0.1 sockets (ports picked at run time), the
real wall clock, and a test "peer" that signs its own requests (RFC 9421) to poke the endpoints."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from node.app import create_app
from node.appkeys import OBJECTS
from node.gossip import GOSSIP, GossipEngine
from node.httpsig import signed_request
from node.server import bind_socket
from protocol.keys import KeyPair
from protocol.messages import sign_message
from protocol.trust_list import trust_list_payload
from tests.node_fixtures import OTHER_ROOT, ROOT, TOKEN, make_config

WAIT = 15.0  # seconds any bounded wait gives the mesh


@dataclass
class LiveNode:
    app: web.Application
    runner: web.AppRunner
    url: str
    key: KeyPair
    dir: Path

    @property
    def engine(self) -> GossipEngine:
        return self.app[GOSSIP]

    def ids(self) -> set[str]:
        return {row[0] for row in self.app[OBJECTS].db.execute("SELECT id FROM objects")}

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_live(
    tmp: Path, name: str, *, peers: Sequence[str] = (), seed: int | None = None, **overrides: Any
) -> LiveNode:
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    key = KeyPair.from_seed(bytes([seed if seed is not None else len(name) + sum(map(ord, name)) % 250] * 32))
    directory = tmp / name
    directory.mkdir(exist_ok=True)
    values: dict[str, Any] = {
        "name": name,
        "port": port,
        "peers": tuple(peers),
        "gossip_interval": 0.5,
        "trust_roots": (ROOT.did, OTHER_ROOT.did),
    }
    values.update(overrides)
    config = make_config(directory, **values)
    app = create_app(config, key, TOKEN)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return LiveNode(app, runner, f"http://127.0.0.1:{port}", key, directory)


async def wait_for(predicate: Callable[[], bool], timeout: float = WAIT) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds pass (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


def root_trust_list(sequence: int, root: KeyPair = ROOT, created: int | None = None) -> bytes:
    """A trust list signed by ``root`` accrediting one marketplace (valid now, on the wall clock)."""
    now = int(time.time())
    entry = {
        "did": KeyPair.from_seed(bytes([99] * 32)).did,
        "role": "marketplace",
        "name": "Market",
        "jurisdiction": "EU",
        "valid_from": now - 86400,
        "valid_until": now + 365 * 86400,
    }
    payload = trust_list_payload([entry], sequence=sequence, created=created or now - 10)
    return sign_message(root, "trust-list", payload)


async def peer_post(
    session: aiohttp.ClientSession,
    key: KeyPair,
    url: str,
    body: bytes = b"",
    content_type: str = "application/cbor",
) -> tuple[int, bytes]:
    """A request signed by ``key`` as a peer would send it; returns (status, body)."""
    headers = {"Content-Type": content_type} if body else {}
    async with signed_request(session, "POST", url, key, time.time(), body=body, headers=headers) as resp:
        return resp.status, await resp.read()


async def post_object(session: aiohttp.ClientSession, node: LiveNode, raw: bytes) -> int:
    async with session.post(
        node.url + "/objects", data=raw, headers={"Content-Type": "application/cose"}
    ) as resp:
        return resp.status
