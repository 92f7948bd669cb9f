"""Gossip federation with real node processes on 127.0.0.1 (ports picked at run time, bounded waits):
an object published at one node reaches all; a node stopped while others publish catches up after its
restart; a network split into two halves heals to identical sets once bridged; a rogue peer's forged,
malformed and unauthorised objects get it banned and are stored nowhere."""

from __future__ import annotations

import hashlib
import json
import re
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


def test_split_network_heals_to_identical_sets(tmp_path: Path) -> None:
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
