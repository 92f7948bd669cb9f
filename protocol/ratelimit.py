"""Token buckets per peer and per author, and a bounded queue that says when to push back.

Pure (see ``specs/peers.md``): time is passed in. The gossip engine asks :class:`GossipLimits` before it
spends work on an object (``admit(peer, author, now)``), and puts accepted work on a :class:`BoundedQueue`
whose answer tells it whether to accept, to accept but tell the sender to slow down, or to refuse.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


@dataclass(frozen=True)
class BucketPolicy:
    """``rate`` tokens per second refill a bucket of ``burst`` tokens (a fresh key starts full)."""

    rate: float
    burst: float

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst <= 0:
            raise ValueError("rate and burst must be positive")


@dataclass(frozen=True)
class Decision:
    """``allowed``; when not, ``retry_after`` seconds until the cost would fit (inf: it never will)."""

    allowed: bool
    retry_after: float = 0.0


ALLOWED = Decision(True)


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter(Generic[K]):
    """Token buckets keyed by ``K``, at most ``max_keys`` of them (the least recently used is forgotten).

    Forgetting a key hands it a full bucket when it comes back; the key bound therefore only matters
    against floods of distinct keys, which a per-peer limit in front of the per-author one holds back.
    """

    def __init__(self, policy: BucketPolicy, *, max_keys: int = 10_000) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be positive")
        self.policy = policy
        self.max_keys = max_keys
        self._buckets: OrderedDict[K, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def __contains__(self, key: object) -> bool:
        return key in self._buckets

    def tokens(self, key: K, now: float) -> float:
        """Tokens ``key`` has at ``now`` (a full bucket for an unknown key); changes nothing."""
        bucket = self._buckets.get(key)
        return self.policy.burst if bucket is None else self._level(bucket, now)

    def check(self, key: K, now: float, cost: float = 1.0) -> Decision:
        """Would ``cost`` fit now? Consumes nothing."""
        if cost > self.policy.burst:
            return Decision(False, float("inf"))
        missing = cost - self.tokens(key, now)
        return ALLOWED if missing <= 0 else Decision(False, missing / self.policy.rate)

    def consume(self, key: K, now: float, cost: float = 1.0) -> Decision:
        """Take ``cost`` tokens if they are there (all or nothing)."""
        decision = self.check(key, now, cost)
        if decision.allowed:
            self._take(key, now, cost)
        return decision

    def _level(self, bucket: _Bucket, now: float) -> float:
        elapsed = max(0.0, now - bucket.at)  # a clock going back never mints tokens
        return min(self.policy.burst, bucket.tokens + elapsed * self.policy.rate)

    def _take(self, key: K, now: float, cost: float) -> None:
        bucket = self._buckets.get(key)
        level = self.policy.burst if bucket is None else self._level(bucket, now)
        self._buckets[key] = _Bucket(tokens=level - cost, at=max(now, bucket.at if bucket else now))
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)


@dataclass(frozen=True)
class GossipLimits:
    """The two limits an incoming object passes: its sending peer's and its author's (signer's)."""

    per_peer: RateLimiter[str]
    per_author: RateLimiter[str]

    @classmethod
    def with_defaults(cls) -> GossipLimits:
        peer = BucketPolicy(rate=PEER_RATE, burst=PEER_BURST)
        author = BucketPolicy(rate=AUTHOR_RATE, burst=AUTHOR_BURST)
        return cls(RateLimiter(peer, max_keys=MAX_PEER_KEYS), RateLimiter(author, max_keys=MAX_AUTHOR_KEYS))

    def admit(self, peer: str, author: str, now: float, cost: float = 1.0) -> Decision:
        """Consume from both buckets only if both have room, so a refusal by one costs the other nothing."""
        peer_decision = self.per_peer.check(peer, now, cost)
        author_decision = self.per_author.check(author, now, cost)
        if peer_decision.allowed and author_decision.allowed:
            self.per_peer.consume(peer, now, cost)
            self.per_author.consume(author, now, cost)
            return ALLOWED
        return Decision(False, max(peer_decision.retry_after, author_decision.retry_after))


#: Defaults (objects per second and burst) that ``specs/peers.md`` states.
PEER_RATE, PEER_BURST, MAX_PEER_KEYS = 200.0, 2000.0, 4096
AUTHOR_RATE, AUTHOR_BURST, MAX_AUTHOR_KEYS = 20.0, 1000.0, 100_000


class Offer(StrEnum):
    """What to do with an item offered to a :class:`BoundedQueue`."""

    ACCEPTED = "accepted"
    ACCEPTED_SLOW_DOWN = "accepted-slow-down"  # queued, but above the high watermark: push back
    REFUSED = "refused"  # full (policy refuse-new): tell the sender to retry later (HTTP 503)
    DROPPED_OLDEST = "dropped-oldest"  # full (policy drop-oldest): queued, the oldest item was dropped


class Overflow(StrEnum):
    REFUSE_NEW = "refuse-new"  # inbound work: the sender keeps it and retries (reconciliation finds it)
    DROP_OLDEST = "drop-oldest"  # outbound announcements: newer ones matter more


class BoundedQueue(Generic[T]):
    """A FIFO of at most ``capacity`` items with hysteresis: once the length reaches ``high``, it reports
    pressure until it drains to ``low``, so a sender is told to slow down before anything is lost."""

    def __init__(
        self,
        capacity: int,
        *,
        high: int | None = None,
        low: int | None = None,
        overflow: Overflow = Overflow.REFUSE_NEW,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self.high = high if high is not None else max(1, capacity * 3 // 4)
        self.low = low if low is not None else capacity // 4
        if not 0 <= self.low < self.high <= capacity:
            raise ValueError("need 0 <= low < high <= capacity")
        self.overflow = overflow
        self._items: deque[T] = deque()
        self._pressure = False
        self.refused = 0
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._items))

    @property
    def under_pressure(self) -> bool:
        """True from reaching ``high`` until draining to ``low``: tell senders to back off (HTTP 429/503)."""
        return self._pressure

    def offer(self, item: T) -> Offer:
        if len(self._items) >= self.capacity:
            if self.overflow is Overflow.REFUSE_NEW:
                self.refused += 1
                return Offer.REFUSED
            self._items.popleft()
            self.dropped += 1
            self._items.append(item)
            return Offer.DROPPED_OLDEST
        self._items.append(item)
        if len(self._items) >= self.high:
            self._pressure = True
        return Offer.ACCEPTED_SLOW_DOWN if self._pressure else Offer.ACCEPTED

    def pop(self) -> T | None:
        """The oldest item, or None when empty."""
        if not self._items:
            return None
        item = self._items.popleft()
        self._update()
        return item

    def pop_batch(self, limit: int) -> list[T]:
        """Up to ``limit`` oldest items (batching many objects per request)."""
        batch = [self._items.popleft() for _ in range(min(limit, len(self._items)))]
        self._update()
        return batch

    def _update(self) -> None:
        if len(self._items) <= self.low:
            self._pressure = False
