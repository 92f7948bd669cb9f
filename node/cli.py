"""The ``rightsmesh`` command line: ``main(argv) -> int``.

Each area lives in its own module under :mod:`node.commands` and adds its sub-commands through
``register(subparsers)``; a handler returns the process exit code. Exit codes across commands:
0 success or valid, 1 checked and invalid, 2 unusable input or usage error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from protocol.errors import ProtocolError

from .errors import NodeError

# Modules under node.commands, in the order their commands appear in --help.
COMMANDS: tuple[str, ...] = (
    "key", "message", "inspect", "node", "office", "market",
    "credential", "presentation", "status_list", "trust_list", "search", "wallet", "demo",
)

EXIT_OK, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rightsmesh",
        description="Peer-to-peer federation of IP offices, marketplaces and right holders.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"node.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help
        return int(exc.code or 0)
    try:
        return int(args.handler(args))
    except (NodeError, ProtocolError) as exc:
        print(f"error: {exc.code}: {exc.detail}", file=sys.stderr)
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
