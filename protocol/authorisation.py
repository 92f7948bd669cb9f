"""AgentAuthorisationCredential: a right holder lets an agent act for named rights until a date.

Why a credential and not a message: the agent presents it, with the holder's right credential, in the
same Verifiable Presentation, so a marketplace checks the whole chain (office -> holder -> agent) in one
verify. Issuer = the holder DID (subject of the right credentials); subject = the agent DID; the claims
name the rights (by right-credential id), the actions (notify, complain, receive-decisions) and the
marketplaces (DIDs, or ``any``). ``validUntil`` is mandatory: an authorisation cannot be revoked by
a status list of its own (holders run none), so it must end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .data_integrity import add_proof
from .errors import SchemaError
from .keys import KeyPair
from .vc import (
    CREDENTIAL_CONTEXTS,
    check_contexts,
    credential_types,
    derive_id,
    issuer_of,
    parse_datetime,
    require_absolute_id,
    require_did,
    subject_of,
)

__all__ = [
    "ACTIONS",
    "ANY_MARKETPLACE",
    "CREDENTIAL_TYPE",
    "Authorisation",
    "authorisation_credential",
    "authorisation_from_credential",
    "issue_authorisation_credential",
    "make_authorisation",
]

CREDENTIAL_TYPE = "AgentAuthorisationCredential"
ACTIONS = ("notify", "complain", "receive-decisions")
ANY_MARKETPLACE = "any"
MAX_RIGHTS = 256
MAX_MARKETPLACES = 256
_CLAIMS = frozenset({"id", "authorisedRights", "authorisedActions", "authorisedMarketplaces"})


@dataclass(frozen=True)
class Authorisation:
    """What an agent may do. ``marketplaces`` is None for any marketplace. Tuples are sorted and unique."""

    agent: str
    rights: tuple[str, ...]
    actions: tuple[str, ...]
    marketplaces: tuple[str, ...] | None = None

    def allows(self, right_id: str, action: str | None = None, marketplace: str | None = None) -> bool:
        """Whether this covers ``right_id`` (and ``action``, and ``marketplace`` when given)."""
        if right_id not in self.rights:
            return False
        if action is not None and action not in self.actions:
            return False
        return marketplace is None or self.marketplaces is None or marketplace in self.marketplaces

    def to_claims(self) -> dict[str, Any]:
        return {
            "id": self.agent,
            "authorisedRights": list(self.rights),
            "authorisedActions": list(self.actions),
            "authorisedMarketplaces": (
                [ANY_MARKETPLACE] if self.marketplaces is None else list(self.marketplaces)
            ),
        }


def _string_set(value: Any, name: str, limit: int) -> list[str]:
    if not isinstance(value, list) or not value or len(value) > limit:
        raise SchemaError("schema.authorisation", f"{name} must be a non-empty list of at most {limit}")
    if not all(isinstance(v, str) for v in value) or len(set(value)) != len(value):
        raise SchemaError("schema.authorisation", f"{name} must hold distinct strings")
    return list(value)


def make_authorisation(agent: Any, rights: Any, actions: Any, marketplaces: Any = None) -> Authorisation:
    """Validate the parts of an authorisation (``marketplaces`` None or ``["any"]`` = any)."""
    agent = require_did(agent, "agent")
    right_ids = [require_absolute_id(r, "right") for r in _string_set(rights, "rights", MAX_RIGHTS)]
    action_list = _string_set(actions, "actions", len(ACTIONS))
    for action in action_list:
        if action not in ACTIONS:
            raise SchemaError("schema.authorisation", f"action {action[:40]!r} is not one of {ACTIONS}")
    chosen: tuple[str, ...] | None = None
    if marketplaces is not None and marketplaces != [ANY_MARKETPLACE]:
        chosen = tuple(sorted(
            require_did(m, "marketplace") for m in _string_set(marketplaces, "marketplaces", MAX_MARKETPLACES)
        ))
    return Authorisation(agent=agent, rights=tuple(sorted(right_ids)), actions=tuple(sorted(action_list)),
                         marketplaces=chosen)


def authorisation_credential(
    holder: str,
    authorisation: Authorisation,
    *,
    valid_from: str,
    valid_until: str,
    credential_id: str | None = None,
) -> dict[str, Any]:
    """The unsigned credential from ``holder`` to ``authorisation.agent``."""
    require_did(holder, "holder")
    if holder == authorisation.agent:
        raise SchemaError("schema.authorisation", "a holder does not authorise itself")
    if parse_datetime(valid_until, "validUntil") <= parse_datetime(valid_from, "validFrom"):
        raise SchemaError("schema.validity-window", "validUntil must be after validFrom")
    if credential_id is None:
        credential_id = derive_id(holder, authorisation.agent, *authorisation.rights, valid_from)
    return {
        "@context": list(CREDENTIAL_CONTEXTS),
        "id": require_absolute_id(credential_id, "id"),
        "type": ["VerifiableCredential", CREDENTIAL_TYPE],
        "issuer": holder,
        "validFrom": valid_from,
        "validUntil": valid_until,
        "credentialSubject": authorisation.to_claims(),
    }


def issue_authorisation_credential(
    holder_key: KeyPair,
    authorisation: Authorisation,
    *,
    created: str,
    valid_until: str,
    valid_from: str | None = None,
    credential_id: str | None = None,
    suite: str = "eddsa-jcs-2022",
) -> dict[str, Any]:
    """Sign an authorisation with the holder's key (``validFrom`` defaults to ``created``)."""
    document = authorisation_credential(
        holder_key.did, authorisation, valid_from=valid_from or created, valid_until=valid_until,
        credential_id=credential_id,
    )
    return add_proof(document, holder_key, created=created, suite=suite)


def authorisation_from_credential(document: Mapping[str, Any]) -> Authorisation:
    """The authorisation an AgentAuthorisationCredential claims (structure only; no proof check)."""
    check_contexts(document, CREDENTIAL_CONTEXTS)
    if CREDENTIAL_TYPE not in credential_types(document):
        raise SchemaError("schema.type", f"not an {CREDENTIAL_TYPE}")
    if "validUntil" not in document:
        raise SchemaError("schema.authorisation", "an authorisation has a validUntil")
    require_absolute_id(document.get("id"), "id")
    issuer = issuer_of(document)
    subject = subject_of(document)
    unknown = set(subject) - _CLAIMS
    if unknown:
        names = sorted(map(str, unknown))[:10]
        raise SchemaError("schema.authorisation", f"unexpected authorisation claims {names}")
    if "authorisedMarketplaces" not in subject:
        raise SchemaError("schema.authorisation", "authorisedMarketplaces is required (DIDs or [\"any\"])")
    authorisation = make_authorisation(
        subject.get("id"), subject.get("authorisedRights"), subject.get("authorisedActions"),
        subject.get("authorisedMarketplaces"),
    )
    if authorisation.agent == issuer:
        raise SchemaError("schema.authorisation", "a holder does not authorise itself")
    return authorisation
