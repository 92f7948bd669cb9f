"""Who may publish notice-lifecycle messages, and on what evidence: pure rules for POST /notices and gossip.

A node stores a ``notice`` only if the right credentials it names (and the agent's authorisation) are
held, verify now (proof, issuer accredited as an office, dates, status lists held: not revoked) and make
the signer the holder or its authorised agent (:func:`protocol.notice.check_notice_authority`). A
``decision``, ``receipt`` or ``marketplace-profile`` must be signed by an accredited marketplace; a
``complaint`` by the notice's signer (notifier) or the deciding marketplace (seller's complaint, recorded
by it). The caller supplies what it holds; no IO, no clock. Every refusal is a ProtocolError with a
stable code (``validity.notice.credential-missing`` when a referenced credential is not held yet).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .authorisation import CREDENTIAL_TYPE as AUTHORISATION_TYPE
from .authorisation import Authorisation, authorisation_from_credential
from .complaint import Complaint, check_complaint, complaint_from_message
from .decision import Decision, decision_from_message
from .errors import SchemaError, ValidityError
from .ip_right import CREDENTIAL_TYPE as RIGHT_TYPE
from .messages import SignedMessage
from .notice import Notice, check_notice_authority, parse_notice
from .receipt import Receipt, receipt_from_message
from .role_payloads import check_profile
from .trust_list import TrustStore
from .vc import credential_types, issuer_of, subject_of
from .verify import StatusLists, verify_credential

CREDENTIAL_KIND = "credential"  # object-store kind of right and authorisation credentials (JSON)
# Refusals that depend on what the receiving node holds or knows now, not on the object being forged:
# a gossip receiver should fetch the dependency (or accept the disagreement) rather than penalise the
# peer that sent it (that peer may hold the credential, or not know of a revocation yet).
CONTEXT_CODES = frozenset(
    {
        "validity.notice.credential-missing",
        "validity.complaint.unknown-decision",
        "status.unavailable",
        "status.revoked",
        "status.suspended",
        "objects.credential-held",
    }
)


@dataclass(frozen=True)
class CheckedNotice:
    notice: Notice
    role: str  # "holder" | "agent"
    holder: str  # the DID holding every right relied on
    trusted_flagger: bool


def _moment(now: int) -> datetime:
    return datetime.fromtimestamp(now, UTC)


def check_credential(
    document: Mapping[str, Any],
    *,
    kind: str,
    now: int,
    trust: TrustStore,
    status_lists: StatusLists,
    require_status: bool = True,
) -> None:
    """Verify one held credential of ``kind`` (RIGHT_TYPE or AUTHORISATION_TYPE); raise its first failure."""
    cid = document.get("id")
    if kind not in credential_types(document):
        raise ValidityError("validity.notice.wrong-credential", f"{cid!r} is not an {kind}")
    result = verify_credential(
        document, now=_moment(now), trust=trust, status_lists=status_lists, require_status=require_status
    )
    result.raise_for_failure()


def check_notice(
    message: SignedMessage,
    *,
    credentials: Mapping[str, Mapping[str, Any]],
    status_lists: StatusLists,
    trust: TrustStore,
    now: int,
) -> CheckedNotice:
    """Check a verified ``notice`` message against the credentials held (id -> JSON document)."""
    notice = parse_notice(message.payload_of("notice"))
    holders: dict[str, str] = {}
    for right in notice.rights:
        document = credentials.get(right)
        if document is None:
            raise ValidityError("validity.notice.credential-missing", f"right credential {right} is not held")
        check_credential(document, kind=RIGHT_TYPE, now=now, trust=trust, status_lists=status_lists)
        subject = subject_of(document).get("id")
        if isinstance(subject, str):
            holders[right] = subject
    authorisation: Authorisation | None = None
    issuer: str | None = None
    if notice.authorisation is not None:
        document = credentials.get(notice.authorisation)
        if document is None:
            raise ValidityError(
                "validity.notice.credential-missing", f"authorisation {notice.authorisation} is not held"
            )
        check_credential(document, kind=AUTHORISATION_TYPE, now=now, trust=trust, status_lists=status_lists)
        authorisation = authorisation_from_credential(document)
        issuer = issuer_of(document)
    role = check_notice_authority(
        notice,
        signer=message.signer,
        right_holders=holders,
        authorisation=authorisation,
        authorisation_issuer=issuer,
    )
    holder = holders[notice.rights[0]]
    return CheckedNotice(notice, role, holder, trust.is_trusted(message.signer, "trusted-flagger", now))


def _marketplace_signer(message: SignedMessage, trust: TrustStore, now: int) -> None:
    if not trust.is_trusted(message.signer, "marketplace", now):
        raise ValidityError(
            "validity.untrusted-marketplace", f"{message.kind} messages come from accredited marketplaces"
        )


def check_decision(message: SignedMessage, *, trust: TrustStore, now: int) -> Decision:
    decision = decision_from_message(message)
    _marketplace_signer(message, trust, now)
    return decision


def check_receipt(message: SignedMessage, *, trust: TrustStore, now: int) -> Receipt:
    receipt = receipt_from_message(message)
    _marketplace_signer(message, trust, now)
    return receipt


def check_profile_message(message: SignedMessage, *, trust: TrustStore, now: int) -> None:
    check_profile(message.payload)
    if message.payload.get("marketplace") != message.signer:
        raise SchemaError("schema.marketplace-profile.wrong-signer", "a profile is signed by its marketplace")
    _marketplace_signer(message, trust, now)


def check_complaint_message(
    message: SignedMessage, *, notice: SignedMessage | None, decision: SignedMessage | None
) -> Complaint:
    """A complaint about a decision the node holds, on a notice it holds, from one who may file it."""
    complaint = complaint_from_message(message)
    if decision is None or notice is None:
        raise ValidityError(
            "validity.complaint.unknown-decision", "the decision or notice complained about is not held"
        )
    parsed = decision_from_message(decision)
    if parsed.notice != notice.id or complaint.notice != notice.id:
        raise SchemaError("schema.complaint.wrong-notice", "the complaint's notice is not the decision's")
    check_complaint(
        complaint,
        signer=message.signer,
        notice_signer=notice.signer,
        decision_id=decision.id,
        decision_marketplace=parsed.marketplace,
        decision_created=parsed.created,
    )
    return complaint


def credential_fields(document: Mapping[str, Any]) -> dict[str, str]:
    """Index fields of a right or authorisation credential object (id, type, issuer, subject)."""
    types = credential_types(document)
    known = [t for t in (RIGHT_TYPE, AUTHORISATION_TYPE) if t in types]
    cid = document.get("id")
    subject = subject_of(document).get("id")
    if not known or not isinstance(cid, str) or not isinstance(subject, str):
        raise SchemaError("schema.credential", "a right or authorisation credential with an id and subject")
    return {"credential_id": cid, "type": known[0], "issuer": issuer_of(document), "subject": subject}


def check_storable_credential(
    document: Mapping[str, Any], *, now: int, trust: TrustStore, status_lists: StatusLists
) -> dict[str, str]:
    """Whether a right credential (from an accredited office) or an authorisation may be stored now.

    Status is checked against the lists supplied but not required (a list may arrive later); a revoked
    credential is refused. Returns the index fields.
    """
    fields = credential_fields(document)
    check_credential(
        document, kind=fields["type"], now=now, trust=trust, status_lists=status_lists, require_status=False
    )
    return fields
