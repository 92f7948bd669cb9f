"""Office and marketplace payloads: builders match the CDDL, checkers refuse what the CDDL refuses."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pycddl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
        ({"accepted_rights": [["trademark"]]}, "schema.marketplace-profile.bad-accepted-rights"),
        ({"accepted_rights": [{"k": 1}]}, "schema.marketplace-profile.bad-accepted-rights"),
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
    for checks in (["magic"], [["proof"]], [{"proof": 1}]):
        with pytest.raises(SchemaError) as exc:
            check_enrolment_result(dict(payload, checks=checks))
        assert exc.value.code == "schema.enrolment-result.bad-checks"
    with pytest.raises(pycddl.ValidationError):
        schema("enrolment-result").validate_cbor(cbor.encode(dict(payload, rights=[])))


_JUNK = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.text(max_size=12)
    | st.binary(max_size=40),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
    max_leaves=8,
)


def _valid_payloads() -> dict[str, tuple[Any, dict[str, Any]]]:
    parsed = parse_register((ROOT / "specs/examples/register-em.csv").read_bytes())
    entries = [public_view(e) for _, e in parsed.entries][:3]
    return {
        "profile": (check_profile, profile_payload(DID, profile_file(), 1_700_000_000)),
        "search": (check_search_result,
                   search_result_payload(DID, {"q": "nova", "limit": 3}, entries, 3, 1_700_000_000)),
        "enrolment": (check_enrolment_result, enrolment_result_payload(
            marketplace=DID, enrolment="e1", holder=HOLDER, challenge="abc", presentation_hash=bytes(32),
            rights=[{"credential": "urn:uuid:1", "issuer": DID, "office": "EM", "number": "018000001"}],
            checks=["proof", "status"], created=1_700_000_000)),
    }


_VALID = _valid_payloads()


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(sorted(_VALID)), st.data())
def test_one_value_replaced_anywhere_only_raises_schema_errors(kind: str, data: st.DataObject) -> None:
    # Received payloads (gossip, peers) reach these checkers: a nested junk value must be a SchemaError,
    # never a TypeError (an unhashable list inside accepted_rights was one).
    checker, valid = _VALID[kind]
    payload = json.loads(json.dumps(valid, default=lambda b: None))  # a deep copy (bytes are re-set below)
    payload.update({k: v for k, v in valid.items() if isinstance(v, bytes)})
    node: Any = payload
    while True:
        if isinstance(node, dict) and node:
            key: Any = data.draw(st.sampled_from(sorted(node)))
        elif isinstance(node, list) and node:
            key = data.draw(st.integers(0, len(node) - 1))
        else:
            break
        if isinstance(node[key], dict | list) and node[key] and data.draw(st.booleans()):
            node = node[key]
            continue
        node[key] = data.draw(_JUNK)
        break
    with contextlib.suppress(SchemaError):
        checker(payload)
