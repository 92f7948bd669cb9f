"""Signed messages: round trip, ids, header and payload rules, time checks, and sign-side refusals."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from protocol import cbor
from protocol.errors import ProtocolError, SchemaError, SignatureError, UnsupportedError, ValidityError
from protocol.keys import KeyPair, verify_signature
from protocol.messages import (
    MESSAGE_KINDS,
    SignedMessage,
    kind_from_typ,
    object_id,
    sig_structure,
    sign_message,
    typ_for,
    verify_message,
)

KEY = KeyPair.from_seed(bytes(range(32)))
NOW = 1767225600


def payload(**extra: Any) -> dict[str, Any]:
    return {"created": NOW, "note": "hello", **extra}


def test_round_trip_gives_signer_kind_payload_and_id() -> None:
    data = sign_message(KEY, "notice", payload(expires=NOW + 10, blob=b"\x00\xff", n=[-1, 2**40]))
    message = verify_message(data, NOW)
    assert isinstance(message, SignedMessage)
    assert message.kind == "notice"
    assert message.signer == KEY.did
    assert message.kid == KEY.kid
    assert message.payload == payload(expires=NOW + 10, blob=b"\x00\xff", n=[-1, 2**40])
    assert (message.created, message.expires) == (NOW, NOW + 10)
    assert message.id == hashlib.sha256(data).digest() == object_id(data)
    assert message.id_hex == message.id.hex()
    assert message.raw == data
    assert {message, verify_message(data, NOW)} == {message}


def test_signing_is_deterministic_and_independent_of_key_order() -> None:
    a = sign_message(KEY, "test", {"note": "x", "created": NOW, "b": 1})
    b = sign_message(KEY, "test", {"b": 1, "created": NOW, "note": "x"})
    assert a == b


def test_every_kind_round_trips_with_its_media_type() -> None:
    for kind in MESSAGE_KINDS:
        assert kind_from_typ(typ_for(kind)) == kind
        assert verify_message(sign_message(KEY, kind, payload()), NOW).kind == kind
        assert f"application/vnd.rightsmesh.{kind}+cbor".encode() in sign_message(KEY, kind, payload())


def test_protected_header_is_the_contracted_map() -> None:
    data = sign_message(KEY, "test", payload())
    envelope = cbor.decode(data, tags=frozenset({18}))
    assert envelope.number == 18
    protected, unprotected, body, signature = envelope.value
    assert cbor.decode(protected) == {
        1: -8,
        3: "application/cbor",
        4: KEY.kid.encode(),
        16: "application/vnd.rightsmesh.test+cbor",
    }
    assert unprotected == {}
    assert cbor.decode(body) == payload()
    verify_signature(KEY.public_key, sig_structure(protected, body), signature)


def test_time_window() -> None:
    data = sign_message(KEY, "test", payload(expires=NOW + 100))
    assert verify_message(data, NOW - 300).created == NOW
    with pytest.raises(ValidityError) as info:
        verify_message(data, NOW - 301)
    assert info.value.code == "validity.not-yet-valid"
    assert verify_message(data, NOW - 30, max_skew=30).created == NOW
    with pytest.raises(ValidityError):
        verify_message(data, NOW - 31, max_skew=30)
    assert verify_message(data, NOW + 99).expires == NOW + 100
    with pytest.raises(ValidityError) as info:
        verify_message(data, NOW + 100)
    assert info.value.code == "validity.expired"


def test_limits_apply_to_the_whole_message() -> None:
    data = sign_message(KEY, "test", payload(blob=b"x" * 1000))
    with pytest.raises(ProtocolError) as info:
        verify_message(data, NOW, limits=cbor.Limits(max_bytes=1000))
    assert info.value.code == "decode.too-large"
    with pytest.raises(ProtocolError) as info:
        verify_message(
            sign_message(KEY, "test", payload(l=list(range(50)))), NOW, limits=cbor.Limits(max_items=40)
        )
    assert info.value.code == "decode.too-many-items"


def test_any_single_byte_change_is_refused() -> None:
    data = sign_message(KEY, "test", payload())
    for i in range(len(data)):
        for flip in (0x01, 0x80):
            mutated = bytearray(data)
            mutated[i] ^= flip
            with pytest.raises(ProtocolError):
                verify_message(bytes(mutated), NOW)


@pytest.mark.parametrize(
    ("kind", "body", "error"),
    [
        ("nope", payload(), UnsupportedError),
        ("test", {"note": "no created"}, SchemaError),
        ("test", {"created": "now"}, SchemaError),
        ("test", {"created": True}, SchemaError),
        ("test", {"created": NOW, "expires": NOW}, SchemaError),
        ("test", {"created": NOW, 1: "int key"}, SchemaError),
        ("test", payload(f=1.5), UnsupportedError),
        ("test", payload(big=b"x" * 70000), SchemaError),
    ],
)
def test_sign_refuses_bad_input(kind: str, body: Any, error: type[ProtocolError]) -> None:
    with pytest.raises(error):
        sign_message(KEY, kind, body)


def test_sign_refuses_non_mapping_payload() -> None:
    with pytest.raises(SchemaError) as info:
        sign_message(KEY, "test", [1, 2])  # type: ignore[arg-type]
    assert info.value.code == "schema.payload-not-map"


def test_non_bytes_input() -> None:
    with pytest.raises(ProtocolError) as info:
        verify_message("d284", NOW)  # type: ignore[arg-type]
    assert info.value.code == "decode.type"
    data = sign_message(KEY, "test", payload())
    assert verify_message(bytearray(data), NOW).raw == data  # type: ignore[arg-type]


def test_signature_error_is_opaque() -> None:
    data = bytearray(sign_message(KEY, "test", payload()))
    data[-5] ^= 0x10
    with pytest.raises(SignatureError) as info:
        verify_message(bytes(data), NOW)
    assert info.value.code == "signature.invalid"
    assert "byte" not in info.value.detail
