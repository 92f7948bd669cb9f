"""Signed-message benchmark: sign_message and verify_message rates for ~300-byte payloads, side by side
with the raw PyNaCl Ed25519 verify rate of the very same signatures, printed as a ratio.

Run: ``.venv/bin/python scripts/bench/signing.py [--messages 2000] [--rounds 7]``. Single process.
The raw baseline is ``nacl.signing.VerifyKey.verify(sig_structure, signature)`` with the VerifyKey objects
built beforehand (the cheapest way PyNaCl verifies); ours does everything a node does per message: size,
envelope, header, strict deterministic-CBOR payload decode, signature, times, id (SHA-256).
Every message is distinct (no result caching can help); 8 signers, as in a small federation.
Chunks of 100 messages alternate ours/raw and each chunk keeps its best of several rounds, which
cancels most noise from other processes on a shared machine. Target (issue 2): verify ratio >= 0.85.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import nacl.signing  # noqa: E402

from protocol import cbor  # noqa: E402
from protocol.keys import KeyPair  # noqa: E402
from protocol.messages import cose_parts, sig_structure, sign_message, verify_message  # noqa: E402

NOW = 1767225600
TARGET = 0.85


def payload(i: int, signer: KeyPair) -> dict[str, Any]:
    """A notice-shaped payload of about 300 bytes."""
    return {
        "created": NOW - 60 - i,
        "expires": NOW + 86400 * 30,
        "target": signer.did,
        "listing": f"https://market.example/item/{100000 + i}",
        "explanation": "This listing offers counterfeit goods bearing our registered trade mark "
        f"without consent (case {i}).",
        "gtin": [f"0401234567{i % 10000:04d}"],
        "seller": f"seller-{i % 977}",
        "brand": "ACME",
        "seq": i,
    }


def best(
    fn: Callable[[int, int], None], other: Callable[[int, int], None], n: int, rounds: int
) -> tuple[float, float]:
    """Total time of ``fn`` and ``other`` over all items, each chunk of 100 items timed alternately (fn,
    other, fn, other, ...) and keeping, per chunk, the best of ``rounds``: both sides see the same load
    from other processes, so the ratio stays meaningful on a busy machine."""
    chunks = [(i, min(i + 100, n)) for i in range(0, n, 100)]
    best_a = [float("inf")] * len(chunks)
    best_b = [float("inf")] * len(chunks)
    clock = time.perf_counter
    for _ in range(rounds):
        for c, (lo, hi) in enumerate(chunks):
            t0 = clock()
            fn(lo, hi)
            t1 = clock()
            other(lo, hi)
            t2 = clock()
            best_a[c] = min(best_a[c], t1 - t0)
            best_b[c] = min(best_b[c], t2 - t1)
    return sum(best_a), sum(best_b)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    n = args.messages

    signers = [KeyPair.from_seed(bytes([i + 1]) * 32) for i in range(8)]
    payloads = [payload(i, signers[i % len(signers)]) for i in range(n)]
    messages = [sign_message(signers[i % len(signers)], "notice", p) for i, p in enumerate(payloads)]
    sizes = [len(cbor.encode(p)) for p in payloads]
    verify_keys = {s.public_key: nacl.signing.VerifyKey(s.public_key) for s in signers}
    raw_cases = []
    for i, data in enumerate(messages):
        protected, body, signature = cose_parts(data)
        raw_cases.append(
            (verify_keys[signers[i % len(signers)].public_key], sig_structure(protected, body), signature)
        )

    # Correctness first: every message verifies both ways.
    for data, (vk, tbs, sig) in zip(messages, raw_cases, strict=True):
        verify_message(data, NOW)
        vk.verify(tbs, sig)

    def ours(lo: int, hi: int) -> None:
        for data in messages[lo:hi]:
            verify_message(data, NOW)

    def raw(lo: int, hi: int) -> None:
        for vk, tbs, sig in raw_cases[lo:hi]:
            vk.verify(tbs, sig)

    def sign_all(lo: int, hi: int) -> None:
        for i in range(lo, hi):
            sign_message(signers[i % len(signers)], "notice", payloads[i])

    def raw_sign(lo: int, hi: int) -> None:
        for i in range(lo, hi):
            signers[i % len(signers)].sign(raw_cases[i][1])

    t_ours, t_raw = best(ours, raw, n, args.rounds)
    t_sign, t_raw_sign = best(sign_all, raw_sign, n, max(3, args.rounds // 2))
    verify_rate, raw_rate = n / t_ours, n / t_raw
    sign_rate, raw_sign_rate = n / t_sign, n / t_raw_sign
    ratio = verify_rate / raw_rate
    print(
        f"signed messages: {n} distinct, payload {min(sizes)}-{max(sizes)} bytes "
        f"(message {min(map(len, messages))}-{max(map(len, messages))} bytes), {len(signers)} signers"
    )
    print(
        f"sign_message:         {sign_rate:10.0f} signs/s    (raw Ed25519 sign {raw_sign_rate:.0f}/s, "
        f"ratio {sign_rate / raw_sign_rate:.3f})"
    )
    print(f"verify_message:       {verify_rate:10.0f} verifies/s")
    print(f"raw PyNaCl verify:    {raw_rate:10.0f} verifies/s (same signatures)")
    verdict = "met" if ratio >= TARGET else "NOT met"
    print(f"verify ratio:         {ratio:10.3f}  (target >= {TARGET}: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
