"""Vectors for range-based set reconciliation (specs/reconcile.md): whole sessions, message by message.

Each session gives the two item sets (timestamp, id hex), the configuration, every message in order
(initiator's, then responder's reply, alternately; hex), and the resulting ``have``/``need`` id sets. An
implementation replays the initiator's side against the responder's messages (or the reverse) and must
produce the same bytes. Plus malformed messages with the error code a responder must raise. Items come
from a fixed seed, so the output never changes.
"""

from __future__ import annotations

import random
from typing import Any

from protocol.errors import DecodeError
from protocol.reconcile import ReconcileConfig, Reconciler
from protocol.reconcile_store import MAX_TIMESTAMP, MemoryStore

T0 = 1767225600  # 2026-01-01T00:00:00Z


def _items(rng: random.Random, count: int, spread: int = 86_400) -> list[tuple[int, bytes]]:
    return [(T0 + rng.randrange(spread), rng.randbytes(32)) for _ in range(count)]


def _session(
    name: str, mine: list[tuple[int, bytes]], theirs: list[tuple[int, bytes]], config: ReconcileConfig
) -> dict[str, Any]:
    initiator = Reconciler(MemoryStore(mine), config)
    responder = Reconciler(MemoryStore(theirs), config)
    messages: list[str] = []
    have: set[bytes] = set()
    need: set[bytes] = set()
    message: bytes | None = initiator.initiate()
    while message is not None:
        reply = responder.respond(message)
        messages += [message.hex(), reply.hex()]
        message, h, n = initiator.reconcile(reply)
        have.update(h)
        need.update(n)
    return {
        "name": name,
        "config": {
            "idlist_max": config.idlist_max,
            "sums_max": config.sums_max,
            "branch_max": config.branch_max,
            "frame_size_limit": config.frame_size_limit,
        },
        "initiator_items": [[ts, i.hex()] for ts, i in sorted(set(mine))],
        "responder_items": [[ts, i.hex()] for ts, i in sorted(set(theirs))],
        "messages": messages,
        "have": sorted(i.hex() for i in have),
        "need": sorted(i.hex() for i in need),
    }


def _malformed() -> list[dict[str, str]]:
    cases = {
        "empty": "",
        "wrong version": "01",
        "truncated varint": "5280",
        "varint not shortest": "5281000000",
        "bounds not increasing": "52060001" + "00" * 16 + "010001" + "00" * 16,
        "prefix longer than an id": "520221" + "00" * 33 + "00",
        "unknown mode": "52000009",
        "diff sent to a responder": "5200000400 00".replace(" ", ""),
    }
    store = MemoryStore()
    out = []
    for name, hexed in cases.items():
        try:
            Reconciler(store).respond(bytes.fromhex(hexed))
        except DecodeError as err:
            out.append({"name": name, "message": hexed, "error": err.code})
        else:
            raise AssertionError(f"malformed case {name!r} was accepted")
    return out


def generate() -> dict[str, Any]:
    rng = random.Random(20260101)
    base = _items(rng, 120)
    extra = _items(rng, 20)
    small = ReconcileConfig(idlist_max=4, sums_max=16, branch_max=8, frame_size_limit=6144)
    edge = [(0, bytes(32)), (0, bytes(31) + b"\x01"), (MAX_TIMESTAMP, b"\xff" * 32), (T0, b"\x80" * 32)]
    sessions = [
        _session("identical sets", base, base, ReconcileConfig()),
        _session("one item only on the initiator", base + extra[:1], base, ReconcileConfig()),
        _session("one item only on the responder", base, base + extra[:1], ReconcileConfig()),
        _session("ten differences each way, small parameters", base + extra[:10], base + extra[10:], small),
        _session("empty initiator", [], base[:40], ReconcileConfig()),
        _session("edge timestamps and shared prefixes", edge[:3] + base[:10], edge[1:] + base[5:15], small),
    ]
    return {"reconcile.json": {"version": "52", "sessions": sessions, "malformed": _malformed()}}
