"""Verifiable Presentations: a holder (or agent) shows credentials to one verifier, once.

Why challenge and domain: a presentation is signed for one audience (``domain`` = the verifier, e.g. the
marketplace DID) and one fresh nonce (``challenge``), so a verifier that sees it cannot replay it to
another verifier, nor the same one twice. Proof purpose ``authentication``: the presenter proves control
of its key, not a claim.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .data_integrity import add_proof
from .errors import SchemaError
from .keys import KeyPair
from .vc import VC_CONTEXT, require_absolute_id

__all__ = ["MAX_CREDENTIALS", "PRESENTATION_TYPE", "create_presentation", "presentation"]

PRESENTATION_TYPE = "VerifiablePresentation"
MAX_CREDENTIALS = 16


def presentation(
    holder: str, credentials: Sequence[Mapping[str, Any]], *, presentation_id: str | None = None
) -> dict[str, Any]:
    """The unsigned presentation of ``credentials`` (each a secured credential, embedded unchanged)."""
    if not isinstance(credentials, list | tuple) or len(credentials) > MAX_CREDENTIALS:
        raise SchemaError("schema.presentation", f"a presentation holds a list of at most {MAX_CREDENTIALS}")
    if not all(isinstance(c, Mapping) for c in credentials):
        raise SchemaError("schema.presentation", "each credential is a JSON object")
    document: dict[str, Any] = {"@context": [VC_CONTEXT], "type": [PRESENTATION_TYPE]}
    if presentation_id is not None:
        document["id"] = require_absolute_id(presentation_id, "id")
    document["holder"] = holder
    document["verifiableCredential"] = [dict(c) for c in credentials]
    return document


def create_presentation(
    key: KeyPair,
    credentials: Sequence[Mapping[str, Any]],
    *,
    challenge: str,
    domain: str,
    created: str,
    suite: str = "eddsa-jcs-2022",
    presentation_id: str | None = None,
) -> dict[str, Any]:
    """Sign a presentation with the presenter's key for ``domain`` and ``challenge``."""
    for name, value in (("challenge", challenge), ("domain", domain)):
        if not isinstance(value, str) or not value or len(value) > 512:
            raise SchemaError("schema.presentation", f"{name} must be a non-empty string of at most 512")
    document = presentation(key.did, credentials, presentation_id=presentation_id)
    return add_proof(document, key, created=created, suite=suite, purpose="authentication",
                     challenge=challenge, domain=domain)
