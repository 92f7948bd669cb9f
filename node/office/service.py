"""What an office does, shared by the HTTP handlers and the CLI: offers, issuance, revocation.

Each function takes the database and an explicit ``now`` and runs inside the caller's transaction, so
that a request (or a command) either happens completely or leaves nothing behind.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from protocol.issuance import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_OFFER_TTL,
    RANDOM_BYTES,
    Offer,
    make_offer,
)

from ..errors import Conflict
from . import store

# Only rights in force can be credentialed.
ISSUABLE_STATUSES = frozenset({"registered"})
MAX_OFFER_TTL = 90 * 86400
MAX_ATTEMPTS_LIMIT = 20


@dataclass(frozen=True)
class NewOffer:
    offer: Offer
    code: str

    def as_json(self) -> dict[str, Any]:
        return {
            "offer": self.offer.id,
            "right": self.offer.right_key,
            "code": self.code,
            "expires": self.offer.expires,
            "max_attempts": self.offer.max_attempts,
        }


def create_offer(
    db: sqlite_utils.Database,
    number: str,
    now: int,
    *,
    ttl: int = DEFAULT_OFFER_TTL,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> NewOffer:
    """An open offer for the register entry ``number`` (application/registration number or key)."""
    entry = store.get_entry(db, number)
    if entry.status not in ISSUABLE_STATUSES:
        raise Conflict("office.right-not-in-force", f"{entry.key} has status {entry.status!r}")
    if not 0 < ttl <= MAX_OFFER_TTL:
        raise Conflict("office.offer-ttl", f"ttl must be between 1 and {MAX_OFFER_TTL} seconds")
    if not 0 < max_attempts <= MAX_ATTEMPTS_LIMIT:
        raise Conflict("office.offer-attempts", f"max_attempts must be between 1 and {MAX_ATTEMPTS_LIMIT}")
    offer, code = make_offer(
        entry.key, secrets.token_bytes(RANDOM_BYTES), now, ttl=ttl, max_attempts=max_attempts
    )
    store.save_offer(db, offer)
    return NewOffer(offer, code)
