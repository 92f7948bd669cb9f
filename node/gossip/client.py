"""Outgoing peer requests: one signed POST helper, and a send queue with one worker task per peer.

Why a worker per peer: a dead or slow peer then only ever delays its own queue; the shared
``ClientSession`` (per-host connection limit) and a short per-request timeout bound the rest. Queued
work is bounded (:class:`protocol.ratelimit.BoundedQueue`, oldest dropped: reconciliation recovers
whatever is lost) and coalesced, so many objects or announcements travel in one request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from protocol.keys import KeyPair
from protocol.ratelimit import BoundedQueue, Overflow

from ..httpsig import signed_request

log = logging.getLogger("rightsmesh.gossip")

# Queued operations for one peer, run in this order when several are waiting.
OPS = ("push", "graft", "fetch", "ihave", "prune")


class PeerCallError(Exception):
    """A peer request failed. ``unavailable``: connection error, timeout or 5xx (back off from the peer);
    otherwise the peer answered with a refusal (``status``)."""

    def __init__(self, status: int, detail: str, *, unavailable: bool) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.unavailable = unavailable


@dataclass(frozen=True)
class Answer:
    """A peer's 200/204 answer: its body and its headers (case-insensitive names)."""

    body: bytes
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Caller:
    """Signs and sends peer requests with the node key over the shared session."""

    session: aiohttp.ClientSession
    key: KeyPair
    clock: Callable[[], float]
    timeout: aiohttp.ClientTimeout
    max_response: int

    async def post(self, url: str, path: str, body: bytes = b"", content_type: str | None = None) -> bytes:
        """POST a signed request; the answer's body for 200/204, else :class:`PeerCallError`."""
        return (await self.exchange(url, path, body, content_type)).body

    async def exchange(
        self, url: str, path: str, body: bytes = b"", content_type: str | None = None
    ) -> Answer:
        """Like :meth:`post`, with the answer's headers too."""
        headers = {"Content-Type": content_type} if body and content_type else {}
        try:
            async with signed_request(
                self.session,
                "POST",
                url + path,
                self.key,
                self.clock(),
                body=body,
                headers=headers,
                timeout=self.timeout,
            ) as resp:
                if resp.status in (200, 204):
                    return Answer(await self._read(resp), resp.headers.copy())
                detail = (await resp.content.read(512)).decode("utf-8", "replace")
                raise PeerCallError(resp.status, detail, unavailable=resp.status >= 500)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise PeerCallError(0, f"{type(exc).__name__}: {exc}", unavailable=True) from None

    async def _read(self, resp: aiohttp.ClientResponse) -> bytes:
        if resp.content_length is not None and resp.content_length > self.max_response:
            raise PeerCallError(resp.status, "answer too large", unavailable=False)
        data = bytearray()
        async for chunk in resp.content.iter_chunked(65536):
            data += chunk
            if len(data) > self.max_response:
                raise PeerCallError(resp.status, "answer too large", unavailable=False)
        return bytes(data)


Runner = Callable[[str, str, tuple[Any, ...]], Awaitable[None]]


class PeerLink:
    """The send queue of one peer and the task that drains it (``run(peer, op, ids)`` does the work)."""

    def __init__(self, peer: str, run: Runner, capacity: int = 1024) -> None:
        self.peer = peer
        self._run_op = run
        self.queue: BoundedQueue[tuple[str, tuple[Any, ...]]] = BoundedQueue(
            capacity, overflow=Overflow.DROP_OLDEST
        )
        self._wake = asyncio.Event()
        self.task = asyncio.create_task(self._worker(), name=f"gossip-link-{peer[-12:]}")

    def put(self, op: str, items: tuple[Any, ...] = ()) -> None:
        """Queue ``items`` (ids, or ids with their tree tags) for operation ``op``."""
        self.queue.offer((op, items))
        self._wake.set()

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task

    def _drain(self) -> dict[str, list[Any]]:
        merged: dict[str, list[Any]] = {}
        for op, items in self.queue.pop_batch(len(self.queue)):
            merged.setdefault(op, []).extend(items)
        return merged

    async def _worker(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while len(self.queue):
                merged = self._drain()
                for op in OPS:
                    if op in merged:
                        try:
                            await self._run_op(self.peer, op, tuple(dict.fromkeys(merged[op])))
                        except asyncio.CancelledError:
                            raise
                        except Exception:  # a failed send must never kill the worker
                            log.exception("gossip %s to %s failed", op, self.peer)
