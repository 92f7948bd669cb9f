"""Office and marketplace payloads: builders match the CDDL, checkers refuse what the CDDL refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pycddl
import pytest

from protocol import cbor
from protocol.errors import SchemaError
from protocol.keys import KeyPair
from protocol.register import parse_register, public_view
from protocol.role_payloads import (
    check_enrolment_result,
    check_profile,
    check_search_result,
    enrolment_result_payload,
    profile_payload,
    search_result_payload,
)

ROOT = Path(__file__).resolve().parent.parent
DID = KeyPair.from_seed(bytes(32)).did
HOLDER = KeyPair.from_seed(bytes([1]) * 32).did


def schema(kind: str) -> Any:
    return pycddl.Schema((ROOT / "specs" / "cddl" / f"{kind}.cddl").read_text())


def profile_file() -> dict[str, Any]:
    return json.loads((ROOT / "specs" / "examples" / "marketplace-profile.json").read_text())


def test_search_result_matches_cddl() -> None:
    parsed = parse_register((ROOT / "specs/examples/register-em.csv").read_bytes())
    entries = [public_view(e) for _, e in parsed.entries]
    query = {"q": "nova", "class": 25, "limit": 20}
    payload = search_result_payload(DID, query, entries[:20], 31, 1_700_000_000)
    assert payload["truncated"] is True
    schema("search-result").validate_cbor(cbor.encode(payload))
    check_search_result(payload)
    leaky = dict(payload, results=[dict(entries[0], contact_email="x@y.example")])
    with pytest.raises(SchemaError) as exc:
        check_search_result(leaky)
    assert exc.value.code == "schema.search-result.bad-results"
    with pytest.raises(pycddl.ValidationError):
        schema("search-result").validate_cbor(cbor.encode(dict(payload, office="not-a-did")))


def test_profile_matches_cddl_and_checks() -> None:
    payload = profile_payload(DID, profile_file(), 1_700_000_000)
    schema("marketplace-profile").validate_cbor(cbor.encode(payload))
    check_profile(payload)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"accepted_rights": ["copyright"]}, "schema.marketplace-profile.bad-accepted-rights"),
        ({"languages": []}, "schema.marketplace-profile.bad-languages"),
        ({"notice_endpoint": "mailto:x@y"}, "schema.marketplace-profile.bad-notice-endpoint"),
        ({"turnaround_hours": -1}, "schema.marketplace-profile.bad-turnaround-hours"),
        ({"contact_point": {"url": "https://x.example"}},
         "schema.marketplace-profile.contact-point.missing-email"),
        ({"colour": "blue"}, "schema.marketplace-profile.unknown-field"),
    ],
)
def test_profile_refusals(change: dict[str, Any], code: str) -> None:
    with pytest.raises(SchemaError) as exc:
        profile_payload(DID, {**profile_file(), **change}, 1)
    assert exc.value.code == code


def test_profile_missing_field() -> None:
    doc = profile_file()
    del doc["programme"]
    with pytest.raises(SchemaError) as exc:
        profile_payload(DID, doc, 1)
    assert exc.value.code == "schema.marketplace-profile.missing-programme"


def test_enrolment_result_matches_cddl() -> None:
    payload = enrolment_result_payload(
        marketplace=DID, enrolment="e1", holder=HOLDER, challenge="abc", presentation_hash=bytes(32),
        rights=[{"credential": "urn:uuid:1", "issuer": DID, "office": "EM", "number": "018000001"}],
        checks=["proof", "status", "trust"], created=1_700_000_000,
    )
    schema("enrolment-result").validate_cbor(cbor.encode(payload))
    with pytest.raises(SchemaError) as exc:
        check_enrolment_result(dict(payload, checks=["magic"]))
    assert exc.value.code == "schema.enrolment-result.bad-checks"
    with pytest.raises(pycddl.ValidationError):
        schema("enrolment-result").validate_cbor(cbor.encode(dict(payload, rights=[])))
