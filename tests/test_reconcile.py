"""Range-based set reconciliation: correctness of the difference, bounds on rounds and bytes, and refusal
of malformed messages with typed errors only."""

from __future__ import annotations

import contextlib
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.errors import DecodeError
from protocol.reconcile import DEFAULT_CONFIG, ReconcileConfig, Reconciler, fingerprint
from protocol.reconcile_store import MAX_TIMESTAMP, MemoryStore
from protocol.reconcile_wire import VERSION, encode_varint

Item = tuple[int, bytes]
MAX_ROUNDS = 64


def sync(
    mine: set[Item], theirs: set[Item], config: ReconcileConfig = DEFAULT_CONFIG
) -> tuple[set[bytes], set[bytes], int, int]:
    """Run a full session; returns (have, need, round trips, total bytes). Checks frame sizes."""
    return sync_stores(MemoryStore(mine), MemoryStore(theirs), config)


def sync_stores(
    mine: MemoryStore, theirs: MemoryStore, config: ReconcileConfig = DEFAULT_CONFIG
) -> tuple[set[bytes], set[bytes], int, int]:
    """``sync`` over stores already built (so a large base store can be built once and copied)."""
    initiator = Reconciler(mine, config)
    responder = Reconciler(theirs, config)
    have: set[bytes] = set()
    need: set[bytes] = set()
    message: bytes | None = initiator.initiate()
    rounds = total = 0
    while message is not None:
        assert rounds < MAX_ROUNDS, "reconciliation did not converge"
        assert len(message) <= config.frame_size_limit
        reply = responder.respond(message)
        assert len(reply) <= config.frame_size_limit
        rounds += 1
        total += len(message) + len(reply)
        message, h, n = initiator.reconcile(reply)
        assert not (set(h) & have) and not (set(n) & need), "an id was reported twice"
        have.update(h)
        need.update(n)
    return have, need, rounds, total


def items(rng: random.Random, count: int, lo: int = 1_700_000_000, hi: int = 1_700_100_000) -> set[Item]:
    return {(rng.randrange(lo, hi), rng.randbytes(32)) for _ in range(count)}


def ids(s: set[Item]) -> set[bytes]:
    return {i for _, i in s}


def check(mine: set[Item], theirs: set[Item], config: ReconcileConfig = DEFAULT_CONFIG) -> int:
    have, need, rounds, _ = sync(mine, theirs, config)
    assert have == ids(mine - theirs)
    assert need == ids(theirs - mine)
    return rounds


def test_identical_sets_settle_in_one_small_round_trip() -> None:
    base = items(random.Random(1), 10_000)
    have, need, rounds, total = sync(base, base)
    assert (have, need, rounds) == (set(), set(), 1)
    assert total <= 400


def test_empty_sets() -> None:
    assert check(set(), set()) == 1
    rng = random.Random(2)
    assert check(items(rng, 300), set()) >= 1
    assert check(set(), items(rng, 300)) >= 1


def test_single_difference_either_side_in_one_round_trip() -> None:
    rng = random.Random(3)
    base = items(rng, 5000)
    extra = items(rng, 1)
    assert check(base | extra, base) == 1
    assert check(base, base | extra) == 1


@pytest.mark.parametrize("d", [2, 10, 100, 1000])
def test_random_differences_on_both_sides(d: int) -> None:
    rng = random.Random(d)
    base = items(rng, 20_000)
    extra = sorted(items(rng, d))
    rounds = check(base | set(extra[: d // 2]), base | set(extra[d // 2 :]))
    assert rounds <= 6


MILLION = 1_000_000
YEAR = 31_536_000


@pytest.fixture(scope="module")
def million_store() -> MemoryStore:
    """10^6 items over one year of timestamps (a node's retention window), built once for the module."""
    store = MemoryStore(items(random.Random(10), MILLION, 1_700_000_000, 1_700_000_000 + YEAR))
    assert len(store) == MILLION
    return store


@pytest.mark.slow
def test_a_million_items_identical_settle_in_one_round_trip(million_store: MemoryStore) -> None:
    have, need, rounds, total = sync_stores(million_store.copy(), million_store.copy())
    assert (have, need, rounds) == (set(), set(), 1)
    assert total <= 400


@pytest.mark.slow
def test_a_million_items_with_100_differences_on_both_sides(million_store: MemoryStore) -> None:
    rng = random.Random(11)
    extra = sorted(items(rng, 100, 1_700_000_000, 1_700_000_000 + YEAR))
    mine, theirs = million_store.copy(), million_store.copy()
    assert mine.add_many(extra[:50]) == 50 and theirs.add_many(extra[50:]) == 50
    assert len(mine) == len(theirs) == MILLION + 50
    have, need, rounds, total = sync_stores(mine, theirs)
    assert have == ids(set(extra[:50]))
    assert need == ids(set(extra[50:]))
    assert rounds <= 3
    assert total <= 50_000


def test_edge_timestamps_and_shared_id_prefixes() -> None:
    rng = random.Random(4)
    prefix = rng.randbytes(30)
    crowded = {
        (ts, prefix + bytes([a, b])) for ts in (0, 1, MAX_TIMESTAMP) for a in range(6) for b in range(6)
    }
    mine = {x for x in crowded if x[1][-1] % 3 != 0}
    theirs = {x for x in crowded if x[1][-1] % 3 != 1}
    small = ReconcileConfig(idlist_max=1, sums_max=2, branch_max=2, frame_size_limit=4608)
    check(mine, theirs)
    check(mine, theirs, small)


def test_frame_limit_is_respected_and_sessions_still_converge() -> None:
    rng = random.Random(5)
    base = items(rng, 3000)
    config = ReconcileConfig(idlist_max=2, sums_max=8, branch_max=4, frame_size_limit=5120)
    check(base | items(rng, 400), base | items(rng, 400), config)
    check(items(rng, 2000), set(), config)


item_st = st.tuples(st.sampled_from([0, 1, 2, 1000, MAX_TIMESTAMP]), st.binary(min_size=32, max_size=32))
config_st = st.builds(
    ReconcileConfig,
    idlist_max=st.integers(1, 4),
    sums_max=st.integers(4, 16),
    branch_max=st.integers(2, 8),
    frame_size_limit=st.just(8192),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sets(item_st, max_size=60), st.sets(item_st, max_size=60), st.sets(item_st, max_size=40), config_st)
def test_property_any_two_sets_reconcile(
    a: set[Item], b: set[Item], shared: set[Item], cfg: ReconcileConfig
) -> None:
    check(a | shared, b | shared, cfg)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_property_garbage_raises_only_decode_errors(data: bytes) -> None:
    store = MemoryStore(items(random.Random(6), 50))
    for message in (data, bytes([VERSION]) + data):
        with contextlib.suppress(DecodeError):
            Reconciler(store).respond(message)
        initiator = Reconciler(store)
        initiator.initiate()
        with contextlib.suppress(DecodeError):
            initiator.reconcile(message)


def _fp_entry(ts_code: int, prefix: bytes = b"") -> bytes:
    return encode_varint(ts_code) + encode_varint(len(prefix)) + prefix + b"\x01" + bytes(16)


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (b"", "decode.truncated"),
        (b"\x01", "decode.version"),
        (bytes([VERSION]) + b"\x80", "decode.truncated"),
        (bytes([VERSION]) + b"\x81\x00\x00\x00", "decode.varint"),
        (bytes([VERSION]) + b"\xff" * 11 + b"\x01", "decode.varint"),
        (bytes([VERSION]) + _fp_entry(5) + _fp_entry(1), "decode.bounds-order"),
        (bytes([VERSION]) + _fp_entry(0) + _fp_entry(0), "decode.bounds-order"),
        (bytes([VERSION]) + encode_varint(2) + encode_varint(33) + bytes(33) + b"\x00", "decode.bound"),
        (bytes([VERSION]) + encode_varint(0) + b"\x01\x05\x00", "decode.bound"),
        (bytes([VERSION]) + encode_varint(2**64 + 1) + b"\x00\x00", "decode.bound"),
        (bytes([VERSION]) + b"\x00\x00\x09", "decode.mode"),
        (bytes([VERSION]) + b"\x00\x00\x01" + bytes(5), "decode.truncated"),
        (bytes([VERSION]) + b"\x00\x00\x02\x05" + bytes(64), "decode.truncated"),
        (bytes([VERSION]) + b"\x00\x00\x04\x00\x00", "decode.unexpected-mode"),
        (bytes([VERSION]) + bytes(DEFAULT_CONFIG.max_message + 1), "decode.too-large"),
    ],
)
def test_malformed_messages_have_stable_codes(message: bytes, code: str) -> None:
    with pytest.raises(DecodeError) as err:
        Reconciler(MemoryStore(items(random.Random(7), 20))).respond(message)
    assert err.value.code == code


def test_api_misuse_and_non_bytes() -> None:
    r = Reconciler(MemoryStore())
    with pytest.raises(DecodeError) as err:
        r.reconcile(bytes([VERSION]))
    assert err.value.code == "decode.role"
    with pytest.raises(DecodeError) as err:
        r.respond("text")  # type: ignore[arg-type]
    assert err.value.code == "decode.type"


def test_memory_store_matches_a_naive_model() -> None:
    rng = random.Random(8)
    model = sorted(items(rng, 500, 0, 50))
    store = MemoryStore(model[:250])
    assert store.add_many(model[250:]) == 250
    assert not store.add(*model[0])
    clone = store.copy()
    extra = (25, rng.randbytes(32))
    clone.add(*extra)
    assert len(store) == 500 and len(clone) == 501 and clone.contains(*extra) and not store.contains(*extra)
    assert [store.item(i) for i in range(len(store))] == model
    for _ in range(200):
        a, b = sorted(rng.sample(range(501), 2))
        s = store.sums(a, b)
        assert s.count == b - a
        assert s.id_sum == sum(int.from_bytes(x[1], "little") for x in model[a:b]) % 2**256
        ts, prefix = rng.randrange(51), rng.randbytes(rng.randrange(3))
        expected = next((i for i, x in enumerate(model) if x >= (ts, prefix)), len(model))
        assert store.lower_bound(ts, prefix, 0, len(store)) == expected
    assert fingerprint(store.sums(0, 500)) != fingerprint(clone.sums(0, 501))
    with pytest.raises(ValueError):
        MemoryStore([(-1, bytes(32))])
    with pytest.raises(ValueError):
        store.add(1, b"short")


VECTORS = json.loads((Path(__file__).parent.parent / "specs" / "vectors" / "reconcile.json").read_text())


@pytest.mark.parametrize("session", VECTORS["sessions"], ids=lambda s: s["name"])
def test_vector_sessions_replay_byte_for_byte(session: dict[str, Any]) -> None:
    config = ReconcileConfig(**session["config"])
    mine = MemoryStore((ts, bytes.fromhex(i)) for ts, i in session["initiator_items"])
    theirs = MemoryStore((ts, bytes.fromhex(i)) for ts, i in session["responder_items"])
    initiator, responder = Reconciler(mine, config), Reconciler(theirs, config)
    messages = [bytes.fromhex(m) for m in session["messages"]]
    have: set[str] = set()
    need: set[str] = set()
    assert initiator.initiate() == messages[0]
    for k in range(0, len(messages), 2):
        assert responder.respond(messages[k]) == messages[k + 1]
        following, h, n = initiator.reconcile(messages[k + 1])
        have.update(i.hex() for i in h)
        need.update(i.hex() for i in n)
        assert following == (messages[k + 2] if k + 2 < len(messages) else None)
    assert sorted(have) == session["have"] and sorted(need) == session["need"]


@pytest.mark.parametrize("case", VECTORS["malformed"], ids=lambda c: c["name"])
def test_vector_malformed_messages(case: dict[str, str]) -> None:
    with pytest.raises(DecodeError) as err:
        Reconciler(MemoryStore()).respond(bytes.fromhex(case["message"]))
    assert err.value.code == case["error"]
