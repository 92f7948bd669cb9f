"""Deterministic CBOR (RFC 8949 §4.2.1 core deterministic encoding) with a strict, limited decoder.

Why hand-written: an object's id is the SHA-256 of its bytes, so the decoder must refuse every encoding
that is not *the* deterministic encoding of the value it carries (otherwise one object could travel under
two ids), and it must enforce size, depth and item limits before it allocates anything. Checking while
decoding does both in one pass and is cheaper than decoding and re-encoding.

Data model (the only types that encode and decode):
    int (-2**64 .. 2**64-1), bytes, str, bool, None, list, dict (keys: int, str or bytes), and
    :class:`Tag` for tag numbers the caller explicitly allows (COSE_Sign1 uses tag 18).
Floats, bignums, undefined, other simple values and other tags are refused (``unsupported.*``): the
protocol never needs them and each brings its own determinism pitfalls (NaN payloads, -0.0, preferred
float width). Tuples encode as arrays and decode as lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import DecodeError, SchemaError, UnsupportedError

__all__ = ["DEFAULT_LIMITS", "Limits", "Tag", "decode", "decode_text_map", "encode", "encode_head"]


@dataclass(frozen=True)
class Limits:
    """Bounds a decoder enforces before allocating: total bytes, nesting depth, items per container."""

    max_bytes: int = 65536
    max_depth: int = 16
    max_items: int = 4096


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Tag:
    """A tagged data item (major type 6). Only tag numbers the caller allows are decoded."""

    number: int
    value: Any


_UINT_MAX = (1 << 64) - 1


def encode_head(major: int, arg: int) -> bytes:
    """The shortest head for major type ``major`` with argument ``arg`` (RFC 8949 §4.2.1 rule 1)."""
    mt = major << 5
    if arg < 24:
        return bytes((mt | arg,))
    if arg < 0x100:
        return bytes((mt | 24, arg))
    if arg < 0x10000:
        return bytes((mt | 25,)) + arg.to_bytes(2, "big")
    if arg < 0x100000000:
        return bytes((mt | 26,)) + arg.to_bytes(4, "big")
    if arg <= _UINT_MAX:
        return bytes((mt | 27,)) + arg.to_bytes(8, "big")
    raise UnsupportedError("unsupported.integer-range", "integers are limited to 64 bits; no bignums")


# Small cache of encoded map keys: payloads reuse the same few dozen field names.
_KEY_CACHE: dict[Any, bytes] = {}
_TEXT_KEY_ENC: dict[str, bytes] = {}  # the text-keyed part of _KEY_CACHE, for a lookup without a tuple
_KEY_CACHE_MAX = 4096


def _encode_key(key: Any) -> bytes:
    t = type(key)
    if t is str or t is int:
        cached: bytes | None = _KEY_CACHE.get((t, key))
        if cached is not None:
            return cached
        out = bytearray()
        _encode(key, out, 0, DEFAULT_LIMITS)
        enc = bytes(out)
        if len(_KEY_CACHE) < _KEY_CACHE_MAX:
            _KEY_CACHE[(t, key)] = enc
            if t is str:
                _TEXT_KEY_ENC[key] = enc
        return enc
    if t is bytes:
        return encode_head(2, len(key)) + bytes(key)
    if isinstance(key, str | int) and not isinstance(key, bool):  # StrEnum, IntEnum: their plain value
        return _encode_key(str(key) if isinstance(key, str) else int(key))
    raise UnsupportedError("unsupported.map-key", f"map keys must be int, str or bytes, not {t.__name__}")


def _encode(value: Any, out: bytearray, depth: int, limits: Limits) -> None:
    t = type(value)
    if t is str:
        raw = _utf8(value)
        out += encode_head(3, len(raw))
        out += raw
    elif t is int:
        if value >= 0:
            out += encode_head(0, value)
        else:
            out += encode_head(1, -1 - value)
    elif t is bytes or t is bytearray or t is memoryview:
        raw = bytes(value)
        out += encode_head(2, len(raw))
        out += raw
    elif t is bool:
        out.append(0xF5 if value else 0xF4)
    elif value is None:
        out.append(0xF6)
    elif t is list or t is tuple:
        _check_container(len(value), depth, limits)
        out += encode_head(4, len(value))
        for item in value:
            _encode(item, out, depth + 1, limits)
    elif isinstance(value, Mapping):
        _check_container(len(value), depth, limits)
        text_keys = _TEXT_KEY_ENC
        pairs = []
        for k, v in value.items():
            kenc = text_keys.get(k) if type(k) is str else None
            pairs.append((kenc or _encode_key(k), v))
        pairs.sort(key=_first)
        out += encode_head(5, len(pairs))
        previous = None
        d1 = depth + 1
        for kenc, v in pairs:
            if kenc == previous:
                raise SchemaError("schema.duplicate-key", "two map keys have the same encoding")
            previous = kenc
            out += kenc
            tv = type(v)  # inline the usual leaves: text and small unsigned ints
            if tv is str:
                raw = _utf8(v)
                n = len(raw)
                if n < 24:
                    out.append(0x60 | n)
                else:
                    out += encode_head(3, n)
                out += raw
            elif tv is int and 0 <= v < 24:
                out.append(v)
            else:
                _encode(v, out, d1, limits)
    elif t is Tag:
        if not isinstance(value.number, int) or value.number < 0:
            raise UnsupportedError("unsupported.tag", "tag numbers are unsigned integers")
        out += encode_head(6, value.number)
        _encode(value.value, out, depth, limits)
    elif t is float:
        raise UnsupportedError("unsupported.float", "floating-point values are not part of the data model")
    elif isinstance(value, bool):  # bool subclasses are not expected; keep exact types only
        raise UnsupportedError("unsupported.type", f"cannot encode {t.__name__}")
    elif isinstance(value, int):  # int subclasses (IntEnum): encode as the plain integer
        _encode(int(value), out, depth, limits)
    elif isinstance(value, str):
        _encode(str(value), out, depth, limits)
    else:
        raise UnsupportedError("unsupported.type", f"cannot encode {t.__name__}")


def _check_container(count: int, depth: int, limits: Limits) -> None:
    """Refuse to encode what a decoder with the same limits would refuse."""
    if depth >= limits.max_depth:
        raise SchemaError("schema.too-deep", f"nesting deeper than {limits.max_depth}")
    if count > limits.max_items:
        raise SchemaError("schema.too-many-items", f"a container has more than {limits.max_items} items")


def _first(pair: tuple[bytes, Any]) -> bytes:
    return pair[0]


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise UnsupportedError("unsupported.text", "text with lone surrogates is not UTF-8") from None


def encode(value: Any, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """Deterministic CBOR for ``value``; refuses values outside the data model or nested past the limit.

    Map keys are sorted by the bytewise order of their encoded forms (RFC 8949 §4.2.1), so two equal
    values always give the same bytes.
    """
    out = bytearray()
    _encode(value, out, 0, limits)
    return bytes(out)


# ----------------------------------------------------------------------------------------------- decode

_MIN_FOR_INFO = {24: 24, 25: 0x100, 26: 0x10000, 27: 0x100000000}


class _Decoder:
    """One strict pass over ``data``; ``pos`` advances as items are read."""

    __slots__ = ("data", "end", "max_depth", "max_items", "pos", "tags", "top_non_text")

    def __init__(self, data: bytes, limits: Limits, tags: frozenset[int]) -> None:
        self.data = data
        self.end = len(data)
        self.pos = 0
        self.max_depth = limits.max_depth
        self.max_items = limits.max_items
        self.tags = tags
        self.top_non_text = False  # a key of the outermost map is not a text string

    def item(self, depth: int) -> Any:
        data = self.data
        pos = self.pos
        ib = data[pos]
        major = ib >> 5
        info = ib & 31
        pos += 1
        if info < 24:
            arg = info
        elif info < 28:
            size = 1 << (info - 24)
            nxt = pos + size
            if nxt > self.end:
                raise DecodeError("decode.truncated", "the input ends inside an item head")
            arg = int.from_bytes(data[pos:nxt], "big")
            pos = nxt
            if major == 7:
                if info == 24:
                    raise UnsupportedError("unsupported.simple", "one-byte simple values are not supported")
                raise UnsupportedError("unsupported.float", "floating-point values are not supported")
            if arg < _MIN_FOR_INFO[info]:
                raise DecodeError("decode.non-shortest", "an integer, length or tag is not in shortest form")
        elif info == 31:
            if major == 7:
                raise DecodeError("decode.unexpected-break", "a break code outside an indefinite item")
            if 2 <= major <= 5:
                raise DecodeError("decode.indefinite-length", "indefinite-length items are not deterministic")
            raise DecodeError("decode.malformed", "reserved additional information value")
        else:
            raise DecodeError("decode.malformed", "reserved additional information value (28-30)")

        if major == 0:
            self.pos = pos
            return arg
        if major == 3:
            nxt = pos + arg
            if nxt > self.end:
                raise DecodeError("decode.truncated", "the input ends inside a text string")
            self.pos = nxt
            try:
                return data[pos:nxt].decode("utf-8")
            except UnicodeDecodeError:
                raise DecodeError("decode.invalid-utf8", "a text string is not valid UTF-8") from None
        if major == 5:
            return self.map(pos, arg, depth)
        if major == 2:
            nxt = pos + arg
            if nxt > self.end:
                raise DecodeError("decode.truncated", "the input ends inside a byte string")
            self.pos = nxt
            return data[pos:nxt]
        if major == 4:
            if depth >= self.max_depth:
                raise DecodeError("decode.too-deep", f"nesting deeper than {self.max_depth}")
            if arg > self.max_items:
                raise DecodeError("decode.too-many-items", f"an array has more than {self.max_items} items")
            if arg > self.end - pos:
                raise DecodeError("decode.truncated", "an array declares more items than bytes remain")
            return self.array(pos, arg, depth + 1)
        if major == 1:
            self.pos = pos
            return -1 - arg
        if major == 7:
            self.pos = pos
            if info == 20:
                return False
            if info == 21:
                return True
            if info == 22:
                return None
            if info >= 25:
                raise UnsupportedError("unsupported.float", "floating-point values are not supported")
            raise UnsupportedError("unsupported.simple", f"simple value {arg} is not supported")
        # major == 6
        if depth != 0 or arg not in self.tags:
            raise UnsupportedError("unsupported.tag", f"tag {arg} is not allowed here")
        self.pos = pos
        self.tags = frozenset()  # a tag's content may not carry another tag
        return Tag(arg, self.item(depth))

    def map(self, pos: int, count: int, depth: int) -> dict[Any, Any]:
        if depth >= self.max_depth:
            raise DecodeError("decode.too-deep", f"nesting deeper than {self.max_depth}")
        if count > self.max_items:
            raise DecodeError("decode.too-many-items", f"a map declares more than {self.max_items} entries")
        end = self.end
        if 2 * count > end - pos:
            raise DecodeError("decode.truncated", "a map declares more entries than bytes remain")
        data = self.data
        result: dict[Any, Any] = {}
        previous = b""
        item = self.item
        d1 = depth + 1
        keys = _TEXT_KEYS
        for _ in range(count):
            # Fast path: a text key with a one-byte head (the usual field name).
            ib = data[pos]
            if 0x60 <= ib < 0x78:
                nxt = pos + 1 + ib - 0x60
                kenc = data[pos:nxt]
                key = keys.get(kenc)
                if key is None:
                    if nxt > end:
                        raise DecodeError("decode.truncated", "the input ends inside a text string")
                    try:
                        key = kenc[1:].decode("utf-8")
                    except UnicodeDecodeError:
                        raise DecodeError("decode.invalid-utf8", "a text string is not valid UTF-8") from None
                    if len(keys) < _KEY_CACHE_MAX:
                        keys[kenc] = key
                pos = nxt
            else:
                self.pos = pos
                key = item(d1)
                kenc = data[pos : self.pos]
                pos = self.pos
                kt = type(key)
                if kt is not str:
                    if kt is not int and kt is not bytes:
                        raise UnsupportedError("unsupported.map-key", "map keys must be int, str or bytes")
                    if depth == 0:
                        self.top_non_text = True
            if kenc <= previous:
                if kenc == previous:
                    raise DecodeError("decode.duplicate-key", "a map key appears twice")
                raise DecodeError("decode.unsorted-keys", "map keys are not in bytewise encoded order")
            previous = kenc
            # Fast paths for the usual values: text up to 255 bytes, then small unsigned ints.
            ib = data[pos]
            if 0x60 <= ib <= 0x78:
                if ib == 0x78:
                    start = pos + 2
                    length = data[pos + 1]
                    if length < 24:
                        raise DecodeError("decode.non-shortest", "a length is not in its shortest form")
                else:
                    start = pos + 1
                    length = ib - 0x60
                nxt = start + length
                if nxt > end:
                    raise DecodeError("decode.truncated", "the input ends inside a text string")
                try:
                    result[key] = data[start:nxt].decode("utf-8")
                except UnicodeDecodeError:
                    raise DecodeError("decode.invalid-utf8", "a text string is not valid UTF-8") from None
                pos = nxt
            elif ib < 0x18:
                result[key] = ib
                pos += 1
            elif ib == 0x18:
                value = data[pos + 1]
                if value < 24:
                    raise DecodeError("decode.non-shortest", "an integer is not in its shortest form")
                result[key] = value
                pos += 2
            elif ib == 0x19:
                nxt = pos + 3
                if nxt > end:
                    raise DecodeError("decode.truncated", "the input ends inside an item head")
                value = (data[pos + 1] << 8) | data[pos + 2]
                if value < 0x100:
                    raise DecodeError("decode.non-shortest", "an integer is not in its shortest form")
                result[key] = value
                pos = nxt
            elif ib == 0x1A:
                nxt = pos + 5
                if nxt > end:
                    raise DecodeError("decode.truncated", "the input ends inside an item head")
                value = int.from_bytes(data[pos + 1 : nxt], "big")
                if value < 0x10000:
                    raise DecodeError("decode.non-shortest", "an integer is not in its shortest form")
                result[key] = value
                pos = nxt
            elif 0x80 <= ib < 0x98:
                result[key] = self.array(pos + 1, ib - 0x80, d1 + 1)
                pos = self.pos
            else:
                self.pos = pos
                result[key] = item(d1)
                pos = self.pos
        self.pos = pos
        return result

    def array(self, pos: int, count: int, depth: int) -> list[Any]:
        """Items of an array at nesting ``depth`` (already incremented)."""
        if depth > self.max_depth:
            raise DecodeError("decode.too-deep", f"nesting deeper than {self.max_depth}")
        if count > self.max_items:
            raise DecodeError("decode.too-many-items", f"an array declares more than {self.max_items} items")
        end = self.end
        if count > end - pos:
            raise DecodeError("decode.truncated", "an array declares more items than bytes remain")
        data = self.data
        out: list[Any] = []
        append = out.append
        item = self.item
        for _ in range(count):
            ib = data[pos]
            if ib < 0x18:
                append(ib)
                pos += 1
            elif 0x60 <= ib < 0x78:
                nxt = pos + 1 + ib - 0x60
                if nxt > end:
                    raise DecodeError("decode.truncated", "the input ends inside a text string")
                try:
                    append(data[pos + 1 : nxt].decode("utf-8"))
                except UnicodeDecodeError:
                    raise DecodeError("decode.invalid-utf8", "a text string is not valid UTF-8") from None
                pos = nxt
            else:
                self.pos = pos
                append(item(depth))
                pos = self.pos
        self.pos = pos
        return out


# Decoded one-byte-head text keys, by their encoding (field names repeat across messages).
_TEXT_KEYS: dict[bytes, str] = {}


def decode(data: bytes, limits: Limits = DEFAULT_LIMITS, *, tags: frozenset[int] = frozenset()) -> Any:
    """Decode exactly one deterministic CBOR item filling all of ``data``.

    ``tags`` lists tag numbers accepted on the outermost item only (``Tag`` values); any other tag is
    ``unsupported.tag``. Every refusal is a :class:`~protocol.errors.ProtocolError` with a stable code.
    """
    return _run(data, limits, tags)[0]


def decode_text_map(data: bytes, limits: Limits = DEFAULT_LIMITS) -> dict[str, Any]:
    """Decode a map whose own keys are all text strings (a message payload) in the same single pass.

    Besides the ``decode`` errors: ``schema.payload-not-map`` if the item is not a map,
    ``schema.payload-key`` if one of its keys is not text (nested maps may use any allowed key type).
    """
    value, top_non_text = _run(data, limits, _NO_TAGS)
    if type(value) is not dict:
        raise SchemaError("schema.payload-not-map", "the payload is not a map")
    if top_non_text:
        raise SchemaError("schema.payload-key", "payload map keys must be text strings")
    return value


_NO_TAGS: frozenset[int] = frozenset()


def _run(data: bytes, limits: Limits, tags: frozenset[int]) -> tuple[Any, bool]:
    """The decoded value and whether a key of the outermost map was not text."""
    if type(data) is not bytes:
        if isinstance(data, bytes | bytearray | memoryview):
            data = bytes(data)
        else:
            raise DecodeError("decode.type", "CBOR input must be bytes")
    n = len(data)
    if n > limits.max_bytes:
        raise DecodeError("decode.too-large", f"input exceeds {limits.max_bytes} bytes")
    if not n:
        raise DecodeError("decode.truncated", "empty input")
    dec = _Decoder(data, limits, tags)
    try:
        first = data[0]
        # A payload is a map: enter it directly when its head is one byte (up to 23 entries).
        value = dec.map(1, first - 0xA0, 0) if 0xA0 <= first < 0xB8 else dec.item(0)
    except IndexError:
        raise DecodeError("decode.truncated", "the input ends inside an item") from None
    except RecursionError:  # unreachable with sane limits; kept so no foreign exception escapes
        raise DecodeError("decode.too-deep", "nesting too deep") from None
    if dec.pos != n:
        raise DecodeError("decode.trailing-bytes", "bytes follow the encoded item")
    return value, dec.top_non_text
