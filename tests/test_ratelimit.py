"""Token buckets, the per-peer/per-author pair, and the bounded queue's backpressure answers."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.ratelimit import (
    ALLOWED,
    AUTHOR_BURST,
    PEER_BURST,
    BoundedQueue,
    BucketPolicy,
    Decision,
    GossipLimits,
    Offer,
    Overflow,
    RateLimiter,
)

T0 = 1_800_000_000.0


def test_bucket_starts_full_then_refills_at_rate() -> None:
    limiter: RateLimiter[str] = RateLimiter(BucketPolicy(rate=2.0, burst=5.0))
    for _ in range(5):
        assert limiter.consume("a", T0) == ALLOWED
    refused = limiter.consume("a", T0)
    assert not refused.allowed and refused.retry_after == pytest.approx(0.5)
    assert limiter.consume("a", T0 + 0.25) == Decision(False, pytest.approx(0.25))
    assert limiter.consume("a", T0 + 0.5).allowed
    assert not limiter.consume("a", T0 + 0.5).allowed
    # Refill never exceeds the burst.
    assert limiter.tokens("a", T0 + 1000) == 5.0


def test_refusal_consumes_nothing_and_cost_is_all_or_nothing() -> None:
    limiter: RateLimiter[str] = RateLimiter(BucketPolicy(rate=1.0, burst=10.0))
    assert limiter.consume("a", T0, cost=7).allowed
    assert not limiter.consume("a", T0, cost=4).allowed
    assert limiter.tokens("a", T0) == 3.0
    assert limiter.consume("a", T0, cost=3).allowed
    assert limiter.consume("b", T0, cost=11) == Decision(False, math.inf)


def test_keys_are_independent_and_check_does_not_consume() -> None:
    limiter: RateLimiter[str] = RateLimiter(BucketPolicy(rate=1.0, burst=1.0))
    assert limiter.check("a", T0).allowed and limiter.check("a", T0).allowed
    assert limiter.consume("a", T0).allowed
    assert not limiter.check("a", T0).allowed
    assert limiter.consume("b", T0).allowed
    assert "a" in limiter and "c" not in limiter and len(limiter) == 2


def test_clock_going_back_mints_no_tokens() -> None:
    limiter: RateLimiter[str] = RateLimiter(BucketPolicy(rate=1.0, burst=2.0))
    limiter.consume("a", T0, cost=2)
    assert limiter.tokens("a", T0 - 100) == 0.0
    assert not limiter.consume("a", T0 - 100).allowed
    assert limiter.consume("a", T0 + 1).allowed
    assert not limiter.consume("a", T0 + 1).allowed


def test_key_count_is_bounded_least_recently_used_first() -> None:
    limiter: RateLimiter[str] = RateLimiter(BucketPolicy(rate=1.0, burst=1.0), max_keys=2)
    limiter.consume("a", T0)
    limiter.consume("b", T0)
    limiter.consume("a", T0 + 1)  # a is the most recently used now
    limiter.consume("c", T0 + 1)
    assert len(limiter) == 2 and "b" not in limiter and "a" in limiter and "c" in limiter


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        BucketPolicy(rate=0, burst=1)
    with pytest.raises(ValueError):
        BucketPolicy(rate=1, burst=-1)
    with pytest.raises(ValueError):
        RateLimiter(BucketPolicy(1, 1), max_keys=0)


STEPS = st.tuples(st.floats(min_value=0, max_value=100), st.floats(min_value=0.1, max_value=3))


@given(st.lists(STEPS, max_size=60))
def test_never_more_than_burst_plus_rate_times_time(events: list[tuple[float, float]]) -> None:
    policy = BucketPolicy(rate=2.0, burst=5.0)
    limiter: RateLimiter[str] = RateLimiter(policy)
    now, spent = T0, 0.0
    for step, cost in events:
        now += step
        if limiter.consume("k", now, cost).allowed:
            spent += cost
    assert spent <= policy.burst + policy.rate * (now - T0) + 1e-6


def test_gossip_limits_need_both_buckets() -> None:
    limits = GossipLimits(
        per_peer=RateLimiter(BucketPolicy(rate=1.0, burst=3.0)),
        per_author=RateLimiter(BucketPolicy(rate=1.0, burst=2.0)),
    )
    assert limits.admit("peer", "author", T0).allowed
    assert limits.admit("peer", "author", T0).allowed
    refused = limits.admit("peer", "author", T0)
    assert not refused.allowed and refused.retry_after == pytest.approx(1.0)
    # The author's refusal cost the peer nothing: it still has one token for another author.
    assert limits.per_peer.tokens("peer", T0) == 1.0
    assert limits.admit("peer", "other", T0).allowed
    refused = limits.admit("peer", "third", T0)
    assert not refused.allowed and limits.per_author.tokens("third", T0) == 2.0


def test_gossip_limit_defaults() -> None:
    limits = GossipLimits.with_defaults()
    assert limits.per_peer.tokens("p", T0) == PEER_BURST
    assert limits.per_author.tokens("a", T0) == AUTHOR_BURST
    for _ in range(int(AUTHOR_BURST)):
        assert limits.admit("p", "a", T0).allowed
    assert not limits.admit("p", "a", T0).allowed
    assert limits.admit("p", "b", T0).allowed


def test_queue_accepts_then_asks_to_slow_down_then_refuses() -> None:
    queue: BoundedQueue[int] = BoundedQueue(4, high=3, low=1)
    assert [queue.offer(i) for i in range(5)] == [
        Offer.ACCEPTED,
        Offer.ACCEPTED,
        Offer.ACCEPTED_SLOW_DOWN,
        Offer.ACCEPTED_SLOW_DOWN,
        Offer.REFUSED,
    ]
    assert queue.under_pressure and len(queue) == 4 and queue.refused == 1
    assert queue.pop() == 0
    assert queue.under_pressure  # hysteresis: still above low
    assert queue.offer(9) is Offer.ACCEPTED_SLOW_DOWN
    assert queue.pop_batch(3) == [1, 2, 3]
    assert not queue.under_pressure and list(queue) == [9]
    assert queue.offer(10) is Offer.ACCEPTED


def test_queue_drop_oldest_policy() -> None:
    queue: BoundedQueue[str] = BoundedQueue(2, overflow=Overflow.DROP_OLDEST)
    queue.offer("a")
    queue.offer("b")
    assert queue.offer("c") is Offer.DROPPED_OLDEST
    assert list(queue) == ["b", "c"] and queue.dropped == 1


def test_queue_pop_when_empty_and_batches() -> None:
    queue: BoundedQueue[int] = BoundedQueue(10)
    assert queue.pop() is None and queue.pop_batch(5) == []
    for i in range(7):
        queue.offer(i)
    assert queue.pop_batch(5) == [0, 1, 2, 3, 4] and queue.pop_batch(5) == [5, 6]
    assert (queue.high, queue.low) == (7, 2)


@pytest.mark.parametrize(
    "kwargs", [{"capacity": 0}, {"capacity": 4, "high": 5}, {"capacity": 4, "high": 2, "low": 2}]
)
def test_queue_bad_parameters(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        BoundedQueue(**kwargs)
