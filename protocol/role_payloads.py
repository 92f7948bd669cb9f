"""Payloads of the office and marketplace messages: search-result, marketplace-profile, enrolment-result.

Each has a builder (what a node signs) and a checker (what a reader accepts), matching the CDDL in
``specs/cddl/<kind>.cddl``. Codes follow :mod:`protocol.payload_fields`:
``schema.<kind>.missing-<field>`` / ``schema.<kind>.bad-<field>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .payload_fields import Fields, check_text
from .register import RIGHT_TYPES

__all__ = [
    "ENROLMENT_CHECKS",
    "PROFILE_FIELDS",
    "check_enrolment_result",
    "check_profile",
    "check_search_result",
    "enrolment_result_payload",
    "profile_payload",
    "search_result_payload",
]

MAX_RESULTS = 100
ENROLMENT_CHECKS = frozenset(
    {"proof", "challenge", "domain", "issuer", "trust", "validity", "status", "holder-binding", "schema"}
)
_QUERY_KEYS = frozenset({"q", "number", "class", "owner", "limit"})

# Fields an operator writes in PROFILE.json; "created" and "marketplace" are added when signing.
PROFILE_REQUIRED = frozenset(
    {"name", "programme", "accepted_rights", "notice_endpoint", "languages", "turnaround_hours",
     "counter_notice", "contact_point"}
)
PROFILE_OPTIONAL = frozenset({"programme_url", "counter_notice_url"})
PROFILE_FIELDS = PROFILE_REQUIRED | PROFILE_OPTIONAL
_CONTACT_REQUIRED = frozenset({"email"})
_CONTACT_OPTIONAL = frozenset({"url", "phone", "languages"})


def search_result_payload(
    office: str, query: Mapping[str, Any], results: Sequence[Mapping[str, Any]], total: int, created: int
) -> dict[str, Any]:
    """An office's search answer; ``results`` are register entries without contact data."""
    return {
        "created": created,
        "office": office,
        "query": dict(query),
        "results": [dict(r) for r in results],
        "total": total,
        "truncated": total > len(results),
    }


def check_search_result(payload: Any) -> Fields:
    f = Fields(payload, "search-result", frozenset({"created", "office", "query", "results", "total",
                                                   "truncated"}), frozenset({"expires"}))
    f.uint("created")
    f.opt_uint("expires")
    f.did("office")
    query = f.raw("query")
    if not isinstance(query, Mapping) or set(query) - _QUERY_KEYS or "limit" not in query:
        raise f.bad("query", "a map of q, number, class, owner and limit")
    for entry in f.array("results", max_len=MAX_RESULTS):
        if not isinstance(entry, Mapping) or "contact_email" in entry or "application_number" not in entry:
            raise f.bad("results", "register entries without contact data")
    f.uint("total")
    f.boolean("truncated")
    return f


def _languages(f: Fields, value: Any, key: str) -> list[str]:
    if not isinstance(value, list) or not value or len(value) > 30:
        raise f.bad(key, "a non-empty list of BCP 47 language tags")
    for tag in value:
        if check_text(tag, max_len=35, min_len=2) is None:
            raise f.bad(key, "a non-empty list of BCP 47 language tags")
    return list(value)


def check_profile(payload: Any, *, signed: bool = True) -> Fields:
    """Check a profile payload; ``signed=False`` checks the operator's file (no created/marketplace)."""
    extra = frozenset({"created", "marketplace"}) if signed else frozenset()
    f = Fields(payload, "marketplace-profile", PROFILE_REQUIRED | extra, PROFILE_OPTIONAL | {"expires"})
    if signed:
        f.uint("created")
        f.did("marketplace")
    f.opt_uint("expires")
    f.text("name", max_len=200)
    f.text("programme", max_len=200)
    f.opt_text("programme_url", max_len=2000)
    rights = f.array("accepted_rights", max_len=3, min_len=1)
    # isinstance first: a list or map in the array is unhashable and would raise TypeError, not SchemaError
    if any(not isinstance(r, str) or r not in RIGHT_TYPES for r in rights) or len(set(rights)) != len(rights):
        raise f.bad("accepted_rights", "distinct values among " + ", ".join(sorted(RIGHT_TYPES)))
    endpoint = f.text("notice_endpoint", max_len=2000)
    if not endpoint.startswith(("https://", "http://")):
        raise f.bad("notice_endpoint", "an http(s) URL")
    _languages(f, f.raw("languages"), "languages")
    f.uint("turnaround_hours", maximum=24 * 365)
    f.text("counter_notice", max_len=4000, prose=True)
    f.opt_text("counter_notice_url", max_len=2000)
    contact = Fields(f.raw("contact_point"), "marketplace-profile.contact-point", _CONTACT_REQUIRED,
                     _CONTACT_OPTIONAL)
    if "@" not in contact.text("email", max_len=320):
        raise contact.bad("email", "an e-mail address")
    contact.opt_text("url", max_len=2000)
    contact.opt_text("phone", max_len=40)
    if contact.has("languages"):
        _languages(contact, contact.raw("languages"), "languages")
    return f


def profile_payload(marketplace: str, profile: Mapping[str, Any], created: int) -> dict[str, Any]:
    """The signed form of an operator's profile file (checked first: raises SchemaError)."""
    check_profile(profile, signed=False)
    payload = {k: v for k, v in profile.items() if k != "expires"}
    payload.update(created=created, marketplace=marketplace)
    return payload


def enrolment_result_payload(
    *,
    marketplace: str,
    enrolment: str,
    holder: str,
    challenge: str,
    presentation_hash: bytes,
    rights: Sequence[Mapping[str, Any]],
    checks: Sequence[str],
    created: int,
) -> dict[str, Any]:
    payload = {
        "created": created,
        "marketplace": marketplace,
        "enrolment": enrolment,
        "holder": holder,
        "challenge": challenge,
        "presentation": presentation_hash,
        "rights": [dict(r) for r in rights],
        "checks": sorted(checks),
    }
    check_enrolment_result(payload)
    return payload


def check_enrolment_result(payload: Any) -> Fields:
    f = Fields(payload, "enrolment-result", frozenset({"created", "marketplace", "enrolment", "holder",
                                                      "challenge", "presentation", "rights", "checks"}),
               frozenset({"expires"}))
    f.uint("created")
    f.opt_uint("expires")
    f.did("marketplace")
    f.text("enrolment", max_len=100)
    f.did("holder")
    f.text("challenge", max_len=200)
    f.digest("presentation")
    for right in f.array("rights", max_len=100, min_len=1):
        r = Fields(right, "enrolment-result.right", frozenset({"credential", "issuer", "office", "number"}),
                   frozenset({"verbal_element", "valid_until"}))
        r.text("credential", max_len=2000)
        r.did("issuer")
        r.text("office", max_len=2)
        r.text("number", max_len=32)
        r.opt_text("verbal_element", max_len=500)
        r.opt_text("valid_until", max_len=40)
    checks = f.array("checks", max_len=len(ENROLMENT_CHECKS), min_len=1)
    if any(not isinstance(c, str) or c not in ENROLMENT_CHECKS for c in checks):
        raise f.bad("checks", "names of checks among " + ", ".join(sorted(ENROLMENT_CHECKS)))
    return f
