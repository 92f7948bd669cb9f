"""Gossip inside the node, in-process: real apps on 127.0.0.1 talking signed HTTP, each peer endpoint and
its failures (unsigned, forged, malformed, unauthorised, rate-limited, banned), catch-up, a dead peer,
and the peer table surviving a restart."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from node.appkeys import OBJECTS
from node.gossip.index import GOSSIPED_KINDS
from node.gossip.wire import decode_list, encode_ihave, encode_list, encode_push
from node.httpsig import sign_request, signed_request
from node.server import bind_socket
from protocol.acceptance import Refuse, TrustState, decide
from protocol.keys import KeyPair
from protocol.messages import MESSAGE_KINDS, sign_message, verify_message
from protocol.peers import PeerState
from protocol.ratelimit import BucketPolicy, GossipLimits, RateLimiter
from protocol.reconcile import Reconciler
from protocol.reconcile_store import MemoryStore
from tests.gossip_fixtures import (
    LiveNode,
    peer_post,
    post_object,
    root_trust_list,
    start_live,
    wait_for,
)
from tests.node_fixtures import OTHER_ROOT, ROOT, TOKEN

ROGUE = KeyPair.from_seed(bytes([201] * 32))
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[LiveNode, LiveNode]]:
    a = await start_live(tmp_path, "a", seed=11)
    b = await start_live(tmp_path, "b", seed=12, peers=[a.url])
    try:
        yield a, b
    finally:
        await b.stop()
        await a.stop()


def sid(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def push_body(*raws: bytes) -> bytes:
    return encode_push([(raw, 1, "") for raw in raws])


async def test_published_object_reaches_the_peer_and_back(
    pair: tuple[LiveNode, LiveNode], session: aiohttp.ClientSession
) -> None:
    a, b = pair
    one, two = root_trust_list(1), root_trust_list(1, OTHER_ROOT)
    assert await post_object(session, a, one) == 201
    assert await wait_for(lambda: sid(one) in b.ids())
    assert await post_object(session, b, two) == 201  # the other way along the same link
    assert await wait_for(lambda: sid(two) in a.ids())
    # Both learned each other from signed descriptors, which were gossiped and stored too.
    assert b.engine.peers.get(a.key.did) is not None and a.engine.peers.get(b.key.did) is not None
    assert a.ids() == b.ids()


async def test_peer_endpoints_refuse_unsigned_and_badly_signed(
    pair: tuple[LiveNode, LiveNode], session: aiohttp.ClientSession
) -> None:
    a, _ = pair
    body = push_body(root_trust_list(1))
    async with session.post(a.url + "/peer/objects", data=body) as resp:
        assert resp.status == 401
        assert (await resp.json())["code"] == "httpsig.missing"
        assert "Accept-Signature" in resp.headers
    headers = {"Content-Type": "application/cbor"}
    url = a.url + "/peer/objects"
    signed = sign_request("POST", url, headers, body, ROGUE, time.time())
    async with session.post(url, data=body + b"x", headers={**headers, **signed}) as resp:
        assert resp.status == 401  # the body is not the one signed
        assert (await resp.json())["code"] == "httpsig.digest-mismatch"
    for path in (
        "/peer/ihave",
        "/peer/graft",
        "/peer/prune",
        "/peer/fetch",
        "/peer/reconcile",
        "/peer/hello",
    ):
        async with session.post(a.url + path, data=b"") as resp:
            assert resp.status == 401, path
    assert sid(root_trust_list(1)) not in a.ids()


async def test_rogue_peer_is_banned_and_nothing_it_sends_is_stored(
    pair: tuple[LiveNode, LiveNode], session: aiohttp.ClientSession
) -> None:
    a, b = pair
    now = int(time.time())
    forged = bytearray(root_trust_list(5))
    forged[-1] ^= 1  # signature no longer verifies
    unauthorised = root_trust_list(6, ROGUE)  # a trust list from a key that is no trust root
    not_about_itself = sign_message(
        ROGUE, "node-descriptor", {"created": now, "did": ROOT.did, "role": "office", "url": "http://x.test"}
    )
    future = root_trust_list(7, created=now + 3600)  # more than 5 minutes ahead
    malformed = b"\xd2\x84garbage"
    bad = [bytes(forged), unauthorised, not_about_itself, future, malformed]
    sent: list[bytes] = []
    status = 200
    for _round in range(4):
        status, answer = await peer_post(session, ROGUE, a.url + "/peer/objects", push_body(*bad))
        sent += bad
        if status != 200:
            break
        assert json.loads(answer)["invalid"] == len(bad)
    assert status == 403, "banned by its 10th invalid object"
    peer = a.engine.peers.get(ROGUE.did)
    assert peer is not None and peer.state is PeerState.BANNED and peer.invalid <= 10
    # Refused on every endpoint now, even with a valid object.
    status, _ = await peer_post(session, ROGUE, a.url + "/peer/objects", push_body(root_trust_list(9)))
    assert status == 403
    status, _ = await peer_post(session, ROGUE, a.url + "/peer/fetch", encode_list([]))
    assert status == 403
    stored = a.ids() | b.ids()
    assert not stored & {sid(raw) for raw in sent} and sid(root_trust_list(9)) not in stored


async def test_malformed_bodies_are_refused(
    pair: tuple[LiveNode, LiveNode], session: aiohttp.ClientSession
) -> None:
    a, _ = pair
    for path, body in [
        ("/peer/objects", b"\xff"),
        ("/peer/objects", encode_list([b"x"])),  # entries are [bytes, hops, root]
        ("/peer/ihave", encode_list([b"short"])),
        ("/peer/fetch", encode_list([b"short"])),
        ("/peer/reconcile", b"\x00\x01"),
    ]:
        status, answer = await peer_post(session, ROGUE, a.url + path, body)
        assert status == 400, (path, answer)
        assert json.loads(answer)["code"].startswith("decode."), path


async def test_per_peer_rate_limit_answers_429(
    pair: tuple[LiveNode, LiveNode], session: aiohttp.ClientSession
) -> None:
    a, _ = pair
    flood = encode_push([(b"\xd2" + bytes([i % 256]), 0, "") for i in range(2001)])  # over the 2000 burst
    async with signed_request(
        session,
        "POST",
        a.url + "/peer/objects",
        ROGUE,
        time.time(),
        body=flood,
        headers={"Content-Type": "application/cbor"},
    ) as resp:
        assert resp.status == 429
        assert int(resp.headers["Retry-After"]) >= 1
    assert a.engine.peers.get(ROGUE.did).invalid == 0  # type: ignore[union-attr]  # refused before any work


async def test_fetch_graft_ihave_prune_and_reconcile(
    pair: tuple[LiveNode, LiveNode], session: aiohttp.ClientSession
) -> None:
    a, _ = pair
    raw = root_trust_list(1)
    assert await post_object(session, a, raw) == 201
    item = bytes.fromhex(sid(raw))
    status, answer = await peer_post(session, ROGUE, a.url + "/peer/fetch", encode_list([item, bytes(32)]))
    assert status == 200 and decode_list(answer, 1 << 20) == [raw]  # unknown ids are left out
    status, answer = await peer_post(session, ROGUE, a.url + "/peer/graft", encode_list([item]))
    assert status == 200 and decode_list(answer, 1 << 20) == [raw]
    status, _ = await peer_post(session, ROGUE, a.url + "/peer/ihave", encode_ihave([(bytes(32), 1)]))
    assert status == 204
    status, _ = await peer_post(session, ROGUE, a.url + "/peer/prune", encode_list([]))
    assert status == 204
    # Reconcile from an empty set: the node's answer names what it holds that we lack.
    reconciler = Reconciler(MemoryStore())
    message: bytes | None = reconciler.initiate()
    need: list[bytes] = []
    for _ in range(8):
        assert message is not None
        status, reply = await peer_post(
            session, ROGUE, a.url + "/peer/reconcile", message, "application/octet-stream"
        )
        assert status == 200
        message, _have, more = reconciler.reconcile(reply)
        need += more
        if message is None:
            break
    assert {i.hex() for i in need} == a.ids()


async def test_hello_needs_the_senders_own_descriptor(
    pair: tuple[LiveNode, LiveNode], session: aiohttp.ClientSession
) -> None:
    a, b = pair
    someone_elses = b.app[OBJECTS].get(sid(b.engine.ensure_own_descriptor()))
    status, answer = await peer_post(session, ROGUE, a.url + "/peer/hello", someone_elses, "application/cose")
    assert status == 422 and json.loads(answer)["code"] == "peer.descriptor"
    own = sign_message(
        ROGUE,
        "node-descriptor",
        {"created": int(time.time()), "did": ROGUE.did, "role": "office", "url": "http://127.0.0.1:9"},
    )
    status, answer = await peer_post(session, ROGUE, a.url + "/peer/hello", own, "application/cose")
    assert status == 200
    assert verify_message(answer, int(time.time())).signer == a.key.did
    assert a.engine.peers.get(ROGUE.did).url == "http://127.0.0.1:9"  # type: ignore[union-attr]


async def test_catch_up_by_reconciliation_and_dead_peer_does_not_stall(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    a = await start_live(tmp_path, "a", seed=21)
    objects = [root_trust_list(1), root_trust_list(1, OTHER_ROOT)]
    for raw in objects:
        assert await post_object(session, a, raw) == 201
    dead = bind_socket("127.0.0.1", 0)  # a port nobody answers on (listening, never accepting)
    dead_url = f"http://127.0.0.1:{dead.getsockname()[1]}"
    b = await start_live(tmp_path, "b", seed=22, peers=[dead_url, a.url], gossip_timeout=1.0)
    try:
        assert await wait_for(lambda: {sid(r) for r in objects} <= b.ids())
        assert await wait_for(lambda: (p := b.engine.peers.get(dead_url)) is not None and p.failures > 0)
        third = root_trust_list(2)
        assert await post_object(session, a, third) == 201
        assert await wait_for(lambda: sid(third) in b.ids(), 5.0)
    finally:
        await b.stop()
        await a.stop()
        dead.close()


async def test_peer_table_survives_restart_and_admin_routes(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    a = await start_live(tmp_path, "a", seed=31)
    b = await start_live(tmp_path, "b", seed=32)
    try:
        async with session.post(b.url + "/admin/peers", json={"url": a.url}) as resp:
            assert resp.status == 401
        async with session.post(b.url + "/admin/peers", json={"url": "ftp://x"}, headers=ADMIN) as resp:
            assert resp.status == 400
        async with session.post(b.url + "/admin/peers", json={"url": a.url}, headers=ADMIN) as resp:
            assert resp.status == 201
            assert (await resp.json())["did"] == a.key.did
        async with session.get(b.url + "/admin/peers", headers=ADMIN) as resp:
            peers = (await resp.json())["peers"]
        assert [p["did"] for p in peers] == [a.key.did] and peers[0]["pinned"] and peers[0]["in_view"]
    finally:
        await b.stop()
    b2 = await start_live(tmp_path, "b", seed=32)  # same directory: same database
    try:
        peer = b2.engine.peers.get(a.key.did)
        assert peer is not None and peer.url == a.url and peer.pinned
        assert await wait_for(lambda: a.key.did in b2.engine.tree.peers)
    finally:
        await b2.stop()
        await a.stop()


def test_gossiped_kinds_are_the_kinds_acceptance_knows() -> None:
    """Objects of other kinds are never offered in reconciliation: peers would refuse them forever."""
    state = TrustState(roots=frozenset({ROOT.did}))
    for kind in sorted(MESSAGE_KINDS):
        message = verify_message(sign_message(ROOT, kind, {"created": 1}), 2)
        decision = decide(message, state)
        refused = isinstance(decision, Refuse) and decision.code == "objects.kind-not-accepted"
        assert (kind in GOSSIPED_KINDS) != refused, kind
    assert "status-list" in GOSSIPED_KINDS


async def test_an_older_descriptor_arriving_late_does_not_move_the_peer(
    pair: tuple[LiveNode, LiveNode], session: aiohttp.ClientSession
) -> None:
    a, _ = pair
    now = int(time.time())

    def descriptor(url: str, created: int) -> bytes:
        payload = {"created": created, "did": ROGUE.did, "role": "office", "url": url, "expires": now + 3600}
        return sign_message(ROGUE, "node-descriptor", payload)

    newer, older = descriptor("http://127.0.0.1:7", now), descriptor("http://127.0.0.1:8", now - 100)
    status, answer = await peer_post(session, ROGUE, a.url + "/peer/objects", push_body(newer, older))
    assert status == 200 and json.loads(answer)["stored"] == 2  # both valid, both held
    assert a.engine.peers.get(ROGUE.did).url == "http://127.0.0.1:7"  # type: ignore[union-attr]


def index_items(node: LiveNode) -> list[tuple[int, bytes]]:
    items = node.engine.index.items
    return [items.item(i) for i in range(len(items))]


async def test_versions_arriving_out_of_order_still_give_identical_sets(
    pair: tuple[LiveNode, LiveNode], session: aiohttp.ClientSession
) -> None:
    """a gets sequence 2 first and declines sequence 1 as stale; b holds sequence 1 only until it meets a:
    both end up reconciling the same set and no difference is left to fetch in every round."""
    a, b = pair
    now = int(time.time())
    first, second = root_trust_list(1, created=now - 30), root_trust_list(2, created=now - 20)
    assert await post_object(session, a, second) == 201
    status, answer = await peer_post(session, ROGUE, a.url + "/peer/objects", push_body(first))
    assert status == 200 and json.loads(answer)["ignored"] == 1  # stale: not stored, not held against anyone
    assert sid(first) not in a.ids() and a.engine.peers.get(ROGUE.did).invalid == 0  # type: ignore[union-attr]
    assert await wait_for(lambda: index_items(a) == index_items(b) and sid(second) in b.ids())
    # b never held sequence 1 either (it had 2 first); asked for it, a hands over the declined bytes.
    status, answer = await peer_post(
        session, ROGUE, a.url + "/peer/fetch", encode_list([bytes.fromhex(sid(first))])
    )
    assert decode_list(answer, 1 << 20) == [first]
    assert (now - 30, bytes.fromhex(sid(first))) in index_items(b)


async def test_per_author_rate_limit(pair: tuple[LiveNode, LiveNode], session: aiohttp.ClientSession) -> None:
    a, _ = pair
    a.engine.limits = GossipLimits(
        RateLimiter(BucketPolicy(rate=100.0, burst=100.0)), RateLimiter(BucketPolicy(rate=0.001, burst=2.0))
    )
    lists = [root_trust_list(1), root_trust_list(1, OTHER_ROOT)]
    other = [root_trust_list(2), root_trust_list(2, OTHER_ROOT)]
    status, answer = await peer_post(session, ROGUE, a.url + "/peer/objects", push_body(*lists, other[0]))
    assert status == 200 and json.loads(answer)["stored"] == 3  # two authors: ROOT twice, OTHER_ROOT once
    third = root_trust_list(3)  # ROOT's third in a burst of 2
    status, answer = await peer_post(session, ROGUE, a.url + "/peer/objects", push_body(other[1], third))
    assert status == 429 and json.loads(answer)["code"] == "peer.rate-limited"
    assert sid(other[1]) in a.ids() and sid(third) not in a.ids()


async def test_a_hanging_peer_does_not_stall_the_others(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    """A peer that greets properly, then never answers a push: the other peers still get every object."""
    hang = KeyPair.from_seed(bytes([202] * 32))
    fake = web.Application()
    sock = bind_socket("127.0.0.1", 0)
    fake_url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    async def hello(request: web.Request) -> web.Response:
        payload = {"created": int(time.time()), "did": hang.did, "role": "office", "url": fake_url}
        return web.Response(
            body=sign_message(hang, "node-descriptor", payload), content_type="application/cose"
        )

    async def stall(request: web.Request) -> web.Response:
        await asyncio.sleep(60)
        return web.Response(status=204)

    fake.router.add_post("/peer/hello", hello)
    fake.router.add_post("/peer/{op}", stall)
    runner = web.AppRunner(fake, access_log=None, shutdown_timeout=0.2)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    a = await start_live(tmp_path, "a", seed=41, peers=[fake_url], gossip_timeout=30.0, gossip_interval=600.0)
    b = await start_live(tmp_path, "b", seed=42, peers=[a.url], gossip_interval=600.0)
    try:
        assert await wait_for(lambda: hang.did in a.engine.tree.peers and b.key.did in a.engine.tree.peers)
        for raw in (root_trust_list(1), root_trust_list(1, OTHER_ROOT), root_trust_list(2)):
            assert await post_object(session, a, raw) == 201
            assert await wait_for(lambda raw=raw: sid(raw) in b.ids(), 3.0)  # type: ignore[misc]
    finally:
        await b.stop()
        await a.stop()
        await runner.cleanup()


async def test_every_peer_request_draws_on_the_per_peer_limit(
    pair: tuple[LiveNode, LiveNode], session: aiohttp.ClientSession
) -> None:
    a, _ = pair
    a.engine.limits = GossipLimits(
        RateLimiter(BucketPolicy(rate=0.001, burst=3.0)), RateLimiter(BucketPolicy(rate=1.0, burst=10.0))
    )
    statuses = []
    for _ in range(4):
        status, answer = await peer_post(
            session, ROGUE, a.url + "/peer/ihave", encode_ihave([(bytes(32), 1)])
        )
        statuses.append(status)
    assert statuses == [204, 204, 204, 429]
    assert json.loads(answer)["code"] == "peer.rate-limited"


async def test_engine_sends_prune_with_an_empty_body(pair: tuple[LiveNode, LiveNode]) -> None:
    """A body-less signed POST carries no Content-Type the signature does not cover (node/httpsig.py)."""
    a, b = pair
    assert await wait_for(lambda: b.engine._url(a.key.did) is not None)
    assert await b.engine.call(a.key.did, "/peer/prune") == b""
    peer = b.engine.peers.get(a.key.did)
    assert peer is not None and peer.failures == 0



class QuietPeer:
    """A peer that answers every gossip request with 204 (its own descriptor to a hello): a view member
    that never fails, so only the link rules decide who is in a view."""

    def __init__(self, seed: int) -> None:
        self.key = KeyPair.from_seed(bytes([seed]) * 32)
        self.sock = bind_socket("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.app = web.Application()
        self.app.router.add_post("/peer/hello", self._hello)
        self.app.router.add_post("/peer/{op}", self._ok)
        self.runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.2)

    @property
    def did(self) -> str:
        return self.key.did

    def descriptor(self) -> bytes:
        payload = {"created": int(time.time()), "did": self.key.did, "role": "office", "url": self.url}
        return sign_message(self.key, "node-descriptor", payload)

    async def _hello(self, request: web.Request) -> web.Response:
        return web.Response(body=self.descriptor(), content_type="application/cose")

    async def _ok(self, request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=204)

    async def start(self) -> QuietPeer:
        await self.runner.setup()
        await web.SockSite(self.runner, self.sock).start()
        return self

    async def greet(self, session: aiohttp.ClientSession, node: LiveNode, priority: str) -> str | None:
        """This peer's hello to ``node`` with that priority; the answer's link header."""
        async with signed_request(
            session,
            "POST",
            f"{node.url}/peer/hello?priority={priority}",
            self.key,
            time.time(),
            body=self.descriptor(),
            headers={"Content-Type": "application/cose"},
        ) as resp:
            assert resp.status == 200
            return resp.headers.get("Rightsmesh-Link")


@pytest.fixture
async def quiet_peers() -> AsyncIterator[list[QuietPeer]]:
    peers = [await QuietPeer(150 + i).start() for i in range(6)]
    try:
        yield peers
    finally:
        for peer in peers:
            await peer.runner.cleanup()


async def test_a_full_view_refuses_a_low_priority_link_and_makes_room_for_a_newcomer(
    tmp_path: Path, session: aiohttp.ClientSession, quiet_peers: list[QuietPeer]
) -> None:
    """Links are symmetric: the answer to a hello says whether the caller is now in the view. A full view
    (gossip_view 2: at most 3 with those that greeted it) says view-full to a node that has other links,
    and takes a node with none (priority high) in place of a random member."""
    a = await start_live(tmp_path, "a", seed=51, gossip_view=2, gossip_interval=600.0)
    p = quiet_peers
    try:
        assert [await peer.greet(session, a, "low") for peer in p[:3]] == ["linked"] * 3
        assert a.engine.tree.peers == {peer.did for peer in p[:3]}
        assert await p[3].greet(session, a, "low") == "view-full"
        assert p[3].did not in a.engine.tree.peers
        assert a.engine.peers.get(p[3].did) is not None  # still learned: catch-up may use it
        assert await p[0].greet(session, a, "low") == "linked"  # already linked: stays so
        assert await p[4].greet(session, a, "high") == "linked"
        assert p[4].did in a.engine.tree.peers and len(a.engine.tree.peers) == 3
        assert len(a.engine.tree.peers & {peer.did for peer in p[:3]}) == 2  # one member made room
    finally:
        await a.stop()


async def test_a_one_way_link_is_refused_and_found_out_by_the_link_check(
    tmp_path: Path, session: aiohttp.ClientSession, quiet_peers: list[QuietPeer]
) -> None:
    """The caller keeps a peer in its view only if the peer keeps it too: a view-full answer leaves the
    peer out (and not greeted again for a while); a periodic check finds a link the other side dropped."""
    a = await start_live(tmp_path, "a", seed=52, gossip_view=1, gossip_interval=600.0)  # at most 1 member
    b = await start_live(tmp_path, "b", seed=53, gossip_interval=600.0)
    other, extra = quiet_peers[0], quiet_peers[1]
    try:
        assert await other.greet(session, a, "low") == "linked"  # a's view is now full
        assert await b.engine.hello(extra.url) == extra.did  # b's one link
        assert await b.engine.hello(a.url) is None  # b has a link already: low priority, refused
        assert a.key.did not in b.engine.tree.peers and b.key.did not in a.engine.tree.peers
        assert a.key.did in b.engine.recently_full()
        b.engine.drop_from_view(extra.did)  # b has no link left: high priority, a makes room
        assert await b.engine.hello(a.url) == a.key.did
        assert a.key.did in b.engine.tree.peers and a.engine.tree.peers == {b.key.did}
        # a drops b and fills its view again: b's link is one-way until its check finds out
        a.engine.drop_from_view(b.key.did)
        assert await other.greet(session, a, "low") == "linked"
        assert b.engine.link_to_check() is None  # confirmed just now
        b.engine.link_checked[a.key.did] -= 31.0
        assert b.engine.link_to_check() == a.key.did
        assert await b.engine.hello(a.url) is None
        assert a.key.did not in b.engine.tree.peers
    finally:
        await b.stop()
        await a.stop()
