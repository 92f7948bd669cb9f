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

from ..config import NodeConfig, load_config
from ..errors import ConfigError
from ..keystore import load_key, passphrase_from_env
from ..marketplace import store
from ..storage.db import open_database, transaction
from ..storage.objects import ObjectStore
from . import market_notices

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


def _market_config(directory: Path) -> NodeConfig:
    config = load_config(directory)
    if config.role != "marketplace":
        raise ConfigError("config.role", f"{directory} is a {config.role} node, not a marketplace")
    return config


def cmd_profile(args: argparse.Namespace) -> int:
    config = _market_config(args.dir)
    try:
        data = args.file.read_bytes()[: MAX_PROFILE_BYTES + 1]
        if len(data) > MAX_PROFILE_BYTES:
            raise ValueError(f"larger than {MAX_PROFILE_BYTES} bytes")
        profile = json.loads(data)
    except (OSError, ValueError) as exc:
        print(f"error: cannot read {args.file}: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    key = load_key(config.key_path, passphrase_from_env(args.passphrase_env))
    db = open_database(config.db_path, synchronous=config.sqlite_synchronous)
    try:
        with transaction(db):
            id_hex = store.publish_profile(ObjectStore(db), key, profile, int(time.time()))
    finally:
        db.close()
    print(f"published profile {id_hex} ({config.url}/profile)")
    return EXIT_OK


def cmd_enrolments(args: argparse.Namespace) -> int:
    config = _market_config(args.dir)
    db = open_database(config.db_path, synchronous=config.sqlite_synchronous)
    try:
        print(json.dumps(store.list_enrolments(db, args.holder), indent=1))
    finally:
        db.close()
    return EXIT_OK
