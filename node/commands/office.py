"""``rightsmesh office ...``: register import, issuance offers and revocation for an office node directory.

These commands work directly on the node's database (``DIR/node.db``), whether the node is running or
not: SQLite in WAL mode lets the CLI and the server write in turn (busy timeout), and each command is one
transaction per batch. A running node serves the result at once (search, ``/status/{list}``). The same
actions exist on the admin API for remote use: ``POST /admin/offers``, ``POST /admin/revocations``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from protocol.issuance import DEFAULT_MAX_ATTEMPTS, DEFAULT_OFFER_TTL
from protocol.register import parse_register

from ..config import NodeConfig
from ..keystore import load_key, passphrase_from_env
from ..office import ENDPOINTS_OFFICE, issue, service, store
from ..storage.db import transaction
from .nodedir import node_database, role_config

EXIT_OK, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2
MAX_REGISTER_BYTES = 512 * 1024 * 1024


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    office = subparsers.add_parser(
        "office", help="office node: import the register, offer and revoke credentials"
    )
    sub = office.add_subparsers(dest="office_command", metavar="ACTION", required=True)

    imp = sub.add_parser("import", help="import a register file (CSV or JSON); idempotent")
    imp.add_argument("--dir", required=True, type=Path, help="the office node directory")
    imp.add_argument("file", type=Path, help="register-*.csv or register-*.json")
    imp.add_argument("--format", choices=("csv", "json"), help="default: from the file name or content")
    imp.add_argument("--json", action="store_true", help="print the summary as JSON")
    imp.add_argument(
        "--revoke-lapsed",
        action="store_true",
        help="revoke issued credentials whose entry is no longer registered (needs the node key)",
    )
    imp.add_argument("--passphrase-env", metavar="VAR", help="env VAR holding the key passphrase")
    imp.set_defaults(handler=cmd_import)

    offer = sub.add_parser("offer", help="create a one-time issuance offer for a register entry")
    offer.add_argument("--dir", required=True, type=Path)
    offer.add_argument("--number", required=True, help="application or registration number")
    offer.add_argument("--ttl", type=int, default=DEFAULT_OFFER_TTL, help="seconds the code stays valid")
    offer.add_argument("--max-attempts", type=int, default=DEFAULT_MAX_ATTEMPTS)
    offer.add_argument("--json", action="store_true")
    offer.set_defaults(handler=cmd_offer)

    revoke = sub.add_parser("revoke", help="revoke an issued credential (signs a new status list version)")
    revoke.add_argument("--dir", required=True, type=Path)
    revoke.add_argument("--credential", required=True, help="the credential id (urn:uuid:...)")
    revoke.add_argument("--passphrase-env", metavar="VAR", help="env VAR holding the key passphrase")
    revoke.add_argument("--json", action="store_true")
    revoke.set_defaults(handler=cmd_revoke)

    creds = sub.add_parser("credentials", help="list the credentials this office issued")
    creds.add_argument("--dir", required=True, type=Path)
    creds.set_defaults(handler=cmd_credentials)


def cmd_import(args: argparse.Namespace) -> int:
    config = role_config(args.dir, "office")
    try:
        if args.file.stat().st_size > MAX_REGISTER_BYTES:
            print(f"error: {args.file} is larger than {MAX_REGISTER_BYTES} bytes", file=sys.stderr)
            return EXIT_UNUSABLE
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    fmt = args.format or {".csv": "csv", ".json": "json"}.get(args.file.suffix.lower())
    parsed = parse_register(data, fmt)
    for rejected in parsed.rejected:
        print(f"{args.file}:{rejected.line}: rejected: {rejected.code}: {rejected.detail}", file=sys.stderr)
    total = len(parsed.entries)
    show_progress = total >= 2 * store.IMPORT_BATCH

    def progress(done: int) -> None:
        if show_progress:
            print(f"imported {done}/{total}", file=sys.stderr, flush=True)

    with node_database(config) as db:
        counts = store.import_entries(db, (e for _, e in parsed.entries), int(time.time()), progress=progress)
        lapsed = store.lapsed_credentials(db, service.ISSUABLE_STATUSES)
        revoked = []
        if lapsed and args.revoke_lapsed:
            key = load_key(config.key_path, passphrase_from_env(args.passphrase_env))
            for credential_id in lapsed:
                with transaction(db):
                    issue.revoke(key, db, credential_id, int(time.time()))
                revoked.append(credential_id)
        for credential_id in lapsed:
            state = (
                "revoked" if credential_id in revoked else "still valid: use --revoke-lapsed or office revoke"
            )
            print(f"credential {credential_id}: its right is no longer registered ({state})", file=sys.stderr)
    summary = {
        "accepted": total,
        "inserted": counts.inserted,
        "updated": counts.updated,
        "unchanged": counts.unchanged,
        "rejected": len(parsed.rejected),
        "lapsed_credentials": len(lapsed),
        "revoked": len(revoked),
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"{total} entries accepted ({counts.inserted} new, {counts.updated} updated, "
            f"{counts.unchanged} unchanged), {len(parsed.rejected)} lines rejected"
        )
    return EXIT_INVALID if parsed.rejected else EXIT_OK


def redeem_url(config: NodeConfig) -> str:
    """The office's credential endpoint; a placeholder base when port 0 and no public_url leave it unknown."""
    base = config.url if config.public_url or config.port else "<the office's URL>"
    return base + ENDPOINTS_OFFICE["issuance_credential"]


def cmd_offer(args: argparse.Namespace) -> int:
    config = role_config(args.dir, "office")
    with node_database(config) as db, transaction(db):
        new = service.create_offer(
            db, args.number, int(time.time()), ttl=args.ttl, max_attempts=args.max_attempts
        )
    if args.json:
        print(json.dumps(new.as_json()))
    else:
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(new.offer.expires))
        print(f"right:   {new.offer.right_key}")
        print(f"code:    {new.code}")
        print(f"expires: {expires}")
        print(f"redeem at {redeem_url(config)} (send the code to the registered owner only)")
    return EXIT_OK


def cmd_revoke(args: argparse.Namespace) -> int:
    config = role_config(args.dir, "office")
    key = load_key(config.key_path, passphrase_from_env(args.passphrase_env))
    with node_database(config) as db, transaction(db):
        result = issue.revoke(key, db, args.credential, int(time.time()))
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"revoked {result['credential']}: {result['status_list']} index {result['status_index']}, "
            f"version {result['version']}"
        )
    return EXIT_OK


def cmd_credentials(args: argparse.Namespace) -> int:
    config = role_config(args.dir, "office")
    with node_database(config) as db:
        print(json.dumps(store.list_credentials(db), indent=1))
    return EXIT_OK
