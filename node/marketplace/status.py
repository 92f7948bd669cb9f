"""Offices' status lists as the marketplace sees them: fetched fresh, revalidated by ETag, cached in SQLite.

Why fetch on each enrolment: revocation must bite at once (fail closed), and on loopback or a LAN a
conditional GET answered ``304 Not Modified`` costs about a millisecond. When the office cannot be
reached, a cached copy younger than ``MAX_STALE`` is used; without one the credential fails with
``status.unavailable`` (the verifier's code for a missing list). A newer version the node holds as an
object (posted to ``/objects`` or gossiped) wins over an older one fetched or cached, so a revocation
that arrived by gossip holds even while the office is down. Only URLs named by credentials that a
trusted office really signed are fetched, so a presenter cannot make the marketplace request arbitrary
URLs.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp
import rfc8785
import sqlite_utils

from protocol.data_integrity import verify_proof
from protocol.errors import ProtocolError
from protocol.status_list import StatusList, parse_status_entry, verify_status_list_credential
from protocol.trust_list import TrustStore

from ..notice_accept import held_status_list_object, status_list_version
from ..storage.db import transaction

log = logging.getLogger("rightsmesh.marketplace")

FETCH_TIMEOUT = aiohttp.ClientTimeout(total=3, connect=2)
MAX_STALE = 86400
MAX_LIST_BODY = 4 * 1024 * 1024
MAX_URLS = 16
TOUCH_EVERY = 60
VERIFIED_CACHE = 64


def status_urls(presentation: Any, trust: TrustStore, now: int) -> list[str]:
    """Status list URLs of the embedded credentials whose issuer is an office the trust store accredits."""
    credentials = presentation.get("verifiableCredential") if isinstance(presentation, Mapping) else None
    if isinstance(credentials, Mapping):
        credentials = [credentials]
    if not isinstance(credentials, list):
        return []
    urls: list[str] = []
    for credential in credentials:
        if not isinstance(credential, Mapping) or "credentialStatus" not in credential:
            continue
        issuer = credential.get("issuer")
        issuer = issuer.get("id") if isinstance(issuer, Mapping) else issuer
        if not isinstance(issuer, str) or not trust.is_trusted(issuer, "office", now):
            continue
        try:
            entries = parse_status_entry(credential["credentialStatus"])
            named = {(issuer, e.url) for e in entries if e.url.startswith(("http://", "https://"))}
            # The issuer claim means nothing until the proof is checked: without this, an unsigned
            # credential naming a trusted office made the node GET any URL it named (SSRF). A URL
            # this office already named in a credential it signed is known good: no second check.
            if not named <= _office_urls.keys():
                if verify_proof(credential, expected_purpose="assertionMethod").controller != issuer:
                    continue
                _remember(named)
        except ProtocolError:  # the verifier reports bad proofs and malformed entries with their codes
            continue
        for entry in entries:
            if (issuer, entry.url) in named and entry.url not in urls:
                urls.append(entry.url)
    return urls[:MAX_URLS]


# (office DID, status list URL) pairs seen in credentials whose proof by that office verified; bounded
_office_urls: dict[tuple[str, str], None] = {}
MAX_OFFICE_URLS = 4096


def _remember(pairs: Iterable[tuple[str, str]]) -> None:
    for pair in pairs:
        if len(_office_urls) >= MAX_OFFICE_URLS:
            _office_urls.pop(next(iter(_office_urls)))
        _office_urls[pair] = None


def _cached(db: sqlite_utils.Database, url: str) -> tuple[int, str | None, str] | None:
    row = db.execute("SELECT fetched_at, etag, credential FROM status_cache WHERE url = ?", [url]).fetchone()
    return None if row is None else (int(row[0]), row[1], str(row[2]))


# (url, fetched_at, etag, body or None when only fetched_at changes)
CacheUpdate = tuple[str, int, str | None, str | None]


async def _fetch_one(
    session: aiohttp.ClientSession, db: sqlite_utils.Database, url: str, now: int
) -> tuple[dict[str, Any] | None, CacheUpdate | None]:
    cached = _cached(db, url)
    headers = {"Accept": "application/vc+json, application/json"}
    if cached is not None and cached[1]:
        headers["If-None-Match"] = cached[1]
    try:
        async with session.get(url, headers=headers, timeout=FETCH_TIMEOUT, allow_redirects=False) as resp:
            if resp.status == 304 and cached is not None:
                # refresh the age (for MAX_STALE) at most once a minute: one fsync less per enrolment
                touch = (url, now, cached[1], None) if now - cached[0] >= TOUCH_EVERY else None
                return dict(json.loads(cached[2])), touch
            if resp.status == 200:
                body = await resp.content.read(MAX_LIST_BODY + 1)
                if len(body) <= MAX_LIST_BODY:
                    document = json.loads(body)
                    if isinstance(document, dict):
                        return document, (url, now, resp.headers.get("ETag"), body.decode("utf-8"))
            log.warning("status list %s: HTTP %s", url, resp.status)
    except (TimeoutError, aiohttp.ClientError, ValueError, UnicodeDecodeError) as exc:
        log.warning("status list %s unreachable: %s", url, exc)
    if cached is not None and now - cached[0] <= MAX_STALE:
        return dict(json.loads(cached[2])), None
    return None, None


def _apply(db: sqlite_utils.Database, updates: list[CacheUpdate]) -> None:
    with transaction(db):
        for url, fetched_at, etag, body in updates:
            if body is None:
                db.execute("UPDATE status_cache SET fetched_at = ? WHERE url = ?", [fetched_at, url])
            else:
                db.execute(
                    "INSERT INTO status_cache (url, fetched_at, etag, credential) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (url) DO UPDATE SET fetched_at = excluded.fetched_at,"
                    " etag = excluded.etag, credential = excluded.credential",
                    [url, fetched_at, etag, body],
                )


async def fetch_status_lists(
    session: aiohttp.ClientSession, db: sqlite_utils.Database, urls: Iterable[str], now: int
) -> dict[str, StatusList | dict[str, Any]]:
    """URL -> status list (verified, or the credential for the verifier to check) for each URL that
    could be fetched or had a usable cached copy. The cache is written after the fetches, in its
    own transaction: no transaction is ever held across an ``await`` on the shared connection."""
    wanted = list(urls)
    fetched = await asyncio.gather(*(_fetch_one(session, db, url, now) for url in wanted))
    updates = [update for _, update in fetched if update is not None]
    if updates:
        _apply(db, updates)
    out: dict[str, StatusList | dict[str, Any]] = {}
    for url, (doc, _) in zip(wanted, fetched, strict=True):
        best = _newest(doc, held_status_list_object(db, url))
        if best is not None:
            out[url] = verified.get(best, now)
    return out


class VerifiedLists:
    """Status list credentials already verified, by the hash of their JCS form: the same version is
    verified once, not at every enrolment. Only lists without ``validUntil`` are kept (their validity
    cannot end); anything else is handed to the verifier as a document, which checks it each time."""

    def __init__(self, size: int = VERIFIED_CACHE) -> None:
        self.size = size
        self._lists: dict[bytes, StatusList] = {}

    def get(self, document: dict[str, Any], now: int) -> StatusList | dict[str, Any]:
        if "validUntil" in document:
            return document
        try:
            key = hashlib.sha256(rfc8785.dumps(document)).digest()
        except (ValueError, TypeError):  # not canonicalisable JSON: the verifier reports it
            return document
        held = self._lists.get(key)
        if held is not None:
            return held
        try:
            status_list = verify_status_list_credential(document, now=datetime.fromtimestamp(now, UTC))
        except ProtocolError:
            return document  # the verifier reports status.list-invalid with the reason
        if len(self._lists) >= self.size:
            self._lists.pop(next(iter(self._lists)))
        self._lists[key] = status_list
        return status_list


verified = VerifiedLists()


def _newest(fetched: dict[str, Any] | None, held: dict[str, Any] | None) -> dict[str, Any] | None:
    """A revocation learnt by gossip is not undone by an office (or cache) serving an older version."""
    if fetched is None or held is None:
        return fetched or held
    return held if status_list_version(held) > status_list_version(fetched) else fetched
