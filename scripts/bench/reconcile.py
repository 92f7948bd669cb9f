"""Round trips and bytes of range-based set reconciliation (protocol.reconcile) for n items and d differences.

Both sides share n items; d extra items are split between them (d//2 on the initiator, the rest on the
responder), so every case has differences in both directions. Figures are printed next to the bytes a
naive exchange would take (one side sending all its ids) and the bytes of the difference itself (d ids).

Targets: d = 0 in 1 round trip and <= 400 bytes; d = 100 at n = 10^6 in <= 3 round trips and <= 50 KB.
Default: n = 10^4 and 10^5 with every d, n = 10^6 with d = 0 and 100; ``--full`` runs every combination.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from protocol.reconcile import Reconciler
from protocol.reconcile_store import MemoryStore

DIFFS = (0, 1, 10, 100, 1000)
SIZES = (10_000, 100_000, 1_000_000)
T0 = 1_700_000_000


def random_items(rng: random.Random, count: int) -> list[tuple[int, bytes]]:
    """Items over about one year of timestamps, as a node's retention window would hold them."""
    return [(T0 + rng.randrange(31_536_000), rng.randbytes(32)) for _ in range(count)]


def session(a: MemoryStore, b: MemoryStore) -> tuple[int, int, int, set[bytes], set[bytes]]:
    """(round trips, bytes initiator->responder, bytes responder->initiator, have, need)."""
    initiator, responder = Reconciler(a), Reconciler(b)
    message: bytes | None = initiator.initiate()
    rounds = up = down = 0
    have: set[bytes] = set()
    need: set[bytes] = set()
    while message is not None:
        reply = responder.respond(message)
        rounds += 1
        up += len(message)
        down += len(reply)
        message, h, n = initiator.reconcile(reply)
        have.update(h)
        need.update(n)
        if rounds > 100:
            raise RuntimeError("no convergence")
    return rounds, up, down, have, need


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="every n in 10^4..10^6 with every d")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    failures: list[str] = []
    print(
        f"{'n':>9} {'d':>5} {'rt':>3} {'bytes':>9} {'up':>8} {'down':>8} {'B/diff':>7} "
        f"{'vs all ids':>10} {'vs d ids':>8} {'ms':>7}"
    )
    for n in SIZES:
        diffs = DIFFS if args.full or n < 1_000_000 else (0, 100)
        started = time.perf_counter()
        base = MemoryStore(random_items(rng, n))
        base.sums(0, 0)
        build = time.perf_counter() - started
        for d in diffs:
            extra = random_items(rng, d)
            a, b = base.copy(), base.copy()
            a.add_many(extra[: d // 2])
            b.add_many(extra[d // 2 :])
            a.sums(0, 0)
            b.sums(0, 0)
            t = time.perf_counter()
            rounds, up, down, have, need = session(a, b)
            ms = (time.perf_counter() - t) * 1000
            if have != {i for _, i in extra[: d // 2]} or need != {i for _, i in extra[d // 2 :]}:
                failures.append(f"n={n} d={d}: wrong difference")
            total = up + down
            per_diff = f"{total / d:7.0f}" if d else f"{'-':>7}"
            vs_d = f"{total / (32 * d):8.2f}" if d else f"{'-':>8}"
            print(
                f"{n:>9} {d:>5} {rounds:>3} {total:>9} {up:>8} {down:>8} {per_diff} "
                f"{total / (32 * n):10.5f} {vs_d} {ms:7.1f}"
            )
            if d == 0 and (rounds != 1 or total > 400):
                failures.append(f"n={n} d=0: {rounds} round trips, {total} bytes (target 1, <= 400)")
            if d == 100 and n == 1_000_000 and (rounds > 3 or total > 50_000):
                failures.append(f"n=10^6 d=100: {rounds} round trips, {total} bytes (target <= 3, <= 50000)")
        print(f"{'':>9} (store of {n} items built in {build:.1f} s)")
    print(
        "targets: d=0 -> 1 rt, <= 400 B; n=10^6 d=100 -> <= 3 rt, <= 50 KB:",
        "MET" if not failures else "MISSED",
    )
    for failure in failures:
        print("  " + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
