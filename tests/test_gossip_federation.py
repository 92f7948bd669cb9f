"""Gossip federation with real node processes on 127.0.0.1 (ports picked at run time, bounded waits):
an object published at one node reaches all; a node stopped while others publish catches up after its
restart; two meshes that never met converge once bridged by POST /admin/peers; one connected mesh
partitioned into two halves (a relay in front of every node resets the connections between the halves)
keeps each half's objects inside it, and heals to identical sets by catch-up reconciliation; a rogue
peer's forged, malformed and unauthorised objects get it banned and are stored nowhere."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from node.gossip.wire import encode_push
from node.httpsig import sign_request
from protocol.keys import KeyPair
from protocol.messages import sign_message
from protocol.trust_list import trust_list_payload
from tests.nodeproc import NodeProcess, init_node, start_node

ROOTS = [KeyPair.from_seed(bytes([150 + i] * 32)) for i in range(8)]
ROGUE = KeyPair.from_seed(bytes([240] * 32))
WAIT = 30.0
GOSSIP_SETTINGS = {"gossip_interval": "1.0", "gossip_timeout": "2.0"}


def trust_list(root: KeyPair, sequence: int = 1) -> bytes:
    now = int(time.time())
    entry = {
        "did": KeyPair.from_seed(bytes([sequence % 256] * 32)).did,
        "role": "office",
        "name": "Office",
        "jurisdiction": "EU",
        "valid_from": now - 86400,
        "valid_until": now + 365 * 86400,
    }
    return sign_message(root, "trust-list", trust_list_payload([entry], sequence=sequence, created=now - 5))


def sid(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _request(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(
        url, data=data, headers=headers or {}, method="POST" if data is not None else "GET"
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def publish(node: NodeProcess, raw: bytes) -> None:
    status, body = _request(node.url + "/objects", raw, {"Content-Type": "application/cose"})
    assert status == 201, body


def held(node: NodeProcess) -> set[str]:
    status, body = _request(
        node.url + "/admin/objects?limit=1000", headers={"Authorization": f"Bearer {node.admin_token}"}
    )
    assert status == 200, body
    return {entry["id"] for entry in json.loads(body)["objects"]}


def wait_until(predicate: Callable[[], bool], timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


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


def start_mesh(tmp: Path, prefix: str, count: int) -> list[NodeProcess]:
    """``count`` nodes: the first alone, the others bootstrapped from it (they meet by descriptors)."""
    roots = [root.did for root in ROOTS]

    def init(i: int, peers: list[str]) -> Path:
        role = "office" if i % 2 else "marketplace"
        return configure(init_node(tmp, role, f"{prefix}{i}", trust_roots=roots, peers=peers))

    first = start_node(init(0, []))
    nodes = [first]
    try:
        with ThreadPoolExecutor(max_workers=count) as pool:
            dirs = list(pool.map(lambda i: init(i, [first.url]), range(1, count)))
            nodes += list(pool.map(start_node, dirs))
    except BaseException:
        stop_all(nodes)
        raise
    return nodes


def stop_all(nodes: list[NodeProcess]) -> None:
    with ThreadPoolExecutor(max_workers=max(1, len(nodes))) as pool:
        list(pool.map(lambda n: n.stop(), nodes))


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[NodeProcess]]:
    nodes = start_mesh(tmp_path_factory.mktemp("mesh"), "m", 8)
    yield nodes
    stop_all(nodes)


def everywhere(nodes: list[NodeProcess], ids: set[str]) -> Callable[[], bool]:
    return lambda: all(ids <= held(node) for node in nodes)


def test_object_published_at_one_node_reaches_all(mesh: list[NodeProcess]) -> None:
    raw = trust_list(ROOTS[0])
    publish(mesh[5], raw)
    assert wait_until(everywhere(mesh, {sid(raw)})), [len(held(n)) for n in mesh]
    # The nodes also learned each other from gossiped descriptors: every node holds all 8.
    assert wait_until(lambda: len({frozenset(held(node)) for node in mesh}) == 1)
    assert len(held(mesh[0])) >= 9


def test_stopped_node_catches_up_after_restart(mesh: list[NodeProcess]) -> None:
    victim = mesh[3]
    port = victim.url.rsplit(":", 1)[1]
    assert victim.stop() == 0
    others = [node for i, node in enumerate(mesh) if i != 3]
    objects = [trust_list(ROOTS[1]), trust_list(ROOTS[2]), trust_list(ROOTS[3])]
    for k, raw in enumerate(objects):
        publish(others[k * 2], raw)
    ids = {sid(raw) for raw in objects}
    assert wait_until(everywhere(others, ids))
    mesh[3] = start_node(victim.dir, listen=f"127.0.0.1:{port}")  # peers come from its database
    assert wait_until(lambda: ids <= held(mesh[3]))
    assert wait_until(lambda: len({frozenset(held(node)) for node in mesh}) == 1)


def _signed_push(node: NodeProcess, key: KeyPair, raws: list[bytes]) -> tuple[int, Any]:
    url = node.url + "/peer/objects"
    body = encode_push([(raw, 1, "") for raw in raws])
    headers = {"Content-Type": "application/cbor"}
    headers.update(sign_request("POST", url, headers, body, key, time.time()))
    status, answer = _request(url, body, headers)
    try:
        return status, json.loads(answer)
    except ValueError:
        return status, {"raw": answer.decode("utf-8", "replace")}


def test_rogue_peer_is_refused_and_nothing_it_sends_is_stored(mesh: list[NodeProcess]) -> None:
    now = int(time.time())
    forged = bytearray(trust_list(ROOTS[4], 2))
    forged[-3] ^= 0x40  # the signature no longer verifies
    unauthorised = trust_list(ROGUE)  # the rogue is no trust root
    impostor = sign_message(  # a descriptor about another node
        ROGUE,
        "node-descriptor",
        {"created": now, "did": ROOTS[0].did, "role": "office", "url": "http://127.0.0.1:9"},
    )
    signed = trust_list(ROOTS[5], 3)
    bad_signature = signed[:-1] + bytes([signed[-1] ^ 1])  # always differs from the signed byte
    malformed = [b"\xd2\x84\x40", b"{not json", b""]
    bad = [bytes(forged), unauthorised, impostor, bad_signature, *malformed]
    target = mesh[0]
    accepted_invalid = 0
    for _round in range(5):
        status, answer = _signed_push(target, ROGUE, bad)
        if status != 200:
            assert status == 403 and answer["code"] == "peer.refused", (status, answer)
            break
        accepted_invalid += answer["invalid"]
        assert answer["stored"] == 0, answer
    else:
        pytest.fail("the rogue peer was never refused")
    assert accepted_invalid <= 10
    # Banned now: even a valid object from it is refused; the other nodes stay open to it until it
    # misbehaves there too, but never store its invalid objects.
    valid = trust_list(ROOTS[6])
    status, answer = _signed_push(target, ROGUE, [valid])
    assert status == 403, (status, answer)
    status, answer = _signed_push(mesh[1], ROGUE, bad)
    assert status == 200 and answer["invalid"] == len(bad) and answer["stored"] == 0, (status, answer)
    time.sleep(2.0)  # a reconciliation round or two: nothing of it may appear anywhere
    rogue_ids = {sid(raw) for raw in bad} | {sid(valid)}
    for node in mesh:
        assert not held(node) & rogue_ids, node.url


def test_two_separate_meshes_join_when_bridged(tmp_path: Path) -> None:
    left = start_mesh(tmp_path, "l", 4)
    try:
        right = start_mesh(tmp_path, "r", 4)
    except BaseException:
        stop_all(left)
        raise
    nodes = left + right
    try:
        left_objects = [trust_list(ROOTS[0], 10), trust_list(ROOTS[1], 10)]
        right_objects = [trust_list(ROOTS[2], 10), trust_list(ROOTS[3], 10)]
        for k, raw in enumerate(left_objects):
            publish(left[k + 1], raw)
        for k, raw in enumerate(right_objects):
            publish(right[k + 2], raw)
        left_ids, right_ids = {sid(r) for r in left_objects}, {sid(r) for r in right_objects}
        assert wait_until(everywhere(left, left_ids)) and wait_until(everywhere(right, right_ids))
        assert not any(held(node) & right_ids for node in left)  # truly split
        # The bridge: one admin call on one node of the left half.
        status, body = _request(
            left[2].url + "/admin/peers",
            json.dumps({"url": right[3].url}).encode(),
            {"Authorization": f"Bearer {left[2].admin_token}", "Content-Type": "application/json"},
        )
        assert status == 201 and json.loads(body)["reached"], body
        assert wait_until(lambda: len({frozenset(held(node)) for node in nodes}) == 1)
        assert left_ids | right_ids <= held(nodes[0])
    finally:
        stop_all(nodes)


# -- a partition of one running mesh -----------------------------------------------------------------

_KEYID = re.compile(rb'keyid="(did:key:[^"#]+)')
_LENGTH = re.compile(rb"^content-length:[ \t]*(\d+)[ \t]*\r?$", re.I | re.M)
_CHUNKED = re.compile(rb"^transfer-encoding:.*chunked", re.I | re.M)


class _Link:
    """One relayed connection: the node it leads to, and the half of the node calling (once known)."""

    def __init__(self, target: int, client: asyncio.StreamWriter) -> None:
        self.target = target
        self.client = client
        self.upstream: asyncio.StreamWriter | None = None
        self.caller: int | None = None

    def abort(self) -> None:
        for writer in (self.client, self.upstream):
            if writer is not None:
                writer.transport.abort()


class Partition:
    """A TCP relay in front of every node, on the URL the node advertises (its ``public_url``): all
    node-to-node traffic passes a relay, the test talks to the nodes directly. A relay forwards bytes
    unchanged (the signatures cover the authority, which is the relay's) and reads each request head
    only to learn which node is calling: the keyid of its RFC 9421 signature. Once :meth:`cut`, the
    connections between the halves are reset and new ones are closed unanswered, so each node finds
    the other half unreachable (connection errors: failures, backoff) while it keeps running;
    :meth:`heal` lets them through again. Nodes ``0 .. count/2 - 1`` are half 0, the others half 1."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.sockets = []
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sock.listen(128)
            sock.setblocking(False)
            self.sockets.append(sock)
        self.urls = [f"http://127.0.0.1:{sock.getsockname()[1]}" for sock in self.sockets]
        self.ports: list[int | None] = [None] * count
        self.half_of: dict[str, int] = {}  # node DID -> half
        self.is_cut = False
        self.links: set[_Link] = set()
        self.refused = 0  # requests between the halves closed unanswered while cut
        self.crossed: list[str] = []  # paths of the requests relayed between the halves
        self.servers: list[asyncio.Server] = []
        self.thread.start()
        self._run(self._start())

    def half(self, index: int) -> int:
        return 0 if index < self.count // 2 else 1

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    async def _start(self) -> None:
        self.ready = [asyncio.Event() for _ in range(self.count)]
        for i, sock in enumerate(self.sockets):
            self.servers.append(await asyncio.start_server(functools.partial(self._serve, i), sock=sock))

    def attach(self, index: int, node: NodeProcess) -> None:
        """Relay ``index`` leads to ``node`` from now on; its DID (from /healthz) is in that half."""
        status, body = _request(node.url + "/healthz")
        assert status == 200, body
        did, port = json.loads(body)["did"], int(node.url.rsplit(":", 1)[1])

        async def attach() -> None:
            self.half_of[did] = self.half(index)
            self.ports[index] = port
            self.ready[index].set()

        self._run(attach())

    def _crossing(self, link: _Link) -> bool:
        return self.is_cut and link.caller is not None and link.caller != self.half(link.target)

    def cut(self) -> None:
        async def cut() -> None:
            self.is_cut = True
            for link in [link for link in self.links if self._crossing(link)]:
                link.abort()

        self._run(cut())

    def heal(self) -> None:
        async def heal() -> None:
            self.is_cut = False

        self._run(heal())

    async def _serve(self, target: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = _Link(target, writer)
        self.links.add(link)
        back: asyncio.Task[None] | None = None
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if match := _KEYID.search(head):
                    link.caller = self.half_of.get(match[1].decode(), link.caller)
                if self._crossing(link):
                    self.refused += 1
                    return
                if link.upstream is None:
                    await asyncio.wait_for(self.ready[target].wait(), 30)
                    upstream_reader, link.upstream = await asyncio.open_connection(
                        "127.0.0.1", self.ports[target]
                    )
                    back = asyncio.create_task(self._pipe(upstream_reader, writer))
                if link.caller is not None and link.caller != self.half(target):
                    self.crossed.append(head.split(b" ", 2)[1].decode("latin-1"))
                if _CHUNKED.search(head):  # no framing to follow: relay the rest as it comes
                    link.upstream.write(head)
                    await self._pipe(reader, link.upstream)
                    return
                length = int(match[1]) if (match := _LENGTH.search(head)) else 0
                link.upstream.write(head + (await reader.readexactly(length) if length else b""))
                await link.upstream.drain()
        except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass
        finally:
            self.links.discard(link)
            link.abort()
            if back is not None:
                back.cancel()

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while chunk := await source.read(65536):
                sink.write(chunk)
                await sink.drain()
        sink.close()

    def close(self) -> None:
        async def close() -> None:
            for server in self.servers:
                server.close()
            for link in list(self.links):
                link.abort()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        self._run(close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@contextlib.contextmanager
def partitionable_mesh(tmp: Path, count: int) -> Iterator[tuple[list[NodeProcess], Partition]]:
    """``count`` nodes, each advertising its relay; all bootstrapped from node 0's relay, so they form
    one mesh and learn each other (by the relay URLs) from gossiped descriptors."""
    partition = Partition(count)
    roots = [root.did for root in ROOTS]
    started: list[NodeProcess] = []

    def init(i: int) -> Path:
        role = "office" if i % 2 else "marketplace"
        peers = [partition.urls[0]] if i else []
        node_dir = init_node(tmp, role, f"p{i}", trust_roots=roots, peers=peers, public_url=partition.urls[i])
        return configure(node_dir)

    def launch(i: int, directory: Path) -> NodeProcess:
        node = start_node(directory)
        started.append(node)
        partition.attach(i, node)
        return node

    try:
        with ThreadPoolExecutor(max_workers=count) as pool:
            dirs = list(pool.map(init, range(count)))
            nodes = list(pool.map(launch, range(count), dirs))
        yield nodes, partition
    finally:
        stop_all(started)
        partition.close()


def test_partitioned_network_heals_to_identical_sets(tmp_path: Path) -> None:
    with partitionable_mesh(tmp_path, 8) as (nodes, partition):
        left, right = nodes[:4], nodes[4:]
        first = trust_list(ROOTS[7], 20)
        publish(nodes[6], first)
        assert wait_until(everywhere(nodes, {sid(first)})), [len(held(n)) for n in nodes]
        # One connected mesh: every node holds the same set, the 8 descriptors (all via relays) included.
        assert wait_until(lambda: len({frozenset(held(node)) for node in nodes}) == 1)
        assert len(held(nodes[0])) >= 9
        assert partition.crossed, "no traffic went between the halves before the split"

        partition.cut()
        left_objects = [trust_list(ROOTS[0], 20), trust_list(ROOTS[1], 20)]
        right_objects = [trust_list(ROOTS[2], 20), trust_list(ROOTS[3], 20)]
        for k, raw in enumerate(left_objects):
            publish(left[k * 2], raw)
        for k, raw in enumerate(right_objects):
            publish(right[k * 2 + 1], raw)
        left_ids, right_ids = {sid(r) for r in left_objects}, {sid(r) for r in right_objects}
        assert wait_until(everywhere(left, left_ids)), [len(held(n)) for n in left]
        assert wait_until(everywhere(right, right_ids)), [len(held(n)) for n in right]
        refused = partition.refused
        deadline = time.monotonic() + 3.0  # a few catch-up rounds while split: nothing may cross
        while True:
            assert not any(held(node) & right_ids for node in left)
            assert not any(held(node) & left_ids for node in right)
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert partition.refused > refused, "the nodes never tried to reach the other half"

        mark = len(partition.crossed)
        partition.heal()  # nothing is published from here on: only catch-up can carry the split's objects
        assert wait_until(lambda: len({frozenset(held(node)) for node in nodes}) == 1), [
            (len(held(n) & left_ids), len(held(n) & right_ids)) for n in nodes
        ]
        assert {sid(first)} | left_ids | right_ids <= held(nodes[0])
        healed = partition.crossed[mark:]
        assert "/peer/reconcile" in healed and "/peer/fetch" in healed, sorted(set(healed))
