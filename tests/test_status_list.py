"""Bitstring Status List: encoding, bit order, bounded decoding, versions, list credentials."""

from __future__ import annotations

import base64
import gzip
import json

import pytest
from credential_fixtures import LIST_URL, NOW, OFFICE, STRANGER, list_credential, status_list
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import DecodeError, ProtocolError, SchemaError, SignatureError, ValidityError
from protocol.status_list import (
    MIN_ENTRIES,
    decode_list,
    encode_list,
    issue_status_list_credential,
    new_status_list,
    parse_status_entry,
    revoke,
    set_bits,
    status_entry,
    status_list_from_credential,
    suspend,
    unsuspend,
    verify_status_list_credential,
)


def _u(data: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(data).decode().rstrip("=")


def test_bit_zero_is_the_leftmost_bit() -> None:
    sl = revoke(status_list(), 0, 9, MIN_ENTRIES - 1)
    assert sl.bits[0] == 0x80 and sl.bits[1] == 0x40 and sl.bits[-1] == 0x01
    assert sl.get(0) and sl.get(9) and sl.get(MIN_ENTRIES - 1) and not sl.get(1)


def test_encoding_is_gzip_base64url_multibase_and_deterministic() -> None:
    bits = revoke(status_list(), 5).bits
    encoded = encode_list(bits)
    assert encoded.startswith("u") and "=" not in encoded and "+" not in encoded and "/" not in encoded
    assert gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))) == bits
    assert encode_list(bits) == encoded  # mtime 0: same bits, same bytes
    assert decode_list(encoded) == bits


@settings(max_examples=30, deadline=None)
@given(st.sets(st.integers(min_value=0, max_value=MIN_ENTRIES - 1), max_size=20))
def test_round_trip_any_bits(indices: set[int]) -> None:
    sl = revoke(status_list(), *sorted(indices)) if indices else status_list()
    decoded = decode_list(encode_list(sl.bits))
    assert decoded == sl.bits
    assert {i for i in range(MIN_ENTRIES) if decoded[i >> 3] & (0x80 >> (i & 7))} == indices


def test_a_zip_bomb_stops_at_the_bound() -> None:
    bomb = _u(gzip.compress(bytes(64 * 1024 * 1024), mtime=0))  # 64 MiB of zeros in ~64 KiB
    with pytest.raises(DecodeError) as info:
        decode_list(bomb)
    assert info.value.code == "decode.too-large"


@pytest.mark.parametrize(
    ("encoded", "code"),
    [
        ("z123", "decode.status-list"),
        ("uAAA=", "decode.status-list"),
        ("u+/+/", "decode.status-list"),
        (_u(b"not gzip at all"), "decode.status-list"),
        (_u(gzip.compress(bytes(MIN_ENTRIES // 8), mtime=0)[:-4]), "decode.status-list"),
        (_u(gzip.compress(bytes(MIN_ENTRIES // 8), mtime=0) + b"junk"), "decode.status-list"),
        (_u(gzip.compress(bytes(100), mtime=0)), "schema.status-list-size"),
        (42, "decode.status-list"),
    ],
)
def test_bad_encoded_lists(encoded: object, code: str) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_list(encoded)
    assert info.value.code == code


def test_versions_and_purposes() -> None:
    sl = status_list()
    assert sl.version == 1 and sl.size == MIN_ENTRIES and not any(sl.bits)
    revoked = revoke(sl, 3)
    assert revoked.version == 2 and revoked.get(3) and not sl.get(3)  # values, not mutation
    with pytest.raises(SchemaError):
        set_bits(revoked, [3], False)  # revocation is final
    with pytest.raises(SchemaError):
        suspend(revoked, 4)
    suspended = suspend(status_list("suspension"), 7)
    assert suspended.get(7)
    back = unsuspend(suspended, 7)
    assert not back.get(7) and back.version == 3
    with pytest.raises(SchemaError):
        revoke(sl, MIN_ENTRIES)
    with pytest.raises(SchemaError):
        new_status_list(LIST_URL, OFFICE.did, "revocation", size=1000)
    with pytest.raises(SchemaError):
        new_status_list(LIST_URL, OFFICE.did, "message")


def test_list_credential_shape_and_verification() -> None:
    sl = revoke(status_list(), 42)
    vc = list_credential(sl)
    assert vc["id"] == LIST_URL and vc["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    subject = vc["credentialSubject"]
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "revocation"
    assert subject["statusListVersion"] == 2 and subject["id"] == LIST_URL + "#list"
    verified = verify_status_list_credential(vc, now=NOW)
    assert verified == sl
    assert status_list_from_credential(vc) == sl


@pytest.mark.parametrize("suite", ["eddsa-jcs-2022", "eddsa-rdfc-2022"])
def test_tampered_list_fails(suite: str) -> None:
    vc = list_credential(revoke(status_list(), 42), suite=suite)
    vc["credentialSubject"]["encodedList"] = encode_list(status_list().bits)  # "unrevoke" by editing
    with pytest.raises(SignatureError):
        verify_status_list_credential(vc, now=NOW)


def test_list_signed_by_another_key_or_expired() -> None:
    with pytest.raises(SchemaError):
        issue_status_list_credential(STRANGER, status_list(), created="2026-01-01T00:00:00Z")
    forged = json.loads(json.dumps(issue_status_list_credential(
        STRANGER, new_status_list(LIST_URL, STRANGER.did, "revocation"), created="2026-01-01T00:00:00Z")))
    forged["issuer"] = OFFICE.did
    with pytest.raises(SignatureError):
        verify_status_list_credential(forged, now=NOW)
    short = issue_status_list_credential(OFFICE, status_list(), created="2026-01-01T00:00:00Z",
                                         valid_until="2026-02-01T00:00:00Z")
    with pytest.raises(ValidityError) as info:
        verify_status_list_credential(short, now=NOW)
    assert info.value.code == "validity.expired"


def test_status_entries() -> None:
    entry = status_entry(LIST_URL, 7)
    assert parse_status_entry(entry)[0].index == 7
    assert parse_status_entry([entry, status_entry(LIST_URL, 8, "suspension")])[1].purpose == "suspension"
    for bad, code in [
        ({**entry, "statusListIndex": 7}, "schema.status-index"),
        ({**entry, "statusListIndex": "-1"}, "schema.status-index"),
        ({**entry, "statusListIndex": "007"}, "schema.status-index"),
        ({**entry, "statusPurpose": "message"}, "unsupported.status-purpose"),
        ({**entry, "statusSize": 2}, "unsupported.status-size"),
        ({**entry, "type": "StatusList2021Entry"}, "unsupported.status-type"),
        ({**entry, "statusListCredential": "list/1"}, "schema.id"),
        ({**entry, "extra": 1}, "schema.credential-status"),
        ([entry, entry], "schema.credential-status"),
        ([], "schema.credential-status"),
    ]:
        with pytest.raises(ProtocolError) as info:
            parse_status_entry(bad)
        assert info.value.code == code, bad
