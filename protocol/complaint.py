"""A complaint against a decision (DSA art. 20), answered by a superseding decision.

Two sources: the notifier files it from the wallet (signed by the notice's signer), or the marketplace
records the affected seller's complaint (signed by the marketplace; the seller has no key in the system).
Art. 20(1) gives at least six months after the decision: :func:`check_complaint` enforces that window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import SchemaError, ValidityError
from .messages import SignedMessage
from .payload_fields import Fields

COMPLAINANTS = frozenset({"notifier", "seller"})
MIN_EXPLANATION = 20
MAX_EXPLANATION = 10_000
MAX_EVIDENCE = 64
MAX_SELLER_REF = 256
COMPLAINT_WINDOW = 183 * 86400  # six months, rounded up
_REQUIRED = frozenset({"created", "decision", "notice", "marketplace", "complainant", "explanation"})
_OPTIONAL = frozenset({"expires", "evidence", "seller_ref"})


@dataclass(frozen=True)
class Complaint:
    created: int
    expires: int | None
    decision: bytes  # id of the decision complained about
    notice: bytes
    marketplace: str  # the marketplace that decided and must handle the complaint
    complainant: str  # "notifier" | "seller"
    explanation: str
    evidence: tuple[bytes, ...]
    seller_ref: str | None  # the marketplace's own reference for the seller (seller complaints only)


def parse_complaint(payload: object) -> Complaint:
    f = Fields(payload, "complaint", _REQUIRED, _OPTIONAL)
    created, expires = f.times()
    complainant = f.enum("complainant", COMPLAINANTS)
    explanation = f.text("explanation", max_len=MAX_EXPLANATION, prose=True)
    if len(explanation.strip()) < MIN_EXPLANATION:
        raise f.error("explanation-too-short", f"the explanation needs at least {MIN_EXPLANATION} characters")
    evidence: tuple[bytes, ...] = ()
    if f.has("evidence"):
        raw = f.array("evidence", max_len=MAX_EVIDENCE)
        if any(not isinstance(d, bytes) or len(d) != 32 for d in raw) or len(set(raw)) < len(raw):
            raise f.bad("evidence", "distinct 32-byte SHA-256 digests")
        evidence = tuple(raw)
    seller_ref = f.opt_text("seller_ref", max_len=MAX_SELLER_REF)
    if seller_ref is not None and complainant != "seller":
        raise f.bad("seller-ref", "only a seller's complaint carries seller_ref")
    return Complaint(
        created=created,
        expires=expires,
        decision=f.digest("decision"),
        notice=f.digest("notice"),
        marketplace=f.did("marketplace"),
        complainant=complainant,
        explanation=explanation,
        evidence=evidence,
        seller_ref=seller_ref,
    )


def build_complaint_payload(
    *,
    created: int,
    decision: bytes,
    notice: bytes,
    marketplace: str,
    complainant: str,
    explanation: str,
    evidence: Sequence[bytes] = (),
    seller_ref: str | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "created": created,
        "decision": decision,
        "notice": notice,
        "marketplace": marketplace,
        "complainant": complainant,
        "explanation": explanation,
    }
    if evidence:
        payload["evidence"] = list(evidence)
    if seller_ref is not None:
        payload["seller_ref"] = seller_ref
    parse_complaint(payload)
    return payload


def complaint_from_message(message: SignedMessage) -> Complaint:
    return parse_complaint(message.payload_of("complaint"))


def check_complaint(
    complaint: Complaint,
    *,
    signer: str,
    notice_signer: str,
    decision_id: bytes,
    decision_marketplace: str,
    decision_created: int,
    window: int = COMPLAINT_WINDOW,
) -> None:
    """Check a complaint against what it references: who may sign it and whether it is in time.

    A notifier's complaint is signed by the notice's signer; a seller's by the marketplace that decided.
    """
    if complaint.decision != decision_id:
        raise SchemaError("schema.complaint.wrong-decision", "the complaint names another decision")
    if complaint.marketplace != decision_marketplace:
        raise SchemaError("schema.complaint.wrong-marketplace", "the complaint names another marketplace")
    expected = notice_signer if complaint.complainant == "notifier" else decision_marketplace
    if signer != expected:
        raise SchemaError(
            "schema.complaint.wrong-signer",
            "a notifier signs its own complaint; a seller's complaint is recorded by the marketplace",
        )
    if complaint.created < decision_created:
        raise ValidityError("validity.complaint-before-decision", "the complaint predates the decision")
    if complaint.created > decision_created + window:
        raise ValidityError("validity.complaint-too-late", "the complaint window has closed")
