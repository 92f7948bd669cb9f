"""Ingest benchmark: objects per second that one real node validates and stores from peer batches over
loopback HTTP, side by side with the raw Ed25519 verify rate of the very same objects, as a ratio.

Run: ``.venv/bin/python scripts/bench/ingest.py [--count 4000] [--rounds 3] [--workers N]
[--peer nostr-relay]``.

The node is a real ``rightsmesh run`` process (marketplace role, its defaults unless flags say otherwise).
This script acts as gossiping peers: each batch is a CBOR push ``[[object, hops, root], ...]`` POSTed to
``/peer/objects`` with an RFC 9421 signature by the peer's node key (:mod:`node.httpsig`), the same path
every pushed object takes (signature check, per-peer and per-author limits, acceptance, SQLite insert).
Objects are node descriptors of as many distinct signers (every node may publish its own descriptor, so
nothing needs a trust list); each peer sends at most :data:`PER_PEER` objects so the per-peer rate limit
(burst 2,000) never throttles: the figure is validation capacity, not policy. Two request streams keep
the node busy. Each round uses fresh objects; the best round is compared with the best of as many rounds
of raw verification (``nacl.signing.VerifyKey.verify(sig_structure, signature)``, keys built beforehand).

Targets (issue 5): ratio >= 0.8 with one process; >= 1.6 with ``--workers 2`` (config ``verify_workers``:
a process pool verifies batches over both cores), where the node supports it.

``--peer nostr-relay`` also runs the PyPI package ``nostr-relay`` (must already be installed in the venv:
nothing is installed at run time) on 127.0.0.1 with a temporary SQLite database, pushes the same number
of NIP-01 events (BIP-340 Schnorr signatures over secp256k1 made with ``coincurve``, which nostr-relay
itself uses), distinct signers, over websockets, waits for every ``OK``, and prints our rate over its
rate (target >= 10x).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import nacl.signing  # noqa: E402

from node.gossip.wire import CBOR_TYPE, encode_push  # noqa: E402
from node.httpsig import signed_request  # noqa: E402
from protocol.keys import KeyPair, public_key_from_did  # noqa: E402
from protocol.messages import cose_parts, sig_structure, sign_message  # noqa: E402

PER_AUTHOR = 900  # objects per author, below the node's per-author burst (1,000)
PER_PEER = 1500  # objects one bench peer sends, below the node's per-peer burst (2,000)
BATCH = 256  # objects per push request
STREAMS = 2  # concurrent push requests
TARGET, TARGET_POOL, TARGET_NOSTR = 0.8, 1.6, 10.0
STARTUP_TIMEOUT = 30.0


# --- the objects ----------------------------------------------------------------------------------------


def make_descriptors(count: int, now: int, salt: int, signers: int = 0) -> list[bytes]:
    """``count`` node descriptors of realistic size, each signed by its own key (``signers`` 0: every
    object a new author, the worst case) or by one of ``signers`` keys in turn (a federation's steady
    state: the node has seen the author before); every object is distinct."""
    out = []
    keys: dict[int, KeyPair] = {}
    for i in range(count):
        k = i % signers if signers else i
        key = keys.get(k) or keys.setdefault(
            k, KeyPair.from_seed(hashlib.sha256(f"bench-ingest/{salt}/{k}".encode()).digest())
        )
        base = "http://127.0.0.1:9"  # a closed port: the node learns these peers but never reaches them
        payload = {
            "created": now - 5 - (i // signers if signers else 0),
            "did": key.did,
            "role": "office" if i % 2 else "marketplace",
            "name": f"Bench node {salt}-{i}",
            "url": base,
            "endpoints": {
                "descriptor": base + "/.well-known/rightsmesh",
                "objects": base + "/objects",
                "peer_hello": base + "/peer/hello",
            },
            "software": "rightsmesh/bench",
            "expires": now + 86400,
        }
        out.append(sign_message(key, "node-descriptor", payload))
    return out


@dataclass(frozen=True)
class RawCase:
    key: nacl.signing.VerifyKey
    tbs: bytes
    signature: bytes


def raw_cases(objects: list[bytes]) -> list[RawCase]:
    """What the raw baseline verifies: the COSE Sig_structure and signature, keys built beforehand."""
    from protocol import cbor

    cases = []
    for raw in objects:
        protected, payload, signature = cose_parts(raw)
        kid = cbor.decode(protected)[4].decode()
        cases.append(
            RawCase(
                nacl.signing.VerifyKey(public_key_from_did(kid)), sig_structure(protected, payload), signature
            )
        )
    return cases


def raw_verify_seconds(cases: list[RawCase]) -> float:
    start = time.perf_counter()
    for case in cases:
        case.key.verify(case.tbs, case.signature)
    return time.perf_counter() - start


# --- the node -------------------------------------------------------------------------------------------


@dataclass
class Node:
    process: subprocess.Popen[str]
    url: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "node.cli", *args]


def start_node(tmp: Path, extra_config: dict[str, Any]) -> Node:
    directory = tmp / "node"
    subprocess.run(
        cli(
            "init",
            "--role",
            "marketplace",
            "--name",
            "Bench Node",
            "--dir",
            str(directory),
            "--listen",
            "127.0.0.1:0",
        ),
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    path = directory / "config.toml"
    lines = [line for line in path.read_text().splitlines() if line.split("=")[0].strip() not in extra_config]
    lines += [f"{key} = {json.dumps(value)}" for key, value in extra_config.items()]
    path.write_text("\n".join(lines) + "\n")
    log = tmp / "node.log"
    process = subprocess.Popen(
        cli("run", "--dir", str(directory), "--listen", "127.0.0.1:0"),
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
        cwd=ROOT,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT
    url = ""
    assert process.stdout is not None
    while not url and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith("listening on "):
            url = line.removeprefix("listening on ").strip()
    node = Node(process, url, log)
    while url and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return node
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)
    node.stop()
    raise RuntimeError(f"the node did not start: {log.read_text()[-2000:]}")


async def push_round(url: str, objects: list[bytes], peers: list[KeyPair]) -> tuple[float, dict[str, int]]:
    """Push ``objects`` in batches, each peer sending its share; seconds until the last answer, totals."""
    share = math.ceil(len(objects) / len(peers))
    work: list[tuple[KeyPair, bytes]] = []
    for p, peer in enumerate(peers):
        mine = objects[p * share : (p + 1) * share]
        for b in range(0, len(mine), BATCH):
            work.append((peer, encode_push([(raw, 0, "") for raw in mine[b : b + BATCH]])))
    totals = {"stored": 0, "known": 0, "invalid": 0, "ignored": 0}
    queue = list(reversed(work))
    connector = aiohttp.TCPConnector(limit=STREAMS)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=120)
    ) as session:

        async def stream() -> None:
            while queue:
                peer, body = queue.pop()
                async with signed_request(
                    session,
                    "POST",
                    url + "/peer/objects",
                    peer,
                    time.time(),
                    body=body,
                    headers={"Content-Type": CBOR_TYPE},
                ) as resp:
                    answer = await resp.json(content_type=None)
                    if resp.status != 200:
                        raise RuntimeError(f"push refused: {resp.status} {answer}")
                for name in totals:
                    totals[name] += int(answer.get(name, 0))
                if answer.get("limited"):
                    raise RuntimeError(f"the node rate-limited the bench: {answer}")

        start = time.perf_counter()
        await asyncio.gather(*(stream() for _ in range(STREAMS)))
        return time.perf_counter() - start, totals


# --- nostr-relay ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def nostr_events(count: int, now: int) -> list[str]:
    """NIP-01 events (kind 1, ~300 bytes of content), each signed by its own secp256k1 key (BIP-340)."""
    from coincurve import PrivateKey

    out = []
    for i in range(count):
        key = PrivateKey(hashlib.sha256(f"bench-nostr/{i}".encode()).digest())
        pubkey = key.public_key_xonly.format().hex()
        content = f"bench event {i}: " + "rightsmesh ingest comparison " * 9
        tags = [["t", "bench"]]
        serial = json.dumps([0, pubkey, now, 1, tags, content], separators=(",", ":"), ensure_ascii=False)
        event_id = hashlib.sha256(serial.encode()).digest()
        sig = key.sign_schnorr(event_id, None)
        event = {
            "id": event_id.hex(),
            "pubkey": pubkey,
            "created_at": now,
            "kind": 1,
            "tags": tags,
            "content": content,
            "sig": sig.hex(),
        }
        out.append(json.dumps(["EVENT", event], separators=(",", ":")))
    return out


def start_nostr_relay(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    executable = Path(sys.executable).parent / "nostr-relay"
    if not executable.exists():
        raise SystemExit(
            "nostr-relay is not installed in this venv (pip install nostr-relay): nothing is "
            "installed at run time"
        )
    port = free_port()
    config = tmp / "nostr-relay.yaml"
    config.write_text(
        "DEBUG: false\n"
        "storage:\n"
        f"  sqlalchemy.url: sqlite+aiosqlite:///{tmp / 'nostr.sqlite3'}\n"
        "  num_concurrent_reqs: 10\n"
        "  num_concurrent_adds: 2\n"
        "  validators:\n"
        "    - nostr_relay.validators.is_not_too_large\n"
        "    - nostr_relay.validators.is_signed\n"
        "    - nostr_relay.validators.is_recent\n"
        "    - nostr_relay.validators.is_not_hellthread\n"
        "verification:\n"
        "  nip05_verification: disabled\n"
        "gunicorn:\n"
        f"  bind: 127.0.0.1:{port}\n"
        "  workers: 1\n"
        "  loglevel: warning\n"
        "  reload: false\n"
        "authentication:\n"
        "  enabled: false\n"
        "message_timeout: 1800\n"
        "subscription_limit: 32\n"
    )
    log = (tmp / "nostr-relay.log").open("wb")
    process = subprocess.Popen(
        [str(executable), "-c", str(config), "serve", "--use-uvicorn"],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp,
    )
    url = f"ws://127.0.0.1:{port}/"
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nostr-relay exited: {(tmp / 'nostr-relay.log').read_text()[-2000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process, url
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("nostr-relay did not start")


async def push_nostr(url: str, events: list[str], window: int = 256) -> tuple[float, int, int]:
    """Send every event over STREAMS websockets (at most ``window`` unanswered each); seconds until the
    last OK, accepted and refused counts."""
    share = math.ceil(len(events) / STREAMS)
    counts = [0, 0]

    async def stream(session: aiohttp.ClientSession, mine: list[str]) -> None:
        async with session.ws_connect(url, max_msg_size=1 << 22) as ws:
            sent = answered = 0
            while answered < len(mine):
                while sent < len(mine) and sent - answered < window:
                    await ws.send_str(mine[sent])
                    sent += 1
                message = await ws.receive(timeout=120)
                if message.type != aiohttp.WSMsgType.TEXT:
                    raise RuntimeError(f"nostr-relay closed the connection: {message}")
                data = json.loads(message.data)
                if data[0] == "OK":
                    answered += 1
                    counts[0 if data[2] else 1] += 1

    async with aiohttp.ClientSession() as session:
        start = time.perf_counter()
        await asyncio.gather(*(stream(session, events[i * share : (i + 1) * share]) for i in range(STREAMS)))
        return time.perf_counter() - start, counts[0], counts[1]


# --- where the time goes -------------------------------------------------------------------------------


def breakdown(objects: list[bytes], now: int, tmp: Path, synchronous: str) -> dict[str, float]:
    """Microseconds per object, in this process, of the node's two steps on the same objects: the check
    (:func:`node.batch_check.check_many`: structure, signature, times) and acceptance + SQLite store (as
    the gossip engine does it: held ids looked up once per chunk, one transaction per chunk of
    ``CHECK_CHUNK``), next to the raw verify."""
    from node.batch_check import check_many
    from node.config import NodeConfig
    from node.gossip.inbound import CHECK_CHUNK
    from node.ingest import Checked, accept_object
    from node.storage import ObjectStore, open_database
    from node.storage.db import transaction

    directory = tmp / "breakdown"
    directory.mkdir()
    config = NodeConfig(
        dir=directory,
        role="marketplace",
        name="Breakdown",
        host="127.0.0.1",
        port=0,
        public_url="",
        peers=(),
        trust_roots=(),
        sqlite_synchronous=synchronous,
    )
    db = open_database(config.db_path, synchronous=synchronous)
    store = ObjectStore(db)
    try:
        raw_s = min(raw_verify_seconds(raw_cases(objects)) for _ in range(2))
        start = time.perf_counter()
        checked = check_many(config, objects, now)
        check_s = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(0, len(checked), CHECK_CHUNK):
            with transaction(db):
                chunk = checked[i : i + CHECK_CHUNK]
                held = store.held([outcome.id for outcome in chunk if isinstance(outcome, Checked)])
                for outcome in chunk:
                    assert isinstance(outcome, Checked) and outcome.id not in held
                    accept_object(config, store, outcome, now, known_new=True)
        store_s = time.perf_counter() - start
    finally:
        db.close()
    n = len(objects) / 1e6
    return {
        "raw verify": raw_s / n,
        "check (decode, verify, times)": check_s / n,
        "acceptance + SQLite store": store_s / n,
    }


# --- main -----------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=4000, help="objects per round")
    parser.add_argument("--rounds", type=int, default=3, help="ingest rounds (fresh objects each)")
    parser.add_argument("--workers", type=int, default=0, help="node config verify_workers (process pool)")
    parser.add_argument("--synchronous", choices=("full", "normal"), help="node config sqlite_synchronous")
    parser.add_argument("--peer", choices=("nostr-relay",), help="also measure this other implementation")
    parser.add_argument(
        "--signers", type=int, default=0, help="authors per round (default: one per object, the worst case)"
    )
    args = parser.parse_args()

    now = int(time.time())
    print(f"generating {args.rounds} x {args.count} node descriptors of distinct signers ...", flush=True)
    if args.signers and args.count / args.signers > PER_AUTHOR:
        parser.error(f"--signers: at most {PER_AUTHOR} objects per author (the node's per-author burst)")
    rounds = [make_descriptors(args.count, now, salt, args.signers) for salt in range(args.rounds)]
    sizes = [len(raw) for objects in rounds for raw in objects]
    peers_needed = math.ceil(args.count / PER_PEER)
    extra: dict[str, Any] = {}
    if args.workers:
        extra["verify_workers"] = args.workers
    if args.synchronous:
        extra["sqlite_synchronous"] = args.synchronous

    tmp = Path(tempfile.mkdtemp(prefix="rightsmesh-bench-ingest-"))
    try:
        node = start_node(tmp, extra)
        try:
            ingest: list[float] = []
            raw: list[float] = []
            for r, objects in enumerate(rounds):
                peers = [
                    KeyPair.from_seed(hashlib.sha256(f"bench-peer/{r}/{p}".encode()).digest())
                    for p in range(peers_needed)
                ]
                seconds, totals = asyncio.run(push_round(node.url, objects, peers))
                if totals["stored"] != len(objects):
                    raise RuntimeError(f"round {r}: the node stored {totals} of {len(objects)} objects")
                ingest.append(len(objects) / seconds)
                raw.append(len(objects) / raw_verify_seconds(raw_cases(objects)))
        finally:
            node.stop()
        ours, baseline = max(ingest), max(raw)
        ratio = ours / baseline
        target = TARGET_POOL if args.workers > 1 else TARGET
        mode = f"verify_workers={args.workers}" if args.workers else "one process"
        authors = f"{args.signers} signers" if args.signers else "one signer each"
        print(
            f"objects: {args.count} per round x {args.rounds} rounds, node descriptors {min(sizes)}-"
            f"{max(sizes)} bytes, {authors}; {peers_needed} signed peers, batches of {BATCH}, "
            f"{STREAMS} streams; node: real process, {mode}"
            + (f", sqlite_synchronous={args.synchronous}" if args.synchronous else "")
        )
        print(
            f"node ingest (HTTP push, verify, limits, acceptance, SQLite): {ours:,.0f} objects/s "
            f"(rounds: {', '.join(f'{x:,.0f}' for x in ingest)})"
        )
        print(
            f"raw Ed25519 verify, same objects, this process:           {baseline:,.0f} objects/s "
            f"(rounds: {', '.join(f'{x:,.0f}' for x in raw)})"
        )
        print(
            f"ratio ingest / raw verify: {ratio:.2f}x (target >= {target}x: "
            f"{'met' if ratio >= target else 'NOT met'})"
        )
        parts = breakdown(
            make_descriptors(min(args.count, 2000), now, 1000, args.signers),
            now,
            tmp,
            args.synchronous or "full",
        )
        per_object = 1e6 / ours
        print(
            "per object, microseconds (same kind of objects, in this process): "
            + ", ".join(f"{name} {value:.0f}" for name, value in parts.items())
            + f"; whole node path over HTTP {per_object:.0f} (wall clock per object at the ingest rate)"
        )
        if args.peer == "nostr-relay":
            relay, url = start_nostr_relay(tmp)
            try:
                events = nostr_events(args.count, now)
                seconds, accepted, refused = asyncio.run(push_nostr(url, events))
            finally:
                relay.terminate()
                relay.wait(30)
            if accepted != len(events):
                raise RuntimeError(
                    f"nostr-relay accepted {accepted} of {len(events)} events ({refused} refused)"
                )
            theirs = accepted / seconds
            print(
                f"nostr-relay (uvicorn, SQLite): {accepted} events (NIP-01, schnorr) in {seconds:.2f} s = "
                f"{theirs:,.0f} events/s; ours {ours:,.0f} objects/s"
            )
            print(
                f"ratio ours / nostr-relay: {ours / theirs:.1f}x (target >= {TARGET_NOSTR}x: "
                f"{'met' if ours / theirs >= TARGET_NOSTR else 'NOT met'})"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
