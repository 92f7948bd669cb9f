"""Object ingestion benchmark: ``POST /objects`` against a real node app on loopback, side by side with the
raw ``verify_message`` cost of the same messages, and SQLite commit cost with synchronous FULL vs NORMAL.

Run: ``.venv/bin/python scripts/bench/objects.py [--count 400]``. One process: the aiohttp server and the
client share one event loop (as a node and a gossiping peer would not), so the HTTP figure is a floor.
Prints requests/s, p50/p99 latency, and each figure as a ratio to raw verification.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from node.app import create_app  # noqa: E402
from node.config import NodeConfig  # noqa: E402
from node.storage import ObjectStore, open_database  # noqa: E402
from protocol.keys import KeyPair  # noqa: E402
from protocol.messages import sign_message, verify_message  # noqa: E402

NODE = KeyPair.from_seed(bytes(32 * [7]))
PEER = KeyPair.from_seed(bytes(32 * [9]))


def messages(count: int, now: int) -> list[bytes]:
    """Distinct node descriptors (an accepted kind) of a realistic size."""
    return [
        sign_message(
            PEER,
            "node-descriptor",
            {
                "created": now - count + i,
                "did": PEER.did,
                "role": "office",
                "name": f"Peer office {i}",
                "url": "http://127.0.0.1:1",
                "endpoints": {
                    "objects": "http://127.0.0.1:1/objects",
                    "search": "http://127.0.0.1:1/rights/search",
                },
                "software": "rightsmesh/bench",
            },
        )
        for i in range(count)
    ]


def bench_verify(data: list[bytes], now: int) -> float:
    start = time.perf_counter()
    for raw in data:
        verify_message(raw, now)
    return len(data) / (time.perf_counter() - start)


def bench_store(data: list[bytes], synchronous: str, directory: Path) -> float:
    store = ObjectStore(open_database(directory / f"{synchronous}.db", synchronous=synchronous))
    start = time.perf_counter()
    for i, raw in enumerate(data):
        store.put(
            raw, kind="node-descriptor", signer=PEER.did, created=i, expires=None, fields={"did": PEER.did}
        )
    rate = len(data) / (time.perf_counter() - start)
    store.db.close()
    return rate


async def bench_http(data: list[bytes], directory: Path) -> tuple[float, list[float]]:
    config = NodeConfig(
        dir=directory,
        role="marketplace",
        name="Bench",
        host="127.0.0.1",
        port=0,
        public_url="",
        peers=(),
        trust_roots=(),
    )
    app = create_app(config, NODE, "bench-token")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    latencies: list[float] = []
    try:
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{port}/objects"
            start = time.perf_counter()
            for raw in data:
                t0 = time.perf_counter()
                async with session.post(url, data=raw, headers={"Content-Type": "application/cose"}) as resp:
                    await resp.read()
                    if resp.status != 201:
                        raise SystemExit(f"unexpected answer {resp.status}: {await resp.text()}")
                latencies.append(time.perf_counter() - t0)
            rate = len(data) / (time.perf_counter() - start)
    finally:
        await runner.cleanup()
    return rate, latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=400)
    args = parser.parse_args()
    now = int(time.time())
    data = messages(args.count, now)
    verify_rate = bench_verify(data, now)
    with tempfile.TemporaryDirectory() as tmp:
        full = bench_store(data, "full", Path(tmp))
        normal = bench_store(data, "normal", Path(tmp))
        (Path(tmp) / "node").mkdir()
        http_rate, latencies = asyncio.run(bench_http(data, Path(tmp) / "node"))
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    size = sum(map(len, data)) // len(data)
    print(f"objects: {args.count} node descriptors of ~{size} bytes")
    print(f"verify_message (raw)          {verify_rate:10.0f}/s   1.00x")
    print(f"ObjectStore.put, sync FULL    {full:10.0f}/s   {full / verify_rate:.2f}x of verify")
    print(f"ObjectStore.put, sync NORMAL  {normal:10.0f}/s   {normal / verify_rate:.2f}x of verify")
    print(f"POST /objects (HTTP, FULL)    {http_rate:10.0f}/s   {http_rate / verify_rate:.2f}x of verify")
    print(f"POST /objects latency         p50 {p50:.2f} ms   p99 {p99:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
