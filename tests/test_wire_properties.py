"""Property tests: random and mutated bytes never make the decoder or verifier raise anything but a
ProtocolError, whatever the decoder accepts is deterministic, and generated values round-trip."""

from __future__ import annotations

from typing import Any

import cbor2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import cbor
from protocol.errors import ProtocolError
from protocol.keys import KeyPair
from protocol.messages import sign_message, verify_message

KEY = KeyPair.from_seed(bytes([7]) * 32)
NOW = 1767225600

ints = st.integers(min_value=-(2**64), max_value=2**64 - 1)
leaves = st.one_of(ints, st.binary(max_size=40), st.text(max_size=40), st.booleans(), st.none())
keys = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64 - 1), st.text(max_size=12), st.binary(max_size=8)
)
values = st.recursive(
    leaves,
    lambda children: st.one_of(st.lists(children, max_size=6), st.dictionaries(keys, children, max_size=6)),
    max_leaves=30,
)
field_names = st.text(max_size=12).filter(lambda k: k not in ("created", "expires"))
payloads = st.dictionaries(field_names, values, max_size=8).map(lambda d: {**d, "created": NOW})

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(values)
def test_round_trip(value: Any) -> None:
    data = cbor.encode(value)
    decoded = cbor.decode(data)
    assert decoded == value
    assert cbor.encode(decoded) == data
    # An independent decoder reads the same value.
    assert cbor2.loads(data) == value


@SETTINGS
@given(st.binary(max_size=200))
def test_random_bytes_decode_or_typed_error(data: bytes) -> None:
    try:
        value = cbor.decode(data)
    except ProtocolError:
        return
    assert cbor.encode(value) == data  # accepted => deterministic encoding of its own value
    assert cbor2.loads(data) == value  # and an independent decoder reads the same value


@SETTINGS
@given(values, st.data())
def test_mutated_encodings(value: Any, data: st.DataObject) -> None:
    encoded = bytearray(cbor.encode(value))
    op = data.draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
    if op == "flip" and encoded:
        i = data.draw(st.integers(0, len(encoded) - 1))
        encoded[i] ^= data.draw(st.integers(1, 255))
    elif op == "insert":
        i = data.draw(st.integers(0, len(encoded)))
        encoded[i:i] = data.draw(st.binary(min_size=1, max_size=4))
    elif op == "delete" and encoded:
        i = data.draw(st.integers(0, len(encoded) - 1))
        del encoded[i]
    elif op == "truncate":
        encoded = encoded[: data.draw(st.integers(0, len(encoded)))]
    try:
        decoded = cbor.decode(bytes(encoded))
    except ProtocolError:
        return
    assert cbor.encode(decoded) == bytes(encoded)
    assert cbor2.loads(bytes(encoded)) == decoded


@SETTINGS
@given(st.binary(max_size=300))
def test_verify_random_bytes(data: bytes) -> None:
    try:
        verify_message(data, NOW)
    except ProtocolError:
        return
    raise AssertionError("random bytes verified")


@SETTINGS
@given(payloads, st.data())
def test_verify_mutated_messages(payload: dict[str, Any], data: st.DataObject) -> None:
    message = sign_message(KEY, "test", payload)
    assert verify_message(message, NOW).payload == payload
    mutated = bytearray(message)
    for _ in range(data.draw(st.integers(1, 3))):
        op = data.draw(st.sampled_from(["flip", "insert", "delete"]))
        i = data.draw(st.integers(0, len(mutated) - 1))
        if op == "flip":
            mutated[i] ^= data.draw(st.integers(1, 255))
        elif op == "insert":
            mutated[i:i] = data.draw(st.binary(min_size=1, max_size=3))
        else:
            del mutated[i]
    if bytes(mutated) == message:
        return
    try:
        verify_message(bytes(mutated), NOW)
    except ProtocolError:
        return
    raise AssertionError("a mutated message verified")


@SETTINGS
@given(payloads, st.data())
def test_envelope_fast_path_agrees_with_general_reader(payload: dict[str, Any], data: st.DataObject) -> None:
    """verify_message reads the usual envelope shape without calls; it must agree with the general reader."""
    from protocol.messages import _split, _split_general

    message = bytearray(sign_message(KEY, "test", payload))
    if data.draw(st.booleans()):
        i = data.draw(st.integers(0, len(message) - 1))
        message[i] ^= data.draw(st.integers(1, 255))
    outcomes = []
    for reader in (_split, _split_general):
        try:
            outcomes.append(reader(bytes(message)))
        except (ProtocolError, IndexError) as exc:
            outcomes.append(getattr(exc, "code", "index"))
    assert outcomes[0] == outcomes[1]
