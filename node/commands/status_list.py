"""``rightsmesh status-list new|revoke|suspend|unsuspend|check``: an office's Bitstring Status Lists.

Each change re-signs the whole list as a new version (``statusListVersion`` + 1, ``validFrom`` = now);
``--out`` defaults to rewriting the list file in place. ``check`` exits 0 when the bit is clear and 1 when
it is set (revoked or suspended).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from protocol.data_integrity import verify_proof
from protocol.errors import SignatureError
from protocol.status_list import (
    MIN_ENTRIES,
    PURPOSES,
    issue_status_list_credential,
    new_status_list,
    revoke,
    status_list_from_credential,
    suspend,
    unsuspend,
    verify_status_list_credential,
)

from ..credential_cli import (
    EXIT_INVALID,
    EXIT_VALID,
    add_key_options,
    add_suite_option,
    load_key,
    parse_moment,
    read_object,
    timestamp,
    write_json,
)
from ..errors import ConfigError

_CHANGES = {"revoke": revoke, "suspend": suspend, "unsuspend": unsuspend}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("status-list", help="an office's revocation and suspension lists")
    sub = parser.add_subparsers(dest="status_list_command", metavar="ACTION", required=True)

    new = sub.add_parser("new", help="create and sign an empty list (version 1)")
    add_key_options(new)
    new.add_argument("--url", required=True, help="where the list is published (its credential id)")
    new.add_argument("--purpose", choices=PURPOSES, default="revocation")
    new.add_argument("--size", type=int, default=MIN_ENTRIES, help=f"entries (default {MIN_ENTRIES})")
    add_suite_option(new)
    new.add_argument("--created", help="default: now")
    new.add_argument("--valid-until", help="optional end of this version's validity")
    new.add_argument("--out", required=True, type=Path)
    new.set_defaults(handler=_new)

    verbs = (("revoke", "revoke (final)"), ("suspend", "suspend"), ("unsuspend", "lift a suspension"))
    for name, verb in verbs:
        change = sub.add_parser(name, help=f"{verb} credentials: set a new version of the list")
        add_key_options(change)
        change.add_argument("--list", required=True, type=Path, help="the current list credential")
        change.add_argument("--out", type=Path, help="default: rewrite --list")
        change.add_argument("--created", help="default: now")
        change.add_argument("--valid-until", help="optional end of the new version's validity")
        change.add_argument("indices", nargs="+", type=int, metavar="INDEX")
        change.set_defaults(handler=_change, change=name)

    check = sub.add_parser("check", help="verify a list and read one bit")
    check.add_argument("--list", required=True, type=Path)
    check.add_argument("index", type=int, metavar="INDEX")
    check.add_argument("--now", help="verify at this date-time (default: now)")
    check.add_argument("--json", action="store_true")
    check.set_defaults(handler=_check)


def _new(args: argparse.Namespace) -> int:
    key = load_key(args)
    status_list = new_status_list(args.url, key.did, args.purpose, size=args.size)
    document = issue_status_list_credential(key, status_list, created=timestamp(args.created),
                                            valid_until=args.valid_until, suite=args.suite)
    write_json(document, args.out)
    return 0


def _change(args: argparse.Namespace) -> int:
    key = load_key(args)
    current = read_object(args.list, "a status list credential")
    status_list = status_list_from_credential(current)
    if status_list.issuer != key.did:
        raise ConfigError("config.input", "this list belongs to another issuer than --key")
    proof = verify_proof(current, expected_purpose="assertionMethod")
    if proof.controller != status_list.issuer:
        raise SignatureError("signature.issuer-mismatch", "the current list is not signed by its issuer")
    updated = _CHANGES[args.change](status_list, *args.indices)
    document = issue_status_list_credential(key, updated, created=timestamp(args.created),
                                            valid_until=args.valid_until, suite=proof.suite)
    write_json(document, args.out or args.list)
    return 0


def _check(args: argparse.Namespace) -> int:
    status_list = verify_status_list_credential(read_object(args.list, "a status list credential"),
                                                now=parse_moment(args.now))
    bit = status_list.get(args.index)
    if args.json:
        print(json.dumps({"url": status_list.url, "issuer": status_list.issuer,
                          "purpose": status_list.purpose, "version": status_list.version,
                          "index": args.index, "set": bit}))
    else:
        state = {"revocation": "REVOKED", "suspension": "SUSPENDED"}[status_list.purpose] if bit else "clear"
        print(f"{status_list.url} v{status_list.version} ({status_list.purpose}) index {args.index}: {state}")
    return EXIT_INVALID if bit else EXIT_VALID
