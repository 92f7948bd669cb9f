"""Asking every accredited office at once: one bounded request per office, each under its own timeout.

Why per-office timeouts on the shared session: one dead or slow office must cost the user at most the
timeout, never the other offices' answers; the session's per-host connection limits bound the rest.
Every office ends in exactly one state: ``answered`` (its valid signed answer), ``invalid`` (it answered,
but not with its own valid answer to this query), ``timeout`` or ``failed`` (unreachable, an HTTP error),
or ``skipped``: not accredited as an office by a trust list the node holds, so never contacted (anyone
can get a descriptor stored; asking it would make the node fetch any URL on a stranger's behalf).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from protocol.messages import SignedMessage

from ..api.views import json_safe
from .answers import MAX_ANSWER_BYTES, InvalidAnswer, Office, SearchQuery, b64url, check_answer

ANSWERED, INVALID, TIMEOUT, FAILED, SKIPPED = "answered", "invalid", "timeout", "failed", "skipped"
STATES = (ANSWERED, INVALID, TIMEOUT, FAILED, SKIPPED)
NOT_ACCREDITED = "search.not-accredited"
ACCEPT = "application/cose"
_PROBLEM_BYTES = 4096


@dataclass(frozen=True)
class Outcome:
    """What came of asking one office."""

    office: Office
    status: str
    elapsed: float  # seconds (monotonic clock; informative only)
    raw: bytes | None = None  # the exact bytes the office answered, when it answered
    message: SignedMessage | None = None  # set when status is ANSWERED
    code: str | None = None
    detail: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "did": self.office.did,
            "name": self.office.name,
            "url": self.office.search_url,
            "descriptor": self.office.descriptor,
            "accredited": self.office.accredited,
            "local": self.office.local,
            "status": self.status,
            "elapsed_ms": round(self.elapsed * 1000),
        }
        if self.raw is not None:
            out["signed"] = b64url(self.raw)
        if self.message is not None:
            out["id"] = self.message.id_hex
            out["result"] = json_safe(dict(self.message.payload))
        if self.code is not None:
            out["error"] = {"code": self.code, "detail": self.detail or ""}
        return out


class _Failed(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


async def _read_bounded(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    if resp.content_length is not None and resp.content_length > limit:
        raise InvalidAnswer("search.too-large", f"the answer exceeds {limit} bytes")
    data = bytearray()
    async for chunk in resp.content.iter_chunked(65536):
        data += chunk
        if len(data) > limit:
            raise InvalidAnswer("search.too-large", f"the answer exceeds {limit} bytes")
    return bytes(data)


async def _problem_code(resp: aiohttp.ClientResponse) -> str:
    try:
        body = json.loads(await resp.content.read(_PROBLEM_BYTES))
    except (ValueError, aiohttp.ClientError):
        return ""
    code = body.get("code") if isinstance(body, dict) else None
    return f" ({code})" if isinstance(code, str) else ""


async def _fetch(session: aiohttp.ClientSession, office: Office, query: SearchQuery) -> bytes:
    try:
        async with session.get(
            office.search_url, params=query.params(), headers={"Accept": ACCEPT}, allow_redirects=False
        ) as resp:
            if resp.status != 200:
                detail = f"HTTP {resp.status}{await _problem_code(resp)}"
                raise _Failed("search.http-status", detail)
            return await _read_bounded(resp, MAX_ANSWER_BYTES)
    except aiohttp.ClientError as exc:  # includes connection errors and malformed answers
        raise _Failed("search.unreachable", f"{type(exc).__name__}: {exc}") from None
    except OSError as exc:
        raise _Failed("search.unreachable", f"{type(exc).__name__}: {exc}") from None


async def ask_office(
    session: aiohttp.ClientSession,
    office: Office,
    query: SearchQuery,
    timeout: float,
    clock: Callable[[], float],
    local: Callable[[SearchQuery], bytes] | None = None,
) -> Outcome:
    """Ask one office (``local`` answers for this node itself, in process) and check its answer; an
    office that is not accredited is skipped: no request, nothing of its URL's answer in the outcome."""
    if not office.accredited:
        return skipped(office)
    started = time.monotonic()

    def outcome(status: str, **values: Any) -> Outcome:
        return Outcome(office, status, time.monotonic() - started, **values)

    try:
        async with asyncio.timeout(timeout):
            raw = local(query) if local is not None else await _fetch(session, office, query)
    except TimeoutError:
        return outcome(TIMEOUT, code="search.timeout", detail=f"no answer within {timeout:g} s")
    except _Failed as exc:
        return outcome(FAILED, code=exc.code, detail=exc.detail)
    except InvalidAnswer as exc:
        return outcome(INVALID, code=exc.code, detail=exc.detail)
    try:
        message = check_answer(raw, office.did, query, int(clock()))
    except InvalidAnswer as exc:
        return outcome(INVALID, raw=raw, code=exc.code, detail=exc.detail)
    return outcome(ANSWERED, raw=raw, message=message)


def skipped(office: Office) -> Outcome:
    """The outcome of an office that is not asked, because no trust list held accredits it."""
    return Outcome(
        office,
        SKIPPED,
        0.0,
        code=NOT_ACCREDITED,
        detail="not accredited as an office by a trust list this node holds; not asked",
    )


async def fan_out(
    session: aiohttp.ClientSession,
    offices: Sequence[Office],
    query: SearchQuery,
    timeout: float,
    clock: Callable[[], float],
    local: Callable[[SearchQuery], bytes] | None = None,
) -> list[Outcome]:
    """Ask every accredited office in parallel (the others are skipped, never contacted); outcomes in
    the order of ``offices``."""
    return list(
        await asyncio.gather(
            *(
                ask_office(session, office, query, timeout, clock, local if office.local else None)
                for office in offices
            )
        )
    )


def merged_results(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """Register entries of the valid answers only, each tagged with the DID of the office that signed it
    (``office_did``; ``office`` is the entry's own WIPO ST.3 office code)."""
    merged: list[dict[str, Any]] = []
    for outcome in outcomes:
        if outcome.message is None:
            continue
        for entry in outcome.message.payload["results"]:
            merged.append({**json_safe(dict(entry)), "office_did": outcome.office.did})
    return merged


def complete(outcomes: Sequence[Outcome]) -> bool:
    """Every office asked gave its valid answer (skipped offices were not asked)."""
    return all(o.status in (ANSWERED, SKIPPED) for o in outcomes)


def summary(outcomes: Sequence[Outcome]) -> dict[str, int]:
    counts = {state: 0 for state in STATES}
    for outcome in outcomes:
        counts[outcome.status] += 1
    return {"offices": len(outcomes), **counts}
