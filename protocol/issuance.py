"""Issuance offers in the pre-authorised-code pattern of OpenID for Verifiable Credential Issuance.

Flow: an office admin creates an offer for one register entry and gets a one-time code, sent out of band
to the registered owner. The wallet asks the office for a fresh ``c_nonce`` and redeems the code with a
proof of key possession: a Verifiable Presentation with no credentials, proof purpose ``authentication``,
``challenge`` = the ``c_nonce`` and ``domain`` = the office DID. The office then issues the right credential
to the DID that signed that proof.

Why pure and state-passing: the office stores offers in its database; these functions take the stored
state and ``now`` and return the new state, so every attempt is counted in the same transaction that
answers it, and the rules (expiry, attempts limit, single use) are tested without a clock or a database.

The code reads ``<offer id>-<secret>`` (base32, lower case, no padding): the offer id lets the office find
the offer so a wrong secret counts as an attempt against it; only SHA-256 of the secret is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from .data_integrity import add_proof, verify_proof
from .errors import ProtocolError, SchemaError, ValidityError
from .keys import KeyPair

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_OFFER_TTL",
    "ID_BYTES",
    "RANDOM_BYTES",
    "SECRET_BYTES",
    "Offer",
    "Redemption",
    "check_key_proof",
    "key_proof",
    "make_nonce",
    "make_offer",
    "mark_redeemed",
    "parse_code",
    "redeem",
]

ID_BYTES = 5  # 8 base32 characters
SECRET_BYTES = 10  # 80 bits: with a handful of attempts, guessing is hopeless
RANDOM_BYTES = ID_BYTES + SECRET_BYTES
DEFAULT_OFFER_TTL = 7 * 86400
DEFAULT_MAX_ATTEMPTS = 5
NONCE_BYTES = 16

OPEN, REDEEMED, LOCKED = "open", "redeemed", "locked"
_CODE = re.compile(r"^([a-z2-7]{8})-([a-z2-7]{16})$")
_VP_CONTEXT = "https://www.w3.org/ns/credentials/v2"


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Offer:
    """An issuance offer as the office stores it. ``state``: open, redeemed or locked."""

    id: str
    right_key: str
    code_hash: str
    created: int
    expires: int
    attempts: int
    max_attempts: int
    state: str = OPEN
    holder: str | None = None


@dataclass(frozen=True)
class Redemption:
    """The result of presenting a code: the offer state to store, and the error if it failed."""

    offer: Offer
    error: ProtocolError | None

    @property
    def ok(self) -> bool:
        return self.error is None


def make_offer(
    right_key: str,
    random: bytes,
    now: int,
    *,
    ttl: int = DEFAULT_OFFER_TTL,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> tuple[Offer, str]:
    """A new open offer for the entry ``right_key`` and its one-time code (returned once, never stored).

    ``random`` is ``RANDOM_BYTES`` bytes from a CSPRNG, supplied by the caller (this module has no IO).
    """
    if len(random) != RANDOM_BYTES:
        raise SchemaError("schema.offer-random", f"need {RANDOM_BYTES} random bytes")
    if ttl <= 0 or max_attempts <= 0:
        raise SchemaError("schema.offer-limits", "ttl and max_attempts must be positive")
    offer_id, secret = _b32(random[:ID_BYTES]), _b32(random[ID_BYTES:])
    offer = Offer(offer_id, right_key, _hash(secret), now, now + ttl, 0, max_attempts)
    return offer, f"{offer_id}-{secret}"


def parse_code(code: str) -> tuple[str, str]:
    """Split a code into (offer id, secret); tolerant of case and surrounding blanks."""
    match = _CODE.match(code.strip().lower()) if isinstance(code, str) else None
    if match is None:
        raise SchemaError("schema.offer-code", "an offer code reads xxxxxxxx-xxxxxxxxxxxxxxxx")
    return match.group(1), match.group(2)


def redeem(offer: Offer, code: str, now: int) -> Redemption:
    """Check ``code`` against ``offer``. A wrong secret counts an attempt and locks at ``max_attempts``.

    A correct code does not consume the offer (the proof of possession may still fail): call
    :func:`mark_redeemed` once the credential is issued. Codes: ``validity.offer-redeemed``,
    ``validity.offer-locked``, ``validity.offer-expired``, ``validity.offer-code``.
    """
    offer_id, secret = parse_code(code)
    if offer_id != offer.id:
        raise SchemaError("schema.offer-code", "the code belongs to another offer")
    if offer.state == REDEEMED:
        return Redemption(offer, ValidityError("validity.offer-redeemed", "this offer was already used"))
    if offer.state == LOCKED:
        return Redemption(offer, ValidityError("validity.offer-locked", "too many wrong codes"))
    if now >= offer.expires:
        return Redemption(offer, ValidityError("validity.offer-expired", "this offer has expired"))
    if not hmac.compare_digest(_hash(secret), offer.code_hash):
        attempts = offer.attempts + 1
        state = LOCKED if attempts >= offer.max_attempts else OPEN
        left = offer.max_attempts - attempts
        return Redemption(
            replace(offer, attempts=attempts, state=state),
            ValidityError("validity.offer-code", f"wrong code; {left} attempt(s) left"),
        )
    return Redemption(offer, None)


def mark_redeemed(offer: Offer, holder: str) -> Offer:
    """The offer after its credential was issued to ``holder``: never usable again."""
    return replace(offer, state=REDEEMED, holder=holder)


def make_nonce(random: bytes) -> str:
    """A ``c_nonce`` / challenge string from ``NONCE_BYTES`` caller-supplied random bytes."""
    if len(random) < NONCE_BYTES:
        raise SchemaError("schema.nonce", f"need at least {NONCE_BYTES} random bytes")
    return base64.urlsafe_b64encode(random).decode("ascii").rstrip("=")


def key_proof(key: KeyPair, *, nonce: str, audience: str, created: str) -> dict[str, Any]:
    """The wallet side: a credential-less presentation proving possession of ``key`` for this nonce."""
    vp = {"@context": [_VP_CONTEXT], "type": ["VerifiablePresentation"], "holder": key.did}
    return add_proof(vp, key, created=created, purpose="authentication", challenge=nonce, domain=audience)


def check_key_proof(proof: Any, *, nonce: str, audience: str) -> str:
    """Verify a key-possession presentation for ``nonce`` and ``audience``; return the prover's DID.

    Raises SchemaError (``schema.key-proof``), SignatureError, or ValidityError
    (``validity.challenge``, ``validity.domain``, ``validity.holder``).
    """
    if not isinstance(proof, Mapping):
        raise SchemaError("schema.key-proof", "the proof must be a JSON object (a presentation)")
    types = proof.get("type")
    if types != "VerifiablePresentation" and not (
        isinstance(types, list) and "VerifiablePresentation" in types
    ):
        raise SchemaError("schema.key-proof", "the proof must be a VerifiablePresentation")
    if proof.get("verifiableCredential") not in (None, []):
        raise SchemaError("schema.key-proof", "a key proof carries no credentials")
    verified = verify_proof(proof, expected_purpose="authentication")
    if verified.challenge is None or not hmac.compare_digest(verified.challenge.encode(), nonce.encode()):
        raise ValidityError("validity.challenge", "the proof is not for this c_nonce")
    if verified.domain != audience:
        raise ValidityError("validity.domain", f"the proof is not addressed to {audience}")
    holder = proof.get("holder")
    if holder is not None:
        holder_id = holder.get("id") if isinstance(holder, Mapping) else holder
        if holder_id != verified.controller:
            raise ValidityError("validity.holder", "the presentation's holder did not sign it")
    return verified.controller
