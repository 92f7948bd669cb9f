"""Pre-authorised-code offers: the pure state machine and the key-possession proof."""

from __future__ import annotations

import pytest

from protocol.errors import ProtocolError, SchemaError
from protocol.issuance import (
    RANDOM_BYTES,
    check_key_proof,
    key_proof,
    make_nonce,
    make_offer,
    mark_redeemed,
    parse_code,
    redeem,
)
from protocol.keys import KeyPair

NOW = 1_790_000_000
OFFICE = KeyPair.from_seed(bytes([1]) * 32)
WALLET = KeyPair.from_seed(bytes([2]) * 32)
CREATED = "2026-09-21T12:00:00Z"


def new(max_attempts: int = 3, ttl: int = 600) -> tuple[object, str]:
    return make_offer("EM:018000001", bytes(range(RANDOM_BYTES)), NOW, ttl=ttl, max_attempts=max_attempts)


def wrong(code: str) -> str:
    return code[:-1] + ("a" if code[-1] != "a" else "b")


def test_code_is_stored_only_as_a_hash() -> None:
    offer, code = make_offer("EM:1", bytes(range(RANDOM_BYTES)), NOW)
    offer_id, secret = parse_code(code.upper())
    assert offer_id == offer.id and secret not in repr(offer) and code not in repr(offer)
    assert offer.expires > NOW and offer.state == "open"


def test_right_code_then_single_use() -> None:
    offer, code = new()
    result = redeem(offer, code, NOW + 1)
    assert result.ok and result.offer == offer
    used = mark_redeemed(offer, WALLET.did)
    again = redeem(used, code, NOW + 2)
    assert again.error is not None and again.error.code == "validity.offer-redeemed"


def test_wrong_codes_count_then_lock() -> None:
    offer, code = new(max_attempts=2)
    first = redeem(offer, wrong(code), NOW)
    assert first.error is not None and first.error.code == "validity.offer-code" and first.offer.attempts == 1
    second = redeem(first.offer, wrong(code), NOW)
    assert second.offer.state == "locked"
    third = redeem(second.offer, code, NOW)
    assert third.error is not None and third.error.code == "validity.offer-locked"


def test_expiry() -> None:
    offer, code = new(ttl=10)
    result = redeem(offer, code, NOW + 10)
    assert result.error is not None and result.error.code == "validity.offer-expired"


@pytest.mark.parametrize("bad", ["", "abc", "aaaaaaaa_bbbbbbbbbbbbbbbb", "aaaaaaaa-bbbbbbbbbbbbbbb1"])
def test_malformed_codes(bad: str) -> None:
    with pytest.raises(SchemaError) as exc:
        parse_code(bad)
    assert exc.value.code == "schema.offer-code"


def test_code_of_another_offer() -> None:
    offer, _ = new()
    with pytest.raises(SchemaError):
        redeem(offer, "aaaaaaaa-bbbbbbbbbbbbbbbb", NOW)


def test_bad_offer_parameters() -> None:
    with pytest.raises(SchemaError):
        make_offer("EM:1", b"short", NOW)
    with pytest.raises(SchemaError):
        make_offer("EM:1", bytes(RANDOM_BYTES), NOW, ttl=0)


def test_key_proof_round_trip_and_failures() -> None:
    nonce = make_nonce(bytes(16))
    vp = key_proof(WALLET, nonce=nonce, audience=OFFICE.did, created=CREATED)
    assert check_key_proof(vp, nonce=nonce, audience=OFFICE.did) == WALLET.did
    cases = [
        (dict(vp), "other-nonce", OFFICE.did, "validity.challenge"),
        (dict(vp), nonce, WALLET.did, "validity.domain"),
        (dict(vp, holder=OFFICE.did), nonce, OFFICE.did, "signature.invalid"),
        ({"type": "VerifiableCredential"}, nonce, OFFICE.did, "schema.key-proof"),
        ([], nonce, OFFICE.did, "schema.key-proof"),
        (dict(vp, verifiableCredential=[{}]), nonce, OFFICE.did, "schema.key-proof"),
    ]
    for document, n, audience, code in cases:
        with pytest.raises(ProtocolError) as exc:
            check_key_proof(document, nonce=n, audience=audience)
        assert exc.value.code == code, (code, exc.value.code)
    assertion = key_proof(WALLET, nonce=nonce, audience=OFFICE.did, created=CREATED)
    assertion["proof"] = dict(assertion["proof"], proofPurpose="assertionMethod")
    with pytest.raises(ProtocolError) as exc:
        check_key_proof(assertion, nonce=nonce, audience=OFFICE.did)
    assert exc.value.code.startswith("signature.")


def test_holder_must_be_the_signer() -> None:
    nonce = make_nonce(bytes(16))
    other = KeyPair.from_seed(bytes([3]) * 32)
    from protocol.data_integrity import add_proof

    vp = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": other.did,
    }
    signed = add_proof(
        vp, WALLET, created=CREATED, purpose="authentication", challenge=nonce, domain=OFFICE.did
    )
    with pytest.raises(ProtocolError) as exc:
        check_key_proof(signed, nonce=nonce, audience=OFFICE.did)
    assert exc.value.code == "validity.holder"
