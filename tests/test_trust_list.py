"""Trust lists: COSE-signed, CDDL-conformant, versioned by sequence, accepted only from configured roots."""

from __future__ import annotations

from typing import Any

import pycddl
import pytest
from credential_fixtures import NOW_TS, OFFICE, ROOT, ROOT_DIR, STRANGER, signed_trust_list, trust_entries

from protocol import cbor
from protocol.errors import ProtocolError, SchemaError, SignatureError, ValidityError
from protocol.messages import sign_message, verify_message
from protocol.trust_list import (
    MAX_ENTRIES,
    TrustStore,
    parse_trust_list,
    sign_trust_list,
    trust_list_payload,
    verify_trust_list,
)

SCHEMA = pycddl.Schema((ROOT_DIR / "specs" / "cddl" / "trust-list.cddl").read_text())


def _entry(**changes: Any) -> dict[str, Any]:
    return {**trust_entries()[0], **changes}


def test_payload_matches_cddl() -> None:
    entries = [_entry(), _entry(did=STRANGER.did, role="marketplace", jurisdiction="ES-CT")]
    payload = trust_list_payload(entries, sequence=3, created=1_760_000_000, expires=1_800_000_000)
    SCHEMA.validate_cbor(cbor.encode(payload))
    assert [e["did"] for e in payload["entries"]] == sorted(e["did"] for e in entries)
    message = verify_message(sign_trust_list(ROOT, entries, sequence=3, created=1_760_000_000), NOW_TS)
    SCHEMA.validate_cbor(cbor.encode(dict(message.payload)))


@pytest.mark.parametrize(
    "bad",
    [
        {"role": "judge"},
        {"did": "https://office.example"},
        {"jurisdiction": "Europe"},
        {"name": ""},
        {"valid_from": -1},
        {"valid_until": 1_600_000_000},
    ],
)
def test_bad_entries_fail_both_the_parser_and_the_cddl(bad: dict[str, Any]) -> None:
    entry = _entry(**bad)
    with pytest.raises(SchemaError) as info:
        trust_list_payload([entry], sequence=1, created=1)
    assert info.value.code in ("schema.trust-list", "schema.did")
    if "valid_until" not in bad:  # ordering of times is beyond CDDL
        with pytest.raises(pycddl.ValidationError):
            SCHEMA.validate_cbor(cbor.encode({"created": 1, "sequence": 1, "entries": [entry]}))


def test_parse_refuses_what_a_hand_made_payload_gets_wrong() -> None:
    cases = [
        {"created": 1, "sequence": 1, "entries": [_entry(), _entry()]},  # repeated (did, role)
        {"created": 1, "sequence": -1, "entries": []},
        {"created": 1, "entries": []},
        {"created": 1, "sequence": 1, "entries": [_entry()], "note": "x"},
        {"created": 1, "sequence": 1, "entries": [dict(_entry(), extra=1)]},
        {"created": 1, "sequence": 1, "entries": [_entry()] * (MAX_ENTRIES + 1)},
    ]
    for payload in cases:
        try:
            raw = sign_message(ROOT, "trust-list", payload)
        except ProtocolError:
            continue  # over the message size limit is refused at signing already
        with pytest.raises(SchemaError):
            verify_trust_list(raw, NOW_TS)
    other_kind = verify_message(sign_message(ROOT, "test", {"created": 1}), NOW_TS)
    with pytest.raises(SchemaError):
        parse_trust_list(other_kind)


def test_signature_and_expiry_are_checked() -> None:
    raw = bytearray(signed_trust_list())
    raw[-1] ^= 1
    with pytest.raises(SignatureError):
        verify_trust_list(bytes(raw), NOW_TS)
    expiring = sign_trust_list(ROOT, trust_entries(), sequence=1, created=1_760_000_000,
                               expires=1_770_000_000)
    with pytest.raises(ValidityError):
        verify_trust_list(expiring, NOW_TS)


def test_store_accepts_only_roots_and_higher_sequences() -> None:
    store = TrustStore.with_roots([ROOT.did])
    assert not store.is_trusted(OFFICE.did, "office", NOW_TS)
    first = store.accept(verify_trust_list(signed_trust_list(sequence=5), NOW_TS))
    assert first.is_trusted(OFFICE.did, "office", NOW_TS)
    assert not first.is_trusted(OFFICE.did, "marketplace", NOW_TS)
    assert not store.is_trusted(OFFICE.did, "office", NOW_TS)  # accept returns a new store
    for sequence in (4, 5):
        with pytest.raises(ValidityError) as info:
            first.accept(verify_trust_list(signed_trust_list(sequence=sequence, entries=[]), NOW_TS))
        assert info.value.code == "validity.stale-sequence"
    removed = first.accept(verify_trust_list(signed_trust_list(sequence=6, entries=[]), NOW_TS))
    assert not removed.is_trusted(OFFICE.did, "office", NOW_TS)
    assert removed.current(ROOT.did) is not None and removed.current(ROOT.did).sequence == 6  # type: ignore[union-attr]
    with pytest.raises(ValidityError) as info:
        store.accept(verify_trust_list(signed_trust_list(key=STRANGER), NOW_TS))
    assert info.value.code == "validity.untrusted-root"


def test_entry_window_and_list_expiry() -> None:
    store = TrustStore.with_roots([ROOT.did]).accept(verify_trust_list(signed_trust_list(), NOW_TS))
    assert not store.is_trusted(OFFICE.did, "office", 1_700_000_000 - 1)
    assert store.is_trusted(OFFICE.did, "office", 1_700_000_000)
    assert not store.is_trusted(OFFICE.did, "office", 1_900_000_000)
    expiring = sign_trust_list(ROOT, trust_entries(), sequence=1, created=1_760_000_000,
                               expires=1_790_000_000)
    held = TrustStore.with_roots([ROOT.did]).accept(verify_trust_list(expiring, 1_780_000_000))
    assert held.is_trusted(OFFICE.did, "office", 1_780_000_000)
    assert not held.is_trusted(OFFICE.did, "office", 1_790_000_000)


def test_two_roots_are_independent() -> None:
    store = TrustStore.with_roots([ROOT.did, STRANGER.did])
    store = store.accept(verify_trust_list(signed_trust_list(sequence=9), NOW_TS))
    other = verify_trust_list(signed_trust_list(sequence=1, key=STRANGER,
                                                entries=trust_entries(role="marketplace")), NOW_TS)
    store = store.accept(other)
    assert store.is_trusted(OFFICE.did, "office", NOW_TS)
    assert store.is_trusted(OFFICE.did, "marketplace", NOW_TS)
