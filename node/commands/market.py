"""``rightsmesh market ...``: a marketplace node's profile and enrolments.

Like ``rightsmesh office``, these work directly on the node's database (running node or not); the admin
API offers the same remotely (``PUT /admin/profile``, ``GET /admin/enrolments``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ..keystore import load_key, passphrase_from_env
from ..marketplace import store
from ..storage.db import transaction
from ..storage.objects import ObjectStore
from . import market_notices
from .nodedir import node_database, role_config

EXIT_OK, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2
MAX_PROFILE_BYTES = 64 * 1024


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    market = subparsers.add_parser("market", help="marketplace node: profile and enrolments")
    sub = market.add_subparsers(dest="market_command", metavar="ACTION", required=True)

    profile = sub.add_parser("profile", help="sign and publish the IP-protection profile (PROFILE.json)")
    profile.add_argument("--dir", required=True, type=Path, help="the marketplace node directory")
    profile.add_argument("file", type=Path, help="profile JSON (see specs/examples/marketplace-profile.json)")
    profile.add_argument("--passphrase-env", metavar="VAR", help="env VAR holding the key passphrase")
    profile.set_defaults(handler=cmd_profile)

    enrolments = sub.add_parser("enrolments", help="list enrolled holders (JSON)")
    enrolments.add_argument("--dir", required=True, type=Path)
    enrolments.add_argument("--holder", help="only this holder DID")
    enrolments.set_defaults(handler=cmd_enrolments)
    market_notices.register(sub)  # decide, notices, complaint, notifier, export-sor, match (issue 6)


def cmd_profile(args: argparse.Namespace) -> int:
    config = role_config(args.dir, "marketplace")
    try:
        with args.file.open("rb") as f:
            data = f.read(MAX_PROFILE_BYTES + 1)
        if len(data) > MAX_PROFILE_BYTES:
            raise ValueError(f"larger than {MAX_PROFILE_BYTES} bytes")
        profile = json.loads(data)
    except (OSError, ValueError) as exc:
        print(f"error: cannot read {args.file}: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    key = load_key(config.key_path, passphrase_from_env(args.passphrase_env))
    with node_database(config) as db, transaction(db):
        id_hex = store.publish_profile(ObjectStore(db), key, profile, int(time.time()))
    print(f"published profile {id_hex} ({config.url}/profile)")
    return EXIT_OK


def cmd_enrolments(args: argparse.Namespace) -> int:
    config = role_config(args.dir, "marketplace")
    with node_database(config) as db:
        print(json.dumps(store.list_enrolments(db, args.holder), indent=1))
    return EXIT_OK
