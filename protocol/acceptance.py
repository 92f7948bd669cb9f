"""Which verified signed objects a node may store: pure per-kind rules, shared by POST /objects and gossip.

:func:`decide` takes a message whose signature and times :func:`protocol.messages.verify_message` has
already checked, plus a :class:`TrustState` snapshot the node reads from its store, and answers
:class:`Accept` (with the fields to index) or :class:`Refuse` (with a stable code). No IO, no clock.

Rules so far:
- ``trust-list``: a well-formed trust list (:func:`protocol.trust_list.parse_trust_list`) signed by one
  of the node's configured trust roots, with a ``sequence`` higher than every trust list from that root
  the node already holds (a higher sequence replaces a lower one; codes as :class:`TrustStore` uses).
- ``node-descriptor``: anyone may publish one, but only about itself (``did`` = signer).
- every other kind: refused (``objects.kind-not-accepted``) until the rules for it exist.

Credentials (JSON) are decided by :func:`decide_status_list`: a Bitstring Status List credential whose
proof has been verified is stored if its issuer is an office some held trust list accredits now, and its
``statusListVersion`` is higher than any version of that list URL the node holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import SchemaError
from .messages import SignedMessage
from .status_list import StatusList
from .trust_list import TrustStore, parse_trust_list

ROLES = frozenset({"office", "marketplace"})
SEQUENCE_DIGITS = 20  # indexed sequence numbers are zero-padded so text order is numeric order


@dataclass(frozen=True)
class TrustState:
    """What the node trusts now: its configured roots and, per root, the highest trust-list sequence held."""

    roots: frozenset[str]
    trust_list_sequences: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Accept:
    """Store the object, indexing ``fields`` (name -> value or values)."""

    fields: Mapping[str, str | tuple[str, ...]]


@dataclass(frozen=True)
class Refuse:
    code: str
    detail: str


Decision = Accept | Refuse


def sequence_field(sequence: int) -> str:
    return str(sequence).zfill(SEQUENCE_DIGITS)


def _trust_list(message: SignedMessage, state: TrustState) -> Decision:
    if message.signer not in state.roots:
        return Refuse("validity.untrusted-root", "trust lists are accepted only from this node's trust roots")
    try:
        trust_list = parse_trust_list(message)
    except SchemaError as exc:
        return Refuse(exc.code, exc.detail)
    held = state.trust_list_sequences.get(message.signer)
    if held is not None and trust_list.sequence <= held:
        return Refuse(
            "validity.stale-sequence",
            f"this node holds sequence {held} from that root; a trust list must have a higher one",
        )
    fields: dict[str, str | tuple[str, ...]] = {"sequence": sequence_field(trust_list.sequence)}
    members = tuple(sorted({entry.did for entry in trust_list.entries}))
    if members:
        fields["member"] = members
    return Accept(fields)


def _node_descriptor(message: SignedMessage) -> Decision:
    payload = message.payload
    did, role, url = payload.get("did"), payload.get("role"), payload.get("url")
    if did != message.signer:
        return Refuse(
            "objects.descriptor-mismatch", "a node descriptor must be signed by the node it describes"
        )
    if role not in ROLES or not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return Refuse("schema.node-descriptor", "a node descriptor needs a role and an http(s) url")
    return Accept({"did": did, "role": str(role), "url": url})


# Decided by protocol.notice_acceptance against the credentials, status lists, notices and decisions the
# node holds (node/notice_accept.py gathers them); ``decide`` alone cannot, and says so.
HOLDINGS_KINDS = frozenset({"notice", "decision", "receipt", "complaint", "marketplace-profile"})


def decide(message: SignedMessage, state: TrustState) -> Decision:
    """Whether a node holding ``state`` may store ``message`` (already verified)."""
    if message.kind in HOLDINGS_KINDS:
        return Refuse(
            "objects.needs-holdings", f"{message.kind!r} objects are decided by protocol.notice_acceptance"
        )
    if message.kind == "trust-list":
        return _trust_list(message, state)
    if message.kind == "node-descriptor":
        return _node_descriptor(message)
    return Refuse("objects.kind-not-accepted", f"this node does not accept {message.kind!r} objects yet")


STATUS_LIST_KIND = "status-list"


def decide_status_list(
    status_list: StatusList, trust: TrustStore, held_version: int | None, now: int
) -> Decision:
    """Whether to store a verified status list credential (``now`` in Unix seconds)."""
    if not trust.is_trusted(status_list.issuer, "office", now):
        return Refuse(
            "validity.untrusted-issuer", "status lists are accepted only from offices in a held trust list"
        )
    if held_version is not None and status_list.version <= held_version:
        return Refuse(
            "validity.stale-version",
            f"this node holds version {held_version} of that list; a new one must have a higher version",
        )
    return Accept(
        {
            "url": status_list.url,
            "purpose": status_list.purpose,
            "version": sequence_field(status_list.version),
        }
    )
