"""Vectors for rightsmesh credentials and presentations: specs/vectors/credentials.json.

Each credential type valid (both suites), and one case per verifier failure code (each ``schema.right.*``
sub-code included): the document (a JSON value, its JSON text as ``document_text``, or raw bytes as
``document_hex`` for text that is not UTF-8), the inputs the verifier gets (time, status lists by name,
whether the trust list is used, whether status is required, expected challenge/domain, action, whether
the challenge was already used) and the expected result (valid, failure codes in order).
Fixed seeds and times: the output never changes.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from protocol.authorisation import issue_authorisation_credential, make_authorisation
from protocol.data_integrity import add_proof
from protocol.ip_right import ip_right_credential, issue_ip_right_credential, right_from_json
from protocol.keys import KeyPair
from protocol.presentation import create_presentation, presentation
from protocol.status_list import (
    MAX_LIST_BYTES,
    encode_list,
    issue_status_list_credential,
    new_status_list,
    revoke,
    status_entry,
    status_list_credential,
    suspend,
)
from protocol.trust_list import sign_trust_list

KEYS = {name: KeyPair.from_seed(bytes([n]) * 32) for n, name in enumerate(
    ("office", "holder", "agent", "root", "stranger", "marketplace"), start=11)}
OFFICE, HOLDER, AGENT, ROOT, STRANGER, MARKET = (KEYS[n] for n in (
    "office", "holder", "agent", "root", "stranger", "marketplace"))
LIST_CREATED = "2026-01-01T00:00:00Z"
ISSUED = "2026-01-05T10:00:00Z"
NOW = "2026-06-01T12:00:00Z"
EARLY = "2026-01-03T00:00:00Z"
VP_CREATED = "2026-06-01T11:59:00Z"
REVOCATION_URL = "https://office.example/status/revocation/1"
SUSPENSION_URL = "https://office.example/status/suspension/1"
INDEX = 1234
CHALLENGE = "5f0c2a9e-vector-challenge"
DOMAIN = MARKET.did
RIGHT = {
    "right_type": "trademark", "office": "EM", "application_number": "018003932",
    "registration_number": "018003932", "verbal_element": "SAOVA", "mark_feature": "word",
    "mark_kind": "individual", "nice_classes": [3, 14, 25], "nice_edition": "11-2017", "territory": "EU",
    "filing_date": "2019-01-11", "registration_date": "2019-10-19", "expiry_date": "2029-01-11",
    "status": "registered", "holder_name": "Brigal Fashion S.A.", "holder_country": "LU",
}
JCS, RDFC = "eddsa-jcs-2022", "eddsa-rdfc-2022"


def right_vc(suite: str = JCS, **overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"created": ISSUED, "status_list_url": REVOCATION_URL, "status_index": INDEX,
                            "suite": suite}
    args.update(overrides)
    key = args.pop("key", OFFICE)
    return issue_ip_right_credential(key, HOLDER.did, right_from_json(RIGHT), **args)


def signed_variant(change: Any, key: KeyPair = OFFICE, **kwargs: Any) -> dict[str, Any]:
    """A right credential altered by ``change`` and then validly signed (so only the rule it breaks fails)."""
    unsigned = ip_right_credential(OFFICE.did, HOLDER.did, right_from_json(RIGHT), valid_from=ISSUED,
                                   status_list_url=REVOCATION_URL, status_index=INDEX, **kwargs)
    change(unsigned)
    return add_proof(unsigned, key, created=ISSUED)


def signed_list_variant(change: Any) -> dict[str, Any]:
    """The office's revocation list credential altered by ``change`` and then validly signed."""
    unsigned = status_list_credential(new_status_list(REVOCATION_URL, OFFICE.did, "revocation"),
                                      valid_from=LIST_CREATED)
    change(unsigned)
    return add_proof(unsigned, OFFICE, created=LIST_CREATED)


def status_lists() -> dict[str, dict[str, Any]]:
    revocation = new_status_list(REVOCATION_URL, OFFICE.did, "revocation")
    suspension = new_status_list(SUSPENSION_URL, OFFICE.did, "suspension")
    foreign = new_status_list(REVOCATION_URL, STRANGER.did, "revocation")
    return {
        "revocation": issue_status_list_credential(OFFICE, revocation, created=LIST_CREATED),
        "revocation-revoked": issue_status_list_credential(OFFICE, revoke(revocation, INDEX),
                                                           created=LIST_CREATED),
        "suspension-suspended": issue_status_list_credential(OFFICE, suspend(suspension, 7),
                                                             created=LIST_CREATED),
        "foreign": issue_status_list_credential(STRANGER, foreign, created=LIST_CREATED),
    }


def _case(name: str, document: Any, codes: list[str], **inputs: Any) -> dict[str, Any]:
    case: dict[str, Any] = {"name": name}
    if isinstance(document, bytes):
        case["document_hex"] = document.hex()
    else:
        case["document_text" if isinstance(document, str) else "document"] = document
    case.update({"now": NOW, "status_lists": ["revocation"], "trust": True, "require_status": True})
    case.update(inputs)
    case["expected"] = {"valid": not codes, "codes": codes}
    return case


def _set(path: list[str], value: Any) -> Any:
    def change(doc: dict[str, Any]) -> None:
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def _claim(name: str, value: Any) -> dict[str, Any]:
    return signed_variant(_set(["credentialSubject", name], value))


def _without_claim(name: str) -> dict[str, Any]:
    return signed_variant(lambda doc: doc["credentialSubject"].pop(name))


def right_claim_cases() -> list[dict[str, Any]]:
    """One signed right credential per ``schema.right.*`` sub-code, breaking only that rule of section 3."""
    return [
        _case("right-missing-claim", _without_claim("holderName"), ["schema.right.missing"]),
        _case("right-unknown-claim", _claim("description", "a word mark"), ["schema.right.unknown-field"]),
        _case("right-claim-not-a-string", _claim("verbalElement", 5), ["schema.right.type"]),
        _case("right-claim-null", _claim("niceEdition", None), ["schema.right.type"]),
        _case("right-claim-outer-spaces", _claim("holderName", " Brigal Fashion S.A."),
              ["schema.right.text"]),
        _case("right-unknown-right-type", _claim("rightType", "copyright"), ["schema.right.right-type"]),
        _case("bad-claim", _claim("officeCode", "XX"), ["schema.right.office-code"]),
        _case("right-bad-number", _claim("applicationNumber", "018 003932"), ["schema.right.number"]),
        _case("right-bad-territory", _claim("territory", "eu"), ["schema.right.territory"]),
        _case("right-bad-holder-country", _claim("holderCountry", "Luxembourg"),
              ["schema.right.holder-country"]),
        _case("right-unknown-mark-feature", _claim("markFeature", "smell"), ["schema.right.mark-feature"]),
        _case("right-unknown-mark-kind", _claim("markKind", "personal"), ["schema.right.mark-kind"]),
        _case("right-bad-nice-class", _claim("niceClasses", [3, 46]), ["schema.right.nice-class"]),
        _case("right-bad-nice-edition", _claim("niceEdition", "2017"), ["schema.right.nice-edition"]),
        _case("right-unknown-register-status", _claim("registerStatus", "alive"), ["schema.right.status"]),
        _case("right-bad-date", _claim("filingDate", "11/01/2019"), ["schema.right.date"]),
        _case("right-registered-before-filed", _claim("registrationDate", "2018-12-01"),
              ["schema.right.date-order"]),
        _case("right-patent-with-mark-claims", _claim("rightType", "patent"), ["schema.right.not-a-mark"]),
        _case("valid-until-after-expiry", signed_variant(_set(["validUntil"], "2030-01-01T00:00:00Z")),
              ["schema.right.valid-until"]),
    ]


def credential_cases() -> list[dict[str, Any]]:
    vc = right_vc()
    grant = issue_authorisation_credential(
        HOLDER, make_authorisation(AGENT.did, [vc["id"]], ["notify", "complain"], [MARKET.did]),
        created=ISSUED, valid_until="2026-12-31T00:00:00Z")
    tampered = copy.deepcopy(vc)
    tampered["credentialSubject"]["holderName"] = "Someone Else Ltd"
    undefined = copy.deepcopy(vc)
    undefined["licence"] = "exclusive"
    both_entries = signed_variant(_set(["credentialStatus"], [
        status_entry(REVOCATION_URL, INDEX), status_entry(SUSPENSION_URL, 7, "suspension")]))
    unknown_suite = copy.deepcopy(vc)
    unknown_suite["proof"]["cryptosuite"] = "ecdsa-rdfc-2019"
    self_grant = copy.deepcopy(grant)
    del self_grant["proof"]
    self_grant["credentialSubject"]["id"] = HOLDER.did
    self_grant = add_proof(self_grant, HOLDER, created=ISSUED)
    stranger_right = issue_ip_right_credential(STRANGER, HOLDER.did, right_from_json(RIGHT), created=ISSUED)
    # JSON-LD refuses a non-string type, so no proof can be made: the verifier reports the type first and
    # then the proof check (which cannot apply the credential's type-scoped terms)
    numeric_type = copy.deepcopy(vc)
    numeric_type["type"] = 7
    # a valid credential (its holder name has non-ASCII letters) sent as Latin-1 instead of UTF-8
    latin1 = json.dumps(_claim("holderName", "Brigal Fashion Société Anonyme"), ensure_ascii=False)
    return [
        _case("right-valid-jcs", vc, []),
        _case("right-valid-rdfc", right_vc(RDFC), []),
        _case("right-valid-without-trust-list", vc, [], trust=False),
        _case("authorisation-valid", grant, []),
        _case("status-list-valid", status_lists()["revocation"], [], status_lists=[]),
        _case("tampered", tampered, ["signature.invalid"]),
        _case("expired", right_vc(valid_until="2026-03-01T00:00:00Z"), ["validity.expired"]),
        _case("not-yet-valid", vc, ["validity.not-yet-valid"], now=EARLY),
        _case("no-timezone", signed_variant(_set(["validFrom"], "2026-01-05T10:00:00")),
              ["schema.no-timezone"]),
        _case("revoked", vc, ["status.revoked"], status_lists=["revocation-revoked"]),
        _case("suspended", both_entries, ["status.suspended"],
              status_lists=["revocation", "suspension-suspended"]),
        _case("status-unavailable", vc, ["status.unavailable"], status_lists=[]),
        _case("status-not-required", vc, [], status_lists=[], require_status=False),
        _case("status-missing", right_vc(status_list_url=None, status_index=None), ["status.missing"]),
        _case("status-list-invalid", vc, ["status.list-invalid"], status_lists=["foreign"]),
        _case("untrusted-issuer", stranger_right, ["trust.untrusted-issuer"], status_lists=[],
              require_status=False),
        _case("issuer-mismatch", signed_variant(lambda d: None, key=STRANGER), ["signature.issuer-mismatch"]),
        _case("undefined-term", undefined, ["schema.undefined-term"]),
        _case("unsupported-type", signed_variant(_set(["type"], ["VerifiableCredential"])),
              ["unsupported.credential-type"]),
        _case("unsupported-cryptosuite", unknown_suite, ["unsupported.cryptosuite"]),
        *right_claim_cases(),
        _case("bad-datetime", signed_variant(_set(["validFrom"], "5 January 2026")), ["schema.datetime"]),
        _case("bad-context", signed_variant(_set(["@context"], [
            "https://w3id.org/rightsmesh/v1", "https://www.w3.org/ns/credentials/v2"])), ["schema.context"]),
        _case("issuer-not-a-did", signed_variant(_set(["issuer"], "https://office.example")),
              ["schema.did", "status.list-invalid", "trust.untrusted-issuer"]),
        _case("bad-status-index", signed_variant(_set(["credentialStatus", "statusListIndex"], "-1")),
              ["schema.status-index"]),
        _case("unsupported-status-purpose",
              signed_variant(_set(["credentialStatus", "statusPurpose"], "refresh")),
              ["unsupported.status-purpose"]),
        _case("unsupported-status-size", signed_variant(_set(["credentialStatus", "statusSize"], 2)),
              ["unsupported.status-size"]),
        _case("status-not-an-entry", signed_variant(_set(["credentialStatus"], REVOCATION_URL)),
              ["unsupported.status-type"]),
        _case("status-purpose-repeated", signed_variant(_set(["credentialStatus"], [
            status_entry(REVOCATION_URL, INDEX), status_entry(SUSPENSION_URL, 7)])),
              ["schema.credential-status"]),
        _case("id-not-an-iri", signed_variant(_set(["id"], "https://office.example/rights/{id}")),
              ["schema.id"]),
        _case("type-not-a-string", numeric_type, ["schema.type", "schema.undefined-term"]),
        _case("status-list-not-multibase",
              signed_list_variant(_set(["credentialSubject", "encodedList"], "H4sIAAAAAAAC")),
              ["decode.status-list"], status_lists=[]),
        _case("status-list-too-short",
              signed_list_variant(_set(["credentialSubject", "encodedList"], encode_list(bytes(1024)))),
              ["schema.status-list-size"], status_lists=[]),
        _case("status-list-too-large", signed_list_variant(
            _set(["credentialSubject", "encodedList"], encode_list(bytes(MAX_LIST_BYTES + 1)))),
              ["decode.too-large"], status_lists=[]),
        _case("status-list-negative-version",
              signed_list_variant(_set(["credentialSubject", "statusListVersion"], -1)),
              ["schema.status-list"], status_lists=[]),
        _case("self-authorisation", self_grant, ["schema.authorisation"]),
        _case("not-json", "{not json", ["decode.json"]),
        _case("not-utf8", latin1.encode("latin-1"), ["decode.utf8"]),
        _case("too-deep", "[" * 40 + "]" * 40, ["decode.too-deep"]),
        _case("duplicate-key", '{"id": "urn:uuid:1", "id": "urn:uuid:2"}', ["decode.duplicate-key"]),
        _case("not-an-object", [vc], ["schema.credential"]),
    ]


def presentation_cases() -> list[dict[str, Any]]:
    vc = right_vc()
    grant = issue_authorisation_credential(
        HOLDER, make_authorisation(AGENT.did, [vc["id"]], ["notify"], [MARKET.did]),
        created=ISSUED, valid_until="2026-12-31T00:00:00Z")
    other_grant = issue_authorisation_credential(
        HOLDER, make_authorisation(AGENT.did, ["urn:uuid:00000000-0000-4000-8000-00000000dead"], ["notify"]),
        created=ISSUED, valid_until="2026-12-31T00:00:00Z")

    def vp(key: KeyPair, creds: list[dict[str, Any]], suite: str = JCS) -> dict[str, Any]:
        return create_presentation(key, creds, challenge=CHALLENGE, domain=DOMAIN, created=VP_CREATED,
                                   suite=suite)

    holder_vp = vp(HOLDER, [vc])
    tampered = copy.deepcopy(holder_vp)
    tampered["verifiableCredential"][0]["credentialSubject"]["verbalElement"] = "OTHER"
    lying = add_proof(presentation(HOLDER.did, [vc]), STRANGER, created=VP_CREATED, purpose="authentication",
                      challenge=CHALLENGE, domain=DOMAIN)
    asserted = add_proof(presentation(HOLDER.did, [vc]), HOLDER, created=VP_CREATED, challenge=CHALLENGE,
                         domain=DOMAIN)
    empty = add_proof(presentation(HOLDER.did, []), HOLDER, created=VP_CREATED, purpose="authentication",
                      challenge=CHALLENGE, domain=DOMAIN)
    base = {"challenge": CHALLENGE, "domain": DOMAIN, "action": None, "challenge_used": False}
    cases = [
        ("holder-valid-jcs", holder_vp, [], {}),
        ("holder-valid-rdfc", vp(HOLDER, [right_vc(RDFC)], RDFC), [], {}),
        ("agent-valid", vp(AGENT, [vc, grant]), [], {"action": "notify"}),
        ("wrong-challenge", holder_vp, ["validity.challenge"], {"challenge": "another-challenge"}),
        ("wrong-domain", holder_vp, ["validity.domain"], {"domain": "did:key:z6MkOtherMarketplace"}),
        ("replayed-challenge", holder_vp, ["validity.challenge-replayed"], {"challenge_used": True}),
        ("holder-not-subject", vp(STRANGER, [vc]), ["validity.holder-not-subject"], {}),
        ("agent-without-authorisation", vp(AGENT, [vc, other_grant]), ["validity.not-authorised"], {}),
        ("agent-action-not-authorised", vp(AGENT, [vc, grant]), ["validity.not-authorised"],
         {"action": "complain"}),
        ("holder-is-not-signer", lying, ["validity.holder", "validity.holder-not-subject"], {}),
        ("tampered", tampered, ["signature.invalid", "signature.invalid"], {}),  # presentation, credential
        ("wrong-proof-purpose", asserted, ["signature.purpose"], {}),
        ("no-credentials", empty, ["schema.presentation"], {}),
        ("revoked-credential", holder_vp, ["status.revoked"], {"status_lists": ["revocation-revoked"]}),
    ]
    return [_case(name, doc, codes, **{**base, **inputs}) for name, doc, codes, inputs in cases]


def generate() -> dict[str, Any]:
    trust_list = sign_trust_list(ROOT, [
        {"did": OFFICE.did, "role": "office", "name": "European Union Intellectual Property Office",
         "jurisdiction": "EU", "valid_from": 1_767_225_600, "valid_until": 1_893_456_000},
        {"did": MARKET.did, "role": "marketplace", "name": "Example Marketplace", "jurisdiction": "EU",
         "valid_from": 1_767_225_600, "valid_until": 1_893_456_000},
    ], sequence=1, created=1_767_225_600)
    return {"credentials.json": {
        "description": __doc__.splitlines()[0],
        "keys": {name: {"seed": key.seed.hex(), "did": key.did} for name, key in KEYS.items()},
        "trust_list": {"root": ROOT.did, "cose_hex": trust_list.hex()},
        "status_lists": status_lists(),
        "credentials": credential_cases(),
        "presentations": presentation_cases(),
    }}
