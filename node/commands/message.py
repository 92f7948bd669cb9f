"""``rightsmesh message sign``: sign a JSON payload as a COSE_Sign1 message (scripting and debugging).

JSON maps to CBOR directly (objects → maps, arrays → arrays, strings, integers, true/false/null);
JSON numbers with a fraction or exponent are refused (``unsupported.float``): the wire format has no
floats. ``created`` is set to the current time when the payload does not carry it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from protocol.messages import MESSAGE_KINDS, sign_message

from ..credential_cli import add_key_options, load_key, write_bytes
from ..errors import ConfigError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("message", help="signed network messages (COSE_Sign1)")
    sub = parser.add_subparsers(dest="message_command", metavar="ACTION", required=True)
    sign = sub.add_parser("sign", help="sign a JSON payload; writes the message bytes")
    add_key_options(sign)
    sign.add_argument(
        "--type", required=True, choices=sorted(MESSAGE_KINDS), dest="kind", help="message kind"
    )
    sign.add_argument("--out", type=Path, help="output file (default: standard output)")
    sign.add_argument("payload", type=Path, metavar="PAYLOAD.json", help="payload as a JSON object")
    sign.set_defaults(handler=_sign)


def _reject_float(text: str) -> Any:
    raise ConfigError(
        "config.payload", f"JSON number {text} is not an integer; the wire format has no floats"
    )


def read_payload(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``, with integers kept exact and floats refused."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("config.payload", f"cannot read {path}: {exc}") from exc
    try:
        payload = json.loads(text, parse_float=_reject_float, parse_constant=_reject_float)
    except ValueError as exc:
        raise ConfigError("config.payload", f"{path} is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise ConfigError("config.payload", "the payload must be a JSON object")
    return payload


def _sign(args: argparse.Namespace) -> int:
    key = load_key(args)  # plain or passphrase-encrypted, like every other signing command
    payload = read_payload(args.payload)
    payload.setdefault("created", int(time.time()))
    write_bytes(sign_message(key, args.kind, payload), args.out)
    return 0
