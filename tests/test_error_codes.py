"""Error codes the specs name (wire, credentials, office-marketplace, notices) that no other test triggered.

Each test builds a real bad input and checks the exact code and error category, so a refactoring that
changes which check fires (or lets another exception escape) fails here.
"""

from __future__ import annotations

import pytest
from notice_fixtures import HOLDER, MARKET_A, MARKET_B, NOTICE_ID, OUTSIDER, T0, notice_payload

from protocol import cbor
from protocol.complaint import build_complaint_payload, check_complaint, parse_complaint
from protocol.errors import DecodeError, SchemaError, UnsupportedError, ValidityError
from protocol.issuance import RANDOM_BYTES, make_nonce, make_offer
from protocol.keys import (
    KeyPair,
    public_key_from_did,
    public_key_from_multibase,
    public_key_multibase,
    x25519_public_key,
)
from protocol.matching import Listing, MatchIndex
from protocol.messages import sign_message, verify_message
from protocol.multibase import multibase_b58_decode, multibase_b58_encode
from protocol.notice import check_notice_authority, parse_notice
from protocol.register import CSV_COLUMNS, MAX_TEXT, parse_register
from protocol.sealed import Contact, open_contact, seal, seal_contact
from protocol.status_list import issue_status_list_credential, new_status_list, status_entry
from protocol.trust_list import parse_trust_list

HEADER = ",".join(CSV_COLUMNS)
GOOD = ("trademark,EM,018123456,018123456,ACME,word,individual,9;35,12-2023,EU,2023-02-01,2023-08-01,"
        "2033-02-01,registered,Acme Widgets GmbH,DE,ip@acme.example")
KEY = KeyPair.from_seed(bytes(range(32)))


# --- wire: keys, CBOR, message size -------------------------------------------------------------------

def test_public_key_of_the_wrong_length() -> None:
    with pytest.raises(DecodeError) as exc:
        public_key_multibase(b"\x01" * 31)
    assert exc.value.code == "decode.key-length"
    short = multibase_b58_encode(b"\xed\x01" + KEY.public_key[:31])
    with pytest.raises(DecodeError) as exc:
        public_key_from_multibase(short)
    assert exc.value.code == "decode.key-length"
    with pytest.raises(DecodeError) as exc:
        public_key_from_did("did:key:" + short)
    assert exc.value.code == "decode.key-length"


def test_an_overlong_did_key_is_refused_before_base58_decoding() -> None:
    # base58 decoding is quadratic: a 200 kB "DID" took seconds of CPU before this bound
    long_did = "did:key:z6Mk" + "2" * 200_000
    with pytest.raises(DecodeError) as exc:
        public_key_from_did(long_did)
    assert exc.value.code == "decode.key-length"
    with pytest.raises(DecodeError) as exc:
        KeyPair.from_private_multibase("z" + "2" * 200_000)
    assert exc.value.code == "decode.key"
    with pytest.raises(DecodeError) as exc:
        multibase_b58_decode(None)  # type: ignore[arg-type]
    assert exc.value.code == "decode.multibase"


def test_a_did_key_of_another_key_type_is_unsupported() -> None:
    x25519 = multibase_b58_encode(b"\xec\x01" + x25519_public_key(KEY.public_key))  # X25519 multikey
    with pytest.raises(UnsupportedError) as exc:
        public_key_from_did("did:key:" + x25519)
    assert exc.value.code == "unsupported.key-type"


def test_bad_private_multikey_and_bad_point() -> None:
    with pytest.raises(DecodeError) as exc:
        KeyPair.from_private_multibase(KEY.public_multibase)  # a public multikey is not a private one
    assert exc.value.code == "decode.key"
    not_on_curve = bytes([2]) + bytes(31)  # y = 2 has no x on edwards25519
    with pytest.raises(DecodeError) as exc:
        x25519_public_key(not_on_curve)
    assert exc.value.code == "decode.key"


class _DistinctText(str):
    """Text that is a different dict key from an equal plain str (as some str subclasses are)."""

    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        return self is other


def test_encoding_two_map_keys_with_one_encoding_is_refused() -> None:
    value = {_DistinctText("k"): 1, "k": 2}
    assert len(value) == 2  # two Python keys, one CBOR encoding
    with pytest.raises(SchemaError) as exc:
        cbor.encode(value)
    assert exc.value.code == "schema.duplicate-key"


def test_signing_an_oversized_message_is_refused() -> None:
    with pytest.raises(SchemaError) as exc:
        sign_message(KEY, "test", {"created": T0, "blob": b"\x00" * cbor.DEFAULT_LIMITS.max_bytes})
    assert exc.value.code == "schema.too-large"
    # just under the limit still signs and verifies
    small = sign_message(KEY, "test", {"created": T0, "blob": b"\x00" * 1000})
    assert verify_message(small, T0).payload["blob"] == b"\x00" * 1000


def test_parse_trust_list_refuses_another_kind() -> None:
    message = verify_message(sign_message(KEY, "test", {"created": T0}), T0)
    with pytest.raises(SchemaError) as exc:
        parse_trust_list(message)
    assert exc.value.code == "schema.kind"


# --- office: register files, offers, nonces, status lists ---------------------------------------------

def test_unreadable_csv_header_and_row() -> None:
    with pytest.raises(DecodeError) as exc:
        parse_register(HEADER + "x" * 200_000 + "\n", "csv")  # over the csv module's field limit
    assert exc.value.code == "decode.csv"
    result = parse_register(f"{HEADER}\n{'y' * 200_000}\n{GOOD}\n", "csv")
    assert [r.code for r in result.rejected] == ["decode.csv"]


def test_json_register_that_is_not_a_list() -> None:
    with pytest.raises(SchemaError) as exc:
        parse_register('{"entry": {}}', "json")
    assert exc.value.code == "schema.register"


def test_register_field_over_the_length_limit() -> None:
    long_owner = GOOD.replace("Acme Widgets GmbH", "A" * (MAX_TEXT + 1))
    result = parse_register(f"{HEADER}\n{long_owner}\n", "csv")
    assert result.entries == ()
    assert [r.code for r in result.rejected] == ["schema.too-long"]


def test_offer_and_nonce_need_enough_randomness_and_positive_limits() -> None:
    for random in (b"", bytes(RANDOM_BYTES - 1), bytes(RANDOM_BYTES + 1)):
        with pytest.raises(SchemaError) as exc:
            make_offer("EM:1", random, T0)
        assert exc.value.code == "schema.offer-random"
    for limits in ({"ttl": 0}, {"max_attempts": 0}, {"ttl": -5}):
        with pytest.raises(SchemaError) as exc:
            make_offer("EM:1", bytes(RANDOM_BYTES), T0, **limits)
        assert exc.value.code == "schema.offer-limits"
    with pytest.raises(SchemaError) as exc:
        make_nonce(b"\x01" * 8)
    assert exc.value.code == "schema.nonce"


def test_status_list_purpose_and_issuer() -> None:
    with pytest.raises(SchemaError) as exc:
        new_status_list("https://office.example/status/1", KEY.did, "refresh")
    assert exc.value.code == "schema.status-purpose"
    with pytest.raises(SchemaError) as exc:
        status_entry("https://office.example/status/1", 3, "message")
    assert exc.value.code == "schema.status-purpose"
    other = KeyPair.from_seed(bytes([9]) * 32)
    status_list = new_status_list("https://office.example/status/1", KEY.did, "revocation")
    with pytest.raises(SchemaError) as exc:
        issue_status_list_credential(other, status_list, created="2026-01-01T00:00:00Z")
    assert exc.value.code == "schema.issuer"


# --- notices: sealed contact, authority, complaints, listings -----------------------------------------

def _sealed_for(recipient: KeyPair, value: object) -> dict[str, bytes]:
    return {recipient.did: seal(cbor.encode(value), x25519_public_key(recipient.public_key))}


@pytest.mark.parametrize(
    "value",
    [
        ["Ana", "ana@brand.example"],  # not a map
        {"name": "Ana", "email": "ana@brand.example", "notifier": HOLDER.did},  # a key missing
        {"name": 7, "email": "ana@brand.example", "notifier": HOLDER.did, "recipient": MARKET_A.did},
        {"name": "Ana", "email": "not an address", "notifier": HOLDER.did, "recipient": MARKET_A.did},
    ],
)
def test_malformed_sealed_contact(value: object) -> None:
    with pytest.raises(SchemaError) as exc:
        open_contact(_sealed_for(MARKET_A, value), MARKET_A, notifier=HOLDER.did)
    assert exc.value.code == "schema.sealed.bad-contact"


def test_sealing_a_contact_without_a_name_is_refused() -> None:
    for name in ("", "   ", "Ana\x00"):
        with pytest.raises(SchemaError) as exc:
            seal_contact(Contact(name=name, email="ana@brand.example"), notifier=HOLDER.did,
                         recipients=[MARKET_A.did])
        assert exc.value.code == "schema.contact.bad-name"


def test_notice_rights_of_two_holders() -> None:
    rights = [f"urn:uuid:6f1c9a4e-0000-4000-8000-00000000000{n}" for n in (1, 2)]
    notice = parse_notice(notice_payload(rights=rights))
    with pytest.raises(ValidityError) as exc:
        check_notice_authority(notice, signer=HOLDER.did,
                               right_holders={rights[0]: HOLDER.did, rights[1]: OUTSIDER.did})
    assert exc.value.code == "validity.notice.mixed-holders"
    same = {rights[0]: HOLDER.did, rights[1]: HOLDER.did}
    assert check_notice_authority(notice, signer=HOLDER.did, right_holders=same) == "holder"


def test_complaint_against_another_decision_marketplace_or_before_it() -> None:
    decision_id = b"\x09" * 32
    complaint = parse_complaint(build_complaint_payload(
        created=T0 + 7200, decision=decision_id, notice=NOTICE_ID, marketplace=MARKET_A.did,
        complainant="notifier", explanation="The listing was a genuine product; see the invoice.",
    ))
    ctx = {"notice_signer": HOLDER.did, "decision_id": decision_id, "decision_marketplace": MARKET_A.did,
           "decision_created": T0 + 3600}
    check_complaint(complaint, signer=HOLDER.did, **ctx)  # the good case passes
    cases = [
        (ctx | {"decision_id": b"\x0a" * 32}, "schema.complaint.wrong-decision"),
        (ctx | {"decision_marketplace": MARKET_B.did}, "schema.complaint.wrong-marketplace"),
        (ctx | {"decision_created": T0 + 7201}, "validity.complaint-before-decision"),
    ]
    for bad, code in cases:
        with pytest.raises((SchemaError, ValidityError)) as exc:
            check_complaint(complaint, signer=HOLDER.did, **bad)
        assert exc.value.code == code
    assert isinstance(exc.value, ValidityError)


def test_match_distance_out_of_range() -> None:
    index = MatchIndex()
    listing = Listing(title="Acme sneakers", brand="Acme", gtin=None, seller_id=None,
                      image_sha256=None, phash=None)
    assert index.match(listing, max_distance=0).matches == ()
    for distance in (-1, 65):
        with pytest.raises(SchemaError) as exc:
            index.match(listing, max_distance=distance)
        assert exc.value.code == "schema.listing.bad-max-distance"


def test_a_non_text_key_among_unknown_fields_is_a_schema_error() -> None:
    # Callers may hand in-memory maps to the structural parsers: an int key next to text keys used to
    # make the error message's sorted() raise TypeError (int < str).
    from credential_fixtures import authorisation, list_credential, right_credential

    from protocol.authorisation import authorisation_from_credential
    from protocol.ip_right import right_from_json
    from protocol.status_list import parse_status_entry, status_list_from_credential

    vc = right_credential()
    grant = authorisation([vc["id"]])
    grant["credentialSubject"].update({7: "x", "zz": "y"})
    listed = list_credential()
    listed["credentialSubject"].update({7: "x", "zz": "y"})
    entry = {**vc["credentialStatus"], 7: "x", "zz": "y"}
    cases = [
        (lambda: authorisation_from_credential(grant), "schema.authorisation"),
        (lambda: status_list_from_credential(listed), "schema.status-list"),
        (lambda: parse_status_entry(entry), "schema.credential-status"),
        (lambda: right_from_json({"right_type": "trademark", 7: "x", "zz": 1}), "schema.right.unknown-field"),
    ]
    for call, code in cases:
        with pytest.raises(SchemaError) as exc:
            call()
        assert exc.value.code == code


def test_signing_side_apis_refuse_wrongly_typed_arguments_with_codes() -> None:
    from credential_fixtures import HOLDER as VC_HOLDER
    from credential_fixtures import MARKET, status_list

    from protocol.presentation import create_presentation
    from protocol.status_list import revoke

    for credentials in (5, "cred", {"id": "urn:x"}):
        with pytest.raises(SchemaError) as exc:
            create_presentation(VC_HOLDER, credentials, challenge="c", domain=MARKET.did,  # type: ignore[arg-type]
                                created="2026-01-01T00:00:00Z")
        assert exc.value.code == "schema.presentation"
    for index in ("3", 2.0, True, None):
        with pytest.raises(SchemaError) as exc:
            revoke(status_list(), index)  # type: ignore[arg-type]
        assert exc.value.code == "schema.status-index"
    assert revoke(status_list(), 3).get(3)
