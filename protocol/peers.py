"""The peer table: who a node gossips with, how it backs off from dead peers and refuses hostile ones.

Pure (see ``specs/peers.md``): time, jitter and randomness are passed in; every method is an event that
returns the peer's new state. A peer is known by its DID (learned from a signed node descriptor or from a
signed request) and/or its URL (a bootstrap peer from the config, until its descriptor names its DID).

States: ``new`` (known, never reached), ``active`` (reached or heard from), ``backing-off`` (failed
``failures`` times in a row; retried no earlier than ``next_attempt``), ``banned`` (sent too many invalid
objects; refused until ``banned_until``). Any authenticated contact resets failures and backoff.
Each invalid object costs score; score recovers slowly with time; at or below the threshold the peer is
banned. With the defaults a fresh peer is banned by its 10th invalid object.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from urllib.parse import urlsplit

from .errors import SchemaError


class PeerState(StrEnum):
    NEW = "new"
    ACTIVE = "active"
    BACKING_OFF = "backing-off"
    BANNED = "banned"


@dataclass(frozen=True)
class PeerPolicy:
    """Tunables, with the defaults ``specs/peers.md`` states."""

    base_backoff: float = 5.0  # seconds after the first failure
    max_backoff: float = 3600.0  # backoff cap: one hour
    max_score: float = 100.0  # a new peer's score, and the ceiling recovery climbs back to
    invalid_cost: float = 10.0  # one invalid object
    ban_threshold: float = 0.0  # banned when the score falls to this or below
    recovery_per_hour: float = 10.0  # score regained per hour (one invalid object forgiven per hour)
    ban_duration: float = 3600.0  # first ban; each later ban doubles it ...
    max_ban_duration: float = 86400.0  # ... up to a day
    score_after_ban: float = 50.0  # score when a ban ends (five more invalid objects ban again)
    max_peers: int = 1000


DEFAULT_POLICY = PeerPolicy()
_STATE_RANK = {PeerState.BANNED: 0, PeerState.BACKING_OFF: 1, PeerState.NEW: 2, PeerState.ACTIVE: 3}


@dataclass(frozen=True)
class Peer:
    """One row of the peer table (a value: the table replaces rows, never mutates them)."""

    did: str | None
    url: str | None
    state: PeerState = PeerState.NEW
    added: float = 0.0
    last_seen: float | None = None  # last authenticated contact
    failures: int = 0  # consecutive failed attempts
    next_attempt: float = 0.0  # earliest time to try again (backing-off)
    score: float = DEFAULT_POLICY.max_score
    score_at: float = 0.0  # when ``score`` was last brought up to date
    invalid: int = 0  # invalid objects received, ever
    bans: int = 0
    banned_until: float = 0.0
    pinned: bool = False  # bootstrap peer from the config: never evicted

    @property
    def key(self) -> str:
        """The table key: the DID when known, else the URL."""
        key = self.did or self.url
        assert key is not None
        return key


@functools.lru_cache(maxsize=4096)
def check_peer_url(url: str) -> str:
    """An absolute http(s) URL without credentials, query or fragment; returned without a trailing slash.

    Cached: every gossiped node descriptor is checked, and a federation has few distinct URLs."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise SchemaError("schema.peer-url", f"not a URL: {url!r}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SchemaError("schema.peer-url", "a peer URL is an absolute http(s) URL")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise SchemaError("schema.peer-url", "a peer URL has no credentials, query or fragment")
    if port == 0:
        raise SchemaError("schema.peer-url", "a peer URL needs a valid port")
    return url.rstrip("/")


def backoff_delay(failures: int, jitter: float, policy: PeerPolicy = DEFAULT_POLICY) -> float:
    """Delay after ``failures`` consecutive failures: exponential, capped, with "equal jitter".

    ``jitter`` in [0, 1] picks a point in the upper half of the step, so the delay is never above the cap
    and never below half of it: peers that failed together do not all retry together.
    """
    if failures <= 0:
        return 0.0
    jitter = min(max(jitter, 0.0), 1.0)
    step = min(policy.max_backoff, policy.base_backoff * 2.0 ** min(failures - 1, 64))
    return step / 2 + step / 2 * jitter


class PeerTable:
    """The bounded set of peers, keyed by DID (or URL until the DID is known)."""

    def __init__(self, self_did: str | None = None, policy: PeerPolicy = DEFAULT_POLICY) -> None:
        self.policy = policy
        self.self_did = self_did
        self._peers: dict[str, Peer] = {}
        self._by_url: dict[str, str] = {}  # url -> key
        # Rows change only through _put/_remove (each bumps _version) or _refresh, which only raises a rank
        # (score recovery, ban expiry). So a full scan's worst rank stays a lower bound: _put lowers it to
        # the stored row's rank when needed and _remove cannot lower it, both carrying it to the new
        # _version. A newcomer ranking at or below it cannot evict anyone, and is refused without another
        # O(n) scan (before, any row change, e.g. a descriptor moving a URL, forced one per newcomer).
        self._version = 0
        self._worst: tuple[int, tuple[int, int, int, float, float]] | None = None  # (version, rank)

    def __len__(self) -> int:
        return len(self._peers)

    def __iter__(self) -> Iterator[Peer]:
        return iter(list(self._peers.values()))

    def get(self, ref: str, now: float | None = None) -> Peer | None:
        """The peer a DID or URL names; with ``now``, its score and ban brought up to date first."""
        key = self._key(ref)
        if key is None:
            return None
        return self._refresh(self._peers[key], now) if now is not None else self._peers[key]

    # --- learning ----------------------------------------------------------------------------------------

    def add_bootstrap(self, url: str, now: float) -> Peer:
        """A peer from the config: known by URL, pinned (never evicted)."""
        url = check_peer_url(url)
        key = self._by_url.get(url)
        if key is not None:
            return self._put(replace(self._peers[key], pinned=True))
        peer = Peer(did=None, url=url, added=now, score=self.policy.max_score, score_at=now, pinned=True)
        admitted = self._admit(peer, now)
        assert admitted is not None  # pinned peers are always admitted
        return admitted

    def learn(self, did: str, url: str | None, now: float) -> Peer | None:
        """A (DID, URL) pair from a verified node descriptor (``url`` None: the DID only, e.g. inbound).

        The caller passes the newest descriptor only. The DID's row takes the URL (a bootstrap row with that
        URL and no DID yet is merged into it); another DID that claimed the URL loses it. Returns None for
        our own DID or when the table is full of peers that rank above a newcomer.
        """
        if did == self.self_did:
            return None
        if url is not None:
            url = check_peer_url(url)
        row = self._peers.get(did)
        holder_key = self._by_url.get(url) if url is not None else None
        holder = self._peers.get(holder_key) if holder_key is not None else None
        if holder is not None and holder.key != did:
            if holder.did is None:
                # A bootstrap (URL-only) row learns its DID: it merges into the DID's row, history and all.
                self._remove(holder.key)
                if row is None:
                    return self._put(replace(holder, did=did))
                row = replace(row, pinned=row.pinned or holder.pinned)
            else:
                self._put(replace(holder, url=None))
        if row is None:
            peer = Peer(did=did, url=url, added=now, score=self.policy.max_score, score_at=now)
            return self._admit(peer, now)
        return self._put(replace(row, url=url if url is not None else row.url))

    # --- events ------------------------------------------------------------------------------------------

    def record_contact(self, ref: str, now: float) -> Peer | None:
        """Authenticated contact (a verified signed request from it, or a successful exchange with it):
        resets failures and backoff. A banned peer stays banned. Unknown DIDs are learned (no URL)."""
        peer = self._lookup_or_learn(ref, now)
        if peer is None:
            return None
        peer = self._refresh(peer, now)
        state = PeerState.BANNED if peer.state is PeerState.BANNED else PeerState.ACTIVE
        return self._put(replace(peer, state=state, last_seen=now, failures=0, next_attempt=now))

    def record_failure(self, ref: str, now: float, jitter: float) -> Peer | None:
        """A failed attempt to reach the peer (connection error, timeout, 5xx): back off exponentially."""
        peer = self.get(ref, now)
        if peer is None:
            return None
        failures = peer.failures + 1
        next_attempt = now + backoff_delay(failures, jitter, self.policy)
        state = PeerState.BANNED if peer.state is PeerState.BANNED else PeerState.BACKING_OFF
        return self._put(replace(peer, state=state, failures=failures, next_attempt=next_attempt))

    def record_invalid(self, ref: str, now: float, cost: float | None = None) -> Peer | None:
        """The peer sent an invalid object (or misbehaved, at ``cost``): it loses score; banned at the
        threshold. Unknown DIDs are learned first, so offenders are tracked too."""
        peer = self._lookup_or_learn(ref, now)
        if peer is None:
            return None
        peer = self._refresh(peer, now)
        score = peer.score - (self.policy.invalid_cost if cost is None else cost)
        peer = replace(peer, score=score, invalid=peer.invalid + 1)
        if peer.state is not PeerState.BANNED and score <= self.policy.ban_threshold:
            duration = min(self.policy.max_ban_duration, self.policy.ban_duration * 2.0 ** min(peer.bans, 32))
            peer = replace(peer, state=PeerState.BANNED, bans=peer.bans + 1, banned_until=now + duration)
        return self._put(peer)

    def is_refused(self, ref: str, now: float) -> bool:
        """Whether requests from (and objects of) this peer are refused now: it is banned."""
        peer = self.get(ref, now)
        return peer is not None and peer.state is PeerState.BANNED

    # --- choosing ----------------------------------------------------------------------------------------

    def eligible(self, now: float) -> list[Peer]:
        """Peers worth contacting now: with a URL, not banned, not waiting out a backoff (sorted by key)."""
        result = []
        for key in sorted(self._peers):
            peer = self._refresh(self._peers[key], now)
            if peer.url is None or peer.state is PeerState.BANNED:
                continue
            if peer.state is PeerState.BACKING_OFF and peer.next_attempt > now:
                continue
            result.append(peer)
        return result

    def choose(self, rng: random.Random, count: int, now: float, exclude: Iterable[str] = ()) -> list[Peer]:
        """Up to ``count`` distinct eligible peers picked uniformly at random (for push or reconciliation)."""
        excluded = {self._key(ref) or ref for ref in exclude}
        pool = [peer for peer in self.eligible(now) if peer.key not in excluded]
        return rng.sample(pool, min(count, len(pool))) if count > 0 else []

    # --- internals ---------------------------------------------------------------------------------------

    def _key(self, ref: str) -> str | None:
        if ref in self._peers:
            return ref
        try:
            return self._by_url.get(check_peer_url(ref))
        except SchemaError:
            return None

    def _lookup_or_learn(self, ref: str, now: float) -> Peer | None:
        key = self._key(ref)
        if key is not None:
            return self._peers[key]
        if ref.startswith("did:"):
            return self.learn(ref, None, now)
        return None

    def _refresh(self, peer: Peer, now: float) -> Peer:
        """Bring score recovery and ban expiry up to ``now`` (stored, so later reads agree)."""
        changed = peer
        if now > peer.score_at and peer.score < self.policy.max_score:  # at the cap: nothing to gain
            gained = (now - peer.score_at) * self.policy.recovery_per_hour / 3600.0
            changed = replace(changed, score=min(self.policy.max_score, peer.score + gained), score_at=now)
        if changed.state is PeerState.BANNED and now >= changed.banned_until:
            if changed.failures:
                state = PeerState.BACKING_OFF
            else:
                state = PeerState.NEW if changed.last_seen is None else PeerState.ACTIVE
            changed = replace(changed, state=state, score=self.policy.score_after_ban, score_at=now)
        if changed is not peer:
            self._peers[peer.key] = changed
        return changed

    def _carry_worst(self, rank: tuple[int, int, int, float, float] | None) -> None:
        """Keep the cached worst rank valid across a row change (``rank``: the stored row's, or None)."""
        self._version += 1
        cached = self._worst
        if cached is not None and cached[0] == self._version - 1:
            self._worst = (self._version, cached[1] if rank is None else min(cached[1], rank))

    def _remove(self, key: str) -> None:
        self._carry_worst(None)
        peer = self._peers.pop(key)
        if peer.url is not None and self._by_url.get(peer.url) == key:
            del self._by_url[peer.url]

    def _admit(self, peer: Peer, now: float) -> Peer | None:
        """Store a new row if there is room or a worse peer to evict (pinned rows always get in)."""
        if len(self._peers) >= self.policy.max_peers and not self._make_room(peer, now) and not peer.pinned:
            return None
        return self._put(peer)

    def _put(self, peer: Peer) -> Peer:
        """Store ``peer`` under its key, keeping the URL index in step."""
        self._carry_worst(self._rank(peer))
        key = peer.key
        old = self._peers.get(key)
        stale = old.url if old is not None and old.url != peer.url else None
        if stale is not None and self._by_url.get(stale) == key:
            del self._by_url[stale]
        self._peers[key] = peer
        if peer.url is not None:
            self._by_url[peer.url] = key
        return peer

    def _rank(self, peer: Peer) -> tuple[int, int, int, float, float]:
        """Larger ranks are kept: useful states first, then fewer failures, higher score, recent contact."""
        return (int(peer.pinned), _STATE_RANK[peer.state], -peer.failures, peer.score, peer.last_seen or 0.0)

    def _make_room(self, newcomer: Peer, now: float) -> bool:
        """Evict the worst peer if it ranks strictly below ``newcomer`` (or the newcomer is pinned)."""
        cached = self._worst
        fresh = cached is not None and cached[0] == self._version
        if fresh and not newcomer.pinned and cached is not None and cached[1] >= self._rank(newcomer):
            return False
        worst = min((self._refresh(p, now) for p in list(self._peers.values())), key=self._rank)
        self._worst = (self._version, self._rank(worst))
        if worst.pinned or (not newcomer.pinned and self._rank(worst) >= self._rank(newcomer)):
            return False
        self._remove(worst.key)
        return True

