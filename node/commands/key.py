"""``rightsmesh key new --out PATH``: create an Ed25519 key file (mode 0600) and print its DID."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from protocol.keys import KeyPair

from .. import keyfile


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("key", help="manage key files")
    sub = parser.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    new = sub.add_parser("new", help="create a new Ed25519 key; prints its did:key")
    new.add_argument("--out", required=True, type=Path, help="key file to create (never overwritten)")
    new.set_defaults(handler=_new)


def _new(args: argparse.Namespace) -> int:
    key = KeyPair.generate()
    keyfile.save_key(args.out, key)
    print(key.did)
    return 0
