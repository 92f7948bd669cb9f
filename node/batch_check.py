"""Checking a batch of objects from a peer (structure, signature, times) in process or in a process pool.

Why a pool: signature verification is the one CPU-bound step of ingesting an object that needs nothing
from the node's state (:func:`node.ingest.check_object`), so it can run on other cores while the event
loop accepts and stores (acceptance and SQLite stay in the node process, in order). ``verify_workers``
in ``config.toml`` (0 = in process, the default) sets the pool size. Workers answer a
:class:`~node.ingest.Checked` or a :class:`CheckFailure` (code and detail: exceptions are not sent
between processes).
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass

from protocol.errors import ProtocolError

from .config import NodeConfig
from .ingest import Checked, Refused, check_object

#: Below this many objects a batch is checked in process even with a pool (the round trip costs more).
MIN_POOL_BATCH = 16


@dataclass(frozen=True)
class CheckFailure:
    """Why an object failed its check (the code a ``ProtocolError`` or ``Refused`` carried)."""

    code: str
    detail: str


CheckOutcome = Checked | CheckFailure


def check_many(config: NodeConfig, raws: Sequence[bytes], now: int) -> list[CheckOutcome]:
    """Check each object; never raises for a bad object (its outcome says why)."""
    out: list[CheckOutcome] = []
    for raw in raws:
        try:
            out.append(check_object(config, raw, now))
        except (ProtocolError, Refused) as exc:
            out.append(CheckFailure(exc.code, exc.detail))
    return out


def _warm() -> None:
    """Run once per worker: imports are done before the first batch arrives."""


class BatchChecker:
    """Checks batches in process (``workers == 0``) or split evenly across a process pool."""

    def __init__(self, config: NodeConfig, workers: int = 0) -> None:
        self.config = config
        self.workers = workers
        self.pool: Executor | None = None

    def start(self) -> None:
        if self.workers > 0 and self.pool is None:
            # forkserver: workers never inherit the event loop, the SQLite connection or sockets.
            context = multiprocessing.get_context("forkserver")
            self.pool = ProcessPoolExecutor(self.workers, mp_context=context)
            for _ in range(self.workers):
                self.pool.submit(_warm)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None

    async def check(self, raws: Sequence[bytes], now: int) -> list[CheckOutcome]:
        if self.pool is None or len(raws) < MIN_POOL_BATCH:
            return check_many(self.config, raws, now)
        loop = asyncio.get_running_loop()
        size = -(-len(raws) // self.workers)
        parts = [list(raws[i : i + size]) for i in range(0, len(raws), size)]
        results = await asyncio.gather(
            *(loop.run_in_executor(self.pool, check_many, self.config, part, now) for part in parts)
        )
        return [outcome for part in results for outcome in part]
