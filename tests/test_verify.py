"""The structured verifier: each failure code for credentials and presentations, and no exception ever."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
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
    NOW_TS,
    OFFICE,
    ROOT,
    STRANGER,
    SUITES,
    SUSPEND_URL,
    authorisation,
    list_credential,
    right,
    right_credential,
    signed_trust_list,
    status_list,
    trust_entries,
    trust_store,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.data_integrity import add_proof
from protocol.ip_right import ip_right_credential
from protocol.presentation import create_presentation, presentation
from protocol.status_list import revoke, status_entry, suspend
from protocol.trust_list import TrustStore, verify_trust_list
from protocol.verify import MemoryChallengeStore, VerificationResult, verify_credential, verify_presentation

DOMAIN = MARKET.did
CHALLENGE = "c-0123456789"


def lists(sl: Any = None) -> dict[str, Any]:
    return {LIST_URL: list_credential(sl)}


def check(doc: Any, **kwargs: Any) -> VerificationResult:
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("status_lists", lists())
    kwargs.setdefault("trust", trust_store())
    return verify_credential(doc, **kwargs)


def codes(result: VerificationResult) -> set[str]:
    return set(result.codes)


# --------------------------------------------------------------------------------------------------------
# credentials


@pytest.mark.parametrize("suite", SUITES)
def test_valid_right_credential(suite: str) -> None:
    vc = right_credential(suite)
    result = check(vc, status_lists={LIST_URL: list_credential(suite=suite)})
    assert result.valid, result.failures
    assert result.checks.trust_checked and result.checks.status_checked
    assert set(result.checks.performed) >= {"schema", "proof", "issuer", "validity", "status", "trust"}
    summary = result.checks.credentials[0]
    assert summary.id == vc["id"] and summary.issuer == OFFICE.did and summary.subject == HOLDER.did
    assert summary.suite == suite and "IPRightCredential" in summary.types


def test_json_text_input_and_verified_status_list_objects() -> None:
    vc = right_credential()
    assert check(json.dumps(vc)).valid
    assert check(json.dumps(vc).encode(), status_lists={LIST_URL: status_list()}).valid


def test_without_trust_list_everything_else_is_checked() -> None:
    result = check(right_credential(), trust=None)
    assert result.valid and not result.checks.trust_checked
    assert "trust" not in result.checks.performed and "status" in result.checks.performed


@pytest.mark.parametrize("suite", SUITES)
def test_tampered_claim(suite: str) -> None:
    vc = right_credential(suite)
    vc["credentialSubject"]["niceClasses"] = [3, 14, 25, 35]
    assert codes(check(vc)) == {"signature.invalid"}


def test_expired_and_not_yet_valid() -> None:
    vc = right_credential(valid_until="2026-03-01T00:00:00Z")
    assert codes(check(vc)) == {"validity.expired"}
    early = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
    verified = {LIST_URL: status_list()}
    assert codes(check(right_credential(), now=early, status_lists=verified)) == {"validity.not-yet-valid"}
    # the list credential itself is not valid yet either: it cannot vouch for the status
    assert "status.list-invalid" in codes(check(right_credential(), now=early))
    # the boundary: valid at validFrom, expired at validUntil
    assert check(right_credential(), now=datetime.fromisoformat("2026-01-05T10:00:00+00:00")).valid
    assert not check(vc, now=datetime.fromisoformat("2026-03-01T00:00:00+00:00")).valid


def test_timestamps_without_zone_are_invalid() -> None:
    unsigned = ip_right_credential(
        OFFICE.did, HOLDER.did, right(), valid_from=ISSUED, status_list_url=LIST_URL, status_index=INDEX
    )
    unsigned["validFrom"] = "2026-01-05T10:00:00"
    vc = add_proof(unsigned, OFFICE, created=ISSUED)
    assert "schema.no-timezone" in codes(check(vc))
    naive_now = check(right_credential(), now=datetime(2026, 6, 1))
    assert codes(naive_now) == {"schema.no-timezone"}


def test_revoked_and_suspended_fail_closed() -> None:
    vc = right_credential()
    result = check(vc, status_lists=lists(revoke(status_list(), INDEX)))
    assert codes(result) == {"status.revoked"} and result.failures[0].credential_id == vc["id"]
    assert check(vc, status_lists=lists(revoke(status_list(), INDEX + 1))).valid

    unsigned = ip_right_credential(OFFICE.did, HOLDER.did, right(), valid_from=ISSUED)
    unsigned["credentialStatus"] = [status_entry(LIST_URL, INDEX), status_entry(SUSPEND_URL, 7, "suspension")]
    both = add_proof(unsigned, OFFICE, created=ISSUED)
    suspension = status_list("suspension")
    ok = {LIST_URL: status_list(), SUSPEND_URL: suspension}
    assert check(both, status_lists=ok).valid
    assert codes(check(both, status_lists={**ok, SUSPEND_URL: suspend(suspension, 7)})) == {
        "status.suspended"
    }


def test_missing_status_list_is_a_failure_unless_waived() -> None:
    vc = right_credential()
    assert codes(check(vc, status_lists={})) == {"status.unavailable"}
    waived = check(vc, status_lists={}, require_status=False)
    assert waived.valid and not waived.checks.status_checked
    no_entry = right_credential(status_list_url=None, status_index=None)
    assert codes(check(no_entry)) == {"status.missing"}
    assert check(no_entry, require_status=False).valid


def test_bad_status_lists() -> None:
    vc = right_credential()
    tampered = list_credential(revoke(status_list(), INDEX))
    tampered["credentialSubject"]["encodedList"] = list_credential()["credentialSubject"]["encodedList"]
    assert codes(check(vc, status_lists={LIST_URL: tampered})) == {"status.list-invalid"}
    from protocol.status_list import issue_status_list_credential, new_status_list

    foreign = issue_status_list_credential(
        STRANGER, new_status_list(LIST_URL, STRANGER.did, "revocation"), created=ISSUED
    )
    assert codes(check(vc, status_lists={LIST_URL: foreign})) == {"status.list-invalid"}
    wrong_purpose = {LIST_URL: status_list("suspension")}
    assert codes(check(vc, status_lists=wrong_purpose)) == {"status.list-invalid"}


def test_untrusted_issuer() -> None:
    vc = right_credential()
    stranger_only = TrustStore.with_roots([ROOT.did]).accept(
        verify_trust_list(signed_trust_list(entries=trust_entries(STRANGER.did)), NOW_TS)
    )
    assert codes(check(vc, trust=stranger_only)) == {"trust.untrusted-issuer"}
    as_marketplace = TrustStore.with_roots([ROOT.did]).accept(
        verify_trust_list(signed_trust_list(entries=trust_entries(role="marketplace")), NOW_TS)
    )
    assert codes(check(vc, trust=as_marketplace)) == {"trust.untrusted-issuer"}
    assert codes(check(vc, trust=TrustStore.with_roots([ROOT.did]))) == {"trust.untrusted-issuer"}


def test_issuer_must_control_the_signing_key() -> None:
    unsigned = ip_right_credential(
        OFFICE.did, HOLDER.did, right(), valid_from=ISSUED, status_list_url=LIST_URL, status_index=INDEX
    )
    forged = add_proof(unsigned, STRANGER, created=ISSUED)
    assert "signature.issuer-mismatch" in codes(check(forged))


@pytest.mark.parametrize("suite", SUITES)
def test_undefined_terms_are_refused(suite: str) -> None:
    vc = right_credential(suite)
    vc["credentialSubject"]["licensedTo"] = "Someone Else"
    result = check(vc)
    assert "schema.undefined-term" in codes(result)


def test_schema_failures() -> None:
    vc = right_credential()
    other = copy.deepcopy(vc)
    other["type"] = ["VerifiableCredential", "DriverLicence"]
    assert "unsupported.credential-type" in codes(check(other))
    other = copy.deepcopy(vc)
    other["credentialSubject"]["officeCode"] = "XX"
    assert {"schema.right.office-code", "signature.invalid"} <= codes(check(other))
    other = copy.deepcopy(vc)
    other["issuer"] = "https://office.example"
    assert "schema.did" in codes(check(other))
    other = copy.deepcopy(vc)
    del other["id"]
    assert "schema.id" in codes(check(other))


@pytest.mark.parametrize(
    ("document", "code"),
    [
        (b"\xff\xfe", "decode.utf8"),
        ("{not json", "decode.json"),
        ('{"a": 1, "a": 2}', "decode.duplicate-key"),
        ("[" * 100 + "]" * 100, "decode.too-deep"),
        ("x" * 300_000, "decode.too-large"),
        ("NaN", "decode.json"),
        (["a list"], "schema.credential"),
        (None, "schema.credential"),
        ({"proof": {}}, "schema.type"),
    ],
)
def test_garbage_becomes_failures(document: Any, code: str) -> None:
    result = check(document)
    assert not result.valid and code in codes(result)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "@context",
                "type",
                "issuer",
                "credentialSubject",
                "validFrom",
                "validUntil",
                "credentialStatus",
                "proof",
                "id",
            ]
        ),
        json_values,
    )
)
def test_never_raises_on_random_credentials(fields: dict[str, Any]) -> None:
    base = right_credential()
    result = check({**base, **fields})
    assert isinstance(result, VerificationResult)
    if fields and any(base.get(k) != v for k, v in fields.items()):
        assert not result.valid


# --------------------------------------------------------------------------------------------------------
# presentations


def present(
    key: Any,
    credentials: list[dict[str, Any]],
    suite: str = "eddsa-jcs-2022",
    *,
    challenge: str = CHALLENGE,
    domain: str = DOMAIN,
) -> dict[str, Any]:
    return create_presentation(
        key, credentials, challenge=challenge, domain=domain, created="2026-06-01T11:59:00Z", suite=suite
    )


def check_vp(vp: Any, **kwargs: Any) -> VerificationResult:
    kwargs.setdefault("challenge", CHALLENGE)
    kwargs.setdefault("domain", DOMAIN)
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("challenges", MemoryChallengeStore())
    kwargs.setdefault("status_lists", lists())
    kwargs.setdefault("trust", trust_store())
    return verify_presentation(vp, **kwargs)


@pytest.mark.parametrize("suite", SUITES)
def test_holder_presents_own_credential(suite: str) -> None:
    vc = right_credential(suite)
    result = check_vp(present(HOLDER, [vc], suite))
    assert result.valid, result.failures
    assert result.checks.presenter == HOLDER.did and result.checks.kind == "presentation"
    assert {"challenge", "domain", "holder-binding"} <= set(result.checks.performed)


@pytest.mark.parametrize("suite", SUITES)
def test_agent_presents_with_authorisation(suite: str) -> None:
    vc = right_credential(suite)
    grant = authorisation([vc["id"]], suite)
    result = check_vp(present(AGENT, [vc, grant], suite), action="notify")
    assert result.valid, result.failures
    assert [c.subject for c in result.checks.credentials] == [HOLDER.did, AGENT.did]


def test_wrong_challenge_domain_and_replay() -> None:
    vp = present(HOLDER, [right_credential()])
    assert codes(check_vp(vp, challenge="another")) == {"validity.challenge"}
    assert codes(check_vp(vp, challenge="")) == {"validity.challenge"}
    assert codes(check_vp(vp, domain="did:key:z6MkOther")) == {"validity.domain"}
    store = MemoryChallengeStore()
    assert check_vp(vp, challenges=store).valid
    assert codes(check_vp(vp, challenges=store)) == {"validity.challenge-replayed"}


def test_a_forged_presentation_does_not_burn_the_challenge() -> None:
    vp = present(HOLDER, [right_credential()])
    vp["holder"] = STRANGER.did
    vp["proof"]["proofValue"] = present(STRANGER, [right_credential()])["proof"]["proofValue"]
    store = MemoryChallengeStore()
    assert "signature.invalid" in codes(check_vp(vp, challenges=store))
    assert check_vp(present(HOLDER, [right_credential()]), challenges=store).valid


def test_holder_must_be_the_signer_and_the_subject() -> None:
    vc = right_credential()
    lying = add_proof(
        presentation(HOLDER.did, [vc]),
        STRANGER,
        created=ISSUED,
        purpose="authentication",
        challenge=CHALLENGE,
        domain=DOMAIN,
    )
    assert codes(check_vp(lying)) == {"validity.holder", "validity.holder-not-subject"}
    stolen = present(STRANGER, [vc])
    result = check_vp(stolen)
    assert codes(result) == {"validity.holder-not-subject"} and result.failures[0].credential_id == vc["id"]


def test_agent_without_a_covering_authorisation() -> None:
    vc = right_credential()
    other_right = authorisation(["urn:uuid:00000000-0000-4000-8000-00000000dead"])
    assert codes(check_vp(present(AGENT, [vc, other_right]))) == {"validity.not-authorised"}
    expired = authorisation([vc["id"]], valid_until="2026-02-01T00:00:00Z")
    assert codes(check_vp(present(AGENT, [vc, expired]))) == {"validity.expired", "validity.not-authorised"}
    notify_only = authorisation([vc["id"]], actions=["notify"])
    assert codes(check_vp(present(AGENT, [vc, notify_only]), action="complain")) == {
        "validity.not-authorised"
    }
    elsewhere = authorisation([vc["id"]], marketplaces=[STRANGER.did])
    assert codes(check_vp(present(AGENT, [vc, elsewhere]))) == {"validity.not-authorised"}
    here = authorisation([vc["id"]], marketplaces=[MARKET.did])
    assert check_vp(present(AGENT, [vc, here])).valid
    from_stranger = authorisation([vc["id"]], key=STRANGER)
    assert codes(check_vp(present(AGENT, [vc, from_stranger]))) == {"validity.holder-not-subject"}
    for_someone_else = authorisation([vc["id"]], agent=STRANGER.did)
    assert "validity.holder-not-subject" in codes(check_vp(present(AGENT, [vc, for_someone_else])))


def test_embedded_credential_failures_are_reported_per_credential() -> None:
    vc = right_credential()
    result = check_vp(present(HOLDER, [vc]), status_lists=lists(revoke(status_list(), INDEX)))
    assert codes(result) == {"status.revoked"} and result.failures[0].credential_id == vc["id"]
    result = check_vp(present(HOLDER, [vc]), trust=None)
    assert result.valid and not result.checks.trust_checked


def test_a_non_json_value_inside_an_embedded_credential_is_refused_once_for_the_presentation() -> None:
    # The presentation's JSON check covers its credentials (they are not walked again): a value that
    # is not JSON deep inside a credential must still end in a failure, never an exception.
    for bad in (float("nan"), {1, 2}, b"bytes"):
        vc = right_credential()
        vp = present(HOLDER, [vc])
        vp["verifiableCredential"][0]["credentialSubject"]["extra"] = bad
        result = check_vp(vp)
        assert not result.valid and codes(result) == {"decode.json"}


@pytest.mark.parametrize("suite", SUITES)
def test_tampered_presentation(suite: str) -> None:
    vp = present(HOLDER, [right_credential(suite)], suite)
    vp["verifiableCredential"][0]["credentialSubject"]["verbalElement"] = "OTHER"
    assert "signature.invalid" in codes(check_vp(vp))


def test_presentation_structure() -> None:
    vc = right_credential()
    empty = add_proof(
        presentation(HOLDER.did, []),
        HOLDER,
        created=ISSUED,
        purpose="authentication",
        challenge=CHALLENGE,
        domain=DOMAIN,
    )
    assert codes(check_vp(empty)) == {"schema.presentation"}
    asserted = add_proof(
        presentation(HOLDER.did, [vc]), HOLDER, created=ISSUED, challenge=CHALLENGE, domain=DOMAIN
    )
    assert "signature.purpose" in codes(check_vp(asserted))
    assert codes(check_vp("[]")) == {"schema.presentation"}
    assert codes(check_vp(present(HOLDER, [vc]), now=NOW.replace(tzinfo=None))) == {"schema.no-timezone"}
    later = check_vp(present(HOLDER, [vc]), now=NOW + timedelta(days=3 * 365))
    assert "validity.expired" in codes(later)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(["@context", "type", "holder", "verifiableCredential", "proof"]), json_values
    )
)
def test_never_raises_on_random_presentations(fields: dict[str, Any]) -> None:
    base = present(HOLDER, [right_credential()])
    result = check_vp({**base, **fields})
    assert isinstance(result, VerificationResult)



def test_leeway_tolerates_an_issuer_clock_ahead_for_valid_from_only() -> None:
    from protocol.verify import CLOCK_LEEWAY

    valid_from = datetime.fromisoformat("2026-01-05T10:00:00+00:00")  # right_credential()'s validFrom
    verified = {LIST_URL: status_list()}
    two_minutes_early = valid_from - timedelta(minutes=2)
    assert codes(check(right_credential(), now=two_minutes_early, status_lists=verified)) == {
        "validity.not-yet-valid"
    }
    assert check(right_credential(), now=two_minutes_early, status_lists=verified, leeway=CLOCK_LEEWAY).valid
    too_early = valid_from - CLOCK_LEEWAY - timedelta(seconds=1)
    assert codes(check(right_credential(), now=too_early, status_lists=verified, leeway=CLOCK_LEEWAY)) == {
        "validity.not-yet-valid"
    }
    # validUntil gets no leeway
    vc = right_credential(valid_until="2026-03-01T00:00:00Z")
    at_expiry = datetime.fromisoformat("2026-03-01T00:00:00+00:00")
    assert codes(check(vc, now=at_expiry, leeway=CLOCK_LEEWAY)) == {"validity.expired"}
