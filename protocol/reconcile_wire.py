"""Binary encoding of reconciliation messages (layout in specs/reconcile.md).

A message is a version byte followed by entries ``bound mode payload``; each entry covers the range from
the previous entry's bound (initially the minimum) up to, not including, its own bound. Integers are
unsigned LEB128 varints in shortest form; bound timestamps are delta-encoded (0 means +infinity).
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.errors import DecodeError
from protocol.reconcile_store import ID_SIZE, MAX_TIMESTAMP

VERSION = 0x52  # 'R', rightsmesh reconciliation v1
INFINITY = MAX_TIMESTAMP + 1  # bound timestamp greater than every item's
FINGERPRINT_SIZE = 16
SUM_SIZE = 32
XOR_SIZE = 16

MODE_SKIP = 0
MODE_FINGERPRINT = 1
MODE_IDLIST = 2
MODE_SUMS = 3
MODE_DIFF = 4
MODES = frozenset({MODE_SKIP, MODE_FINGERPRINT, MODE_IDLIST, MODE_SUMS, MODE_DIFF})


@dataclass(frozen=True, order=True)
class Bound:
    """A position between items: every item with key >= (timestamp, prefix zero-padded) lies above it."""

    timestamp: int
    prefix: bytes = b""

    def key(self) -> tuple[int, bytes]:
        return self.timestamp, self.prefix.ljust(ID_SIZE, b"\x00")


MIN_BOUND = Bound(0, b"")
INFINITE_BOUND = Bound(INFINITY, b"")


def minimal_bound(prev: tuple[int, bytes], curr: tuple[int, bytes]) -> Bound:
    """The shortest bound b with prev < b <= curr (prev < curr), as negentropy builds bucket bounds."""
    if prev[0] != curr[0]:
        return Bound(curr[0], b"")
    k = 0
    while k < ID_SIZE and prev[1][k] == curr[1][k]:
        k += 1
    return Bound(curr[0], curr[1][: k + 1])


def encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


class Writer:
    """Appends entries; remembers the last bound's timestamp for delta encoding and supports rollback."""

    def __init__(self) -> None:
        self.buf = bytearray([VERSION])
        self.last_ts = 0

    def mark(self) -> tuple[int, int]:
        return len(self.buf), self.last_ts

    def rollback(self, mark: tuple[int, int]) -> None:
        del self.buf[mark[0] :]
        self.last_ts = mark[1]

    def varint(self, value: int) -> None:
        self.buf += encode_varint(value)

    def bound(self, bound: Bound) -> None:
        if bound.timestamp == INFINITY:
            self.varint(0)
        else:
            self.varint(bound.timestamp - self.last_ts + 1)
            self.last_ts = bound.timestamp
        self.varint(len(bound.prefix))
        self.buf += bound.prefix

    def raw(self, data: bytes) -> None:
        self.buf += data


class Reader:
    """Decodes entries, refusing anything malformed with a ``DecodeError`` carrying a stable code."""

    def __init__(self, data: bytes, max_size: int) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise DecodeError("decode.type", "reconciliation message must be bytes")
        if len(data) > max_size:
            raise DecodeError("decode.too-large", f"message of {len(data)} bytes exceeds {max_size}")
        self.data = bytes(data)
        if not self.data:
            raise DecodeError("decode.truncated", "empty reconciliation message")
        if self.data[0] != VERSION:
            raise DecodeError("decode.version", f"unknown reconciliation version 0x{self.data[0]:02x}")
        self.pos = 1
        self.last_ts = 0
        self.prev = MIN_BOUND

    def at_end(self) -> bool:
        return self.pos >= len(self.data)

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise DecodeError("decode.truncated", "reconciliation message ends inside a field")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def varint(self, max_bits: int = 64) -> int:
        value = shift = 0
        while True:
            if self.pos >= len(self.data):
                raise DecodeError("decode.truncated", "reconciliation message ends inside a varint")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                if byte == 0 and shift > 7:
                    raise DecodeError("decode.varint", "varint not in shortest form")
                break
            if shift >= max_bits + 7:
                raise DecodeError("decode.varint", "varint too long")
        if value >= 1 << max_bits:
            raise DecodeError("decode.varint", "varint out of range")
        return value

    def bound(self) -> Bound:
        if self.prev.timestamp == INFINITY:
            raise DecodeError("decode.bounds-order", "entry after the infinite bound")
        code = self.varint(65)
        if code == 0:
            ts = INFINITY
        else:
            ts = self.last_ts + code - 1
            if ts > MAX_TIMESTAMP:
                raise DecodeError("decode.bound", "bound timestamp out of range")
            self.last_ts = ts
        length = self.varint()
        if length > ID_SIZE:
            raise DecodeError("decode.bound", "bound id prefix longer than an id")
        prefix = self.take(length)
        if ts == INFINITY and prefix:
            raise DecodeError("decode.bound", "infinite bound with an id prefix")
        bound = Bound(ts, prefix)
        if bound.key() <= self.prev.key():
            raise DecodeError("decode.bounds-order", "bounds must strictly increase")
        self.prev = bound
        return bound

    def mode(self) -> int:
        mode = self.varint()
        if mode not in MODES:
            raise DecodeError("decode.mode", f"unknown range mode {mode}")
        return mode

    def id_list(self) -> list[bytes]:
        count = self.varint()
        if count * ID_SIZE > len(self.data) - self.pos:
            raise DecodeError("decode.truncated", "id list longer than the message")
        blob = self.take(count * ID_SIZE)
        return [blob[k : k + ID_SIZE] for k in range(0, len(blob), ID_SIZE)]
