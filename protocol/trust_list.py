"""Trust lists: a root's signed, versioned list of accredited offices, marketplaces and trusted flaggers.

Why: a verifier must know which DIDs are IP offices before it believes a right credential, and nothing
central may answer that at run time. A trust root (e.g. a regional IP body) keeps its key offline and
signs a ``trust-list`` message (COSE_Sign1, ``protocol/messages.py``); it spreads like any object. Each
verifier is configured with the root DIDs it accepts; a list with a higher ``sequence`` replaces the
root's previous one (so an old list cannot be replayed to resurrect a removed member). Payload in
``specs/cddl/trust-list.cddl``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .cbor import DEFAULT_LIMITS, Limits
from .errors import SchemaError, ValidityError
from .keys import KeyPair
from .messages import SignedMessage, sign_message, verify_message
from .vc import require_did

__all__ = [
    "KIND",
    "MAX_ENTRIES",
    "ROLES",
    "TrustEntry",
    "TrustList",
    "TrustStore",
    "parse_trust_list",
    "sign_trust_list",
    "trust_list_payload",
    "verify_trust_list",
]

KIND = "trust-list"
ROLES = ("office", "marketplace", "trusted-flagger")
MAX_ENTRIES = 500  # 7 CBOR items an entry: stays under the decoder's 4,096-item limit
MAX_NAME = 200
_PAYLOAD_KEYS = frozenset({"created", "expires", "sequence", "entries"})
_ENTRY_KEYS = frozenset({"did", "role", "name", "jurisdiction", "valid_from", "valid_until"})
_JURISDICTION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
_MAX_INT = 2**63 - 1


@dataclass(frozen=True)
class TrustEntry:
    """One accreditation: ``did`` acts as ``role`` from ``valid_from`` until (excluded) ``valid_until``."""

    did: str
    role: str
    name: str
    jurisdiction: str
    valid_from: int
    valid_until: int

    def active(self, now: int) -> bool:
        return self.valid_from <= now < self.valid_until

    def to_payload(self) -> dict[str, Any]:
        return {"did": self.did, "role": self.role, "name": self.name, "jurisdiction": self.jurisdiction,
                "valid_from": self.valid_from, "valid_until": self.valid_until}


@dataclass(frozen=True)
class TrustList:
    """A verified trust list: who signed it (``root``), its sequence and its entries."""

    root: str
    sequence: int
    created: int
    expires: int | None
    entries: tuple[TrustEntry, ...]
    id_hex: str = ""

    def in_force(self, now: int) -> bool:
        return self.expires is None or now < self.expires

    def find(self, did: str, role: str, now: int) -> TrustEntry | None:
        if not self.in_force(now):
            return None
        for entry in self.entries:
            if entry.did == did and entry.role == role and entry.active(now):
                return entry
        return None


def _int(value: Any, name: str) -> int:
    if type(value) is not int or not 0 <= value <= _MAX_INT:
        raise SchemaError("schema.trust-list", f"{name} must be a non-negative integer")
    return value


def _entry(raw: Any) -> TrustEntry:
    if not isinstance(raw, Mapping) or set(raw) != _ENTRY_KEYS:
        raise SchemaError("schema.trust-list", f"an entry is a map with exactly {sorted(_ENTRY_KEYS)}")
    did = require_did(raw["did"], "did")
    role = raw["role"]
    if role not in ROLES:
        raise SchemaError("schema.trust-list", f"role must be one of {ROLES}")
    name = raw["name"]
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise SchemaError("schema.trust-list", f"name must be a non-empty string of at most {MAX_NAME}")
    jurisdiction = raw["jurisdiction"]
    if not isinstance(jurisdiction, str) or not _JURISDICTION.match(jurisdiction):
        raise SchemaError("schema.trust-list", "jurisdiction must be a code such as EU, FR or ES-CT")
    valid_from = _int(raw["valid_from"], "valid_from")
    valid_until = _int(raw["valid_until"], "valid_until")
    if valid_until <= valid_from:
        raise SchemaError("schema.trust-list", "valid_until must be after valid_from")
    return TrustEntry(did, str(role), name, jurisdiction, valid_from, valid_until)


def _entries(raw: Any) -> tuple[TrustEntry, ...]:
    if not isinstance(raw, list) or len(raw) > MAX_ENTRIES:
        raise SchemaError("schema.trust-list", f"entries must be a list of at most {MAX_ENTRIES}")
    entries = tuple(_entry(item) for item in raw)
    if len({(e.did, e.role) for e in entries}) != len(entries):
        raise SchemaError("schema.trust-list", "an entry repeats a (did, role) pair")
    return entries


def trust_list_payload(
    entries: Sequence[Mapping[str, Any]] | Sequence[TrustEntry],
    *,
    sequence: int,
    created: int,
    expires: int | None = None,
) -> dict[str, Any]:
    """The payload a root signs; entries are validated and sorted by (did, role) for one byte form."""
    raw = [e.to_payload() if isinstance(e, TrustEntry) else e for e in entries]
    checked = sorted(_entries(raw), key=lambda e: (e.did, e.role))
    payload: dict[str, Any] = {
        "created": _int(created, "created"),
        "sequence": _int(sequence, "sequence"),
        "entries": [e.to_payload() for e in checked],
    }
    if expires is not None:
        payload["expires"] = _int(expires, "expires")
    return payload


def sign_trust_list(
    root_key: KeyPair,
    entries: Sequence[Mapping[str, Any]] | Sequence[TrustEntry],
    *,
    sequence: int,
    created: int,
    expires: int | None = None,
) -> bytes:
    """The signed ``trust-list`` message."""
    payload = trust_list_payload(entries, sequence=sequence, created=created, expires=expires)
    return sign_message(root_key, KIND, payload)


def parse_trust_list(message: SignedMessage) -> TrustList:
    """Validate the payload of a verified message as a trust list (``schema.trust-list`` otherwise)."""
    if message.kind != KIND:
        raise SchemaError("schema.kind", f"expected a {KIND} message, got {message.kind}")
    payload = message.payload
    unknown = set(payload) - _PAYLOAD_KEYS
    if unknown:
        raise SchemaError("schema.trust-list", f"unexpected fields {sorted(map(str, unknown))[:10]}")
    return TrustList(
        root=message.signer,
        sequence=_int(payload.get("sequence"), "sequence"),
        created=message.created,
        expires=message.expires,
        entries=_entries(payload.get("entries")),
        id_hex=message.id.hex(),
    )


def verify_trust_list(data: bytes, now: int, *, limits: Limits = DEFAULT_LIMITS) -> TrustList:
    """Verify a signed trust list at ``now`` (Unix seconds) and parse it. Whether its root is trusted is
    the :class:`TrustStore`'s decision."""
    return parse_trust_list(verify_message(data, now, limits=limits))


@dataclass(frozen=True)
class TrustStore:
    """The roots a verifier accepts and, per root, the newest list it holds. A value: :meth:`accept`
    returns a new store."""

    roots: frozenset[str]
    lists: tuple[TrustList, ...] = ()

    @classmethod
    def with_roots(cls, roots: Iterable[str]) -> TrustStore:
        return cls(roots=frozenset(require_did(r, "trust root") for r in roots))

    def current(self, root: str) -> TrustList | None:
        return next((tl for tl in self.lists if tl.root == root), None)

    def accept(self, trust_list: TrustList) -> TrustStore:
        """Take ``trust_list`` if it comes from a configured root with a higher sequence; raise
        ValidityError ``validity.untrusted-root`` or ``validity.stale-sequence`` otherwise."""
        if trust_list.root not in self.roots:
            raise ValidityError("validity.untrusted-root", "the list is not signed by a configured root")
        held = self.current(trust_list.root)
        if held is not None and trust_list.sequence <= held.sequence:
            raise ValidityError(
                "validity.stale-sequence", f"sequence {trust_list.sequence} is not above {held.sequence}"
            )
        others = tuple(tl for tl in self.lists if tl.root != trust_list.root)
        return replace(self, lists=tuple(sorted((*others, trust_list), key=lambda tl: tl.root)))

    def entry(self, did: str, role: str, now: int) -> TrustEntry | None:
        """The active entry naming ``did`` in ``role`` at ``now``, in any held list still in force."""
        for trust_list in self.lists:
            found = trust_list.find(did, role, now)
            if found is not None:
                return found
        return None

    def is_trusted(self, did: str, role: str, now: int) -> bool:
        return self.entry(did, role, now) is not None
