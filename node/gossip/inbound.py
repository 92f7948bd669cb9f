"""Objects from a peer: validated exactly as POST /objects validates them (:mod:`node.ingest`) before they
are stored, reported to the tree or forwarded; the sender is scored by the outcome.

JSON credentials go after COSE messages, so a status list can find the trust list that came in the same
batch. Pushed objects pass the per-peer and per-author rate limits. A chunk of objects is checked first
(signatures: in the process pool when ``verify_workers`` is set), then accepted in order and stored in one
transaction (one WAL fsync per chunk); the tree and the index hear of them after the commit. A notice
relying on a credential the node lacks waits while the credential is fetched from the sender
(:mod:`node.gossip.deps`), then is decided again. Refusal classes: ``specs/gossip-http.md`` section 2.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from protocol.errors import ProtocolError
from protocol.plumtree import Event, ObjectReceived, ObjectRejected

from ..batch_check import CheckFailure, CheckOutcome
from ..ingest import Checked, Ingested, Refused, accept_object, is_json_credential
from ..metrics import kind_of, object_outcome
from ..storage.db import transaction
from . import deps

if TYPE_CHECKING:
    from .engine import GossipEngine

log = logging.getLogger("rightsmesh.gossip")

# Refusals an honest peer can cause (the object went stale, expired or aged out of the retention window on
# the way, or the peer keeps a longer window): not stored, no penalty.
HARMLESS = frozenset(
    {"validity.expired", "validity.stale-sequence", "validity.stale-version", "validity.retention"}
)
SUPERSEDED = frozenset({"validity.stale-sequence", "validity.stale-version"})
CHECK_CHUNK = 256  # objects checked, then stored in one transaction (one commit), between two yields


@dataclass
class Received:
    """What became of a batch of objects from a peer."""

    stored: int = 0
    known: int = 0
    invalid: int = 0
    ignored: int = 0
    limited: float = 0.0  # > 0: the rest was refused by a rate limit; retry after this many seconds
    refused: bool = False  # the peer got banned during the batch


async def receive(
    engine: GossipEngine,
    did: str,
    entries: Sequence[tuple[bytes, int, str]],
    *,
    solicited: bool,
    retry: bool = False,
) -> Received:
    """Validate objects from a peer, store the valid ones, score the peer, tell the tree.

    JSON credentials go after COSE messages, so a status list can find the trust list that came in
    the same batch. Unsolicited (pushed) objects pass the per-peer and per-author rate limits.
    A chunk of objects is checked first (signatures: in the process pool when ``verify_workers`` is
    set), then accepted in order and stored in one transaction (one commit, so one WAL fsync, per
    chunk rather than per object); the tree and the index hear of them after the commit.
    A notice relying on a credential the node lacks waits while the credential is fetched from the
    sender (:mod:`node.gossip.deps`), then is decided again (``retry``: the second time).
    """
    result = Received()
    events: list[Event] = []
    waiting: list[tuple[tuple[bytes, int, str], tuple[str, ...]]] | None = None if retry else []
    ordered = sorted(entries, key=lambda entry: is_json_credential(entry[0]))
    for start in range(0, len(ordered), CHECK_CHUNK):
        if start:
            await asyncio.sleep(0)
        chunk = ordered[start : start + CHECK_CHUNK]
        now = int(engine.now())
        ids = [hashlib.sha256(raw).digest() for raw, _, _ in chunk]
        held = engine.store.held([item_id.hex() for item_id in ids])
        fresh: dict[str, int] = {}  # hex id -> position, first copy only (a second one counts as known)
        for i, item_id in enumerate(ids):
            if item_id.hex() not in held and item_id.hex() not in fresh:
                fresh[item_id.hex()] = i
        positions = list(fresh.values())
        outcomes = await engine.checker.check([chunk[i][0] for i in positions], now)
        checked = dict(zip(positions, outcomes, strict=True))
        stored: list[tuple[Ingested, CheckOutcome]] = []
        engine._receiving = True
        try:
            with transaction(engine.store.db):
                # stored by another request while this chunk was being checked: known, not decided again
                for item in engine.store.held(list(fresh)):
                    checked.pop(fresh[item], None)
                _accept_chunk(
                    engine, did, chunk, ids, checked, now, solicited, result, events, stored, waiting
                )
        finally:
            engine._receiving = False
        for ingested, outcome in stored:
            engine.index.add(ingested.id, ingested.kind, ingested.created, ingested.expires, now)
            if ingested.kind == "node-descriptor" and isinstance(outcome, Checked) and outcome.message:
                message = outcome.message
                engine.learn_descriptor(message.signer, message.payload.get("url"), message.created)
        if result.refused or result.limited:
            break
    if result.refused:
        engine.drop_from_view(did)
    engine.feed(events)
    if waiting and not result.refused:
        await deps.fetch_credentials(engine, did, [cid for _, refs in waiting for cid in refs])
        again = await receive(engine, did, [entry for entry, _ in waiting], solicited=solicited, retry=True)
        for name in ("stored", "known", "invalid", "ignored"):
            setattr(result, name, getattr(result, name) + getattr(again, name))
        result.refused, result.limited = again.refused, max(result.limited, again.limited)
    return result


def _accept_chunk(
    engine: GossipEngine,
    did: str,
    chunk: Sequence[tuple[bytes, int, str]],
    ids: Sequence[bytes],
    checked: dict[int, CheckOutcome],
    now: int,
    solicited: bool,
    result: Received,
    events: list[Event],
    stored: list[tuple[Ingested, CheckOutcome]],
    waiting: list[tuple[tuple[bytes, int, str], tuple[str, ...]]] | None,
) -> None:
    """Accept (in order) the checked objects of one chunk, inside the caller's transaction."""
    for i, (raw, hops, root) in enumerate(chunk):
        item_id = ids[i]
        if engine.peers.is_refused(did, now):
            result.refused = True
            return
        outcome = checked.get(i)
        if outcome is None:  # held before it was checked
            result.known += 1
            object_outcome(engine.app, kind_of(raw), "duplicate", source="gossip")
            events.append(_received(did, item_id, 0, solicited, hops, root, known=True))
            continue
        try:
            if isinstance(outcome, CheckFailure):
                raise Refused(outcome.code, outcome.detail)
            if not solicited:
                decision = engine.limits.admit(did, outcome.signer, now)
                if not decision.allowed:
                    result.limited = max(decision.retry_after, 1.0)
                    return
            ingested = accept_object(engine.config, engine.store, outcome, now, known_new=True)
        except (ProtocolError, Refused) as exc:
            refs = deps.references(outcome) if exc.code == deps.MISSING and waiting is not None else ()
            if refs and waiting is not None:
                waiting.append(((raw, hops, root), refs))
                continue
            object_outcome(engine.app, kind_of(raw), "rejected", exc.code, source="gossip")
            events.append(ObjectRejected(did, item_id))
            if exc.code in SUPERSEDED and isinstance(outcome, Checked):
                engine.index.decline(outcome.id, outcome.created, outcome.raw)
            if exc.code in HARMLESS or exc.code in deps.NO_FAULT:
                result.ignored += 1
            else:
                result.invalid += 1
                engine.penalise(did)
                log.info("invalid object %s from %s: %s", item_id.hex()[:12], did, exc.code)
            continue
        result.stored += ingested.inserted
        object_outcome(
            engine.app, ingested.kind, "accepted" if ingested.inserted else "duplicate", source="gossip"
        )
        stored.append((ingested, outcome))
        events.append(_received(did, item_id, ingested.created, solicited, hops, root))


def _received(
    did: str, item_id: bytes, created: int, solicited: bool, hops: int, root: str, known: bool = False
) -> ObjectReceived:
    if solicited:  # answers to our requests carry no tree tags
        return ObjectReceived(did, item_id, created, solicited=True, known=known)
    return ObjectReceived(did, item_id, created, solicited=False, known=known, hops=hops, root=root)
