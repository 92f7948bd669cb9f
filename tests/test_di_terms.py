"""Undefined-term refusal: the fast compiled-context walk and pyld expansion agree on every document."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from protocol import di_terms
from protocol.errors import ProtocolError

V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
UNDEFINED = "https://www.w3.org/ns/credentials/undefined-terms/v2"
DI = "https://w3id.org/security/data-integrity/v2"
STATUS = "https://www.w3.org/ns/credentials/status/v1"
DID = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
VM = f"{DID}#{DID[8:]}"


def vc(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": [V2],
        "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
        "type": ["VerifiableCredential"],
        "issuer": DID,
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:holder", "name": "Holder", "description": "x"},
    }
    doc.update(extra)
    return doc


def proof(**extra: Any) -> dict[str, Any]:
    return {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022", "created": "2024-01-01T00:00:00Z",
            "verificationMethod": VM, "proofPurpose": "assertionMethod", "proofValue": "z111", **extra}


def status_entry(**extra: Any) -> dict[str, Any]:
    return {"id": "https://office.example/status/1#94567", "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation", "statusListIndex": "94567",
            "statusListCredential": "https://office.example/status/1", **extra}


def vp(credential: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"@context": [V2], "type": ["VerifiablePresentation"], "holder": "did:example:holder",
            "verifiableCredential": [credential],
            "proof": proof(proofPurpose="authentication", challenge="c-1", domain="market.example"), **extra}


def with_subject(**subject: Any) -> dict[str, Any]:
    return vc(credentialSubject={"id": "did:example:holder", **subject})


OK = None
# (name, document, expected error code or None); every document is checked by both paths.
CASES: list[tuple[str, dict[str, Any], str | None]] = [
    ("minimal VC", vc(), OK),
    ("VC with proof", vc(proof=proof()), OK),
    ("JCS proof repeating the @context", vc(proof=proof(**{"@context": [V2]})), OK),
    ("VC + data-integrity context", vc(**{"@context": [V2, DI]}, proof=proof()), OK),
    ("VC + status context", vc(**{"@context": [V2, STATUS]}, credentialStatus=status_entry()), OK),
    ("status entry", vc(credentialStatus=status_entry()), OK),
    ("status entry with message", vc(credentialStatus=status_entry(
        statusSize=2, statusMessage=[{"status": "0x0", "message": "valid"}])), OK),
    ("examples vocabulary", vc(**{"@context": [V2, EXAMPLES]},
                               type=["VerifiableCredential", "AlumniCredential"],
                               credentialSubject={"id": "did:example:a", "alumniOf": "School"}), OK),
    ("absolute IRI property", with_subject(**{"https://schema.org/alumniOf": "School"}), OK),
    ("absolute IRI type", vc(type=["VerifiableCredential", "https://example.org/Foo"]), OK),
    ("blank node subject ids", with_subject(**{"id": "_:b0"}), OK),
    ("presentation", vp(vc(proof=proof())), OK),
    ("presentation, several credentials",
     {**vp(vc()), "verifiableCredential": [vc(), vc(proof=proof())]}, OK),
    ("json schema literal", vc(credentialSchema={"id": "https://x.example/s", "type": "JsonSchema",
                                                 "jsonSchema": {"anything": {"goes": [1, 2]}}}), OK),
    ("status list credential", vc(type=["VerifiableCredential", "BitstringStatusListCredential"],
                                  credentialSubject={"id": "https://office.example/status/1#list",
                                                     "type": "BitstringStatusList",
                                                     "statusPurpose": "revocation",
                                                     "encodedList": "uH4sI"}), OK),
    # refusals
    ("undefined subject property", with_subject(alumniOf="School"), "schema.undefined-term"),
    ("undefined top-level property", vc(foo="bar"), "schema.undefined-term"),
    ("undefined type", vc(type=["VerifiableCredential", "FooCredential"]), "schema.undefined-term"),
    ("undefined-terms vocabulary", vc(**{"@context": [V2, UNDEFINED]}, foo="bar"), "schema.undefined-term"),
    ("undefined-terms vocabulary type", vc(**{"@context": [V2, UNDEFINED]},
                                           type=["VerifiableCredential", "Foo"]), "schema.undefined-term"),
    ("issuer-dependent IRI", with_subject(**{"https://www.w3.org/ns/credentials/issuer-dependent#x": 1}),
     "schema.undefined-term"),
    ("undefined status entry field", vc(credentialStatus=status_entry(foo="x")), "schema.undefined-term"),
    ("status entry field outside its type", with_subject(statusListIndex="3"), "schema.undefined-term"),
    ("undefined proof field", vc(proof=proof(foo="x")), "schema.undefined-term"),
    ("proof terms outside the proof", vc(cryptosuite="eddsa-jcs-2022"), "schema.undefined-term"),
    ("blank node property", with_subject(**{"_:p": "x"}), "schema.undefined-term"),
    ("keyword-like key", vc(**{"@foo": "x"}), "schema.undefined-term"),
    ("no context", {k: v for k, v in vc().items() if k != "@context"}, "schema.undefined-term"),
    ("embedded credential without context", vp({k: v for k, v in vc().items() if k != "@context"}),
     "schema.undefined-term"),
    ("undefined term in embedded credential", vp(with_subject(alumniOf="x")), "schema.undefined-term"),
    ("undefined term in presentation", vp(vc(), foo="x"), "schema.undefined-term"),
    ("relative id", vc(id="credential-1"), "schema.relative-iri"),
    ("relative issuer", vc(issuer="office"), "schema.relative-iri"),
    ("relative subject id", with_subject(id="holder"), "schema.relative-iri"),
    ("undefined proof purpose", vc(proof=proof(proofPurpose="fooPurpose")), "schema.relative-iri"),
    ("unknown context", vc(**{"@context": [V2, "https://example.org/ctx"]}), "unsupported.context"),
    # documents only pyld decides
    ("inline context term", vc(**{"@context": [V2, {"alumniOf": "https://schema.org/alumniOf"}]},
                               credentialSubject={"id": "did:example:a", "alumniOf": "x"}), OK),
    ("inline context, other term undefined", vc(**{"@context": [V2, {"a": "https://schema.org/a"}]}, b="x"),
     "schema.undefined-term"),
    ("protected term redefinition", vc(**{"@context": [V2, {"name": "https://example.org/name"}]}),
     "schema.jsonld"),
    ("bare inline context", vc(**{"@context": {"@vocab": "https://example.org/#"}}), OK),
    ("null context", vc(**{"@context": None}), "schema.undefined-term"),
    ("value object", with_subject(name={"@value": "Holder", "@language": "en"}), OK),
    ("non-string id", vc(id=5), "schema.jsonld"),
]


def outcome(check: Any, doc: dict[str, Any]) -> str | None:
    try:
        check(copy.deepcopy(doc))
    except ProtocolError as exc:
        return exc.code
    return None


@pytest.mark.parametrize(("name", "doc", "expected"), CASES, ids=[c[0] for c in CASES])
def test_both_paths_agree(name: str, doc: dict[str, Any], expected: str | None) -> None:
    assert outcome(di_terms.check_terms_pyld, doc) == expected
    assert outcome(di_terms.check_terms, doc) == expected
    try:
        fast = outcome(di_terms.check_terms_fast, doc)
    except di_terms.Undecidable:
        return
    assert fast == expected


PYLD_ONLY = {"keyword-like key", "inline context term", "inline context, other term undefined",
             "protected term redefinition", "value object", "non-string id", "bare inline context",
             "null context"}


def test_fast_path_decides_the_usual_documents() -> None:
    """Credentials, presentations and status entries in shipped contexts never need pyld."""
    undecided = set()
    for name, doc, _expected in CASES:
        try:
            outcome(di_terms.check_terms_fast, doc)
        except di_terms.Undecidable:
            undecided.add(name)
    assert undecided == PYLD_ONLY


# --- differential test over random documents --------------------------------------------------------

RANDOM_CONTEXTS: list[Any] = [
    [V2], [V2, EXAMPLES], [V2, UNDEFINED], [V2, DI], [V2, STATUS], [DI], [STATUS], V2,
    [V2, "https://w3id.org/security/multikey/v1"], ["https://w3id.org/security/multikey/v1"],
]
RANDOM_KEYS = [
    "id", "type", "name", "description", "issuer", "credentialSubject", "proof", "credentialStatus",
    "statusListIndex", "statusPurpose", "encodedList", "cryptosuite", "proofPurpose", "verificationMethod",
    "created", "challenge", "holder", "verifiableCredential", "alumniOf", "foo", "https://schema.org/x",
    "_:p", "jsonSchema", "statusMessage", "message", "controller", "publicKeyMultibase", "@context",
    "validFrom", "cnf", "kid", "jwk", "@id", "@type", "statusListCredential", "credentialSchema", "evidence",
    "aud",
]
RANDOM_TYPES = [
    "VerifiableCredential", "VerifiablePresentation", "DataIntegrityProof", "BitstringStatusListEntry",
    "BitstringStatusList", "JsonSchema", "Multikey", "AlumniCredential", "Foo", "https://example.org/T",
    "_:t",
]
RANDOM_STRINGS = ["did:example:1", "urn:x", "relative", "_:b1", "assertionMethod", "authentication", "x",
                  "https://a.example/b", "2024-01-01T00:00:00Z"]


def random_value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth < 4 and roll < 0.35:
        return random_node(rng, depth + 1)
    if roll < 0.45:
        return [random_value(rng, depth) for _ in range(rng.randint(0, 2))]
    if roll < 0.5:
        return rng.choice([1, True, None, 2.5])
    return rng.choice(RANDOM_STRINGS)


def random_node(rng: random.Random, depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {}
    for key in rng.sample(RANDOM_KEYS, rng.randint(0, 5)):
        if key == "@context":
            node[key] = rng.choice(RANDOM_CONTEXTS)
        elif key in ("type", "@type"):
            node[key] = rng.sample(RANDOM_TYPES, rng.randint(1, 2))
        else:
            node[key] = random_value(rng, depth)
    return node


def has_null(value: Any) -> bool:
    if isinstance(value, dict):
        return any(v is None or has_null(v) for v in value.values())
    if isinstance(value, list):
        return any(has_null(v) for v in value)
    return False


def test_random_documents_fast_path_never_more_lenient() -> None:
    """The fast path never accepts what pyld refuses. It is stricter in two harmless corners only: a
    top-level node holding nothing but an id (pyld drops the whole node) and an undefined property whose
    value is null (pyld drops null values before the vocabulary would catch the term)."""
    decided = stricter = 0
    for seed in range(1500):
        rng = random.Random(seed)
        doc = random_node(rng, 0)
        if rng.random() < 0.9:
            doc["@context"] = rng.choice(RANDOM_CONTEXTS)
        try:
            fast = outcome(di_terms.check_terms_fast, doc)
        except di_terms.Undecidable:
            continue
        decided += 1
        reference = outcome(di_terms.check_terms_pyld, doc)
        assert not (fast is None and reference is not None), doc
        if fast is not None and reference is None:
            stricter += 1
            assert has_null(doc) or len([k for k in doc if k != "@context"]) <= 1, doc
    assert decided > 1300 and stricter < 15
