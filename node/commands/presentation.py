"""``rightsmesh presentation create|verify``: present credentials to one verifier, and check such a
presentation offline (proof, challenge, domain, every credential, holder binding).

An offline verify has no memory of earlier challenges, so single use is only checked within the run;
nodes keep their challenges in the database.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from protocol.presentation import create_presentation
from protocol.verify import MemoryChallengeStore, verify_presentation

from ..credential_cli import (
    add_key_options,
    add_suite_option,
    add_verify_options,
    load_key,
    read_object,
    report,
    timestamp,
    verify_inputs,
    write_json,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("presentation", help="create and verify verifiable presentations")
    sub = parser.add_subparsers(dest="presentation_command", metavar="ACTION", required=True)

    create = sub.add_parser("create", help="sign a presentation of credentials for one verifier")
    add_key_options(create)
    create.add_argument("--challenge", required=True, help="the verifier's nonce")
    create.add_argument("--domain", required=True, help="the verifier (its DID or origin)")
    add_suite_option(create)
    create.add_argument("--created", help="proof time (default: now)")
    create.add_argument("--out", type=Path)
    create.add_argument("credentials", nargs="+", type=Path, metavar="CRED.json")
    create.set_defaults(handler=_create)

    verify = sub.add_parser("verify", help="verify a presentation")
    verify.add_argument("file", type=Path, metavar="FILE")
    verify.add_argument("--challenge", required=True)
    verify.add_argument("--domain", required=True)
    verify.add_argument("--action", choices=("notify", "complain", "receive-decisions"),
                        help="an agent's authorisation must allow this action")
    add_verify_options(verify)
    verify.set_defaults(handler=_verify)


def _create(args: argparse.Namespace) -> int:
    key = load_key(args)
    credentials = [read_object(path, "a credential") for path in args.credentials]
    document = create_presentation(
        key, credentials, challenge=args.challenge, domain=args.domain, created=timestamp(args.created),
        suite=args.suite,
    )
    write_json(document, args.out)
    return 0


def _verify(args: argparse.Namespace) -> int:
    given = verify_inputs(args, "a presentation")
    result = verify_presentation(
        given.document, challenge=args.challenge, domain=args.domain, now=given.now,
        challenges=MemoryChallengeStore(), trust=given.trust, status_lists=given.status_lists,
        require_status=not args.no_status, action=args.action,
    )
    return report(result, args, given.trust_root)
