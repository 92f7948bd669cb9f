"""The signed receipt a marketplace returns for a notice (DSA art. 16(4): confirm receipt without delay).

The receipt says whether the notifier was enrolled at this marketplace and whether the notice came from a
trusted flagger (art. 22), the two facts that change how the notice is handled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import SchemaError
from .messages import SignedMessage
from .payload_fields import Fields

MAX_REFERENCE = 128
_REQUIRED = frozenset({"created", "notice", "received_at", "marketplace", "enrolled", "trusted_flagger"})
_OPTIONAL = frozenset({"expires", "reference"})


@dataclass(frozen=True)
class Receipt:
    created: int
    expires: int | None
    notice: bytes  # id (SHA-256) of the notice message
    received_at: int
    marketplace: str
    enrolled: bool
    trusted_flagger: bool
    reference: str | None  # the marketplace's case reference, if it has one


def parse_receipt(payload: object) -> Receipt:
    f = Fields(payload, "receipt", _REQUIRED, _OPTIONAL)
    created, expires = f.times()
    return Receipt(
        created=created,
        expires=expires,
        notice=f.digest("notice"),
        received_at=f.uint("received_at"),
        marketplace=f.did("marketplace"),
        enrolled=f.boolean("enrolled"),
        trusted_flagger=f.boolean("trusted_flagger"),
        reference=f.opt_text("reference", max_len=MAX_REFERENCE),
    )


def build_receipt_payload(
    *,
    created: int,
    notice: bytes,
    received_at: int,
    marketplace: str,
    enrolled: bool,
    trusted_flagger: bool,
    reference: str | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "created": created,
        "notice": notice,
        "received_at": received_at,
        "marketplace": marketplace,
        "enrolled": enrolled,
        "trusted_flagger": trusted_flagger,
    }
    if reference is not None:
        payload["reference"] = reference
    parse_receipt(payload)
    return payload


def receipt_from_message(message: SignedMessage) -> Receipt:
    """Parse a verified ``receipt`` message; the signer must be the marketplace it names."""
    receipt = parse_receipt(message.payload_of("receipt"))
    if receipt.marketplace != message.signer:
        raise SchemaError("schema.receipt.wrong-signer", "a receipt is signed by the marketplace it names")
    return receipt
