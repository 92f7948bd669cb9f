"""Two-way interoperability of Data Integrity proofs with the JavaScript reference stack.

@digitalbazaar/vc 7 with the eddsa-jcs-2022 and eddsa-rdfc-2022 cryptosuites (tests/interop/di.mjs, offline
loader fed with protocol/contexts): what we sign verifies there, what it signs verifies here, for
credentials and for presentations with challenge and domain. One node process runs the whole batch.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from interop_fixtures import DI_MARKS, run_di

from protocol import data_integrity as di
from protocol.errors import ProtocolError
from protocol.keys import KeyPair

pytestmark = DI_MARKS

ISSUER = KeyPair.from_seed(bytes(range(32)))
HOLDER = KeyPair.from_seed(bytes(range(1, 33)))
CREATED = "2025-03-01T12:00:00Z"
NOW = "2025-06-01T00:00:00Z"
CHALLENGE = "7c1f0d2e-challenge"
DOMAIN = "https://market.example"
V2 = "https://www.w3.org/ns/credentials/v2"


def js_key(key: KeyPair) -> dict[str, str]:
    return {"publicKeyMultibase": key.public_multibase, "secretKeyMultibase": key.private_multibase}


def credential(n: int) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": [V2],
        "id": f"urn:uuid:3f1c2a40-0000-4000-8000-{n:012d}",
        "type": ["VerifiableCredential"],
        "issuer": ISSUER.did,
        "validFrom": "2025-01-01T00:00:00Z",
        "validUntil": "2035-01-01T00:00:00Z",
        "credentialSubject": {"id": HOLDER.did, "name": "Example Holder", "description": "registered owner"},
    }
    if n % 2:
        doc["credentialStatus"] = {
            "id": f"https://office.example/status/1#{n}", "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation", "statusListIndex": str(n),
            "statusListCredential": "https://office.example/status/1",
        }
    return doc


def presentation(credentials: list[dict[str, Any]]) -> dict[str, Any]:
    return {"@context": [V2], "type": ["VerifiablePresentation"], "holder": HOLDER.did,
            "verifiableCredential": credentials}


def tampered(doc: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out["credentialSubject" if "credentialSubject" in out else "holder"] = (
        {**out["credentialSubject"], "name": "Someone Else"} if "credentialSubject" in out else ISSUER.did)
    return out


class Batch:
    """Everything we ask node, built up front so that one process answers it all."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.ours: dict[str, dict[str, Any]] = {}

    def add(self, name: str, request: dict[str, Any]) -> None:
        self.ours[name] = {"index": len(self.requests)}
        self.requests.append(request)


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    batch = Batch()
    for suite in di.SUITES:
        for n in (1, 2):
            ours = di.add_proof(credential(n), ISSUER, created=CREATED, suite=suite)
            batch.add(f"verify-vc-{suite}-{n}", {"op": "verify", "credential": ours, "now": NOW})
            batch.add(f"verify-tampered-vc-{suite}-{n}",
                      {"op": "verify", "credential": tampered(ours), "now": NOW})
            batch.add(f"sign-vc-{suite}-{n}", {"op": "sign", "suite": suite, "credential": credential(n),
                                                "key": js_key(ISSUER), "created": CREATED})
        inner = [di.add_proof(credential(n), ISSUER, created=CREATED, suite=s)
                 for n, s in enumerate(di.SUITES)]
        vp = di.add_proof(presentation(inner), HOLDER, created=CREATED, suite=suite, purpose="authentication",
                          challenge=CHALLENGE, domain=DOMAIN)
        base = {"op": "verify", "presentation": vp, "now": NOW}
        batch.add(f"verify-vp-{suite}", {**base, "challenge": CHALLENGE, "domain": DOMAIN})
        batch.add(f"verify-vp-wrong-challenge-{suite}", {**base, "challenge": "other", "domain": DOMAIN})
        batch.add(f"verify-vp-wrong-domain-{suite}",
                  {**base, "challenge": CHALLENGE, "domain": "https://x.example"})
        batch.add(f"verify-vp-tampered-{suite}",
                  {**base, "presentation": tampered(vp), "challenge": CHALLENGE, "domain": DOMAIN})
        batch.add(f"sign-vp-{suite}", {"op": "sign", "suite": suite, "presentation": presentation(inner),
                                       "key": js_key(HOLDER), "created": CREATED, "challenge": CHALLENGE,
                                       "domain": DOMAIN})
    answers = run_di(batch.requests)
    return {name: answers[meta["index"]] for name, meta in batch.ours.items()}


@pytest.mark.parametrize("suite", di.SUITES)
@pytest.mark.parametrize("n", [1, 2])
def test_our_credentials_verify_there(results: dict[str, dict[str, Any]], suite: str, n: int) -> None:
    assert results[f"verify-vc-{suite}-{n}"] == {"ok": True, "verified": True, "errors": []}
    tampered_result = results[f"verify-tampered-vc-{suite}-{n}"]
    assert tampered_result["ok"] and not tampered_result["verified"]


@pytest.mark.parametrize("suite", di.SUITES)
@pytest.mark.parametrize("n", [1, 2])
def test_their_credentials_verify_here(results: dict[str, dict[str, Any]], suite: str, n: int) -> None:
    answer = results[f"sign-vc-{suite}-{n}"]
    assert answer["ok"], answer
    signed = answer["document"]
    assert signed["proof"]["cryptosuite"] == suite
    verified = di.verify_proof(signed, expected_purpose="assertionMethod")
    assert (verified.suite, verified.controller, verified.created) == (suite, ISSUER.did, CREATED)
    with pytest.raises(ProtocolError) as info:
        di.verify_proof(tampered(signed), expected_purpose="assertionMethod")
    assert info.value.code == "signature.invalid"


@pytest.mark.parametrize("suite", di.SUITES)
def test_our_presentations_verify_there(results: dict[str, dict[str, Any]], suite: str) -> None:
    assert results[f"verify-vp-{suite}"] == {"ok": True, "verified": True, "errors": []}
    for wrong in ("wrong-challenge", "wrong-domain", "tampered"):
        answer = results[f"verify-vp-{wrong}-{suite}"]
        assert answer["ok"] and not answer["verified"], wrong


@pytest.mark.parametrize("suite", di.SUITES)
def test_their_presentations_verify_here(results: dict[str, dict[str, Any]], suite: str) -> None:
    answer = results[f"sign-vp-{suite}"]
    assert answer["ok"], answer
    signed = answer["document"]
    verified = di.verify_proof(signed, expected_purpose="authentication")
    assert (verified.suite, verified.controller) == (suite, HOLDER.did)
    assert (verified.challenge, verified.domain) == (CHALLENGE, DOMAIN)
    for inner in signed["verifiableCredential"]:
        assert di.verify_proof(inner, expected_purpose="assertionMethod").controller == ISSUER.did
    with pytest.raises(ProtocolError) as info:
        di.verify_proof(signed, expected_purpose="assertionMethod")
    assert info.value.code == "signature.purpose"
