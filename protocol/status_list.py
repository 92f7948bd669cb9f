"""W3C Bitstring Status List: an office's revocation and suspension lists as signed credentials.

Why a bitstring: a verifier learns whether a credential is revoked from one small document that covers
131,072 (or more) credentials, so fetching it reveals nothing about which credential is being checked.
Bit ``i`` is the ``statusListIndex`` of one credential; bit 0 is the most significant bit of the first byte.
The list travels GZIP-compressed, base64url-encoded without padding, with the multibase prefix ``u``.

Versioning: the credential ``id`` is the list URL and never changes; each change of bits increases the
rightsmesh term ``statusListVersion`` (in the list subject) and the office re-signs the whole list with a
new ``validFrom``. A holder of two versions keeps the higher one. A revocation list only ever sets bits
(revocation is final); a suspension list sets and clears them.
"""

from __future__ import annotations

import base64
import gzip
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from .data_integrity import add_proof, verify_proof
from .errors import DecodeError, SchemaError, SignatureError, UnsupportedError, ValidityError
from .keys import KeyPair
from .vc import (
    CREDENTIAL_CONTEXTS,
    check_contexts,
    credential_types,
    issuer_of,
    parse_datetime,
    require_absolute_id,
    subject_of,
)

__all__ = [
    "LIST_TYPE",
    "MAX_LIST_BYTES",
    "MIN_ENTRIES",
    "PURPOSES",
    "StatusEntry",
    "StatusList",
    "decode_list",
    "encode_list",
    "issue_status_list_credential",
    "new_status_list",
    "parse_status_entry",
    "revoke",
    "set_bits",
    "status_entry",
    "status_list_credential",
    "status_list_from_credential",
    "suspend",
    "unsuspend",
    "verify_status_list_credential",
]

MIN_ENTRIES = 131_072  # 16 KiB: the W3C minimum, so that a list gives group privacy
MAX_LIST_BYTES = 2 * 1024 * 1024  # 16,777,216 entries; the bound on decompression (zip bombs)
PURPOSES = ("revocation", "suspension")
LIST_TYPE = "BitstringStatusListCredential"
ENTRY_TYPE = "BitstringStatusListEntry"
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")
_INDEX = re.compile(r"^(0|[1-9][0-9]{0,9})$")
_SUBJECT_KEYS = frozenset({"id", "type", "statusPurpose", "encodedList", "statusListVersion", "ttl"})
_ENTRY_KEYS = frozenset(
    {"id", "type", "statusPurpose", "statusListIndex", "statusListCredential", "statusSize"}
)


# --------------------------------------------------------------------------------------------------------
# entries (in the credentials a list covers)


@dataclass(frozen=True)
class StatusEntry:
    """A credential's place in a status list: list URL, bit index, purpose."""

    url: str
    index: int
    purpose: str


def status_entry(url: str, index: int, purpose: str = "revocation") -> dict[str, Any]:
    """The ``credentialStatus`` value for bit ``index`` of the list at ``url``."""
    require_absolute_id(url, "statusListCredential")
    if purpose not in PURPOSES:
        raise SchemaError("schema.status-purpose", f"status purpose must be one of {PURPOSES}")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < MAX_LIST_BYTES * 8:
        raise SchemaError("schema.status-index", f"status index must be 0..{MAX_LIST_BYTES * 8 - 1}")
    return {
        "id": f"{url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


def _one_entry(raw: Any) -> StatusEntry:
    if not isinstance(raw, Mapping) or raw.get("type") != ENTRY_TYPE:
        raise UnsupportedError("unsupported.status-type", f"credentialStatus must be a {ENTRY_TYPE}")
    unknown = set(raw) - _ENTRY_KEYS
    if unknown:
        names = sorted(map(str, unknown))
        raise SchemaError("schema.credential-status", f"unexpected credentialStatus fields {names}")
    if raw.get("statusSize", 1) != 1:
        raise UnsupportedError("unsupported.status-size", "only statusSize 1 (one bit per credential)")
    purpose = raw.get("statusPurpose")
    if purpose not in PURPOSES:
        raise UnsupportedError("unsupported.status-purpose", f"status purpose must be one of {PURPOSES}")
    index = raw.get("statusListIndex")
    if not isinstance(index, str) or not _INDEX.match(index) or int(index) >= MAX_LIST_BYTES * 8:
        raise SchemaError("schema.status-index", "statusListIndex must be a decimal string in range")
    url = require_absolute_id(raw.get("statusListCredential"), "statusListCredential")
    if "id" in raw:
        require_absolute_id(raw["id"], "credentialStatus.id")
    return StatusEntry(url=url, index=int(index), purpose=str(purpose))


def parse_status_entry(raw: Any) -> tuple[StatusEntry, ...]:
    """The entries of a ``credentialStatus`` (one object or a list of at most one per purpose)."""
    items = raw if isinstance(raw, list) else [raw]
    if not items or len(items) > len(PURPOSES):
        raise SchemaError("schema.credential-status", "credentialStatus must hold one entry per purpose")
    entries = tuple(_one_entry(item) for item in items)
    if len({e.purpose for e in entries}) != len(entries):
        raise SchemaError("schema.credential-status", "credentialStatus repeats a status purpose")
    return entries


# --------------------------------------------------------------------------------------------------------
# the bitstring


def encode_list(bits: bytes) -> str:
    """GZIP (deterministic: mtime 0) then base64url without padding, multibase prefix ``u``."""
    return "u" + base64.urlsafe_b64encode(gzip.compress(bits, compresslevel=9, mtime=0)).decode().rstrip("=")


def decode_list(encoded: Any, *, max_bytes: int = MAX_LIST_BYTES) -> bytes:
    """The bitstring of an ``encodedList``; decompression stops at ``max_bytes`` (a 16 MiB list fits in a
    few KiB of GZIP, so the compressed size says nothing about the work)."""
    if not isinstance(encoded, str) or not encoded.startswith("u") or not _B64URL.match(encoded[1:]):
        raise DecodeError("decode.status-list", "encodedList must be multibase base64url ('u', no padding)")
    body = encoded[1:]
    if len(body) % 4 == 1:
        raise DecodeError("decode.status-list", "encodedList is not valid base64url")
    compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        bits = inflater.decompress(compressed, max_bytes + 1)
    except zlib.error:
        raise DecodeError("decode.status-list", "encodedList is not GZIP data") from None
    if len(bits) > max_bytes or inflater.unconsumed_tail:
        raise DecodeError("decode.too-large", f"status list larger than {max_bytes} bytes")
    if not inflater.eof or inflater.unused_data:
        raise DecodeError("decode.status-list", "encodedList is truncated or has trailing data")
    if len(bits) * 8 < MIN_ENTRIES:
        raise SchemaError("schema.status-list-size", f"a status list has at least {MIN_ENTRIES} entries")
    return bits


# --------------------------------------------------------------------------------------------------------
# lists


@dataclass(frozen=True)
class StatusList:
    """One version of an office's status list for one purpose (values: every change returns a new one)."""

    url: str
    issuer: str
    purpose: str
    version: int
    bits: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.bits) * 8

    def get(self, index: int) -> bool:
        """The bit at ``index`` (bit 0 = most significant bit of the first byte)."""
        if type(index) is not int or not 0 <= index < self.size:
            raise SchemaError("schema.status-index", f"index {index} is outside a list of {self.size}")
        return bool(self.bits[index >> 3] & (0x80 >> (index & 7)))


def new_status_list(url: str, issuer: str, purpose: str, *, size: int = MIN_ENTRIES) -> StatusList:
    """An all-clear list of ``size`` entries (a multiple of 8, at least the W3C minimum), version 1."""
    require_absolute_id(url, "status list URL")
    if purpose not in PURPOSES:
        raise SchemaError("schema.status-purpose", f"status purpose must be one of {PURPOSES}")
    if size < MIN_ENTRIES or size % 8 or size > MAX_LIST_BYTES * 8:
        raise SchemaError("schema.status-list-size", f"size must be a multiple of 8 in {MIN_ENTRIES}..")
    return StatusList(url=url, issuer=issuer, purpose=purpose, version=1, bits=bytes(size // 8))


def set_bits(status_list: StatusList, indices: Iterable[int], value: bool) -> StatusList:
    """A new version with the bits at ``indices`` set (or cleared). Clearing a revocation is refused."""
    if not value and status_list.purpose == "revocation":
        raise SchemaError("schema.status-purpose", "revocation is final: a revocation bit is never cleared")
    bits = bytearray(status_list.bits)
    for index in indices:
        status_list.get(index)  # bounds check
        mask = 0x80 >> (index & 7)
        bits[index >> 3] = (bits[index >> 3] | mask) if value else (bits[index >> 3] & ~mask)
    return replace(status_list, bits=bytes(bits), version=status_list.version + 1)


def _require_purpose(status_list: StatusList, purpose: str) -> None:
    if status_list.purpose != purpose:
        raise SchemaError("schema.status-purpose", f"this is a {status_list.purpose} list, not {purpose}")


def revoke(status_list: StatusList, *indices: int) -> StatusList:
    _require_purpose(status_list, "revocation")
    return set_bits(status_list, indices, True)


def suspend(status_list: StatusList, *indices: int) -> StatusList:
    _require_purpose(status_list, "suspension")
    return set_bits(status_list, indices, True)


def unsuspend(status_list: StatusList, *indices: int) -> StatusList:
    _require_purpose(status_list, "suspension")
    return set_bits(status_list, indices, False)


# --------------------------------------------------------------------------------------------------------
# list credentials


def status_list_credential(
    status_list: StatusList, *, valid_from: str, valid_until: str | None = None
) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` of one list version."""
    start = parse_datetime(valid_from, "validFrom")
    document: dict[str, Any] = {
        "@context": list(CREDENTIAL_CONTEXTS),
        "id": status_list.url,
        "type": ["VerifiableCredential", LIST_TYPE],
        "issuer": status_list.issuer,
        "validFrom": valid_from,
    }
    if valid_until is not None:
        if parse_datetime(valid_until, "validUntil") <= start:
            raise SchemaError("schema.validity-window", "validUntil must be after validFrom")
        document["validUntil"] = valid_until
    document["credentialSubject"] = {
        "id": f"{status_list.url}#list",
        "type": "BitstringStatusList",
        "statusPurpose": status_list.purpose,
        "encodedList": encode_list(status_list.bits),
        "statusListVersion": status_list.version,
    }
    return document


def issue_status_list_credential(
    key: KeyPair,
    status_list: StatusList,
    *,
    created: str,
    valid_until: str | None = None,
    suite: str = "eddsa-jcs-2022",
) -> dict[str, Any]:
    """Sign one list version (``validFrom`` = ``created``) with the office key that owns the list."""
    if key.did != status_list.issuer:
        raise SchemaError("schema.issuer", "a status list is signed by the office that issued it")
    document = status_list_credential(status_list, valid_from=created, valid_until=valid_until)
    return add_proof(document, key, created=created, suite=suite)


def status_list_from_credential(document: Mapping[str, Any]) -> StatusList:
    """Read a list credential's structure (no proof check: see :func:`verify_status_list_credential`)."""
    check_contexts(document, ())
    if LIST_TYPE not in credential_types(document):
        raise SchemaError("schema.type", f"not a {LIST_TYPE}")
    url = require_absolute_id(document.get("id"), "id")
    issuer = issuer_of(document)
    subject = subject_of(document)
    unknown = set(subject) - _SUBJECT_KEYS
    if unknown:
        raise SchemaError("schema.status-list", f"unexpected status list fields {sorted(map(str, unknown))}")
    if subject.get("type") != "BitstringStatusList":
        raise SchemaError("schema.status-list", "credentialSubject.type must be BitstringStatusList")
    purpose = subject.get("statusPurpose")
    if purpose not in PURPOSES:
        raise UnsupportedError("unsupported.status-purpose", f"status purpose must be one of {PURPOSES}")
    version = subject.get("statusListVersion", 0)
    if isinstance(version, bool) or not isinstance(version, int) or not 0 <= version < 2**53:
        raise SchemaError("schema.status-list", "statusListVersion must be a non-negative integer")
    bits = decode_list(subject.get("encodedList"))
    return StatusList(url=url, issuer=issuer, purpose=str(purpose), version=version, bits=bits)


def verify_status_list_credential(document: Mapping[str, Any], *, now: datetime) -> StatusList:
    """A list credential checked for proof, issuer = signer and validity at ``now``; raises ProtocolError.

    Trust in the issuer is the caller's concern (the verifier also requires the list's issuer to be the
    issuer of the credential it covers).
    """
    status_list = status_list_from_credential(document)
    proof = verify_proof(document, expected_purpose="assertionMethod")
    if proof.controller != status_list.issuer:
        raise SignatureError("signature.issuer-mismatch", "the status list is not signed by its issuer")
    if "validFrom" in document and parse_datetime(document["validFrom"], "validFrom") > now:
        raise ValidityError("validity.not-yet-valid", "the status list is not valid yet")
    if "validUntil" in document and parse_datetime(document["validUntil"], "validUntil") <= now:
        raise ValidityError("validity.expired", "the status list has expired")
    return status_list
