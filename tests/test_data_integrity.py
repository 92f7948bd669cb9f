"""Data Integrity proofs: round trips for both suites and typed errors (only) on bad input."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import data_integrity as di
from protocol.errors import ProtocolError
from protocol.jsonld import DocumentLimits, canonize
from protocol.keys import KeyPair

ISSUER = KeyPair.from_seed(b"\x01" * 32)
OTHER = KeyPair.from_seed(b"\x02" * 32)
CREATED = "2025-01-02T03:04:05Z"
V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"


def credential() -> dict[str, Any]:
    return {
        "@context": [V2],
        "id": "urn:uuid:0b8c7a0e-5b8e-4c1e-9d1e-000000000001",
        "type": ["VerifiableCredential"],
        "issuer": ISSUER.did,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": OTHER.did, "name": "Holder"},
    }


def signed(suite: str = "eddsa-jcs-2022", **kwargs: Any) -> dict[str, Any]:
    return di.add_proof(credential(), ISSUER, created=CREATED, suite=suite, **kwargs)


def code_of(fn: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ProtocolError) as info:
        fn(*args, **kwargs)
    return info.value.code


def verify_code(doc: Any, purpose: str = "assertionMethod") -> str:
    return code_of(di.verify_proof, doc, expected_purpose=purpose)


@pytest.mark.parametrize("suite", di.SUITES)
def test_round_trip(suite: str) -> None:
    doc = signed(suite, purpose="authentication", challenge="c", domain="d.example")
    assert doc["proof"]["cryptosuite"] == suite
    assert ("@context" in doc["proof"]) == (suite == "eddsa-jcs-2022")
    result = di.verify_proof(doc, expected_purpose="authentication")
    assert result == di.VerifiedProof(suite=suite, verification_method=ISSUER.kid, controller=ISSUER.did,
                                      purpose="authentication", created=CREATED, challenge="c",
                                      domain="d.example")


def test_input_document_is_not_modified() -> None:
    doc = credential()
    before = copy.deepcopy(doc)
    di.add_proof(doc, ISSUER, created=CREATED)
    assert doc == before


def mutate(path: tuple[str, ...], value: Any, suite: str = "eddsa-jcs-2022") -> dict[str, Any]:
    doc = signed(suite)
    target = doc
    for part in path[:-1]:
        target = target[part]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


_DELETE = object()
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def flipped(value: str) -> str:
    last = value[-2]
    return value[:-2] + B58[(B58.index(last) + 1) % 58] + value[-1]


BAD_PROOFS: list[tuple[str, tuple[str, ...], Any, str]] = [
    ("no proof", ("proof",), _DELETE, "schema.proof"),
    ("proof is a list", ("proof",), [], "schema.proof"),
    ("proof is a string", ("proof",), "z111", "schema.proof"),
    ("no type", ("proof", "type"), _DELETE, "schema.proof"),
    ("other proof type", ("proof", "type"), "Ed25519Signature2020", "schema.proof"),
    ("no cryptosuite", ("proof", "cryptosuite"), _DELETE, "schema.proof"),
    ("cryptosuite not a string", ("proof", "cryptosuite"), 7, "schema.proof"),
    ("unknown cryptosuite", ("proof", "cryptosuite"), "ecdsa-rdfc-2019", "unsupported.cryptosuite"),
    ("no verification method", ("proof", "verificationMethod"), _DELETE, "schema.proof"),
    ("method without fragment", ("proof", "verificationMethod"), ISSUER.did, "schema.proof"),
    ("method with other fragment", ("proof", "verificationMethod"), ISSUER.did + "#key-1", "decode.did-url"),
    ("method not did:key", ("proof", "verificationMethod"), "did:web:x.example#k", "unsupported.did-method"),
    ("method of another key", ("proof", "verificationMethod"), OTHER.kid, "signature.invalid"),
    ("no purpose", ("proof", "proofPurpose"), _DELETE, "schema.proof"),
    ("unknown purpose", ("proof", "proofPurpose"), "keyAgreement", "schema.proof"),
    ("other purpose", ("proof", "proofPurpose"), "authentication", "signature.purpose"),
    ("no proof value", ("proof", "proofValue"), _DELETE, "schema.proof"),
    ("proof value not a string", ("proof", "proofValue"), 5, "schema.proof"),
    ("proof value not multibase", ("proof", "proofValue"), "f00", "decode.multibase"),
    ("proof value not base58", ("proof", "proofValue"), "z0OIl", "decode.base58"),
    ("proof value too short", ("proof", "proofValue"), "z3rPq", "signature.invalid"),
    ("proof value too long", ("proof", "proofValue"), "z" + "2" * 300, "signature.invalid"),
    ("created without zone", ("proof", "created"), "2025-01-02T03:04:05", "schema.proof"),
    ("created not a date", ("proof", "created"), "2025-02-30T03:04:05Z", "schema.proof"),
    ("created a number", ("proof", "created"), 1735787045, "schema.proof"),
    ("challenge not a string", ("proof", "challenge"), ["c"], "schema.proof"),
    ("domain not a string", ("proof", "domain"), {"d": 1}, "schema.proof"),
    ("extra proof field", ("proof", "nonce"), "abc", "schema.proof"),
    ("extra proof field, unknown", ("proof", "foo"), "abc", "schema.proof"),
    ("proof context not a prefix", ("proof", "@context"), [EXAMPLES], "signature.invalid"),
    ("created changed", ("proof", "created"), "2025-01-02T03:04:06Z", "signature.invalid"),
    ("claim changed", ("credentialSubject", "name"), "Mallory", "signature.invalid"),
    ("claim added (undefined)", ("credentialSubject", "alumniOf"), "x", "schema.undefined-term"),
    ("claim added (defined)", ("credentialSubject", "description"), "x", "signature.invalid"),
    ("relative issuer", ("issuer",), "office", "schema.relative-iri"),
    ("number beyond JCS range", ("credentialSubject", "name"), 2**60, "decode.json"),
    ("non-JSON value", ("credentialSubject", "name"), b"bytes", "decode.json"),
    ("NaN", ("credentialSubject", "name"), math.nan, "decode.json"),
]


@pytest.mark.parametrize(("name", "path", "value", "code"), BAD_PROOFS, ids=[c[0] for c in BAD_PROOFS])
def test_bad_proofs(name: str, path: tuple[str, ...], value: Any, code: str) -> None:
    assert verify_code(mutate(path, value)) == code


@pytest.mark.parametrize("suite", di.SUITES)
def test_tampered_proof_value(suite: str) -> None:
    doc = signed(suite)
    doc["proof"]["proofValue"] = flipped(doc["proof"]["proofValue"])
    assert verify_code(doc) == "signature.invalid"


def test_rdfc_proof_context_must_match() -> None:
    doc = mutate(("proof", "@context"), [V2, EXAMPLES], suite="eddsa-rdfc-2022")
    assert verify_code(doc) == "schema.proof"
    same = mutate(("proof", "@context"), [V2], suite="eddsa-rdfc-2022")
    assert di.verify_proof(same, expected_purpose="assertionMethod").suite == "eddsa-rdfc-2022"


def test_jcs_document_may_extend_the_proof_context() -> None:
    """Spec: the document's @context must start with the proof's (contexts may be appended later)."""
    doc = signed()
    doc["@context"] = [V2, EXAMPLES]
    assert di.verify_proof(doc, expected_purpose="assertionMethod").suite == "eddsa-jcs-2022"


@pytest.mark.parametrize("document", [None, [], "text", 5, {"proof": None}])
def test_not_a_document(document: Any) -> None:
    assert verify_code(document).startswith("schema.")


def test_unknown_expected_purpose() -> None:
    assert verify_code(signed(), purpose="anything") == "schema.proof"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"created": "2025-01-02T03:04:05"}, "schema.proof"),
        ({"created": "yesterday"}, "schema.proof"),
        ({"suite": "eddsa-2022"}, "unsupported.cryptosuite"),
        ({"purpose": "keyAgreement"}, "schema.proof"),
        ({"challenge": 5}, "schema.proof"),
    ],
)
def test_add_proof_refuses(kwargs: dict[str, Any], code: str) -> None:
    args = {"created": CREATED, **kwargs}
    assert code_of(di.add_proof, credential(), ISSUER, **args) == code


@pytest.mark.parametrize("suite", di.SUITES)
def test_add_proof_refuses_documents(suite: str) -> None:
    undefined = {**credential(), "credentialSubject": {"id": OTHER.did, "alumniOf": "x"}}
    assert code_of(di.add_proof, undefined, ISSUER, created=CREATED, suite=suite) == "schema.undefined-term"
    assert code_of(di.add_proof, signed(), ISSUER, created=CREATED, suite=suite) == "schema.proof"
    unknown_ctx = {**credential(), "@context": [V2, "https://example.org/mine"]}
    assert code_of(di.add_proof, unknown_ctx, ISSUER, created=CREATED, suite=suite) == "unsupported.context"


def nested(depth: int) -> dict[str, Any]:
    doc = credential()
    inner: dict[str, Any] = doc["credentialSubject"]
    for _ in range(depth):
        inner["description"] = {"name": "n"}
        inner = inner["description"]
    return doc


@pytest.mark.parametrize("suite", di.SUITES)
def test_size_and_depth_limits(suite: str) -> None:
    big = {**credential(), "description": "x" * 300_000}
    assert code_of(di.add_proof, big, ISSUER, created=CREATED, suite=suite) == "decode.too-large"
    many = {**credential(), "description": ["x"] * 20_000}
    assert code_of(di.add_proof, many, ISSUER, created=CREATED, suite=suite) == "decode.too-large"
    assert code_of(di.add_proof, nested(100), ISSUER, created=CREATED, suite=suite) == "decode.too-deep"
    assert verify_code({**signed(suite), "description": "x" * 300_000}) == "decode.too-large"
    deep = signed(suite)
    deep["credentialSubject"] = nested(10_000)["credentialSubject"]
    assert verify_code(deep) == "decode.too-deep"


def poison_graph(n: int) -> dict[str, Any]:
    """n blank nodes that all know each other: every node looks alike, so RDFC-1.0 tries permutations."""
    nodes = [{"id": f"_:b{i}", "knows": [{"id": f"_:b{j}"} for j in range(n) if j != i]} for i in range(n)]
    return {"@context": [V2, EXAMPLES], "type": ["VerifiableCredential"], "issuer": ISSUER.did,
            "credentialSubject": nodes}


def test_poison_graph_is_refused() -> None:
    assert canonize(poison_graph(4))  # small symmetric graphs are fine
    assert code_of(canonize, poison_graph(10)) == "schema.canonicalization"
    assert code_of(di.add_proof, poison_graph(10), ISSUER, created=CREATED,
                   suite="eddsa-rdfc-2022") == "schema.canonicalization"
    # the JCS suite does not canonicalise RDF: the same document signs and verifies
    doc = di.add_proof(poison_graph(10), ISSUER, created=CREATED)
    assert di.verify_proof(doc, expected_purpose="assertionMethod").suite == "eddsa-jcs-2022"


def test_quad_and_blank_node_caps() -> None:
    subjects = [{"name": f"n{i}"} for i in range(300)]
    doc = {**credential(), "credentialSubject": subjects}
    assert code_of(canonize, doc) == "schema.canonicalization"  # 300 blank nodes
    few_quads = DocumentLimits(max_quads=50, max_blank_nodes=10_000)
    assert code_of(canonize, doc, few_quads) == "schema.canonicalization"
    assert canonize(doc, DocumentLimits(max_quads=10_000, max_blank_nodes=10_000))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.binary(max_size=4),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
FIELDS = ["@context", "id", "type", "issuer", "validFrom", "credentialSubject", "proof", "name", "extra"]
PROOF_FIELDS = ["type", "cryptosuite", "created", "verificationMethod", "proofPurpose", "proofValue",
                "@context", "challenge", "extra"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(suite=st.sampled_from(di.SUITES), in_proof=st.booleans(), field_index=st.integers(0, 8),
       value=json_values)
def test_any_mutation_gives_typed_error(suite: str, in_proof: bool, field_index: int, value: Any) -> None:
    doc = signed(suite)
    if in_proof:
        doc["proof"][PROOF_FIELDS[field_index]] = value
    else:
        doc[FIELDS[field_index]] = value
    try:
        di.verify_proof(doc, expected_purpose="assertionMethod")
    except ProtocolError as exc:
        assert exc.code.split(".")[0] in {"decode", "schema", "signature", "unsupported"}


def test_realistic_presentation_stays_within_rdfc_bounds() -> None:
    """Bounds refuse crafted graphs, not real ones: 8 credentials with blank-node subjects and statuses."""
    inner = []
    for n in range(8):
        doc = {**credential(), "id": f"urn:uuid:0b8c7a0e-5b8e-4c1e-9d1e-00000000000{n}",
               "credentialSubject": {"name": "Holder", "description": f"right {n}"},
               "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
                                    "statusListIndex": str(n), "statusListCredential": "https://o.example/s/1"}}
        inner.append(di.add_proof(doc, ISSUER, created=CREATED, suite="eddsa-rdfc-2022"))
    vp = {"@context": [V2], "type": ["VerifiablePresentation"], "verifiableCredential": inner}
    signed_vp = di.add_proof(vp, OTHER, created=CREATED, suite="eddsa-rdfc-2022", purpose="authentication",
                             challenge="c", domain="d")
    assert di.verify_proof(signed_vp, expected_purpose="authentication").controller == OTHER.did
