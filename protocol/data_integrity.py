"""W3C Data Integrity proofs with the EdDSA cryptosuites ``eddsa-jcs-2022`` and ``eddsa-rdfc-2022``.

Follows the W3C vc-di-eddsa Recommendation (the version its published test vectors use):

* proof configuration: the proof options (``type`` = ``DataIntegrityProof``, ``cryptosuite``, ``created``,
  ``verificationMethod``, ``proofPurpose``, optional ``challenge``/``domain``) with the document's
  ``@context``. Under ``eddsa-jcs-2022`` the proof itself carries that ``@context`` (added when signing;
  when verifying, the document's ``@context`` must start with it and the unsecured document takes it);
  under ``eddsa-rdfc-2022`` it is only added for canonicalisation.
* transformation: RFC 8785 JCS, or RDFC-1.0 (pyld URDNA2015, offline and bounded: :mod:`protocol.jsonld`);
* hashing: SHA-256(canonical proof configuration) || SHA-256(canonical document);
* proof value: the Ed25519 signature of those 64 bytes, base58btc multibase.

Verification methods are did:key DID URLs whose fragment repeats the key (``did:key:z6Mk…#z6Mk…``); the
controller is the DID. Before any hashing, documents are limited in size and nesting and every term must
be defined by the shipped contexts (:mod:`protocol.di_terms`), under both suites.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import rfc8785

from .di_terms import check_terms
from .errors import DecodeError, SchemaError, SignatureError, UnsupportedError
from .jsonld import DEFAULT_LIMITS, DocumentLimits, canonize, check_json
from .keys import KeyPair, public_key_from_did, split_did_url, verify_signature
from .multibase import multibase_b58_decode, multibase_b58_encode

JCS = "eddsa-jcs-2022"
RDFC = "eddsa-rdfc-2022"
SUITES = (JCS, RDFC)
PROOF_TYPE = "DataIntegrityProof"
PURPOSES = frozenset({"assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation"})

_PROOF_FIELDS = frozenset({"@context", "id", "type", "cryptosuite", "created", "verificationMethod",
                           "proofPurpose", "proofValue", "challenge", "domain"})
_DATETIME_STAMP = re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_MAX_PROOF_VALUE = 100  # base58 of 64 bytes is at most 88 characters plus the 'z'


@dataclass(frozen=True)
class VerifiedProof:
    """What a valid proof says; the caller checks purpose-specific values (challenge, domain, issuer)."""

    suite: str
    verification_method: str
    controller: str
    purpose: str
    created: str | None
    challenge: str | None
    domain: str | None


# --------------------------------------------------------------------------------------------------------
# the cryptosuite steps (public so the W3C vectors can check every intermediate value)


def jcs(value: Any) -> bytes:
    """RFC 8785 canonical JSON."""
    try:
        return bytes(rfc8785.dumps(value))
    except (rfc8785.CanonicalizationError, RecursionError) as exc:  # ints beyond 2**53, NaN, lone surrogates,
        # non-JSON types, nesting deeper than the interpreter allows; anything else is a bug to surface
        raise DecodeError("decode.json", f"cannot canonicalise as RFC 8785 JSON: {exc}") from None


def canonical_document(suite: str, unsecured: Mapping[str, Any],
                       limits: DocumentLimits = DEFAULT_LIMITS) -> bytes:
    """The transformation step: canonical form of the document without its proof."""
    if suite == JCS:
        return jcs(unsecured)
    if suite == RDFC:
        return canonize(unsecured, limits).encode("utf-8")
    raise UnsupportedError("unsupported.cryptosuite", f"cryptosuite {str(suite)[:100]!r} is not supported")


def canonical_proof_config(suite: str, proof_config: Mapping[str, Any],
                           limits: DocumentLimits = DEFAULT_LIMITS) -> bytes:
    """Canonical form of the proof configuration (proof options with ``@context``, no ``proofValue``)."""
    return canonical_document(suite, proof_config, limits)


def hash_data(canonical_config: bytes, canonical_doc: bytes) -> bytes:
    return hashlib.sha256(canonical_config).digest() + hashlib.sha256(canonical_doc).digest()


def proof_config(suite: str, unsecured: Mapping[str, Any], proof: Mapping[str, Any]) -> dict[str, Any]:
    """Proof options (without ``proofValue``) plus, for RDFC, the document's ``@context``."""
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    if suite == RDFC:
        config.pop("@context", None)
        if "@context" in unsecured:
            config["@context"] = unsecured["@context"]
    return config


def _hash(suite: str, unsecured: Mapping[str, Any], proof: Mapping[str, Any],
          limits: DocumentLimits) -> bytes:
    config = canonical_proof_config(suite, proof_config(suite, unsecured, proof), limits)
    return hash_data(config, canonical_document(suite, unsecured, limits))


# --------------------------------------------------------------------------------------------------------
# validation helpers


def _proof_error(detail: str) -> SchemaError:
    return SchemaError("schema.proof", detail)


def check_datetime_stamp(value: Any, what: str) -> str:
    """An XSD dateTimeStamp: a date-time *with* a time zone (a local time means different instants)."""
    if not isinstance(value, str) or not _DATETIME_STAMP.match(value):
        raise _proof_error(f"{what} must be an XSD dateTimeStamp with a time zone, e.g. 2024-01-01T00:00:00Z")
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _proof_error(f"{what} {value!r} is not a valid date-time") from None
    return value


def _check_suite(suite: Any) -> str:
    if not isinstance(suite, str):
        raise _proof_error("cryptosuite must be a string")
    if suite not in SUITES:
        raise UnsupportedError("unsupported.cryptosuite", f"cryptosuite {suite[:100]!r} is not supported")
    return suite


def _check_purpose(purpose: Any) -> str:
    if not isinstance(purpose, str) or purpose not in PURPOSES:
        raise _proof_error(f"proof purpose must be one of {sorted(PURPOSES)}")
    return purpose


def _check_method(method: Any) -> tuple[str, bytes]:
    """A did:key DID URL whose fragment repeats the key; returns (controller DID, public key)."""
    if not isinstance(method, str):
        raise _proof_error("verificationMethod must be a did:key DID URL")
    return _resolve_method(method)


@lru_cache(maxsize=4096)
def _resolve_method(method: str) -> tuple[str, bytes]:
    """Cached: a did:key decodes to the same key every time (errors are raised, never cached)."""
    did, fragment = split_did_url(method)
    if not fragment:
        raise _proof_error("verificationMethod must be a DID URL with a fragment (did:key:z…#z…)")
    return did, public_key_from_did(method)


def _optional_str(proof: Mapping[str, Any], name: str) -> str | None:
    value = proof.get(name)
    if value is not None and not isinstance(value, str):
        raise _proof_error(f"{name} must be a string")
    return value


def _context_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _document(document: Any, limits: DocumentLimits, *, checked: bool = False) -> dict[str, Any]:
    if not isinstance(document, Mapping):
        raise SchemaError("schema.type", "a secured document is a JSON object")
    if not checked:
        check_json(document, limits)
    return dict(document)


# --------------------------------------------------------------------------------------------------------
# API


def add_proof(document: Mapping[str, Any], key: KeyPair, *, created: str, suite: str = JCS,
              purpose: str = "assertionMethod", challenge: str | None = None, domain: str | None = None,
              limits: DocumentLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """Return a copy of ``document`` secured with a DataIntegrityProof made with ``key``."""
    unsecured = copy.deepcopy(_document(document, limits))
    if "proof" in unsecured:
        raise _proof_error("the document already has a proof; only one proof is supported")
    _check_suite(suite)
    options: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": suite,
        "created": check_datetime_stamp(created, "created"),
        "verificationMethod": key.kid,
        "proofPurpose": _check_purpose(purpose),
    }
    for name, value in (("challenge", challenge), ("domain", domain)):
        if value is not None:
            if not isinstance(value, str):
                raise _proof_error(f"{name} must be a string")
            options[name] = value
    if suite == JCS and "@context" in unsecured:
        options["@context"] = copy.deepcopy(unsecured["@context"])
    check_terms({**unsecured, "proof": options})
    data = _hash(suite, unsecured, options, limits)
    options["proofValue"] = multibase_b58_encode(key.sign(data))
    unsecured["proof"] = options
    return unsecured


def verify_proof(document: Mapping[str, Any], *, expected_purpose: str,
                 limits: DocumentLimits = DEFAULT_LIMITS, json_checked: bool = False) -> VerifiedProof:
    """Check the one DataIntegrityProof of ``document``; raise a typed error unless it is valid.

    ``json_checked``: the caller already ran :func:`check_json` with ``limits`` on this document or on
    one that contains it (a presentation and its credentials), so the walk is not repeated.
    """
    doc = _document(document, limits, checked=json_checked)
    _check_purpose(expected_purpose)
    proof = doc.get("proof")
    if not isinstance(proof, dict):
        raise _proof_error("the document must have exactly one proof object")
    extra = set(proof) - _PROOF_FIELDS
    if extra:
        raise _proof_error(f"unsupported proof fields: {sorted(map(str, extra))[:5]}")
    if proof.get("type") != PROOF_TYPE:
        raise _proof_error(f"proof type must be {PROOF_TYPE}")
    suite = _check_suite(proof.get("cryptosuite"))
    controller, public_key = _check_method(proof.get("verificationMethod"))
    purpose = _check_purpose(proof.get("proofPurpose"))
    created = proof.get("created")
    if created is not None:
        check_datetime_stamp(created, "created")
    challenge = _optional_str(proof, "challenge")
    domain = _optional_str(proof, "domain")
    _optional_str(proof, "id")
    value = proof.get("proofValue")
    if not isinstance(value, str):
        raise _proof_error("proofValue must be a base58btc multibase string")
    if len(value) > _MAX_PROOF_VALUE:
        raise SignatureError("signature.invalid", "the proof value is not an Ed25519 signature")
    signature = multibase_b58_decode(value)
    if len(signature) != 64:
        raise SignatureError("signature.invalid", "the proof value is not an Ed25519 signature")
    if purpose != expected_purpose:
        raise SignatureError("signature.purpose", f"proof purpose is {purpose}, expected {expected_purpose}")

    check_terms(doc)
    unsecured = {k: v for k, v in doc.items() if k != "proof"}
    if "@context" in proof:
        proof_context = _context_list(proof["@context"])
        doc_context = _context_list(doc.get("@context"))
        if suite == JCS:
            if doc_context[: len(proof_context)] != proof_context:
                raise SignatureError("signature.invalid", "document @context does not start with the proof's")
            unsecured["@context"] = proof["@context"]
        elif proof_context != doc_context:
            raise _proof_error("the proof @context must equal the document's")
    data = _hash(suite, unsecured, proof, limits)
    verify_signature(public_key, data, signature)
    return VerifiedProof(suite=suite, verification_method=proof["verificationMethod"], controller=controller,
                         purpose=purpose, created=created, challenge=challenge, domain=domain)
