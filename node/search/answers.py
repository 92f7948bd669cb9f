"""Federated search, the parts without IO: the query, the offices a node knows, and checking one answer.

Why only accredited offices are asked: anyone can get a self-describing node descriptor stored, so
asking every described office would let anyone make every node fetch any URL on each public search
(and flood the office bound). Offices come from the trust lists the node holds; descriptors only say
where to reach them. Others are listed, never contacted.

Why check each answer here rather than trust the transport: the answer reaches the asking node (and,
through it, the user) from an office picked out of a gossiped node descriptor. Only an answer signed by
the DID that descriptor names, for exactly the query asked, recently, counts as that office's answer;
anything else is reported as invalid and never merged into the results.
"""

from __future__ import annotations

import base64
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from protocol.cbor import Limits
from protocol.errors import ProtocolError
from protocol.messages import SignedMessage, verify_message
from protocol.role_payloads import MAX_RESULTS, check_search_result
from protocol.trust_list import TrustStore

from ..storage.objects import ObjectStore

MAX_QUERY_TEXT = 200
DEFAULT_LIMIT = 20
#: Largest signed answer read from one office (100 register entries fit easily).
MAX_ANSWER_BYTES = 1 << 20
#: An answer older than this (seconds) is refused: it was not made for this request.
MAX_ANSWER_AGE = 300
#: Accredited offices asked at most per search (newest descriptors first; this node, when an accredited
#: office, is one of them).
MAX_OFFICES = 64
#: Unaccredited offices listed (as skipped, never asked) at most per search.
MAX_SKIPPED = 64
_DESCRIPTOR_ROWS = 4 * MAX_SKIPPED
_ROWS_PER_OFFICE = 8
_ANSWER_LIMITS = Limits(max_bytes=MAX_ANSWER_BYTES)


class QueryError(ValueError):
    """A bad search parameter (``name``: which one)."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(detail)
        self.name = name
        self.detail = detail


@dataclass(frozen=True)
class SearchQuery:
    """The register query, as sent to every office and as each office must echo it back (signed)."""

    q: str | None = None
    number: str | None = None
    nice_class: int | None = None
    owner: str | None = None
    limit: int = DEFAULT_LIMIT

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> SearchQuery:
        """Parse ``q``, ``number``, ``class``, ``owner``, ``limit`` (the office's own bounds)."""
        texts: dict[str, str | None] = {}
        for name in ("q", "number", "owner"):
            value = params.get(name, "").strip()
            if len(value) > MAX_QUERY_TEXT:
                raise QueryError(name, f"{name} is longer than {MAX_QUERY_TEXT} characters")
            texts[name] = value or None
        nice_class = _int_param(params, "class", 1, 45)
        limit = _int_param(params, "limit", 1, MAX_RESULTS)
        return cls(
            q=texts["q"],
            number=texts["number"],
            nice_class=nice_class,
            owner=texts["owner"],
            limit=DEFAULT_LIMIT if limit is None else limit,
        )

    def params(self) -> dict[str, str]:
        """Query-string parameters for an office's ``GET /rights/search``."""
        return {name: str(value) for name, value in self.echo().items()}

    def echo(self) -> dict[str, Any]:
        """The ``query`` map an office signs into its ``search-result`` for this query."""
        query: dict[str, Any] = {"limit": self.limit}
        for name, value in (("q", self.q), ("number", self.number), ("owner", self.owner),
                            ("class", self.nice_class)):
            if value is not None:
                query[name] = value
        return query


def _int_param(params: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    text = params.get(name, "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise QueryError(name, f"{name} must be an integer") from None
    if not low <= value <= high:
        raise QueryError(name, f"{name} must be between {low} and {high}")
    return value


@dataclass(frozen=True)
class Office:
    """An office from a verified node descriptor (or this node); asked only when ``accredited``."""

    did: str
    name: str
    search_url: str
    descriptor: str | None  # id of the descriptor object; None for this node itself
    accredited: bool  # a trust list the node holds accredits ``did`` as an office now
    local: bool = False


def accredited_offices(trust: TrustStore, now: int) -> frozenset[str]:
    """DIDs that a trust list the node holds (in force) accredits in role ``office`` at ``now``."""
    return frozenset(
        entry.did
        for trust_list in trust.lists
        if trust_list.in_force(now)
        for entry in trust_list.entries
        if entry.role == "office" and entry.active(now)
    )


def known_offices(
    store: ObjectStore,
    now: int,
    accredited: Collection[str],
    *,
    exclude: str | None = None,
    limit: int = MAX_OFFICES,
) -> tuple[list[Office], list[Office]]:
    """(offices to ask, offices to skip), each sorted by name, from the newest valid ``node-descriptor``
    per DID the node holds (role office, an http(s) ``search`` endpoint); ``exclude`` leaves out this
    node's DID.

    To ask: DIDs in ``accredited`` only, looked up by signer (so no number of other descriptors can push
    them out), at most ``limit``, newest descriptors first. To skip: the others among the newest
    descriptors, at most :data:`MAX_SKIPPED`. Descriptors were verified when stored; they are verified
    again here because they expire.
    """
    found: list[tuple[int, Office]] = []
    for did in sorted(set(accredited) - {exclude}):
        for meta in store.list(
            kind="node-descriptor", signer=did, field=("role", "office"), limit=_ROWS_PER_OFFICE
        ):
            office = _verified_office(store, meta.id, now, accredited=True)
            if office is not None:
                found.append((meta.created, office))
                break
    found.sort(key=lambda item: item[0], reverse=True)
    asked = [office for _, office in found[: max(limit, 0)]]
    skipped: dict[str, Office] = {}
    for meta in store.list(kind="node-descriptor", field=("role", "office"), limit=_DESCRIPTOR_ROWS):
        if meta.signer in skipped or meta.signer in accredited or meta.signer == exclude:
            continue
        office = _verified_office(store, meta.id, now, accredited=False)
        if office is not None:
            skipped[office.did] = office
            if len(skipped) >= MAX_SKIPPED:
                break
    return _by_name(asked), _by_name(skipped.values())


def _by_name(offices: Collection[Office]) -> list[Office]:
    return sorted(offices, key=lambda o: (o.name.lower(), o.did))


def _verified_office(store: ObjectStore, id_hex: str, now: int, *, accredited: bool) -> Office | None:
    try:
        message = verify_message(store.get(id_hex), now)
    except ProtocolError:
        return None  # expired (or unreadable): an older descriptor of the same DID may still be valid
    return _office_from(message, accredited)


def _office_from(message: SignedMessage, accredited: bool) -> Office | None:
    payload = message.payload
    endpoints = payload.get("endpoints")
    url = endpoints.get("search") if isinstance(endpoints, Mapping) else None
    if (
        message.kind != "node-descriptor"
        or payload.get("did") != message.signer
        or payload.get("role") != "office"
        or not isinstance(url, str)
        or not url.startswith(("http://", "https://"))
    ):
        return None
    name = payload.get("name")
    return Office(
        did=message.signer,
        name=name if isinstance(name, str) else "",
        search_url=url,
        descriptor=message.id_hex,
        accredited=accredited,
    )


class InvalidAnswer(Exception):
    """An office's answer that is not its valid answer to this query (``code`` is stable)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def check_answer(raw: bytes, office: str, query: SearchQuery, now: int) -> SignedMessage:
    """Verify ``raw`` as ``office``'s signed ``search-result`` for ``query``, made within
    :data:`MAX_ANSWER_AGE` seconds of ``now``; raise :class:`InvalidAnswer` otherwise."""
    try:
        message = verify_message(raw, now, limits=_ANSWER_LIMITS)
    except ProtocolError as exc:
        raise InvalidAnswer(exc.code, exc.detail) from None
    if message.kind != "search-result":
        raise InvalidAnswer("search.wrong-kind", f"expected a search-result, got a {message.kind}")
    if message.signer != office:
        raise InvalidAnswer("search.wrong-signer", f"signed by {message.signer}, not by the office {office}")
    try:
        check_search_result(message.payload)
    except ProtocolError as exc:
        raise InvalidAnswer(exc.code, exc.detail) from None
    if message.payload["office"] != office:
        raise InvalidAnswer("search.wrong-office", "the answer names another office")
    if dict(message.payload["query"]) != query.echo():
        raise InvalidAnswer("search.query-mismatch", "the answer is for another query")
    if message.created < now - MAX_ANSWER_AGE:
        raise InvalidAnswer("search.stale", f"the answer is more than {MAX_ANSWER_AGE} s old")
    return message


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
