"""IPRightCredential: an office attests that a holder DID owns a right as its register records it.

Why a credential: the holder proves the right to any marketplace offline, in one step, and the claims are
exactly the register's (so a marketplace sees what the office sees). The right travels in two spellings:
``RIGHT.json`` uses the register's field names (``protocol/register.py``: ``right_type``, ``office``, …, so a
register entry without its contact e-mail *is* a RIGHT.json) and the credential uses the JSON-LD terms of
the rightsmesh context (``rightType``, ``officeCode``, …). Both are parsed strictly into :class:`IPRight`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .data_integrity import add_proof
from .errors import SchemaError
from .keys import KeyPair
from .status_list import status_entry
from .vc import (
    CREDENTIAL_CONTEXTS,
    check_contexts,
    credential_types,
    derive_id,
    parse_date,
    parse_datetime,
    require_absolute_id,
    require_did,
    subject_of,
)

__all__ = [
    "CREDENTIAL_TYPE",
    "MARK_FEATURES",
    "MARK_KINDS",
    "OFFICE_CODES",
    "RIGHT_TYPES",
    "STATUSES",
    "TERMS",
    "IPRight",
    "check_ip_right_credential",
    "expiry_instant",
    "ip_right_credential",
    "issue_ip_right_credential",
    "right_from_credential",
    "right_from_json",
]

CREDENTIAL_TYPE = "IPRightCredential"
RIGHT_TYPES = frozenset({"trademark", "design", "patent"})
# WIPO ST.3 codes of the offices a right can come from: states and the regional/international offices
# (EM = EUIPO, EP = EPO, WO = WIPO International Bureau, BX = Benelux, EA, AP, OA, GC, QZ = CPVO).
_OFFICES = """
    EM EP WO BX EA AP OA GC QZ
    AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE
    IS LI NO CH GB TR RS ME MK AL BA MD UA GE AM AZ
    US CA MX BR AR CL CO PE UY JP CN KR TW HK MO SG IN AU NZ ZA IL SA AE EG MA TN NG KE TH MY ID PH VN
"""
OFFICE_CODES = frozenset(_OFFICES.split())
MARK_FEATURES = frozenset(
    {"word", "figurative", "combined", "shape", "position", "pattern", "colour", "sound", "hologram",
     "motion", "multimedia", "olfactory", "tracer", "other"}
)
MARK_KINDS = frozenset({"individual", "collective", "certification"})
STATUSES = frozenset(
    {"filed", "published", "opposed", "registered", "granted", "refused", "withdrawn", "expired", "lapsed",
     "cancelled", "surrendered"}
)
_MARK_ONLY = ("mark_feature", "mark_kind", "nice_classes", "nice_edition")
_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./-]{0,31}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_EDITION = re.compile(r"^[0-9]{1,2}-[0-9]{4}$")
MAX_TEXT = 500

# RIGHT.json (register) field name -> credential term.
TERMS: dict[str, str] = {
    "right_type": "rightType",
    "office": "officeCode",
    "application_number": "applicationNumber",
    "registration_number": "registrationNumber",
    "verbal_element": "verbalElement",
    "mark_feature": "markFeature",
    "mark_kind": "markKind",
    "nice_classes": "niceClasses",
    "nice_edition": "niceEdition",
    "territory": "territory",
    "filing_date": "filingDate",
    "registration_date": "registrationDate",
    "expiry_date": "expiryDate",
    "status": "registerStatus",
    "holder_name": "holderName",
    "holder_country": "holderCountry",
}


@dataclass(frozen=True)
class IPRight:
    """A right as the register records it. Dates are ``YYYY-MM-DD``; Nice classes sorted and unique."""

    right_type: str
    office: str
    application_number: str
    territory: str
    filing_date: str
    status: str
    holder_name: str
    holder_country: str
    registration_number: str | None = None
    verbal_element: str | None = None
    mark_feature: str | None = None
    mark_kind: str | None = None
    nice_classes: tuple[int, ...] = ()
    nice_edition: str | None = None
    registration_date: str | None = None
    expiry_date: str | None = None

    @property
    def key(self) -> str:
        """The right's identity: ``OFFICE:application_number`` (as in the register)."""
        return f"{self.office}:{self.application_number}"

    def to_json(self) -> dict[str, Any]:
        """RIGHT.json form (register field names), ``None`` and empty fields left out."""
        out: dict[str, Any] = {}
        for name in TERMS:
            value = getattr(self, name)
            if value is None or value == ():
                continue
            out[name] = list(value) if isinstance(value, tuple) else value
        return out

    def to_claims(self) -> dict[str, Any]:
        """The credential-subject claims (rightsmesh context terms)."""
        return {TERMS[name]: value for name, value in self.to_json().items()}


def _field(raw: Mapping[str, Any], name: str, spelling: str, *, required: bool) -> Any:
    value = raw.get(spelling)
    if value is None:
        if spelling in raw:
            raise SchemaError("schema.right.type", f"{spelling} must not be null")
        if required:
            raise SchemaError("schema.right.missing", f"{spelling} is required")
    return value


def _text(value: Any, spelling: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SchemaError("schema.right.type", f"{spelling} must be a non-empty string")
    if len(value) > MAX_TEXT or value != value.strip():
        raise SchemaError("schema.right.text", f"{spelling} is too long or has outer spaces")
    return value


def _choice(value: str, allowed: frozenset[str], code: str, spelling: str) -> str:
    if value not in allowed:
        raise SchemaError(f"schema.right.{code}", f"{spelling} {value[:40]!r} is not in {sorted(allowed)}")
    return value


def _pattern(value: str, pattern: re.Pattern[str], code: str, spelling: str) -> str:
    if not pattern.match(value):
        raise SchemaError(f"schema.right.{code}", f"{spelling} has an invalid format: {value[:40]!r}")
    return value


def _classes(value: Any, spelling: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise SchemaError("schema.right.nice-class", f"{spelling} must be a non-empty list of integers")
    out: set[int] = set()
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= 45:
            raise SchemaError("schema.right.nice-class", f"not a Nice class (1-45): {str(item)[:20]!r}")
        if item in out:
            raise SchemaError("schema.right.nice-class", f"Nice class {item} is repeated")
        out.add(item)
    return tuple(sorted(out))


def _date(value: Any, spelling: str) -> str:
    try:
        return parse_date(value, spelling).isoformat()
    except SchemaError as exc:
        raise SchemaError("schema.right.date", exc.detail) from None


def _parse(raw: Any, names: Mapping[str, str]) -> IPRight:
    """Validate a right given the spelling of each field (``names``: field -> key in ``raw``)."""
    if not isinstance(raw, Mapping):
        raise SchemaError("schema.right.type", "a right is a JSON object")
    unknown = set(raw) - set(names.values())
    if unknown:
        raise SchemaError("schema.right.unknown-field", f"unknown fields: {sorted(map(str, unknown))[:10]}")
    values: dict[str, Any] = {}
    for name, spelling in names.items():
        required = name in ("right_type", "office", "application_number", "territory", "filing_date",
                            "status", "holder_name", "holder_country")
        value = _field(raw, name, spelling, required=required)
        if value is None:
            continue
        if name == "nice_classes":
            values[name] = _classes(value, spelling)
        elif name.endswith("_date"):
            values[name] = _date(value, spelling)
        else:
            values[name] = _text(value, spelling)
    _choice(values["right_type"], RIGHT_TYPES, "right-type", names["right_type"])
    _choice(values["office"], OFFICE_CODES, "office-code", names["office"])
    _choice(values["status"], STATUSES, "status", names["status"])
    for name in ("application_number", "registration_number"):
        if name in values:
            _pattern(values[name], _NUMBER, "number", names[name])
    _pattern(values["territory"], _COUNTRY, "territory", names["territory"])
    _pattern(values["holder_country"], _COUNTRY, "holder-country", names["holder_country"])
    if "mark_feature" in values:
        _choice(values["mark_feature"], MARK_FEATURES, "mark-feature", names["mark_feature"])
    if "mark_kind" in values:
        _choice(values["mark_kind"], MARK_KINDS, "mark-kind", names["mark_kind"])
    if "nice_edition" in values:
        _pattern(values["nice_edition"], _EDITION, "nice-edition", names["nice_edition"])
    if values["right_type"] == "trademark":
        if "nice_classes" not in values:
            raise SchemaError("schema.right.nice-class", "a trade mark has at least one Nice class")
    else:
        present = [names[n] for n in _MARK_ONLY if n in values]
        if present:
            raise SchemaError("schema.right.not-a-mark", f"{present} only apply to trade marks")
    if values["status"] in ("registered", "granted"):
        for name in ("registration_date", "expiry_date"):
            if name not in values:
                raise SchemaError("schema.right.missing", f"a {values['status']} right has {names[name]}")
    filing = values["filing_date"]
    registration = values.get("registration_date")
    expiry = values.get("expiry_date")
    if registration is not None and registration < filing:
        raise SchemaError("schema.right.date-order", "the registration date is before the filing date")
    if expiry is not None and expiry <= (registration or filing):
        raise SchemaError("schema.right.date-order", "the expiry date is not after registration/filing")
    return IPRight(**values)


def right_from_json(raw: Any) -> IPRight:
    """Parse a RIGHT.json object (register field names); raises SchemaError ``schema.right.*``."""
    return _parse(raw, {name: name for name in TERMS})


def right_from_credential(document: Mapping[str, Any]) -> IPRight:
    """The right claimed by an IPRightCredential's subject (structure only; no proof check)."""
    subject = dict(subject_of(document))
    subject.pop("id", None)
    return _parse(subject, TERMS)


def expiry_instant(right: IPRight) -> datetime | None:
    """The last moment a right is in force: the end of its expiry day (UTC), or None without expiry."""
    if right.expiry_date is None:
        return None
    return parse_datetime(f"{right.expiry_date}T23:59:59Z", "expiry")


def ip_right_credential(
    issuer: str,
    subject_did: str,
    right: IPRight,
    *,
    valid_from: str,
    valid_until: str | None = None,
    credential_id: str | None = None,
    status_list_url: str | None = None,
    status_index: int | None = None,
    suspension_list_url: str | None = None,
    suspension_index: int | None = None,
) -> dict[str, Any]:
    """The unsigned credential. ``validUntil`` defaults to the right's expiry and may not exceed it.

    ``status_list_url``/``status_index`` name its revocation entry; ``suspension_list_url``/
    ``suspension_index`` add a second entry, in a suspension list, so the office can also suspend it
    (``credentialStatus`` then holds both, one per purpose)."""
    require_did(issuer, "issuer")
    require_did(subject_did, "subject")
    start = parse_datetime(valid_from, "validFrom")
    limit = expiry_instant(right)
    if valid_until is None:
        if limit is None:
            raise SchemaError("schema.right.valid-until", "a right without expiry needs a validUntil")
        valid_until = f"{right.expiry_date}T23:59:59Z"
    end = parse_datetime(valid_until, "validUntil")
    if limit is not None and end > limit:
        raise SchemaError("schema.right.valid-until", "validUntil is later than the right's expiry")
    if end <= start:
        raise SchemaError("schema.validity-window", "validUntil must be after validFrom")
    if credential_id is None:
        credential_id = derive_id(issuer, subject_did, right.key, valid_from)
    document: dict[str, Any] = {
        "@context": list(CREDENTIAL_CONTEXTS),
        "id": require_absolute_id(credential_id, "id"),
        "type": ["VerifiableCredential", CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": valid_from,
        "validUntil": valid_until,
        "credentialSubject": {"id": subject_did, **right.to_claims()},
    }
    entries = []
    for url, index, purpose in (
        (status_list_url, status_index, "revocation"),
        (suspension_list_url, suspension_index, "suspension"),
    ):
        if (url is None) != (index is None):
            raise SchemaError(
                "schema.credential-status", "a status entry needs both the list URL and the index"
            )
        if url is not None and index is not None:
            entries.append(status_entry(url, index, purpose))
    if entries:
        document["credentialStatus"] = entries[0] if len(entries) == 1 else entries
    return document


def issue_ip_right_credential(
    office_key: KeyPair,
    subject_did: str,
    right: IPRight,
    *,
    created: str,
    status_list_url: str | None = None,
    status_index: int | None = None,
    suspension_list_url: str | None = None,
    suspension_index: int | None = None,
    credential_id: str | None = None,
    valid_from: str | None = None,
    valid_until: str | None = None,
    suite: str = "eddsa-jcs-2022",
) -> dict[str, Any]:
    """Sign an IPRightCredential for ``subject_did`` (``validFrom`` defaults to ``created``).

    The id, when not given, is derived from issuer, subject, right and validFrom, so re-issuing the same
    thing at the same time gives the same id. Without a status entry the credential cannot be revoked,
    and verifiers that require status (the default) refuse it.
    """
    document = ip_right_credential(
        office_key.did,
        subject_did,
        right,
        valid_from=valid_from or created,
        valid_until=valid_until,
        credential_id=credential_id,
        status_list_url=status_list_url,
        status_index=status_index,
        suspension_list_url=suspension_list_url,
        suspension_index=suspension_index,
    )
    return add_proof(document, office_key, created=created, suite=suite)


def check_ip_right_credential(document: Mapping[str, Any]) -> IPRight:
    """Structure checks specific to this type (contexts, claims, validUntil within the right's term)."""
    check_contexts(document, CREDENTIAL_CONTEXTS)
    if CREDENTIAL_TYPE not in credential_types(document):
        raise SchemaError("schema.type", f"not an {CREDENTIAL_TYPE}")
    require_absolute_id(document.get("id"), "id")  # notices and authorisations name rights by id
    require_did(subject_of(document).get("id"), "credentialSubject.id")
    right = right_from_credential(document)
    if "validUntil" not in document:
        raise SchemaError("schema.right.valid-until", "an IPRightCredential has a validUntil")
    limit = expiry_instant(right)
    if limit is not None and parse_datetime(document["validUntil"], "validUntil") > limit:
        raise SchemaError("schema.right.valid-until", "validUntil is later than the right's expiry")
    return right
