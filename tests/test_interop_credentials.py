"""Two-way interoperability of the rightsmesh credential types with the JavaScript reference stack.

@digitalbazaar/vc 7 (tests/interop/di.mjs, offline loader fed with protocol/contexts, our context included):
our IPRightCredential, AgentAuthorisationCredential, BitstringStatusListCredential and presentations verify
there, and the same types signed there verify here with the full rightsmesh verifier, for both suites.
The reference stack does not read status bits (it calls a caller-supplied checkStatus, which accepts):
a revoked credential it reports as verified must fail here with ``status.revoked``.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from credential_fixtures import (
    AGENT,
    HOLDER,
    INDEX,
    ISSUED,
    LIST_URL,
    MARKET,
    NOW,
    OFFICE,
    SUITES,
    authorisation,
    list_credential,
    right,
    right_credential,
    status_list,
    trust_store,
)
from interop_fixtures import DI_MARKS, run_di

from protocol.authorisation import authorisation_credential, make_authorisation
from protocol.ip_right import ip_right_credential
from protocol.keys import KeyPair
from protocol.presentation import create_presentation, presentation
from protocol.status_list import revoke, status_list_credential
from protocol.verify import MemoryChallengeStore, VerificationResult, verify_credential, verify_presentation

pytestmark = DI_MARKS

JS_NOW = "2026-06-01T12:00:00Z"
CHALLENGE = "interop-challenge-1"
DOMAIN = MARKET.did
VP_CREATED = "2026-06-01T11:59:00Z"


def js_key(key: KeyPair) -> dict[str, str]:
    return {"publicKeyMultibase": key.public_multibase, "secretKeyMultibase": key.private_multibase}


def unsigned_documents() -> dict[str, tuple[KeyPair, dict[str, Any]]]:
    """Unsigned credentials of each type, from our builders, with the key that must sign each."""
    right_doc = ip_right_credential(OFFICE.did, HOLDER.did, right(), valid_from=ISSUED,
                                    status_list_url=LIST_URL, status_index=INDEX)
    grant = make_authorisation(AGENT.did, [right_doc["id"]], ["notify"], [MARKET.did])
    return {
        "right": (OFFICE, right_doc),
        "authorisation": (HOLDER, authorisation_credential(HOLDER.did, grant, valid_from=ISSUED,
                                                           valid_until="2026-12-31T00:00:00Z")),
        "list": (OFFICE, status_list_credential(status_list(), valid_from=ISSUED)),
        "revoked-list": (OFFICE, status_list_credential(revoke(status_list(), INDEX), valid_from=ISSUED)),
    }


def ours(suite: str) -> dict[str, dict[str, Any]]:
    vc = right_credential(suite)
    grant = authorisation([vc["id"]], suite, marketplaces=[MARKET.did])
    return {
        "right": vc,
        "authorisation": grant,
        "list": list_credential(suite=suite),
        "revoked-list": list_credential(revoke(status_list(), INDEX), suite=suite),
        "vp-holder": create_presentation(HOLDER, [vc], challenge=CHALLENGE, domain=DOMAIN, created=VP_CREATED,
                                         suite=suite),
        "vp-agent": create_presentation(AGENT, [vc, grant], challenge=CHALLENGE, domain=DOMAIN,
                                        created=VP_CREATED, suite=suite),
    }


def _verify_request(document: dict[str, Any]) -> dict[str, Any]:
    if "VerifiablePresentation" in document["type"]:
        return {"op": "verify", "presentation": document, "challenge": CHALLENGE, "domain": DOMAIN,
                "now": JS_NOW}
    return {"op": "verify", "credential": document, "now": JS_NOW}


@pytest.fixture(scope="module")
def exchange() -> dict[str, Any]:
    """Two node runs: (1) verify ours, sign theirs; (2) sign their presentations of their credentials."""
    names: list[str] = []
    requests: list[dict[str, Any]] = []
    for suite in SUITES:
        for name, document in ours(suite).items():
            names.append(f"verify:{suite}:{name}")
            requests.append(_verify_request(document))
        tampered = copy.deepcopy(ours(suite)["right"])
        tampered["credentialSubject"]["holderName"] = "Someone Else"
        names.append(f"verify:{suite}:tampered")
        requests.append(_verify_request(tampered))
        for name, (key, document) in unsigned_documents().items():
            names.append(f"sign:{suite}:{name}")
            requests.append({"op": "sign", "suite": suite, "credential": document, "key": js_key(key),
                             "created": ISSUED})
    answers = dict(zip(names, run_di(requests), strict=True))

    second: list[str] = []
    requests = []
    for suite in SUITES:
        right_vc = answers[f"sign:{suite}:right"]["document"]
        grant_vc = answers[f"sign:{suite}:authorisation"]["document"]
        plans = (("vp-holder", HOLDER, [right_vc]), ("vp-agent", AGENT, [right_vc, grant_vc]))
        for name, key, creds in plans:
            second.append(f"sign:{suite}:{name}")
            requests.append({"op": "sign", "suite": suite, "presentation": presentation(key.did, creds),
                             "key": js_key(key), "created": VP_CREATED, "challenge": CHALLENGE,
                             "domain": DOMAIN})
    answers.update(zip(second, run_di(requests), strict=True))
    return answers


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("name", ["right", "authorisation", "list", "revoked-list", "vp-holder", "vp-agent"])
def test_ours_verify_there(exchange: dict[str, Any], suite: str, name: str) -> None:
    assert exchange[f"verify:{suite}:{name}"] == {"ok": True, "verified": True, "errors": []}


@pytest.mark.parametrize("suite", SUITES)
def test_tampered_fails_there(exchange: dict[str, Any], suite: str) -> None:
    answer = exchange[f"verify:{suite}:tampered"]
    assert answer["ok"] and not answer["verified"]


def theirs(exchange: dict[str, Any], suite: str, name: str) -> dict[str, Any]:
    answer = exchange[f"sign:{suite}:{name}"]
    assert answer["ok"], answer
    document: dict[str, Any] = answer["document"]
    assert document["proof"]["cryptosuite"] == suite
    return document


def full_check(document: dict[str, Any], status: dict[str, Any]) -> VerificationResult:
    if "VerifiablePresentation" in document["type"]:
        return verify_presentation(document, challenge=CHALLENGE, domain=DOMAIN, now=NOW,
                                   challenges=MemoryChallengeStore(), trust=trust_store(),
                                   status_lists=status, action="notify")
    return verify_credential(document, now=NOW, trust=trust_store(), status_lists=status)


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("name", ["right", "authorisation", "list", "vp-holder", "vp-agent"])
def test_theirs_verify_here(exchange: dict[str, Any], suite: str, name: str) -> None:
    status = {LIST_URL: theirs(exchange, suite, "list")}  # their status list credential, verified here
    result = full_check(theirs(exchange, suite, name), status)
    assert result.valid, result.failures
    assert result.checks.trust_checked and result.checks.status_checked


@pytest.mark.parametrize("suite", SUITES)
def test_revoked_is_verified_there_but_fails_closed_here(exchange: dict[str, Any], suite: str) -> None:
    """The reference stack reports the credential verified whatever its bit; we read the bit."""
    assert exchange[f"verify:{suite}:revoked-list"]["verified"] is True
    assert exchange[f"verify:{suite}:right"]["verified"] is True
    for revoked_list in (ours(suite)["revoked-list"], theirs(exchange, suite, "revoked-list")):
        for document in (ours(suite)["right"], theirs(exchange, suite, "right"),
                         theirs(exchange, suite, "vp-holder")):
            result = full_check(document, {LIST_URL: revoked_list})
            assert result.codes == ("status.revoked",)
