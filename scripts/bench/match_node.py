"""POST /match on a marketplace node over loopback vs the same queries on its in-memory index, one run.

Usage: .venv/bin/python scripts/bench/match_node.py [--notices N] [--queries Q] [--batch B]
A marketplace app (the real create_app, on 127.0.0.1, port chosen at run time, in a temporary
directory) has its match index filled with N synthetic notices (scripts/bench/match.py's generator;
what a node holds after gossip), then answers Q listings sent B per request. Printed: requests/s and
listings/s over HTTP, p50/p99 per request, and the ratio to calling ``MatchIndex.match`` directly on the
same listings: the cost of HTTP, JSON and the answer's shape around the index.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from match import pct, queries, synthesise

from node.app import create_app
from node.config import NodeConfig
from node.notices.keys import NOTICES
from protocol.keys import KeyPair
from protocol.matching import Listing


def listing_json(listing: Listing) -> dict[str, Any]:
    out: dict[str, Any] = {"title": listing.title}
    if listing.gtin:
        out["gtin"] = listing.gtin
    if listing.image_sha256:
        out["image_sha256"] = listing.image_sha256.hex()
    if listing.phash is not None:
        out["phash"] = f"{listing.phash:016x}"
    if listing.brand:
        out["brand"] = listing.brand
    if listing.seller_id:
        out["seller_id"] = listing.seller_id
    return out


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = NodeConfig(
            dir=Path(tmp),
            role="marketplace",
            name="bench",
            host="127.0.0.1",
            port=0,
            public_url="",
            peers=(),
            trust_roots=(),
        )
        app = create_app(config, KeyPair.generate(), "bench-token")
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{port}/match"
        try:
            data = synthesise(args.notices, args.seed)
            index = app[NOTICES].index
            for i, features in enumerate(data):
                index.add_features(i.to_bytes(32, "big"), features)
            qs = queries(data, args.queries, args.seed)

            t0 = time.perf_counter()
            direct = sum(bool(index.match(q).matches) for q in qs)
            direct_s = time.perf_counter() - t0

            bodies = [
                {"listings": [listing_json(q) for q in qs[i : i + args.batch]]}
                for i in range(0, len(qs), args.batch)
            ]
            latencies = []
            found = 0
            async with aiohttp.ClientSession() as session:
                t0 = time.perf_counter()
                for body in bodies:
                    q0 = time.perf_counter()
                    async with session.post(url, json=body) as resp:
                        answer = await resp.json()
                    latencies.append(time.perf_counter() - q0)
                    found += sum(bool(r["matches"]) for r in answer["results"])
                http_s = time.perf_counter() - t0
        finally:
            await runner.cleanup()
    latencies.sort()
    print(f"notices indexed: {args.notices}, listings: {len(qs)}, {args.batch} per request")
    print(f"direct MatchIndex.match: {len(qs) / direct_s:,.0f} listings/s (found {direct})")
    print(
        f"POST /match over loopback: {len(bodies) / http_s:,.0f} requests/s,"
        f" {len(qs) / http_s:,.0f} listings/s"
        f" (found {found}); per request p50 {pct(latencies, 0.5) * 1000:.2f} ms,"
        f" p99 {pct(latencies, 0.99) * 1000:.2f} ms"
    )
    print(f"ratio HTTP / direct (listings/s): {direct_s / http_s:.2f}x")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notices", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--seed", type=int, default=7)
    asyncio.run(run(ap.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
