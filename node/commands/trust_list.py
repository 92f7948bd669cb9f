"""``rightsmesh trust-list sign|show``: a trust root's signed list of accredited DIDs.

ENTRIES.json is a list of entries (or ``{"entries": [...]}``) with ``did``, ``role`` (office, marketplace,
trusted-flagger), ``name``, ``jurisdiction``, ``valid_from`` and ``valid_until`` (Unix seconds or ISO 8601
date-times with zone). The root key is meant to stay offline: sign on the offline machine, carry the file.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from protocol.trust_list import sign_trust_list, verify_trust_list

from ..credential_cli import (
    EXIT_INVALID,
    EXIT_VALID,
    add_key_options,
    load_key,
    parse_moment,
    read_bytes,
    read_json,
    write_bytes,
)
from ..errors import ConfigError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("trust-list", help="sign and show trust lists (trust roots)")
    sub = parser.add_subparsers(dest="trust_list_command", metavar="ACTION", required=True)

    sign = sub.add_parser("sign", help="sign a trust list with a root key")
    add_key_options(sign)
    sign.add_argument("--sequence", required=True, type=int, help="higher than the root's previous list")
    sign.add_argument("--created", help="default: now")
    sign.add_argument("--expires", help="optional: nothing in the list is trusted after this time")
    sign.add_argument("--out", required=True, type=Path)
    sign.add_argument("entries", type=Path, metavar="ENTRIES.json")
    sign.set_defaults(handler=_sign)

    show = sub.add_parser("show", help="verify a trust list and print its entries")
    show.add_argument("file", type=Path, metavar="FILE")
    show.add_argument("--trust-root", action="append", default=[], metavar="DID",
                      help="the list must be signed by one of these roots")
    show.add_argument("--now", help="verify at this date-time (default: now)")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)


def _seconds(value: Any, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        return int(parse_moment(value, name).timestamp())
    raise ConfigError("config.input", f"{name} must be Unix seconds or an ISO 8601 date-time")


def _sign(args: argparse.Namespace) -> int:
    raw = read_json(args.entries)
    if isinstance(raw, dict):
        raw = raw.get("entries")
    if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
        raise ConfigError("config.input", "ENTRIES.json is a list of entry objects (or {\"entries\": [...]})")
    entries = [
        {**e, **{k: _seconds(e[k], k) for k in ("valid_from", "valid_until") if k in e}} for e in raw
    ]
    created = _seconds(args.created, "--created") if args.created else int(parse_moment(None).timestamp())
    expires = _seconds(args.expires, "--expires") if args.expires else None
    data = sign_trust_list(load_key(args), entries, sequence=args.sequence, created=created, expires=expires)
    write_bytes(data, args.out)
    return 0


def _iso(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _show(args: argparse.Namespace) -> int:
    now = int(parse_moment(args.now).timestamp())
    trust_list = verify_trust_list(read_bytes(args.file), now)
    trusted_root = not args.trust_root or trust_list.root in args.trust_root
    if args.json:
        print(json.dumps({
            "root": trust_list.root, "root_accepted": trusted_root, "sequence": trust_list.sequence,
            "created": trust_list.created, "expires": trust_list.expires, "id": trust_list.id_hex,
            "entries": [{**e.to_payload(), "active": e.active(now)} for e in trust_list.entries],
        }, indent=2))
    else:
        print(f"root:     {trust_list.root}" + ("" if trusted_root else "  (NOT one of --trust-root)"))
        print(f"sequence: {trust_list.sequence}   created: {_iso(trust_list.created)}   "
              f"expires: {_iso(trust_list.expires) or 'never'}")
        for e in trust_list.entries:
            state = "active" if e.active(now) else "inactive"
            print(f"  {e.role:<15} {e.jurisdiction:<6} {e.name}  {e.did}  "
                  f"{_iso(e.valid_from)} .. {_iso(e.valid_until)} ({state})")
    return EXIT_VALID if trusted_root else EXIT_INVALID
