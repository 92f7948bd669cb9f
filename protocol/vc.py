"""Shared pieces of the rightsmesh credential types: contexts, timestamps, ids, DIDs and JSON input.

Why one module: IP-right, authorisation and status-list credentials and the verifier must read dates,
identifiers and the credential skeleton (``@context``, ``type``, ``issuer``, ``credentialSubject``) exactly
the same way, and refuse the same malformed values with the same codes.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from .errors import DecodeError, ProtocolError, SchemaError
from .jsonld import DEFAULT_LIMITS, DocumentLimits, check_json
from .keys import public_key_from_did

__all__ = [
    "CREDENTIAL_CONTEXTS",
    "RIGHTSMESH_CONTEXT",
    "VC_CONTEXT",
    "check_contexts",
    "credential_types",
    "derive_id",
    "format_datetime",
    "issuer_of",
    "load_json",
    "parse_date",
    "parse_datetime",
    "require_absolute_id",
    "require_did",
    "require_mapping",
    "subject_of",
]

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
RIGHTSMESH_CONTEXT = "https://w3id.org/rightsmesh/v1"
CREDENTIAL_CONTEXTS: tuple[str, ...] = (VC_CONTEXT, RIGHTSMESH_CONTEXT)

# XSD dateTime lexical form; the zone is optional in XSD, and its absence is refused separately.
_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?$"
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Absolute IRI: a scheme, a colon, then no whitespace (RFC 3987 in spirit, enough to refuse relative ids).
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$")
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, RIGHTSMESH_CONTEXT)
MAX_ID = 512


def parse_datetime(value: Any, name: str) -> datetime:
    """An XSD dateTimeStamp (a dateTime *with* zone) as an aware datetime.

    A timestamp without a zone is ambiguous by hours, so it is refused (``schema.no-timezone``) rather
    than guessed; anything else unreadable is ``schema.datetime``.
    """
    if not isinstance(value, str):
        raise SchemaError("schema.datetime", f"{name} must be a date-time string")
    match = _DATETIME.match(value)
    if match is None:
        raise SchemaError("schema.datetime", f"{name} is not an XSD date-time: {value[:64]!r}")
    if match.group(8) is None:
        raise SchemaError("schema.no-timezone", f"{name} has no time zone: {value[:64]!r}")
    fraction = match.group(7) or ""
    text = value[: match.start(7)] if fraction else value[: match.start(8)]
    if fraction:
        text += fraction[:7]  # fromisoformat takes at most 6 digits of fraction
    zone = match.group(8)
    text += "+00:00" if zone == "Z" else zone
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise SchemaError("schema.datetime", f"{name} is not a valid date-time: {value[:64]!r}") from None


def format_datetime(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC (whole seconds): the one form rightsmesh writes."""
    if moment.tzinfo is None:
        raise SchemaError("schema.no-timezone", "a datetime without a time zone cannot be written")
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_date(value: Any, name: str) -> date:
    """An XSD date ``YYYY-MM-DD`` (no zone: register dates are calendar days)."""
    if not isinstance(value, str) or not _DATE.match(value):
        raise SchemaError("schema.date", f"{name} is not a YYYY-MM-DD date: {str(value)[:64]!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SchemaError("schema.date", f"{name} is not a valid date: {value!r}") from None


def derive_id(*parts: str) -> str:
    """A ``urn:uuid:`` (UUID v5 in the rightsmesh namespace) derived from the parts: same input, same id."""
    return "urn:uuid:" + str(uuid.uuid5(_ID_NAMESPACE, "\x1f".join(parts)))


def require_absolute_id(value: Any, name: str) -> str:
    """An absolute IRI (``urn:uuid:…``, ``https://…``, ``did:…``): a relative one is dropped by RDF."""
    if not isinstance(value, str) or len(value) > MAX_ID or not _ABSOLUTE_IRI.match(value):
        raise SchemaError("schema.id", f"{name} must be an absolute IRI: {str(value)[:80]!r}")
    return value


def require_did(value: Any, name: str) -> str:
    """A ``did:key`` DID (no fragment) naming an Ed25519 key."""
    if not isinstance(value, str) or "#" in value:
        raise SchemaError("schema.did", f"{name} must be a did:key DID")
    try:
        public_key_from_did(value)
    except ProtocolError:
        raise SchemaError("schema.did", f"{name} is not a valid did:key DID: {value[:80]!r}") from None
    return value


def require_mapping(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SchemaError("schema.credential", f"{name} must be a JSON object")
    return value


def check_contexts(document: Mapping[str, Any], required: tuple[str, ...]) -> None:
    """``@context`` is a list starting with the VC 2.0 context and holding every ``required`` one."""
    contexts = document.get("@context")
    if not isinstance(contexts, list) or not contexts or contexts[0] != VC_CONTEXT:
        raise SchemaError("schema.context", f"@context must be a list starting with {VC_CONTEXT}")
    for url in required:
        if url not in contexts:
            raise SchemaError("schema.context", f"@context must include {url}")


def credential_types(document: Mapping[str, Any]) -> tuple[str, ...]:
    types = document.get("type")
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise SchemaError("schema.type", "type must be a string or a list of strings")
    return tuple(types)


def issuer_of(document: Mapping[str, Any]) -> str:
    """The issuer DID (VC 2.0 allows a string or an object with an ``id``)."""
    issuer = document.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return require_did(issuer, "issuer")


def subject_of(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """The single ``credentialSubject`` object (rightsmesh credentials have exactly one subject)."""
    subject = document.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    if not isinstance(subject, Mapping):
        raise SchemaError("schema.credential", "credentialSubject must be one JSON object")
    return subject


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DecodeError("decode.duplicate-key", f"JSON object repeats the key {key[:80]!r}")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise DecodeError("decode.json", f"{name} is not JSON")


def load_json(data: bytes | str, limits: DocumentLimits = DEFAULT_LIMITS) -> Any:
    """Parse untrusted JSON: size bounded before parsing, repeated keys refused (two readers of one
    document could otherwise see different values), then depth and item counts checked."""
    if len(data) > limits.max_bytes:
        raise DecodeError("decode.too-large", f"larger than {limits.max_bytes} bytes")
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise DecodeError("decode.utf8", "the document is not UTF-8") from None
    except RecursionError:
        raise DecodeError("decode.too-deep", "the document is nested too deeply") from None
    except ValueError as exc:
        raise DecodeError("decode.json", f"not JSON: {exc}") from None
    check_json(value, limits)
    return value
