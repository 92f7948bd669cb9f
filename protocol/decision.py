"""A marketplace's decision on a notice: a DSA art. 17 statement of reasons in Transparency Database terms.

``action`` is ``restrict`` (a restriction with a statement of reasons, exportable to the Transparency
Database) or ``no-action`` (the notice was examined and nothing was restricted: art. 16(5) still requires
telling the notifier, but there is no statement of reasons to publish). A later decision of the same
marketplace on the same notice names the one it replaces in ``supersedes`` (after a complaint, in
``complaint``); :mod:`protocol.outcome` resolves which one stands. Field names and values are the TDB's
(:mod:`protocol.tdb`) so that :func:`export_statement_of_reasons` is a projection.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from . import tdb
from .errors import SchemaError
from .identifiers import check_gtin, check_listing_url
from .messages import SignedMessage
from .notice import Notice
from .payload_fields import Fields, check_text

ACTIONS = frozenset({"restrict", "no-action"})
MAX_PUID = 500
MAX_TEXT = 5000
MAX_LISTINGS = 300
_TDB_TEXT = (
    "decision_visibility_other",
    "decision_monetary_other",
    "illegal_content_legal_ground",
    "illegal_content_explanation",
    "incompatible_content_ground",
    "incompatible_content_explanation",
    "category_specification_other",
    "content_type_other",
)
_RESTRICTIONS = ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")
_REQUIRED = frozenset(
    {
        "created",
        "notice",
        "marketplace",
        "puid",
        "action",
        "decision_facts",
        "content_type",
        "application_date",
        "source_type",
        "automated_detection",
        "automated_decision",
        "redress",
    }
)
_OPTIONAL = frozenset(
    {
        "expires",
        "supersedes",
        "complaint",
        "listings",
        *_RESTRICTIONS,
        "account_type",
        "decision_ground",
        "decision_ground_reference_url",
        "incompatible_content_illegal",
        "category",
        "category_addition",
        "category_specification",
        "territorial_scope",
        "content_date",
        "content_id_ean",
        *_TDB_TEXT,
    }
)
_REDRESS_KEYS = frozenset({"internal_complaint", "out_of_court", "judicial", "complaint_url"})


@dataclass(frozen=True)
class Redress:
    """Art. 17(3)(f): the redress open to the recipient of the decision."""

    internal_complaint: bool  # art. 20
    out_of_court: bool  # art. 21
    judicial: bool
    complaint_url: str | None = None


@dataclass(frozen=True)
class Decision:
    created: int
    expires: int | None
    notice: bytes
    marketplace: str
    puid: str  # the platform's unique id of the decision's subject (TDB ``puid``)
    action: str
    decision_facts: str
    content_type: tuple[str, ...]
    application_date: str
    source_type: str
    automated_detection: str
    automated_decision: str
    redress: Redress
    supersedes: bytes | None = None
    complaint: bytes | None = None
    listings: tuple[str, ...] = ()  # listing ids of the notice's items this decision covers (empty: all)
    decision_visibility: tuple[str, ...] = ()
    decision_visibility_other: str | None = None
    decision_monetary: str | None = None
    decision_monetary_other: str | None = None
    decision_provision: str | None = None
    decision_account: str | None = None
    account_type: str | None = None
    decision_ground: str | None = None
    decision_ground_reference_url: str | None = None
    illegal_content_legal_ground: str | None = None
    illegal_content_explanation: str | None = None
    incompatible_content_ground: str | None = None
    incompatible_content_explanation: str | None = None
    incompatible_content_illegal: str | None = None
    category: str | None = None
    category_addition: tuple[str, ...] = ()
    category_specification: tuple[str, ...] = ()
    category_specification_other: str | None = None
    content_type_other: str | None = None
    territorial_scope: tuple[str, ...] = ()
    content_date: str | None = None
    content_id_ean: str | None = None

    @property
    def restricts(self) -> bool:
        return self.action == "restrict"


def _date(f: Fields, key: str) -> str:
    value = f.raw(key)
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise f.bad(key, "a date YYYY-MM-DD") from None
    if day.year < 2000:
        raise f.bad(key, "a date from 2000 on")
    return value


def _enum_list(f: Fields, key: str, allowed: frozenset[str], *, min_len: int = 1) -> tuple[str, ...]:
    values = f.array(key, min_len=min_len, max_len=len(allowed))
    if any(not isinstance(v, str) or v not in allowed for v in values) or len(set(values)) < len(values):
        raise f.bad(key, "distinct values among " + ", ".join(sorted(allowed)))
    return tuple(values)


def _redress(f: Fields) -> Redress:
    raw = f.raw("redress")
    if (
        not isinstance(raw, Mapping)
        or set(raw) - _REDRESS_KEYS
        or not {"internal_complaint", "out_of_court", "judicial"} <= set(raw)
    ):
        raise f.bad("redress", "a map of internal_complaint, out_of_court, judicial, optional complaint_url")
    flags = [raw[k] for k in ("internal_complaint", "out_of_court", "judicial")]
    if any(not isinstance(v, bool) for v in flags):
        raise f.bad("redress", "redress flags are booleans")
    url = raw.get("complaint_url")
    if url is not None and check_listing_url(url) is None:
        raise f.bad("redress", "complaint_url is an http(s) URL")
    return Redress(flags[0], flags[1], flags[2], url)


def _requires(f: Fields, condition: bool, key: str, why: str) -> None:
    if condition and not f.has(key):
        raise f.error(f"missing-{key.replace('_', '-')}", f"{key} is required when {why}")


def parse_decision(payload: object) -> Decision:
    """Check a decision payload against the TDB vocabulary and the TDB's conditional requirements."""
    f = Fields(payload, "decision", _REQUIRED, _OPTIONAL)
    created, expires = f.times()
    action = f.enum("action", ACTIONS)
    v: dict[str, Any] = {}
    for key in _TDB_TEXT:
        v[key] = f.opt_text(key, max_len=MAX_TEXT, prose=True)
    restricted = [k for k in _RESTRICTIONS if f.has(k)]
    if action == "restrict":
        if not restricted:
            raise f.error("missing-restriction", "a restriction needs one of " + ", ".join(_RESTRICTIONS))
        for key in ("decision_ground", "category"):
            _requires(f, True, key, "action is restrict")
    elif restricted or f.has("decision_ground"):
        raise f.error("restriction-without-action", "a no-action decision carries no restriction or ground")
    if f.has("decision_visibility"):
        v["decision_visibility"] = _enum_list(f, "decision_visibility", tdb.DECISION_VISIBILITY)
        _requires(
            f,
            "DECISION_VISIBILITY_OTHER" in v["decision_visibility"],
            "decision_visibility_other",
            "decision_visibility has DECISION_VISIBILITY_OTHER",
        )
    for key, allowed in (
        ("decision_monetary", tdb.DECISION_MONETARY),
        ("decision_provision", tdb.DECISION_PROVISION),
        ("decision_account", tdb.DECISION_ACCOUNT),
        ("account_type", tdb.ACCOUNT_TYPE),
        ("decision_ground", tdb.DECISION_GROUND),
        ("category", tdb.CATEGORY),
        ("incompatible_content_illegal", tdb.AUTOMATED_DETECTION),
    ):
        v[key] = f.enum(key, allowed) if f.has(key) else None
    _requires(
        f,
        v["decision_monetary"] == "DECISION_MONETARY_OTHER",
        "decision_monetary_other",
        "decision_monetary is DECISION_MONETARY_OTHER",
    )
    illegal = v["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    incompatible = v["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    _requires(f, illegal, "illegal_content_legal_ground", "the ground is illegal content")
    _requires(f, illegal, "illegal_content_explanation", "the ground is illegal content")
    _requires(f, incompatible, "incompatible_content_ground", "the ground is incompatibility with the terms")
    _requires(f, incompatible, "incompatible_content_explanation", "the ground is incompatibility")
    if (
        f.has("decision_ground_reference_url")
        and check_listing_url(f.raw("decision_ground_reference_url")) is None
    ):
        raise f.bad("decision_ground_reference_url", "an http(s) URL")
    if f.has("category_addition"):
        v["category_addition"] = _enum_list(f, "category_addition", tdb.CATEGORY)
    if f.has("category_specification"):
        v["category_specification"] = _enum_list(f, "category_specification", tdb.KEYWORDS)
        _requires(
            f,
            tdb.KEYWORD_OTHER in v["category_specification"],
            "category_specification_other",
            "category_specification has KEYWORD_OTHER",
        )
    content_type = _enum_list(f, "content_type", tdb.CONTENT_TYPE)
    _requires(f, "CONTENT_TYPE_OTHER" in content_type, "content_type_other", "content_type has OTHER")
    if f.has("territorial_scope"):
        v["territorial_scope"] = tuple(sorted(_enum_list(f, "territorial_scope", tdb.EEA_COUNTRIES)))
    application_date = _date(f, "application_date")
    if f.has("content_date"):
        v["content_date"] = _date(f, "content_date")
        if v["content_date"] > application_date:
            raise f.bad("content_date", "not after application_date")
    if f.has("content_id_ean"):
        ean = check_gtin(f.raw("content_id_ean"))
        if ean is None or len(ean) != 13:
            raise f.bad("content_id_ean", "an EAN-13 with a valid check digit")
        v["content_id_ean"] = ean
    if f.has("listings"):
        listings = f.array("listings", min_len=1, max_len=MAX_LISTINGS)
        if any(check_text(x, max_len=256) is None for x in listings) or len(set(listings)) < len(listings):
            raise f.bad("listings", "distinct listing ids")
        v["listings"] = tuple(listings)
    return Decision(
        created=created,
        expires=expires,
        notice=f.digest("notice"),
        marketplace=f.did("marketplace"),
        puid=f.text("puid", max_len=MAX_PUID),
        action=action,
        decision_facts=f.text("decision_facts", max_len=MAX_TEXT, prose=True),
        content_type=content_type,
        application_date=application_date,
        source_type=f.enum("source_type", tdb.SOURCE_TYPE),
        automated_detection=f.enum("automated_detection", tdb.AUTOMATED_DETECTION),
        automated_decision=f.enum("automated_decision", tdb.AUTOMATED_DECISION),
        redress=_redress(f),
        supersedes=f.opt_digest("supersedes"),
        complaint=f.opt_digest("complaint"),
        decision_ground_reference_url=f.raw("decision_ground_reference_url"),
        **{k: val for k, val in v.items() if val is not None},
    )


def build_decision_payload(decision: Decision) -> dict[str, Any]:
    """The payload for ``sign_message(key, "decision", payload)``, checked by :func:`parse_decision`."""
    payload: dict[str, Any] = {}
    for fld in fields(decision):
        value = getattr(decision, fld.name)
        if value is None or value == ():
            continue
        if fld.name == "redress":
            value = {
                "internal_complaint": value.internal_complaint,
                "out_of_court": value.out_of_court,
                "judicial": value.judicial,
            } | ({"complaint_url": value.complaint_url} if value.complaint_url else {})
        payload[fld.name] = list(value) if isinstance(value, tuple) else value
    parse_decision(payload)
    return payload


def decision_from_message(message: SignedMessage) -> Decision:
    """Parse a verified ``decision`` message; only the marketplace it names may sign it."""
    decision = parse_decision(message.payload_of("decision"))
    if decision.marketplace != message.signer:
        raise SchemaError("schema.decision.wrong-signer", "a decision is signed by the marketplace it names")
    return decision


_EXPORT_SCALARS = (
    "decision_visibility_other",
    "decision_monetary",
    "decision_monetary_other",
    "decision_provision",
    "decision_account",
    "account_type",
    "decision_ground",
    "decision_ground_reference_url",
    "illegal_content_legal_ground",
    "illegal_content_explanation",
    "incompatible_content_ground",
    "incompatible_content_explanation",
    "incompatible_content_illegal",
    "category",
    "category_specification_other",
    "content_type_other",
    "content_date",
    "application_date",
    "decision_facts",
    "source_type",
    "automated_detection",
    "automated_decision",
    "puid",
)
_EXPORT_LISTS = (
    "decision_visibility",
    "category_addition",
    "category_specification",
    "content_type",
    "territorial_scope",
)


def export_statement_of_reasons(decision: Decision) -> dict[str, Any]:
    """The statement of reasons in the Transparency Database API JSON shape.

    Carries no personal data: no notifier contact, no seller reference and no ``source_identity``; only
    what the decision states in TDB terms (``decision_facts`` must itself be written without personal
    data, specs/notices.md). A ``no-action`` decision restricts nothing, so it has no statement to export.
    """
    if not decision.restricts:
        raise SchemaError(
            "schema.decision.not-a-restriction", "a no-action decision has no statement of reasons"
        )
    out: dict[str, Any] = {}
    for key in _EXPORT_LISTS:
        value = getattr(decision, key)
        if value:
            out[key] = list(value)
    for key in _EXPORT_SCALARS:
        value = getattr(decision, key)
        if value is not None:
            out[key] = value
    if decision.content_id_ean is not None:
        out["content_id"] = {"EAN-13": decision.content_id_ean}
    return out


def check_decision_for_notice(decision: Decision, notice: Notice, *, notice_id: bytes) -> None:
    """Check a decision against the notice it names (the node holds both).

    ``listings`` must be listing ids of the notice's items (``schema.decision.unknown-listing``). Only a
    marketplace that received the notice's contact (a recipient) got an art. 16 notice, so only it may
    give ``source_type`` SOURCE_ARTICLE_16 or SOURCE_TRUSTED_FLAGGER; any other marketplace acting on a
    shared notice acts of its own initiative (SOURCE_VOLUNTARY) (``schema.decision.not-notified``).
    """
    if decision.notice != notice_id:
        raise SchemaError("schema.decision.wrong-notice", "the decision names another notice")
    known = {item.listing_id for item in notice.items}
    unknown = [x for x in decision.listings if x not in known]
    if unknown:
        raise SchemaError("schema.decision.unknown-listing", f"{unknown[0]!r} is not an item of the notice")
    notified = decision.marketplace in notice.recipients
    if not notified and decision.source_type in ("SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER"):
        raise SchemaError(
            "schema.decision.not-notified", "this marketplace was not a recipient of the notice"
        )
