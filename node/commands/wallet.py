"""``rightsmesh wallet ...``: a right holder's (or agent's) wallet directory and what it does.

    wallet new --dir W [--passphrase-env VAR]
    wallet redeem --dir W --office URL --code CODE
    wallet list --dir W
    wallet enrol --dir W --marketplace URL
    wallet authorise --dir W --agent DID [--right ID ... | --rights ID [ID ...]] --until DATE
        [--marketplace DID ...] [--out FILE]
    wallet export --dir W --credential ID [--out FILE]
    wallet import --dir W FILE
    wallet notify --dir W --marketplace URL [--marketplace URL ...] [--any] FILE [--name N --email E]
    wallet status --dir W [--node URL ...] [--offline]
    wallet complain --dir W --decision ID --explanation TEXT

Answers are JSON on stdout; errors go to stderr with their code (exit 2), a notice some marketplace
refused exits 1. The logic lives in :mod:`node.wallet`, so the demo drives the same code.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from protocol.authorisation import ACTIONS
from protocol.sealed import Contact
from protocol.vc import credential_types, subject_of

from ..credential_cli import write_json
from ..keystore import passphrase_from_env
from ..wallet import Wallet, ops

EXIT_OK, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2
MAX_FILE = 1024 * 1024
TIMEOUT = aiohttp.ClientTimeout(total=30, connect=5)
T = TypeVar("T")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    wallet = subparsers.add_parser(
        "wallet", help="right holder / agent wallet: credentials, notices, outcomes"
    )
    sub = wallet.add_subparsers(dest="wallet_command", metavar="ACTION", required=True)

    def add(
        name: str, help_text: str, handler: Callable[[argparse.Namespace], int]
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--dir", required=True, type=Path, help="the wallet directory")
        p.add_argument("--passphrase-env", metavar="VAR", help="env VAR holding the key passphrase")
        p.set_defaults(handler=handler)
        return p

    add("new", "create a wallet (new Ed25519 key, 0600)", cmd_new)
    p = add("redeem", "redeem an office's offer code for a right credential", cmd_redeem)
    p.add_argument("--office", required=True, help="office node URL")
    p.add_argument("--code", required=True, help="the one-time offer code")
    add("list", "credentials, enrolments and notices held", cmd_list)
    p = add("enrol", "enrol at a marketplace (challenge, presentation, result)", cmd_enrol)
    p.add_argument("--marketplace", required=True, help="marketplace node URL")
    p = add("authorise", "issue an AgentAuthorisationCredential to an agent", cmd_authorise)
    p.add_argument("--agent", required=True, help="the agent's DID")
    p.add_argument("--right", action="append", default=[], help="right credential id (default: all held)")
    p.add_argument(
        "--rights",
        dest="right",
        action="extend",
        nargs="+",
        metavar="ID",
        help="right credential ids, several at once (same list as --right)",
    )
    p.add_argument("--until", required=True, help="YYYY-MM-DD or a date-time with zone")
    p.add_argument("--marketplace", action="append", default=[], help="marketplace DID (default: any)")
    p.add_argument("--action", action="append", default=[], help="notify, complain, receive-decisions")
    p.add_argument("--out", type=Path, help="also write the credential to this file (for the agent)")
    p = add("export", "write a held credential (e.g. a right credential for an agent) as JSON", cmd_export)
    p.add_argument("--credential", required=True, help="credential id")
    p.add_argument("--out", type=Path, help="write here instead of stdout")
    p = add("import", "take in a credential (an authorisation, or a holder's right credential)", cmd_import)
    p.add_argument("file", type=Path)
    p = add("notify", "file one notice with one, several or any marketplace", cmd_notify)
    p.add_argument("file", type=Path, help="notice JSON: explanation, items, contact, product, ...")
    p.add_argument("--marketplace", action="append", default=[], required=True, help="marketplace URL")
    p.add_argument(
        "--any", action="store_true", help="target any marketplace (named ones can read the contact)"
    )
    p.add_argument(
        "--gossip-only",
        action="append",
        default=[],
        metavar="URL",
        help="a named --marketplace not sent to directly: it receives the notice by gossip",
    )
    p.add_argument("--right", action="append", default=[], help="right credential id (default: all held)")
    p.add_argument("--name", help="notifier name (overrides the file)")
    p.add_argument("--email", help="notifier e-mail (overrides the file)")
    p = add("status", "per notice: receipts and the standing decision per marketplace", cmd_status)
    p.add_argument("--node", action="append", default=[], help="also ask this node for decisions")
    p.add_argument("--offline", action="store_true", help="do not fetch; show what the wallet holds")
    p = add("complain", "complain (art. 20) about a decision received", cmd_complain)
    p.add_argument("--decision", required=True, help="decision id")
    p.add_argument("--explanation", required=True)


def _now() -> int:
    return int(time.time())


def _open(args: argparse.Namespace) -> Wallet:
    return Wallet.open(args.dir, passphrase=passphrase_from_env(args.passphrase_env))


def _print(value: Any) -> None:
    print(json.dumps(value, indent=1, sort_keys=True))


def _read_json(path: Path) -> Any:
    try:
        data = path.read_bytes()[: MAX_FILE + 1]
        if len(data) > MAX_FILE:
            raise ValueError(f"larger than {MAX_FILE} bytes")
        return json.loads(data)
    except (OSError, ValueError) as exc:
        raise ops.WalletError("wallet.file", f"cannot read {path}: {exc}") from None


def _online(fn: Callable[[aiohttp.ClientSession], Awaitable[T]]) -> T:
    async def run() -> T:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            return await fn(session)

    return asyncio.run(run())


def cmd_new(args: argparse.Namespace) -> int:
    wallet = Wallet.create(args.dir, passphrase=passphrase_from_env(args.passphrase_env))
    _print({"did": wallet.did, "dir": str(wallet.dir)})
    return EXIT_OK


def cmd_redeem(args: argparse.Namespace) -> int:
    wallet = _open(args)
    credential = _online(lambda s: ops.redeem(wallet, s, args.office, args.code, _now()))
    _print({"credential": credential["id"], "issuer": credential["issuer"], "subject": wallet.did})
    return EXIT_OK


def _summary(c: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": c.get("id"),
        "type": [t for t in credential_types(c) if t != "VerifiableCredential"],
        "issuer": c.get("issuer"),
        "subject": subject_of(c).get("id"),
        "validUntil": c.get("validUntil"),
    }


def cmd_list(args: argparse.Namespace) -> int:
    wallet = _open(args)
    now = _now()
    _print(
        {
            "did": wallet.did,
            "credentials": [_summary(c) for c in wallet.credentials()],
            "marketplaces": wallet.marketplaces(),
            "enrolments": [
                {k: e[k] for k in ("marketplace", "url", "enrolment")} for e in wallet.enrolments()
            ],
            "notices": [m.id_hex for m in wallet.signed("notices", now)],
        }
    )
    return EXIT_OK


def cmd_enrol(args: argparse.Namespace) -> int:
    wallet = _open(args)
    result = _online(lambda s: ops.enrol(wallet, s, args.marketplace, _now()))
    _print({k: result[k] for k in ("enrolment", "holder", "rights", "checks")})
    return EXIT_OK


def cmd_authorise(args: argparse.Namespace) -> int:
    wallet = _open(args)
    credential = ops.authorise(
        wallet,
        agent=args.agent,
        until=args.until,
        now=_now(),
        rights=args.right,
        actions=args.action or ACTIONS,
        marketplaces=args.marketplace or None,
    )
    if args.out:
        write_json(credential, args.out)
    _print(credential)
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    wallet = _open(args)
    document = wallet.credential(args.credential)
    if document is None:
        raise ops.WalletError(
            "wallet.unknown-credential", f"this wallet holds no credential {args.credential}"
        )
    write_json(document, args.out)
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    wallet = _open(args)
    document = _read_json(args.file)
    kind = ops.import_credential(wallet, document, _now())
    _print({"imported": document.get("id"), "type": kind})
    return EXIT_OK


def cmd_notify(args: argparse.Namespace) -> int:
    wallet = _open(args)
    spec = ops.NoticeSpec.from_json(_read_json(args.file))
    if args.name or args.email:
        spec = replace(
            spec, contact=Contact(args.name or spec.contact.name, args.email or spec.contact.email)
        )
    if args.right:
        spec = replace(spec, rights=tuple(args.right))
    notice_id, deliveries = _online(
        lambda s: ops.notify(
            wallet, s, spec, args.marketplace, _now(), any_marketplace=args.any, gossip_only=args.gossip_only
        )
    )
    _print({"notice": notice_id, "deliveries": [asdict(d) for d in deliveries]})
    return EXIT_INVALID if any(d.error for d in deliveries) else EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    wallet = _open(args)
    if not args.offline:
        _online(lambda s: ops.refresh(wallet, s, _now(), args.node))
    _print({"notices": [s.to_json() for s in ops.status(wallet, _now())]})
    return EXIT_OK


def cmd_complain(args: argparse.Namespace) -> int:
    wallet = _open(args)
    complaint = _online(
        lambda s: ops.complain(wallet, s, decision_id=args.decision, explanation=args.explanation, now=_now())
    )
    _print({"complaint": complaint})
    return EXIT_OK
