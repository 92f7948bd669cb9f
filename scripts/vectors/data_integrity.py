"""Vectors for Data Integrity proofs (eddsa-jcs-2022, eddsa-rdfc-2022): specs/vectors/data-integrity.json.

Valid cases carry every intermediate value (canonical document, canonical proof configuration, hash data)
and what verification returns. Invalid cases name the error code; each breaks one rule and, where the
rule is not about the signature, carries a signature that is valid over what the suite signs (made here
with the raw cryptosuite steps, bypassing the checks add_proof applies), so only that rule can refuse it.
Fixed key (RFC 8032 test 1 seed) and fixed times, so the output never changes.
"""

from __future__ import annotations

import copy
from typing import Any

from pyld import jsonld as pyld_jsonld

from protocol import data_integrity as di
from protocol.jsonld import document_loader
from protocol.keys import KeyPair
from protocol.multibase import multibase_b58_encode

SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
OTHER_SEED = bytes.fromhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
ISSUER = KeyPair.from_seed(SEED)
HOLDER = KeyPair.from_seed(OTHER_SEED)
CREATED = "2026-01-01T00:00:00Z"
V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
CHALLENGE = "3b2e6f0c-8c1d-4d5e-9f00-vector"
DOMAIN = "https://market.example"


def credential(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": [V2],
        "id": "urn:uuid:9a1d7e3c-1111-4c2b-8a55-0f0e0d0c0b0a",
        "type": ["VerifiableCredential"],
        "issuer": ISSUER.did,
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2036-01-01T00:00:00Z",
        "credentialSubject": {"id": HOLDER.did, "name": "Example Holder"},
    }
    doc.update(extra)
    return doc


def with_status() -> dict[str, Any]:
    return credential(credentialStatus={
        "id": "https://office.example/status/1#4242", "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation", "statusListIndex": "4242",
        "statusListCredential": "https://office.example/status/1",
    })


def presentation(suite: str) -> dict[str, Any]:
    inner = di.add_proof(credential(), ISSUER, created=CREATED, suite=suite)
    vp = {"@context": [V2], "type": ["VerifiablePresentation"], "holder": HOLDER.did,
          "verifiableCredential": [inner]}
    return di.add_proof(vp, HOLDER, created=CREATED, suite=suite, purpose="authentication",
                        challenge=CHALLENGE, domain=DOMAIN)


def raw_sign(document: dict[str, Any], suite: str, *, key: KeyPair = ISSUER, **proof: Any) -> dict[str, Any]:
    """Sign with the bare cryptosuite steps and no checks (RDFC through pyld, which drops unknown terms)."""
    unsecured = copy.deepcopy(document)
    options: dict[str, Any] = {"type": "DataIntegrityProof", "cryptosuite": suite, "created": CREATED,
                               "verificationMethod": key.kid, "proofPurpose": "assertionMethod", **proof}
    if suite == di.JCS and "@context" in unsecured:
        options["@context"] = copy.deepcopy(unsecured["@context"])
    config = di.proof_config(suite, unsecured, options)
    if suite == di.JCS:
        canon_config, canon_doc = di.jcs(config), di.jcs(unsecured)
    else:
        opts = {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": document_loader}
        canon_config = pyld_jsonld.normalize(config, opts).encode()
        canon_doc = pyld_jsonld.normalize(unsecured, opts).encode()
    signature = key.sign(di.hash_data(canon_config, canon_doc))
    return {**unsecured, "proof": {**options, "proofValue": multibase_b58_encode(signature)}}


def poison_graph() -> dict[str, Any]:
    """Ten blank nodes that all know each other: RDFC-1.0 would try their permutations (JCS does not care)."""
    nodes = [{"id": f"_:b{i}", "knows": [{"id": f"_:b{j}"} for j in range(10) if j != i]} for i in range(10)]
    return di.add_proof(credential(**{"@context": [V2, EXAMPLES]}, credentialSubject=nodes), ISSUER,
                        created=CREATED)


def valid_case(name: str, document: dict[str, Any], purpose: str) -> dict[str, Any]:
    proof = document["proof"]
    suite = proof["cryptosuite"]
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    if "@context" in proof and suite == di.JCS:
        unsecured["@context"] = proof["@context"]
    canon_config = di.canonical_proof_config(suite, di.proof_config(suite, unsecured, proof))
    canon_doc = di.canonical_document(suite, unsecured)
    verified = di.verify_proof(document, expected_purpose=purpose)
    return {
        "name": name,
        "suite": suite,
        "expectedPurpose": purpose,
        "document": document,
        "canonicalDocument": canon_doc.decode(),
        "canonicalProofConfig": canon_config.decode(),
        "hashData": di.hash_data(canon_config, canon_doc).hex(),
        "result": {
            "suite": verified.suite, "verificationMethod": verified.verification_method,
            "controller": verified.controller, "purpose": verified.purpose, "created": verified.created,
            "challenge": verified.challenge, "domain": verified.domain,
        },
    }


def valid_cases() -> list[dict[str, Any]]:
    cases = []
    for suite in di.SUITES:
        cases.append(valid_case(f"credential {suite}",
                                di.add_proof(credential(), ISSUER, created=CREATED, suite=suite),
                                "assertionMethod"))
        cases.append(valid_case(f"credential with status entry {suite}",
                                di.add_proof(with_status(), ISSUER, created=CREATED, suite=suite),
                                "assertionMethod"))
        cases.append(valid_case(f"presentation {suite}", presentation(suite), "authentication"))
    extended = di.add_proof(credential(), ISSUER, created=CREATED)
    extended["@context"] = [V2, EXAMPLES]
    cases.append(valid_case("jcs: document @context extends the proof's", extended, "assertionMethod"))
    cases.append(valid_case("jcs: symmetric blank-node graph (no RDF canonicalisation)", poison_graph(),
                            "assertionMethod"))
    return cases


def invalid(name: str, document: Any, code: str, purpose: str = "assertionMethod") -> dict[str, Any]:
    return {"name": name, "document": document, "expectedPurpose": purpose, "error": code}


def _edit(document: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(document)
    target = doc
    for part in path[:-1]:
        target = target[part]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


def invalid_cases() -> list[dict[str, Any]]:
    cases = []
    for suite in di.SUITES:
        good = di.add_proof(credential(), ISSUER, created=CREATED, suite=suite)
        value = good["proof"]["proofValue"]
        other_value = raw_sign(with_status(), suite)["proof"]["proofValue"]
        by_holder = raw_sign(credential(), suite, key=HOLDER)
        cases += [
            invalid(f"{suite}: claim changed", _edit(good, ("credentialSubject", "name"), "Mallory"),
                    "signature.invalid"),
            invalid(f"{suite}: proof value of another document",
                    _edit(good, ("proof", "proofValue"), other_value),
                    "signature.invalid"),
            invalid(f"{suite}: proof value truncated", _edit(good, ("proof", "proofValue"), value[:-4]),
                    "signature.invalid"),
            invalid(f"{suite}: signed by another key than named",
                    _edit(by_holder, ("proof", "verificationMethod"), ISSUER.kid),
                    "signature.invalid"),
            invalid(f"{suite}: purpose not the expected one", good, "signature.purpose", "authentication"),
            invalid(f"{suite}: unknown cryptosuite", _edit(good, ("proof", "cryptosuite"), "eddsa-2022"),
                    "unsupported.cryptosuite"),
            invalid(f"{suite}: created without time zone",
                    raw_sign(credential(), suite, created="2026-01-01T00:00:00"), "schema.proof"),
            invalid(f"{suite}: no proof value", _edit(good, ("proof", "proofValue"), None), "schema.proof"),
            invalid(f"{suite}: extra proof field", raw_sign(credential(), suite, nonce="n"), "schema.proof"),
            invalid(f"{suite}: proof value not base58", _edit(good, ("proof", "proofValue"), "z0OIl"),
                    "decode.base58"),
            invalid(f"{suite}: verification method without fragment",
                    raw_sign(credential(), suite, verificationMethod=ISSUER.did), "schema.proof"),
            invalid(f"{suite}: verification method not did:key",
                    _edit(good, ("proof", "verificationMethod"), "did:web:office.example#key-1"),
                    "unsupported.did-method"),
            invalid(f"{suite}: undefined claim (signed)",
                    raw_sign(credential(credentialSubject={"id": HOLDER.did, "alumniOf": "x"}), suite),
                    "schema.undefined-term"),
            invalid(f"{suite}: undefined type (signed)",
                    raw_sign(credential(type=["VerifiableCredential", "RightCredential"]), suite),
                    "schema.undefined-term"),
            invalid(f"{suite}: undefined-terms vocabulary (signed)",
                    raw_sign(credential(**{"@context": [V2, "https://www.w3.org/ns/credentials/undefined-terms/v2"]},
                                        note="x"), suite),
                    "schema.undefined-term"),
            invalid(f"{suite}: relative issuer", _edit(good, ("issuer",), "office"), "schema.relative-iri"),
            invalid(f"{suite}: context not shipped",
                    _edit(good, ("@context",), [V2, "https://example.org/context/v1"]),
                    "unsupported.context"),
        ]
    deep: dict[str, Any] = {"name": "leaf"}
    for _ in range(40):
        deep = {"description": deep}
    cases.append(invalid("nested 40 levels", raw_sign(credential(credentialSubject=deep), di.JCS),
                         "decode.too-deep"))
    cases.append(invalid("rdfc: poison blank-node graph refused before canonicalisation finishes",
                         _edit(poison_graph(), ("proof", "cryptosuite"), di.RDFC), "schema.canonicalization"))
    return cases


def generate() -> dict[str, Any]:
    return {
        "data-integrity.json": {
            "description": "W3C Data Integrity EdDSA proofs as rightsmesh makes and checks them "
                           "(specs/credentials.md). Valid cases: verify_proof(document, expected_purpose) "
                           "returns result, and the canonical forms and hash data match. Invalid cases: "
                           "verify_proof fails with error.",
            "keys": {
                "issuer": {"seed": SEED.hex(), "did": ISSUER.did, "verificationMethod": ISSUER.kid},
                "holder": {"seed": OTHER_SEED.hex(), "did": HOLDER.did, "verificationMethod": HOLDER.kid},
            },
            "valid": valid_cases(),
            "invalid": invalid_cases(),
        }
    }
