"""``rightsmesh inspect FILE [--json] [--now ISO]``: decode and verify any object the project knows.

Exit codes: 0 valid; 1 decoded but invalid (the error code is printed); 2 not decodable or of no known
format. Formats come from :mod:`node.inspectors` (tried in order).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..credential_cli import parse_moment
from ..errors import ConfigError
from ..inspectors import Inspection, load_inspectors

EXIT_VALID, EXIT_INVALID, EXIT_UNDECODABLE = 0, 1, 2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("inspect", help="decode, verify and print a signed object")
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--now", help="check validity at this ISO 8601 date-time with zone (default: now)")
    parser.set_defaults(handler=_inspect)


def parse_now(text: str | None) -> int:
    """``--now`` as Unix seconds: an ISO 8601 date-time with zone, as every other command takes it."""
    return int(parse_moment(text).timestamp())


def _iso(value: int | str | None) -> str | None:
    if isinstance(value, int):
        try:
            return datetime.fromtimestamp(value, UTC).isoformat().replace("+00:00", "Z")
        except (OverflowError, ValueError, OSError):
            return None
    return value


def inspect_bytes(data: bytes, now: int) -> Inspection:
    for inspector in load_inspectors():
        if inspector.recognise(data):
            result: Inspection = inspector.inspect(data, now)
            return result
    return Inspection(
        format="unknown",
        decodable=False,
        valid=False,
        error="decode.unknown-format",
        detail="no inspector recognises these bytes",
    )


def _as_json(result: Inspection) -> dict[str, Any]:
    return {
        "format": result.format,
        "valid": result.valid,
        "decodable": result.decodable,
        "error": result.error,
        "detail": result.detail,
        "kind": result.kind,
        "signer": result.signer,
        "id": result.id,
        "created": result.created,
        "created_iso": _iso(result.created),
        "expires": result.expires,
        "expires_iso": _iso(result.expires),
        "payload": result.payload,
        **{k: v for k, v in result.extra.items()},
    }


def _print_text(result: Inspection) -> None:
    status = "valid" if result.valid else f"INVALID ({result.error}: {result.detail})"
    print(f"format:  {result.format}")
    print(f"status:  {status}")
    if result.valid:
        print(f"kind:    {result.kind}")
        print(f"signer:  {result.signer}")
        print(f"id:      {result.id}")
        print(f"created: {_iso(result.created)} ({result.created})")
        expires = "none" if result.expires is None else f"{_iso(result.expires)} ({result.expires})"
        print(f"expires: {expires}")
        for key, value in result.extra.items():
            print(f"{key + ':':<8} {value}")
        print("payload:")
        print(json.dumps(result.payload, indent=2, ensure_ascii=False))


def _inspect(args: argparse.Namespace) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise ConfigError("config.read", f"cannot read {args.file}: {exc.strerror}") from exc
    result = inspect_bytes(data, parse_now(args.now))
    if args.json:
        print(json.dumps(_as_json(result), indent=2, ensure_ascii=False))
    else:
        _print_text(result)
    if not result.valid and result.error:
        print(f"error: {result.error}", file=sys.stderr)
    if result.valid:
        return EXIT_VALID
    return EXIT_INVALID if result.decodable else EXIT_UNDECODABLE
