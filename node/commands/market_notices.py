"""``rightsmesh market decide|notices|complaint|notifier|export-sor|match``: the notice lifecycle of a
marketplace, from the operator's shell.

``decide``, ``notices``, ``complaint`` and ``notifier`` talk to the running node's admin API (URL and
token from the node directory, or ``--node URL --token-file F``) so the node signs, stores, indexes and
gossips exactly as for an API call. ``export-sor`` reads the node database directly (no key needed);
``match`` asks any node's public ``POST /match``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from ..config import load_config
from ..errors import ConfigError
from ..notices.store import export_statements
from ..storage.db import open_database
from ..storage.objects import ObjectStore

EXIT_OK, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2
TIMEOUT = aiohttp.ClientTimeout(total=30, connect=5)
MAX_FILE = 1024 * 1024


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    def admin(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--dir", type=Path, help="the marketplace node directory (URL and admin token)")
        p.add_argument("--node", help="node URL (default: the directory's configured URL)")
        p.add_argument("--token-file", type=Path, help="admin token file (default: the directory's)")
        return p

    p = admin("decide", "decide on a notice: a signed statement of reasons (supersedes the last one)")
    p.add_argument("--notice", required=True, help="notice id")
    p.add_argument("--action", required=True, choices=("restrict", "no-action"))
    p.add_argument("--facts", required=True, help="decision_facts (no personal data)")
    p.add_argument("--complaint", help="the complaint this decision answers")
    p.add_argument("--field", action="append", default=[], metavar="NAME=JSON", help="any TDB field")
    p.set_defaults(handler=cmd_decide)

    p = admin("notices", "the notice inbox (trusted flaggers first)")
    for name in ("status", "right", "notifier", "since", "until", "trusted-flagger"):
        p.add_argument(f"--{name}")
    p.set_defaults(handler=cmd_notices)

    p = admin("complaint", "record a seller's complaint (art. 20) against a decision")
    p.add_argument("--decision", required=True)
    p.add_argument("--explanation", required=True)
    p.add_argument("--seller-ref")
    p.set_defaults(handler=cmd_complaint)

    p = admin("notifier", "art. 23: list notifiers, or warn / suspend / reinstate one")
    p.add_argument("did", nargs="?")
    p.add_argument("--warn", action="store_true")
    p.add_argument("--suspend", action="store_true")
    p.add_argument("--reinstate", action="store_true")
    p.add_argument("--reason", default="")
    p.set_defaults(handler=cmd_notifier)

    p = sub.add_parser("export-sor", help="statements of reasons in the Transparency Database API JSON shape")
    p.add_argument("--dir", required=True, type=Path)
    p.add_argument("--out", type=Path, help="write here instead of stdout")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("match", help="match listings (JSON file) against the notices a node holds")
    p.add_argument("--node", required=True, help="any node URL")
    p.add_argument("file", type=Path, help='{"listings": [...]} or a list of listings')
    p.add_argument("--max-distance", type=int)
    p.set_defaults(handler=cmd_match)


def _target(args: argparse.Namespace) -> tuple[str, str]:
    """The admin URL (``--node``, else the directory's configured URL) and token (``--token-file``,
    else the directory's ``admin.token``)."""
    config = load_config(args.dir) if args.dir is not None else None
    url = args.node or (config.url if config is not None else None)
    token_path = args.token_file or (config.token_path if config is not None else None)
    if not url or token_path is None:
        raise ConfigError(
            "config.target", "give --dir (and --node when it listens on a port chosen at start)"
        )
    try:
        token = token_path.read_text().strip()
    except OSError as exc:
        raise ConfigError("config.token", f"cannot read {token_path}: {exc}") from None
    return url.rstrip("/"), token


async def _request(method: str, url: str, token: str | None, **kw: Any) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT) as session,
        session.request(method, url, headers=headers, **kw) as resp,
    ):
        return resp.status, await resp.json(content_type=None)


def _answer(status: int, body: Any) -> int:
    if status >= 400:
        code = body.get("code") if isinstance(body, dict) else None
        detail = body.get("detail") if isinstance(body, dict) else body
        print(f"error: {code}: {detail}", file=sys.stderr)
        return EXIT_INVALID if status in (403, 409, 422) else EXIT_UNUSABLE
    print(json.dumps(body, indent=1, sort_keys=True))
    return EXIT_OK


def _call(args: argparse.Namespace, method: str, path: str, **kw: Any) -> int:
    url, token = _target(args)
    try:
        status, body = asyncio.run(_request(method, url + path, token, **kw))
    except (aiohttp.ClientError, TimeoutError) as exc:
        print(f"error: node.unreachable: {url}: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    return _answer(status, body)


def cmd_decide(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"notice": args.notice, "action": args.action, "decision_facts": args.facts}
    if args.complaint:
        body["complaint"] = args.complaint
    for item in args.field:
        name, _, value = item.partition("=")
        try:
            body[name] = json.loads(value)
        except ValueError:
            body[name] = value
    return _call(args, "POST", "/admin/decisions", json=body)


def cmd_notices(args: argparse.Namespace) -> int:
    params = {
        k: v
        for k, v in {
            "status": args.status,
            "right": args.right,
            "notifier": args.notifier,
            "since": args.since,
            "until": args.until,
            "trusted_flagger": args.trusted_flagger,
        }.items()
        if v is not None
    }
    return _call(args, "GET", "/admin/notices", params=params)


def cmd_complaint(args: argparse.Namespace) -> int:
    body = {"decision": args.decision, "explanation": args.explanation}
    if args.seller_ref:
        body["seller_ref"] = args.seller_ref
    return _call(args, "POST", "/admin/complaints", json=body)


def cmd_notifier(args: argparse.Namespace) -> int:
    chosen = [a for a in ("warn", "suspend", "reinstate") if getattr(args, a)]
    if len(chosen) > 1 or (chosen and not args.did):
        print("error: usage: notifier [DID --warn|--suspend|--reinstate]", file=sys.stderr)
        return EXIT_UNUSABLE
    if not chosen:
        return _call(args, "GET", "/admin/notifiers")
    return _call(args, "POST", f"/admin/notifiers/{args.did}/{chosen[0]}", json={"reason": args.reason})


def cmd_export(args: argparse.Namespace) -> int:
    config = load_config(args.dir)
    db = open_database(config.db_path, synchronous=config.sqlite_synchronous)
    try:
        did = _node_did(config.key_path)
        statements = export_statements(ObjectStore(db), did, int(time.time()))
    finally:
        db.close()
    text = json.dumps(statements, indent=1, sort_keys=True)
    if args.out:
        args.out.write_text(text + "\n")
    else:
        print(text)
    return EXIT_OK


def _node_did(key_path: Path) -> str:
    """The node's DID from its key file without decrypting it (both formats name the DID)."""
    try:
        body = json.loads(key_path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError("config.key-format", f"cannot read {key_path}: {exc}") from None
    did = body.get("did") if isinstance(body, dict) else None
    if not isinstance(did, str):
        raise ConfigError("config.key-format", f"{key_path} names no DID")
    return did


def cmd_match(args: argparse.Namespace) -> int:
    try:
        data = json.loads(args.file.read_bytes()[:MAX_FILE])
    except (OSError, ValueError) as exc:
        print(f"error: cannot read {args.file}: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    body = data if isinstance(data, dict) else {"listings": data}
    if args.max_distance is not None:
        body["max_distance"] = args.max_distance
    try:
        status, answer = asyncio.run(_request("POST", args.node.rstrip("/") + "/match", None, json=body))
    except (aiohttp.ClientError, TimeoutError) as exc:
        print(f"error: node.unreachable: {args.node}: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    return _answer(status, answer)
