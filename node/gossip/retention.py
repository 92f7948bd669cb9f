"""The retention prune: event-like objects older than ``retention_days`` leave storage, their field rows
and the reconciliation set (rule: protocol/retention.py).

Why a background task with bounded batches: a node that was off for a long time (or whose window was
shortened) may have a large backlog; deleting it in one statement would hold SQLite's write lock while
peers push. Each batch is one short transaction, and the loop yields to the event loop between batches.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from protocol.retention import EVENT_KINDS, cutoff, window_seconds

if TYPE_CHECKING:
    from .engine import GossipEngine

log = logging.getLogger("rightsmesh.gossip")

# A marketplace's case records: the notices, receipts, decisions and complaints its inboxes refer to
# (tables of node/notices) stay stored past the window, so its inbox, decisions and statements of
# reasons keep working; like every aged object they leave the reconciled set and are not gossiped.
CASE_RECORDS = tuple(
    f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL"
    for table, columns in (
        ("notice_inbox", ("notice_id", "receipt_id", "decision_id")),
        ("complaint_inbox", ("complaint_id", "decision_id", "notice_id", "answer_id")),
    )
    for column in columns
)
PRUNE_INTERVAL = 300.0  # seconds between prunes (the reconcile set drops aged items on its own each second)
PRUNE_BATCH = 500  # objects deleted per transaction


async def prune_once(engine: GossipEngine, batch: int = PRUNE_BATCH) -> int:
    """Delete every stored event-like object outside the window; returns how many went."""
    now = int(engine.now())
    limit = cutoff(now, window_seconds(engine.config.retention_days))
    if limit is None:
        return 0
    kinds = sorted(EVENT_KINDS)
    total = 0
    while True:
        ids = engine.store.prune(kinds, limit, batch, keep=CASE_RECORDS)
        total += len(ids)
        if len(ids) < batch:
            break
        await asyncio.sleep(0)
    if total:
        engine.index.refresh(now)
        log.info("retention: pruned %d objects created before %d", total, limit)
    return total


async def prune_loop(engine: GossipEngine) -> None:
    while True:
        try:
            await prune_once(engine)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("retention prune failed")
        await asyncio.sleep(PRUNE_INTERVAL)
