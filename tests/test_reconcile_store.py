"""MemoryStore against a naive sorted list, with small blocks so that every path (splits, ranges across
blocks, inserts at block heads, copies diverging) is exercised; and the reconciliation over a blocked
store gives the same bytes as over a store of one block."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.reconcile import Reconciler
from protocol.reconcile_store import SUM_MODULUS, XOR_BYTES, MemoryStore


def naive_sums(model: list[tuple[int, bytes]], a: int, b: int) -> tuple[int, int, int]:
    total = sum(int.from_bytes(i, "little") for _, i in model[a:b]) % SUM_MODULUS
    xor = 0
    for _, i in model[a:b]:
        xor ^= int.from_bytes(i[:XOR_BYTES], "little")
    return b - a, total, xor


def check_against(store: MemoryStore, model: list[tuple[int, bytes]], rng: random.Random) -> None:
    assert len(store) == len(model)
    assert [store.item(i) for i in range(len(model))] == model
    assert store.ids(0, len(model)) == [i for _, i in model]
    for _ in range(30):
        a, b = sorted(rng.randrange(len(model) + 1) for _ in range(2))
        s = store.sums(a, b)
        assert (s.count, s.id_sum, s.id_xor) == naive_sums(model, a, b)
        assert store.ids(a, b) == [i for _, i in model[a:b]]
        ts, prefix = rng.randrange(12), rng.randbytes(rng.randrange(3))
        first = next((k for k, x in enumerate(model) if x >= (ts, prefix)), len(model))
        assert store.lower_bound(ts, prefix, a, b) == min(max(first, a), b)


@pytest.mark.parametrize("block", [1, 2, 3, 8, 1024])
def test_random_inserts_anywhere_match_a_sorted_list(block: int) -> None:
    rng = random.Random(block)
    pool = [(rng.randrange(10), bytes([rng.randrange(4)]) + rng.randbytes(31)) for _ in range(400)]
    store = MemoryStore(pool[:50], block_size=block)
    model = sorted(set(pool[:50]))
    check_against(store, model, rng)
    for step, item in enumerate(pool[50:] + pool[:20]):
        expected_new = item not in model
        assert store.add(*item) is expected_new
        if expected_new:
            model.append(item)
            model.sort()
        assert store.contains(*item)
        if step % 50 == 0:
            check_against(store, model, rng)
    check_against(store, model, rng)
    clone = store.copy()
    extra = (5, bytes(32))
    assert clone.add(*extra) and not store.contains(*extra)
    check_against(store, model, rng)
    check_against(clone, sorted([*model, extra]), rng)
    # the other way round, and across splits: a snapshot never sees later changes of its source
    snapshot = store.copy()
    later = [(rng.randrange(10), rng.randbytes(32)) for _ in range(3 * block + 5)]
    store.add_many(later)
    check_against(snapshot, model, rng)
    check_against(store, sorted({*model, *later}), rng)


def test_empty_store_and_bounds() -> None:
    store = MemoryStore(block_size=4)
    assert len(store) == 0 and store.ids(0, 0) == [] and not store.contains(1, bytes(32))
    assert store.sums(0, 0).count == 0 and store.lower_bound(5, b"", 0, 0) == 0
    with pytest.raises(IndexError):
        store.item(0)
    with pytest.raises(ValueError):
        MemoryStore(block_size=0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6), st.binary(min_size=32, max_size=32)), max_size=60),
    st.lists(st.tuples(st.integers(0, 6), st.binary(min_size=32, max_size=32)), max_size=60),
    st.integers(1, 5),
)
def test_reconciliation_bytes_do_not_depend_on_blocks(
    mine: list[tuple[int, bytes]], theirs: list[tuple[int, bytes]], block: int
) -> None:
    """The wire is a function of the set alone: a blocked store and a one-block store answer alike."""

    def transcript(size: int) -> list[bytes]:
        a, b = MemoryStore(mine, block_size=size), MemoryStore(theirs, block_size=size)
        initiator, responder = Reconciler(a), Reconciler(b)
        message: bytes | None = initiator.initiate()
        messages: list[bytes] = []
        for _ in range(64):
            if message is None:
                break
            answer = responder.respond(message)
            messages += [message, answer]
            message, _, _ = initiator.reconcile(answer)
        assert message is None, "reconciliation did not converge"
        return messages

    assert transcript(block) == transcript(10_000)
