"""Inspector for JSON credentials and presentations (W3C VC 2.0 with Data Integrity proofs).

``inspect`` has no trust list, no status lists and no challenge to compare with: it checks structure,
proofs, issuer binding and validity dates, and says in ``extra`` what it could not check (use
``rightsmesh credential verify`` / ``presentation verify`` for the full verification).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from protocol.data_integrity import verify_proof
from protocol.errors import ProtocolError
from protocol.vc import credential_types, load_json
from protocol.verify import verify_credential

from . import Inspection

FORMAT = "vc-json"
NOT_CHECKED = {"trust": "not checked (no trust list)", "status": "not checked (no status list)"}


def recognise(data: bytes) -> bool:
    """A JSON object mentioning ``@context``: credentials and presentations."""
    head = data[:4096].lstrip()
    return head.startswith(b"{") and b"@context" in data


def _failure(code: str, detail: str, decodable: bool = True) -> Inspection:
    return Inspection(format=FORMAT, decodable=decodable, valid=False, error=code, detail=detail)


def _credential(doc: Mapping[str, Any], moment: datetime) -> Inspection:
    result = verify_credential(doc, now=moment, require_status=False)
    summary = result.checks.credentials[0] if result.checks.credentials else None
    first = result.failures[0] if result.failures else None
    kinds = [t for t in (summary.types if summary else ()) if t != "VerifiableCredential"]
    return Inspection(
        format=FORMAT, decodable=True, valid=result.valid,
        kind=kinds[0] if kinds else "VerifiableCredential",
        signer=summary.issuer if summary else None,
        id=summary.id if summary else None,
        created=doc.get("validFrom") if isinstance(doc.get("validFrom"), str) else None,
        expires=doc.get("validUntil") if isinstance(doc.get("validUntil"), str) else None,
        payload=doc.get("credentialSubject"),
        error=first.code if first else None, detail=first.detail if first else None,
        extra={"subject": summary.subject if summary else None, "suite": summary.suite if summary else None,
               "failures": [f.code for f in result.failures], **NOT_CHECKED},
    )


def _presentation(doc: Mapping[str, Any], moment: datetime) -> Inspection:
    failures: list[str] = []
    signer = challenge = domain = created = None
    try:
        proof = verify_proof(doc, expected_purpose="authentication")
        signer, challenge, domain, created = proof.controller, proof.challenge, proof.domain, proof.created
    except ProtocolError as exc:
        failures.append(exc.code)
    raw = doc.get("verifiableCredential")
    credentials = raw if isinstance(raw, list) else [raw] if isinstance(raw, Mapping) else []
    listed = []
    for credential in credentials:
        inner = _credential(credential, moment) if isinstance(credential, Mapping) else _failure(
            "schema.credential", "not a JSON object")
        listed.append({"id": inner.id, "kind": inner.kind, "issuer": inner.signer,
                       "subject": inner.extra.get("subject"), "valid": inner.valid,
                       "failures": inner.extra.get("failures", [inner.error])})
        failures += [code for code in inner.extra.get("failures", [inner.error]) if code]
    return Inspection(
        format=FORMAT, decodable=True, valid=not failures and bool(credentials),
        kind="VerifiablePresentation",
        signer=signer, id=doc.get("id") if isinstance(doc.get("id"), str) else None, created=created,
        payload=listed, error=failures[0] if failures else (None if credentials else "schema.presentation"),
        detail=", ".join(failures) if failures else None,
        extra={"challenge": challenge, "domain": domain, "holder_binding": "not checked", **NOT_CHECKED},
    )


def inspect(data: bytes, now: int) -> Inspection:
    try:
        doc = load_json(data)
    except ProtocolError as exc:
        return _failure(exc.code, exc.detail, decodable=False)
    if not isinstance(doc, Mapping):
        return _failure("decode.unknown-format", "not a JSON object", decodable=False)
    try:
        types = credential_types(doc)
    except ProtocolError as exc:
        return _failure(exc.code, exc.detail)
    moment = datetime.fromtimestamp(now, UTC)
    if "VerifiablePresentation" in types:
        return _presentation(doc, moment)
    return _credential(doc, moment)
