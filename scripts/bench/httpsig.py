#!/usr/bin/env python3
"""Cost of RFC 9421 peer request signatures, as ratios to a raw Ed25519 sign / verify in the same run.

Shows what one signed request costs on top of the one signature it carries (structured-field parsing,
signature base, digest, nonce cache), and so how many objects a push batch must carry for the request
signature to be noise next to the objects' own verification.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from node.httpsig import NonceCache, sign_request, verify_message
from protocol.keys import KeyPair, verify_signature

URL = "http://127.0.0.1:9001/peer/push?batch=1"
NOW = 1_800_000_000


def rate(fn: object, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        fn(i)  # type: ignore[operator]
    return n / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="requests per measurement")
    parser.add_argument("--body", type=int, default=16384, help="body size in bytes")
    args = parser.parse_args(argv)
    key = KeyPair.from_seed(bytes(32))
    body = bytes(range(256)) * (args.body // 256)
    headers = {"Content-Type": "application/cbor"}
    base = b"x" * 400  # about the size of a peer request's signature base
    signature = key.sign(base)

    signed = [
        {**headers, **sign_request("POST", URL, headers, body, key, NOW, nonce=f"bench-nonce-{i:010d}")}
        for i in range(args.n)
    ]
    cache = NonceCache(max_per_key=args.n + 1)

    raw_sign = rate(lambda i: key.sign(base), args.n)
    raw_verify = rate(lambda i: verify_signature(key.public_key, base, signature), args.n)
    http_sign = rate(lambda i: sign_request("POST", URL, headers, body, key, NOW), args.n)
    http_verify = rate(lambda i: verify_message("POST", URL, signed[i], body, NOW, cache), args.n)

    print(f"peer request signatures, {args.n} requests, {len(body)} byte bodies")
    print(f"  raw Ed25519 sign      {raw_sign:10.0f}/s")
    print(f"  raw Ed25519 verify    {raw_verify:10.0f}/s")
    print(f"  sign_request          {http_sign:10.0f}/s  = {http_sign / raw_sign:.2f}x raw sign")
    print(f"  verify_message        {http_verify:10.0f}/s  = {http_verify / raw_verify:.2f}x raw verify")
    cost = raw_verify / http_verify
    print(f"  one signed request costs {cost:.1f} raw verifies: with objects verified at the raw rate,")
    print(f"  a batch of {max(1, round(10 * cost))} objects keeps the request signature under 10 %")
    print("  (most of the signing and verifying time is the library's structured-field serialisation)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
