"""``rightsmesh demo [--keep] [--dir DIR] [--quiet] [--fail-at STEP]``: run the whole federation locally.

Starts real node processes on 127.0.0.1 (ports picked at run time) and tells the story of
:mod:`node.demo.story`; exits 0 if every step that is built succeeded, 1 if one failed (its error is
printed), 130 on Ctrl-C. ``--fail-at STEP`` makes that step fail on purpose (to check the failure path:
error, cleanup, exit code).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    demo = subparsers.add_parser(
        "demo", help="run two offices, four marketplaces, a holder and an agent through the whole story"
    )
    demo.add_argument("--keep", action="store_true", help="leave the nodes running at the end")
    demo.add_argument("--dir", type=Path, help="base directory (new or empty; default: a temporary one)")
    demo.add_argument("--quiet", action="store_true", help="print only failures and the summary")
    demo.add_argument(
        "--fail-at",
        metavar="STEP",
        help="make STEP fail on purpose, to check the failure path (names: see the summary)",
    )
    demo.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from ..demo import Options, run_demo
    from ..demo.story import STEP_NAMES

    if args.fail_at is not None and args.fail_at not in STEP_NAMES:
        print(f"error: --fail-at takes one of: {', '.join(STEP_NAMES)}", file=sys.stderr)
        return 2
    return run_demo(Options(keep=args.keep, dir=args.dir, quiet=args.quiet, fail_at=args.fail_at))
