"""Shared helpers for answering requests: JSON views of decoded CBOR, and content types of stored objects."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from ..appkeys import CLOCK

COSE_TYPE = "application/cose"
COSE_SIGN1_TYPE = 'application/cose; cose-type="cose-sign1"'
VC_JSON_TYPE = "application/vc+json"


def now(request: web.Request) -> int:
    return int(request.app[CLOCK]())


def json_safe(value: Any) -> Any:
    """Decoded CBOR as JSON: byte strings become ``{"bytes": base64url}``, map keys become text."""
    if isinstance(value, bytes):
        return {"bytes": base64.urlsafe_b64encode(value).rstrip(b"=").decode("ascii")}
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def object_content_type(raw: bytes) -> str:
    """Stored objects are COSE_Sign1 (tag 18, first byte 0xd2) or a JSON credential."""
    return VC_JSON_TYPE if raw[:1] == b"{" else COSE_SIGN1_TYPE
