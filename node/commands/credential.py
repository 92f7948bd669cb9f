"""``rightsmesh credential issue|authorise|verify``: IP-right and authorisation credentials offline.

``issue`` is for office IT staff (sign a RIGHT.json for a holder DID); ``authorise`` for a holder letting
an agent act for some rights; ``verify`` for anyone holding a credential file. Without ``--trust-list``
verify checks everything else and says that trust was not checked. Exit 0 valid, 1 invalid (codes
printed), 2 unusable input.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from protocol.authorisation import issue_authorisation_credential, make_authorisation
from protocol.ip_right import issue_ip_right_credential, right_from_json
from protocol.verify import verify_credential

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
from ..errors import ConfigError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("credential", help="issue and verify verifiable credentials")
    sub = parser.add_subparsers(dest="credential_command", metavar="ACTION", required=True)

    issue = sub.add_parser("issue", help="sign an IPRightCredential (office)")
    add_key_options(issue)
    issue.add_argument("--subject", required=True, help="the holder's DID")
    issue.add_argument("--right", required=True, type=Path, help="RIGHT.json (register fields)")
    add_suite_option(issue)
    issue.add_argument("--status-list", metavar="URL", help="the office's revocation list URL")
    issue.add_argument("--status-index", type=int, metavar="N", help="this credential's bit in that list")
    issue.add_argument("--suspension-list", metavar="URL", help="the office's suspension list URL (optional)")
    issue.add_argument("--suspension-index", type=int, metavar="N", help="this credential's bit in that list")
    issue.add_argument("--valid-from", help="default: --created")
    issue.add_argument("--valid-until", help="default: the end of the right's expiry day")
    issue.add_argument("--created", help="proof time (default: now)")
    issue.add_argument("--id", dest="credential_id", help="credential id (default: derived urn:uuid)")
    issue.add_argument("--out", type=Path, help="output file (default: standard output)")
    issue.set_defaults(handler=_issue)

    grant = sub.add_parser("authorise", help="sign an AgentAuthorisationCredential (holder)")
    add_key_options(grant)
    grant.add_argument("--agent", required=True, help="the agent's DID")
    grant.add_argument("--right-id", action="append", required=True, metavar="ID",
                       help="id of a right credential the agent may act for (repeatable)")
    grant.add_argument("--action", action="append", required=True,
                       choices=("notify", "complain", "receive-decisions"), help="repeatable")
    grant.add_argument("--marketplace", action="append", metavar="DID",
                       help="restrict to this marketplace (repeatable; default: any)")
    grant.add_argument("--valid-until", required=True)
    grant.add_argument("--created", help="proof time and validFrom (default: now)")
    add_suite_option(grant)
    grant.add_argument("--out", type=Path)
    grant.set_defaults(handler=_authorise)

    verify = sub.add_parser("verify", help="verify a credential file")
    verify.add_argument("file", type=Path, metavar="FILE")
    add_verify_options(verify)
    verify.set_defaults(handler=_verify)


def _issue(args: argparse.Namespace) -> int:
    if (args.status_list is None) != (args.status_index is None):
        raise ConfigError("config.input", "--status-list and --status-index go together")
    if (args.suspension_list is None) != (args.suspension_index is None):
        raise ConfigError("config.input", "--suspension-list and --suspension-index go together")
    key = load_key(args)
    right = right_from_json(read_object(args.right, "RIGHT.json"))
    document = issue_ip_right_credential(
        key, args.subject, right,
        created=timestamp(args.created),
        status_list_url=args.status_list,
        status_index=args.status_index,
        suspension_list_url=args.suspension_list,
        suspension_index=args.suspension_index,
        credential_id=args.credential_id,
        valid_from=args.valid_from,
        valid_until=args.valid_until,
        suite=args.suite,
    )
    write_json(document, args.out)
    return 0


def _authorise(args: argparse.Namespace) -> int:
    key = load_key(args)
    grant = make_authorisation(args.agent, args.right_id, args.action, args.marketplace)
    document = issue_authorisation_credential(
        key, grant, created=timestamp(args.created), valid_until=args.valid_until, suite=args.suite
    )
    write_json(document, args.out)
    return 0


def _verify(args: argparse.Namespace) -> int:
    given = verify_inputs(args, "a credential")
    result = verify_credential(
        given.document, now=given.now, trust=given.trust, status_lists=given.status_lists,
        require_status=not args.no_status,
    )
    return report(result, args, given.trust_root)
