"""IPRight parsing (RIGHT.json and credential claims) and IPRightCredential issuance."""

from __future__ import annotations

import json
from typing import Any

import pytest
from credential_fixtures import (
    HOLDER,
    ISSUED,
    LIST_URL,
    OFFICE,
    ROOT_DIR,
    right,
    right_credential,
    right_json,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.data_integrity import verify_proof
from protocol.errors import SchemaError
from protocol.ip_right import (
    MARK_FEATURES,
    MARK_KINDS,
    OFFICE_CODES,
    STATUSES,
    check_ip_right_credential,
    ip_right_credential,
    right_from_credential,
    right_from_json,
)
from protocol.register import parse_register, public_view


def test_example_right_parses_and_round_trips() -> None:
    parsed = right()
    assert parsed.office == "EM" and parsed.nice_classes == (3, 14, 25) and parsed.key == "EM:018003932"
    assert parsed.to_json() == right_json()
    assert parsed.to_claims()["officeCode"] == "EM" and parsed.to_claims()["registerStatus"] == "registered"


def test_every_register_entry_is_a_right() -> None:
    """A register entry's public view is a RIGHT.json: the office issues straight from its register."""
    result = parse_register((ROOT_DIR / "specs" / "examples" / "register-em.json").read_bytes())
    assert result.entries
    for _, entry in result.entries:
        assert right_from_json(public_view(entry)).to_json() == public_view(entry)


def _bad(**changes: Any) -> dict[str, Any]:
    data = right_json()
    for key, value in changes.items():
        if value is ...:
            data.pop(key)
        else:
            data[key] = value
    return data


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"office": "XX"}, "schema.right.office-code"),
        ({"office": "em"}, "schema.right.office-code"),
        ({"right_type": "trade-secret"}, "schema.right.right-type"),
        ({"nice_classes": [0]}, "schema.right.nice-class"),
        ({"nice_classes": [46]}, "schema.right.nice-class"),
        ({"nice_classes": [3, 3]}, "schema.right.nice-class"),
        ({"nice_classes": ["3"]}, "schema.right.nice-class"),
        ({"nice_classes": [True]}, "schema.right.nice-class"),
        ({"nice_classes": ...}, "schema.right.nice-class"),
        ({"nice_edition": "eleven"}, "schema.right.nice-edition"),
        ({"mark_feature": "3d-hologram"}, "schema.right.mark-feature"),
        ({"mark_kind": "family"}, "schema.right.mark-kind"),
        ({"status": "alive"}, "schema.right.status"),
        ({"filing_date": "2019-13-01"}, "schema.right.date"),
        ({"filing_date": "11/01/2019"}, "schema.right.date"),
        ({"registration_date": "2018-01-01"}, "schema.right.date-order"),
        ({"expiry_date": "2019-10-19"}, "schema.right.date-order"),
        ({"expiry_date": ...}, "schema.right.missing"),
        ({"holder_name": ...}, "schema.right.missing"),
        ({"holder_name": " padded"}, "schema.right.text"),
        ({"holder_name": "x" * 501}, "schema.right.text"),
        ({"holder_name": 7}, "schema.right.type"),
        ({"holder_name": None}, "schema.right.type"),
        ({"holder_country": "Lux"}, "schema.right.holder-country"),
        ({"territory": "European Union"}, "schema.right.territory"),
        ({"application_number": "0180 03932"}, "schema.right.number"),
        ({"contact_email": "ip@x.example"}, "schema.right.unknown-field"),
        ({"right_type": "patent"}, "schema.right.not-a-mark"),
    ],
)
def test_bad_rights_are_refused_with_a_code(changes: dict[str, Any], code: str) -> None:
    with pytest.raises(SchemaError) as info:
        right_from_json(_bad(**changes))
    assert info.value.code == code


def test_a_right_is_an_object() -> None:
    with pytest.raises(SchemaError) as info:
        right_from_json(["not", "an", "object"])
    assert info.value.code == "schema.right.type"


def test_patent_without_mark_fields_is_fine() -> None:
    data = {k: v for k, v in right_json().items() if k not in ("mark_feature", "mark_kind", "nice_classes",
                                                                 "nice_edition")}
    data.update(right_type="patent", office="EP", application_number="EP19000001")
    assert right_from_json(data).right_type == "patent"


def test_issued_credential_shape() -> None:
    vc = right_credential()
    assert vc["@context"] == ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/rightsmesh/v1"]
    assert vc["type"] == ["VerifiableCredential", "IPRightCredential"]
    assert vc["issuer"] == OFFICE.did and vc["validFrom"] == ISSUED
    assert vc["validUntil"] == "2029-01-11T23:59:59Z"  # the end of the right's expiry day
    assert vc["id"].startswith("urn:uuid:")
    assert vc["credentialSubject"]["id"] == HOLDER.did
    assert vc["credentialSubject"]["niceClasses"] == [3, 14, 25]
    assert vc["credentialStatus"] == {
        "id": f"{LIST_URL}#42", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
        "statusListIndex": "42", "statusListCredential": LIST_URL,
    }
    assert verify_proof(vc, expected_purpose="assertionMethod").controller == OFFICE.did
    assert right_from_credential(vc) == right()
    assert check_ip_right_credential(vc) == right()


def test_id_is_deterministic_or_given() -> None:
    assert right_credential()["id"] == right_credential()["id"]
    assert right_credential()["id"] != right_credential(subject=OFFICE.did)["id"]
    given = "urn:uuid:00000000-0000-4000-8000-000000000001"
    assert right_credential(credential_id=given)["id"] == given
    with pytest.raises(SchemaError):
        right_credential(credential_id="relative/id")


def test_valid_until_cannot_outlive_the_right() -> None:
    assert right_credential(valid_until="2027-01-01T00:00:00Z")["validUntil"] == "2027-01-01T00:00:00Z"
    with pytest.raises(SchemaError) as info:
        right_credential(valid_until="2029-01-12T00:00:00Z")
    assert info.value.code == "schema.right.valid-until"
    with pytest.raises(SchemaError) as info:
        right_credential(valid_until="2026-01-01T00:00:00Z")  # before validFrom
    assert info.value.code == "schema.validity-window"
    with pytest.raises(SchemaError) as info:
        right_credential(valid_until="2027-01-01T00:00:00")
    assert info.value.code == "schema.no-timezone"


def test_right_without_expiry_needs_explicit_valid_until() -> None:
    data = right_json()
    data.update(status="filed")
    for name in ("registration_date", "expiry_date", "registration_number"):
        data.pop(name)
    filed = right_from_json(data)
    with pytest.raises(SchemaError) as info:
        ip_right_credential(OFFICE.did, HOLDER.did, filed, valid_from=ISSUED)
    assert info.value.code == "schema.right.valid-until"
    vc = ip_right_credential(OFFICE.did, HOLDER.did, filed, valid_from=ISSUED,
                             valid_until="2027-01-01T00:00:00Z")
    assert vc["validUntil"] == "2027-01-01T00:00:00Z"


def test_status_entry_needs_url_and_index() -> None:
    with pytest.raises(SchemaError) as info:
        ip_right_credential(OFFICE.did, HOLDER.did, right(), valid_from=ISSUED, status_list_url=LIST_URL)
    assert info.value.code == "schema.credential-status"
    plain = ip_right_credential(OFFICE.did, HOLDER.did, right(), valid_from=ISSUED)
    assert "credentialStatus" not in plain


def test_subject_must_be_a_did() -> None:
    with pytest.raises(SchemaError) as info:
        right_credential(subject="mailto:holder@example.com")
    assert info.value.code == "schema.did"


def test_credential_claims_are_strict() -> None:
    vc = json.loads(json.dumps(right_credential()))
    vc["credentialSubject"]["office"] = "EM"  # a RIGHT.json spelling is not a claim
    with pytest.raises(SchemaError) as info:
        check_ip_right_credential(vc)
    assert info.value.code == "schema.right.unknown-field"
    vc = json.loads(json.dumps(right_credential()))
    vc["validUntil"] = "2030-01-01T00:00:00Z"
    with pytest.raises(SchemaError) as info:
        check_ip_right_credential(vc)
    assert info.value.code == "schema.right.valid-until"


rights = st.fixed_dictionaries(
    {
        "right_type": st.just("trademark"),
        "office": st.sampled_from(sorted(OFFICE_CODES)),
        "application_number": st.from_regex(r"[A-Za-z0-9][A-Za-z0-9./-]{0,31}", fullmatch=True),
        "territory": st.from_regex(r"[A-Z]{2}", fullmatch=True),
        "filing_date": st.just("2019-01-11"),
        "status": st.sampled_from(sorted(STATUSES - {"registered", "granted"})),
        "holder_name": st.text(min_size=1, max_size=40).map(str.strip).filter(bool),
        "holder_country": st.from_regex(r"[A-Z]{2}", fullmatch=True),
        "nice_classes": st.lists(st.integers(1, 45), min_size=1, max_size=6, unique=True).map(sorted),
    },
    optional={
        "verbal_element": st.text(min_size=1, max_size=30).map(str.strip).filter(bool),
        "mark_feature": st.sampled_from(sorted(MARK_FEATURES)),
        "mark_kind": st.sampled_from(sorted(MARK_KINDS)),
        "expiry_date": st.just("2029-01-11"),
    },
)


@settings(max_examples=40, deadline=None)
@given(rights)
def test_any_valid_right_round_trips_through_a_credential(raw: dict[str, Any]) -> None:
    parsed = right_from_json(raw)
    assert parsed.to_json() == raw
    unsigned = ip_right_credential(OFFICE.did, HOLDER.did, parsed, valid_from=ISSUED,
                                   valid_until="2027-01-01T00:00:00Z")
    assert right_from_credential(json.loads(json.dumps(unsigned))) == parsed
