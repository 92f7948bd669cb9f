"""Deterministic CBOR: encodings from RFC 8949 Appendix A, key order, limits and every refusal."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import cbor2
import pytest

from protocol import cbor
from protocol.cbor import Limits, Tag
from protocol.errors import DecodeError, ProtocolError, SchemaError, UnsupportedError

# (value, hex) pairs from RFC 8949 Appendix A that fall inside our data model.
RFC_EXAMPLES: list[tuple[Any, str]] = [
    (0, "00"),
    (1, "01"),
    (10, "0a"),
    (23, "17"),
    (24, "1818"),
    (25, "1819"),
    (100, "1864"),
    (1000, "1903e8"),
    (1000000, "1a000f4240"),
    (1000000000000, "1b000000e8d4a51000"),
    (18446744073709551615, "1bffffffffffffffff"),
    (-18446744073709551616, "3bffffffffffffffff"),
    (-1, "20"),
    (-10, "29"),
    (-100, "3863"),
    (-1000, "3903e7"),
    (False, "f4"),
    (True, "f5"),
    (None, "f6"),
    (b"", "40"),
    (b"\x01\x02\x03\x04", "4401020304"),
    ("", "60"),
    ("a", "6161"),
    ("IETF", "6449455446"),
    ('"\\', "62225c"),
    ("\u00fc", "62c3bc"),
    ("\u6c34", "63e6b0b4"),
    ("\U00010151", "64f0908591"),
    ([], "80"),
    ([1, 2, 3], "83010203"),
    ([1, [2, 3], [4, 5]], "8301820203820405"),
    (list(range(1, 26)), "98190102030405060708090a0b0c0d0e0f101112131415161718181819"),
    ({}, "a0"),
    ({1: 2, 3: 4}, "a201020304"),
    ({"a": 1, "b": [2, 3]}, "a26161016162820203"),
    (["a", {"b": "c"}], "826161a161626163"),
    ({"a": "A", "b": "B", "c": "C", "d": "D", "e": "E"}, "a56161614161626142616361436164614461656145"),
]


@pytest.mark.parametrize(("value", "hexed"), RFC_EXAMPLES)
def test_rfc8949_examples_round_trip(value: Any, hexed: str) -> None:
    assert cbor.encode(value).hex() == hexed
    assert cbor.decode(bytes.fromhex(hexed)) == value


def test_map_keys_sort_bytewise_not_length_first() -> None:
    # RFC 8949 4.2.1 (bytewise) differs from RFC 7049 canonical (length first) here: 24 is 0x1818, -1 is 0x20.
    encoded = cbor.encode({-1: "a", 24: "b"})
    assert encoded == bytes.fromhex("a2") + bytes.fromhex("1818") + b"\x61b" + bytes.fromhex("20") + b"\x61a"
    assert cbor.decode(encoded) == {24: "b", -1: "a"}
    # Major type order: unsigned < negative < bytes < text.
    assert list(cbor.decode(cbor.encode({"t": 0, b"b": 0, -5: 0, 7: 0}))) == [7, -5, b"b", "t"]
    # Text keys: shorter first, then bytewise.
    assert list(cbor.decode(cbor.encode({"bb": 0, "a": 0, "ab": 0, "c": 0}))) == ["a", "c", "ab", "bb"]


def test_insertion_order_does_not_change_bytes() -> None:
    a = OrderedDict([("x", 1), ("created", 2), ("b", [1, {"z": 0, "a": 1}])])
    b = {"b": [1, {"a": 1, "z": 0}], "created": 2, "x": 1}
    assert cbor.encode(a) == cbor.encode(b)


def test_tuples_encode_as_arrays_and_bytes_like_as_bytes() -> None:
    assert cbor.encode((1, 2)) == cbor.encode([1, 2])
    assert cbor.encode(bytearray(b"ab")) == cbor.encode(b"ab") == cbor.encode(memoryview(b"ab"))


def test_matches_cbor2_for_text_keyed_values() -> None:
    value = {"created": 1767225600, "list": [1, -2, "x", b"\x00", None, True], "m": {"k": "v"}}
    assert cbor2.loads(cbor.encode(value)) == value
    assert cbor.encode(value) == cbor2.dumps(value, canonical=True)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (1.5, "unsupported.float"),
        (float("nan"), "unsupported.float"),
        (2**64, "unsupported.integer-range"),
        (-(2**64) - 1, "unsupported.integer-range"),
        ({1.0: 1}, "unsupported.map-key"),
        ({(1, 2): 1}, "unsupported.map-key"),
        ({True: 1}, "unsupported.map-key"),
        ({None: 1}, "unsupported.map-key"),
        (object(), "unsupported.type"),
        ({1, 2}, "unsupported.type"),
        ("\ud800", "unsupported.text"),
    ],
)
def test_encode_refuses_values_outside_the_data_model(value: Any, code: str) -> None:
    with pytest.raises(ProtocolError) as info:
        cbor.encode(value)
    assert info.value.code == code


def test_encode_depth_limit_matches_decoder() -> None:
    value: Any = 0
    for _ in range(16):
        value = [value]
    assert cbor.decode(cbor.encode(value)) == value
    with pytest.raises(SchemaError) as info:
        cbor.encode([value])
    assert info.value.code == "schema.too-deep"
    with pytest.raises(DecodeError) as dinfo:
        cbor.decode(cbor.encode([value], Limits(max_depth=17)))
    assert dinfo.value.code == "decode.too-deep"


def test_cyclic_value_is_refused_not_recursion_error() -> None:
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    with pytest.raises(SchemaError):
        cbor.encode(cyclic)


def test_limits_are_enforced() -> None:
    with pytest.raises(DecodeError) as info:
        cbor.decode(cbor.encode(b"x" * 100), Limits(max_bytes=50))
    assert info.value.code == "decode.too-large"
    with pytest.raises(DecodeError) as info:
        cbor.decode(cbor.encode(list(range(11))), Limits(max_items=10))
    assert info.value.code == "decode.too-many-items"
    with pytest.raises(DecodeError) as info:
        cbor.decode(cbor.encode({str(i): i for i in range(11)}), Limits(max_items=10))
    assert info.value.code == "decode.too-many-items"
    assert cbor.decode(cbor.encode(list(range(10))), Limits(max_items=10)) == list(range(10))


def test_huge_declared_lengths_do_not_allocate() -> None:
    for data in ("9bffffffffffffffff", "bbffffffffffffffff", "5bffffffffffffffff", "7b00000001000000ff"):
        with pytest.raises(DecodeError):
            cbor.decode(bytes.fromhex(data))
    # Within the item limit but longer than the input: truncated before any list is built.
    with pytest.raises(DecodeError) as info:
        cbor.decode(bytes.fromhex("990fa0") + b"\x00" * 10)
    assert info.value.code == "decode.truncated"


def test_tags_only_where_allowed() -> None:
    data = cbor.encode(Tag(18, [b"", {}, b"", b""]))
    assert data[0] == 0xD2
    with pytest.raises(UnsupportedError):
        cbor.decode(data)
    assert cbor.decode(data, tags=frozenset({18})) == Tag(18, [b"", {}, b"", b""])
    with pytest.raises(UnsupportedError):  # nested tag, even an allowed number
        cbor.decode(bytes.fromhex("d2d280"), tags=frozenset({18}))
    with pytest.raises(UnsupportedError):  # allowed tag number, but not at the top
        cbor.decode(bytes.fromhex("81d280"), tags=frozenset({18}))


def test_decode_accepts_bytes_like_and_refuses_other_types() -> None:
    assert cbor.decode(bytearray(b"\x01")) == 1
    assert cbor.decode(memoryview(b"\x01")) == 1
    with pytest.raises(DecodeError) as info:
        cbor.decode("00")  # type: ignore[arg-type]
    assert info.value.code == "decode.type"


def test_decoded_byte_strings_are_bytes_and_keys_keep_wire_order() -> None:
    value = cbor.decode(bytes.fromhex("a3010240036003"))
    assert list(value) == [1, b"", ""]
    assert type(next(iter(value.values()))) is int


def test_encode_refuses_what_the_decoder_would_refuse() -> None:
    with pytest.raises(SchemaError) as info:
        cbor.encode(list(range(5)), Limits(max_items=4))
    assert info.value.code == "schema.too-many-items"
    with pytest.raises(SchemaError):
        cbor.encode({str(i): i for i in range(5)}, Limits(max_items=4))
    assert cbor.decode(cbor.encode(list(range(4)), Limits(max_items=4)), Limits(max_items=4)) == [0, 1, 2, 3]


def test_enum_keys_and_values_encode_as_plain_values() -> None:
    import enum

    class Colour(enum.StrEnum):
        RED = "red"

    class Number(enum.IntEnum):
        ONE = 1

    assert cbor.encode({Colour.RED: Number.ONE}) == cbor.encode({"red": 1})
    assert cbor.encode({Number.ONE: Colour.RED}) == cbor.encode({1: "red"})
