"""Inspector for signed network messages (COSE_Sign1, tag 18)."""

from __future__ import annotations

from protocol.errors import DecodeError, ProtocolError
from protocol.messages import verify_message

from . import Inspection, to_json_value

FORMAT = "cose-sign1"


def recognise(data: bytes) -> bool:
    """Any CBOR tag head (0xc0-0xdb) claims the bytes: a wrong tag is then reported, not 'unknown'."""
    return bool(data) and 0xC0 <= data[0] <= 0xDB


def inspect(data: bytes, now: int) -> Inspection:
    try:
        message = verify_message(data, now)
    except DecodeError as exc:
        return Inspection(format=FORMAT, decodable=False, valid=False, error=exc.code, detail=exc.detail)
    except ProtocolError as exc:
        return Inspection(format=FORMAT, decodable=True, valid=False, error=exc.code, detail=exc.detail)
    return Inspection(
        format=FORMAT,
        decodable=True,
        valid=True,
        kind=message.kind,
        signer=message.signer,
        id=message.id_hex,
        created=message.created,
        expires=message.expires,
        payload=to_json_value(message.payload),
        extra={"kid": message.kid, "size": len(data)},
    )
