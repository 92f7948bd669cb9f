"""Pure acceptance rules for notice-lifecycle objects (protocol/notice_acceptance.py), no node involved."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from protocol.authorisation import issue_authorisation_credential, make_authorisation
from protocol.complaint import build_complaint_payload
from protocol.errors import ProtocolError
from protocol.keys import KeyPair
from protocol.messages import SignedMessage, sign_message, verify_message
from protocol.notice import NoticeItem, build_notice_payload
from protocol.notice_acceptance import (
    check_complaint_message,
    check_decision,
    check_notice,
    check_profile_message,
    check_storable_credential,
    credential_fields,
)
from protocol.role_payloads import profile_payload
from protocol.sealed import Contact
from protocol.status_list import issue_status_list_credential, new_status_list, revoke
from protocol.trust_list import TrustStore, sign_trust_list, verify_trust_list
from protocol.vc import format_datetime
from tests.node_fixtures import example_right_credential
from tests.notice_fixtures import decision_payload
from tests.test_notices_api import REPO

NOW = 1_790_000_000
ROOT = KeyPair.from_seed(bytes([60]) * 32)
OFFICE = KeyPair.from_seed(bytes([61]) * 32)
MARKET = KeyPair.from_seed(bytes([62]) * 32)
HOLDER = KeyPair.from_seed(bytes([63]) * 32)
AGENT = KeyPair.from_seed(bytes([64]) * 32)
FLAGGER = KeyPair.from_seed(bytes([65]) * 32)
LIST_URL = "https://office.example/status/1"


def iso(t: int) -> str:
    return format_datetime(datetime.fromtimestamp(t, UTC))


def trust() -> TrustStore:
    entries = [
        {
            "did": did,
            "role": role,
            "name": role,
            "jurisdiction": "EU",
            "valid_from": NOW - 86400,
            "valid_until": NOW + 86400,
        }
        for did, role in (
            (OFFICE.did, "office"),
            (MARKET.did, "marketplace"),
            (FLAGGER.did, "trusted-flagger"),
        )
    ]
    raw = sign_trust_list(ROOT, entries, sequence=1, created=NOW - 60)
    return TrustStore.with_roots([ROOT.did]).accept(verify_trust_list(raw, NOW))


def right(holder: str = HOLDER.did, index: int = 3) -> dict[str, Any]:
    return example_right_credential(OFFICE, holder, status_list_url=LIST_URL, index=index)


def status_list(*revoked: int) -> dict[str, Any]:
    lst = new_status_list(LIST_URL, OFFICE.did, "revocation")
    if revoked:
        lst = revoke(lst, *revoked)
    return issue_status_list_credential(OFFICE, lst, created=iso(NOW - 100))


def notice(signer: KeyPair, right_id: str, **kw: Any) -> SignedMessage:
    payload = build_notice_payload(
        created=NOW,
        notifier=signer.did,
        contact=Contact("Ana", "ana@brand.example"),
        explanation="The listed goods bear our registered mark and are counterfeit.",
        items=[NoticeItem("https://shop.example/1", "1")],
        rights=[right_id],
        infringement="counterfeit",
        targets=[MARKET.did],
        **kw,
    )
    return verify_message(sign_message(signer, "notice", payload), NOW)


def check(message: SignedMessage, creds: list[dict[str, Any]], revoked: tuple[int, ...] = ()) -> Any:
    return check_notice(
        message,
        credentials={c["id"]: c for c in creds},
        status_lists={LIST_URL: status_list(*revoked)},
        trust=trust(),
        now=NOW,
    )


def code_of(fn: Any) -> str:
    with pytest.raises(ProtocolError) as exc:
        fn()
    return exc.value.code


def test_holder_and_agent() -> None:
    cred = right()
    checked = check(notice(HOLDER, cred["id"]), [cred])
    assert (checked.role, checked.holder, checked.trusted_flagger) == ("holder", HOLDER.did, False)
    grant = issue_authorisation_credential(
        HOLDER,
        make_authorisation(FLAGGER.did, [cred["id"]], ["notify"]),
        created=iso(NOW - 10),
        valid_until=iso(NOW + 3600),
    )
    checked = check(notice(FLAGGER, cred["id"], authorisation=grant["id"]), [cred, grant])
    assert (checked.role, checked.trusted_flagger) == ("agent", True)
    assert code_of(lambda: check(notice(FLAGGER, cred["id"], authorisation=grant["id"]), [cred])) == (
        "validity.notice.credential-missing"
    )


def test_refusals() -> None:
    cred = right()
    assert code_of(lambda: check(notice(HOLDER, cred["id"]), [])) == "validity.notice.credential-missing"
    assert code_of(lambda: check(notice(HOLDER, cred["id"]), [cred], revoked=(3,))) == "status.revoked"
    assert code_of(lambda: check(notice(AGENT, cred["id"]), [cred])) == "validity.notice.not-authorised"
    stranger = right(holder=AGENT.did)
    assert code_of(lambda: check(notice(HOLDER, stranger["id"]), [stranger])) == (
        "validity.notice.not-authorised"
    )
    untrusted = dict(cred, issuer=AGENT.did)
    assert code_of(lambda: check(notice(HOLDER, cred["id"]), [untrusted])) == "signature.invalid"
    no_lists = lambda: check_notice(  # noqa: E731
        notice(HOLDER, cred["id"]), credentials={cred["id"]: cred}, status_lists={}, trust=trust(), now=NOW
    )
    assert code_of(no_lists) == "status.unavailable"
    grant = issue_authorisation_credential(
        HOLDER,
        make_authorisation(AGENT.did, [cred["id"]], ["notify"]),
        created=iso(NOW - 10),
        valid_until=iso(NOW + 3600),
    )
    as_right = lambda: check(notice(HOLDER, grant["id"]), [grant])  # noqa: E731
    assert code_of(as_right) == "validity.notice.wrong-credential"
    payload = dict(notice(HOLDER, cred["id"]).payload)
    not_a_notice = verify_message(sign_message(HOLDER, "complaint", payload), NOW)
    assert code_of(lambda: check(not_a_notice, [cred])) == "schema.notice.wrong-kind"


def test_storable_credentials_and_fields() -> None:
    cred = right()
    fields = check_storable_credential(cred, now=NOW, trust=trust(), status_lists={})
    assert fields == credential_fields(cred) and fields["type"] == "IPRightCredential"
    assert (
        code_of(
            lambda: check_storable_credential(
                cred, now=NOW, trust=trust(), status_lists={LIST_URL: status_list(3)}
            )
        )
        == "status.revoked"
    )
    assert code_of(
        lambda: credential_fields({"type": ["VerifiableCredential"], "credentialSubject": {}})
    ) == ("schema.credential")


def test_decisions_and_complaints() -> None:
    cred = right()
    n = notice(HOLDER, cred["id"])
    signed = verify_message(
        sign_message(MARKET, "decision", decision_payload(notice=n.id, marketplace=MARKET.did, created=NOW)),
        NOW,
    )
    assert check_decision(signed, trust=trust(), now=NOW).notice == n.id
    rogue = verify_message(
        sign_message(AGENT, "decision", decision_payload(notice=n.id, marketplace=AGENT.did, created=NOW)),
        NOW,
    )
    assert code_of(lambda: check_decision(rogue, trust=trust(), now=NOW)) == "validity.untrusted-marketplace"

    def complaint(signer: KeyPair, complainant: str) -> SignedMessage:
        payload = build_complaint_payload(
            created=NOW + 10,
            decision=signed.id,
            notice=n.id,
            marketplace=MARKET.did,
            complainant=complainant,
            explanation="The decision removed only part of the listings.",
        )
        return verify_message(sign_message(signer, "complaint", payload), NOW + 10)

    assert check_complaint_message(complaint(HOLDER, "notifier"), notice=n, decision=signed).complainant == (
        "notifier"
    )
    assert (
        check_complaint_message(complaint(MARKET, "seller"), notice=n, decision=signed).complainant
        == "seller"
    )
    assert code_of(
        lambda: check_complaint_message(complaint(AGENT, "notifier"), notice=n, decision=signed)
    ) == ("schema.complaint.wrong-signer")
    assert code_of(
        lambda: check_complaint_message(complaint(HOLDER, "notifier"), notice=None, decision=signed)
    ) == ("validity.complaint.unknown-decision")
    other = notice(HOLDER, cred["id"], product=None)
    assert other.id != n.id
    assert code_of(
        lambda: check_complaint_message(complaint(HOLDER, "notifier"), notice=other, decision=signed)
    ) == ("schema.complaint.wrong-notice")


def test_profile_signed_by_another_marketplace() -> None:
    profile = json.loads((REPO / "specs/examples/marketplace-profile.json").read_text())
    own = verify_message(
        sign_message(MARKET, "marketplace-profile", profile_payload(MARKET.did, profile, NOW)), NOW
    )
    check_profile_message(own, trust=trust(), now=NOW)
    relayed = verify_message(sign_message(AGENT, "marketplace-profile", dict(own.payload)), NOW)
    assert code_of(lambda: check_profile_message(relayed, trust=trust(), now=NOW)) == (
        "schema.marketplace-profile.wrong-signer"
    )
    unaccredited = verify_message(
        sign_message(AGENT, "marketplace-profile", profile_payload(AGENT.did, profile, NOW)), NOW
    )
    assert code_of(lambda: check_profile_message(unaccredited, trust=trust(), now=NOW)) == (
        "validity.untrusted-marketplace"
    )
