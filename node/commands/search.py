"""``rightsmesh search --node URL [--q ...]``: a federated register search through any node.

The node asks every office it knows that a trust list it holds accredits (others are listed as skipped,
never contacted) and answers with each office's signed result. This command does
not take the node's word for it: it verifies every signed answer again here (signature, signer = the
office DID, the query echoed, freshness) and says so. Exit codes: 0 search done (offices that timed out
or failed are listed), 1 some office's answer is invalid or does not verify here, 2 the node could not
be asked (unreachable, bad parameters).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

import aiohttp

from ..config import check_url
from ..errors import ConfigError
from ..search.answers import InvalidAnswer, QueryError, SearchQuery, b64url_decode, check_answer

EXIT_OK, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2
MAX_RESPONSE = 32 << 20


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    search = subparsers.add_parser(
        "search",
        help="search the registers of every accredited office a node knows (answers signed by each office)",
    )
    search.add_argument("--node", required=True, help="URL of any rightsmesh node (office or marketplace)")
    search.add_argument("--q", help="words of the mark or holder name")
    search.add_argument("--number", help="application or registration number")
    search.add_argument("--class", dest="nice_class", type=int, help="Nice class (1-45)")
    search.add_argument("--owner", help="words of the holder name")
    search.add_argument("--limit", type=int, help="results per office (1-100, default 20)")
    search.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the node")
    search.add_argument("--json", action="store_true", help="print the node's JSON answer")
    search.set_defaults(handler=cmd_search)


def _params(args: argparse.Namespace) -> dict[str, str]:
    values = {"q": args.q, "number": args.number, "class": args.nice_class, "owner": args.owner,
              "limit": args.limit}
    return {name: str(value) for name, value in values.items() if value is not None}


async def _get(url: str, params: dict[str, str], timeout: float) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
        session.get(url, params=params, headers={"Accept": "application/json"}) as resp,
    ):
        body = await resp.content.read(MAX_RESPONSE + 1)
        if len(body) > MAX_RESPONSE:
            raise ValueError(f"the answer exceeds {MAX_RESPONSE} bytes")
        return resp.status, json.loads(body)


def reverify(answer: dict[str, Any], now: int) -> list[tuple[str, str]]:
    """(office DID, problem) for each office the node reports as answered whose signed bytes do not
    verify here as that office's answer to this query."""
    query = SearchQuery.from_params({k: str(v) for k, v in answer["query"].items()})
    problems: list[tuple[str, str]] = []
    for office in answer["offices"]:
        if office.get("status") != "answered":
            continue
        try:
            check_answer(b64url_decode(office["signed"]), office["did"], query, now)
        except InvalidAnswer as exc:
            problems.append((office["did"], f"{exc.code}: {exc.detail}"))
        except (KeyError, ValueError, TypeError) as exc:
            problems.append((office.get("did", "?"), f"unreadable answer: {exc}"))
    return problems


def _print_human(answer: dict[str, Any], problems: list[tuple[str, str]]) -> None:
    query = " ".join(f"{k}={v}" for k, v in answer["query"].items())
    s = answer["summary"]
    print(f"query: {query}")
    print(
        f"offices: {s['offices']} (answered {s['answered']}, invalid {s['invalid']}, "
        f"timeout {s['timeout']}, failed {s['failed']}, skipped (not accredited) {s.get('skipped', 0)})"
    )
    for office in answer["offices"]:
        label = office["name"] or office["did"]
        extra = "" if office["accredited"] else " [not accredited]"
        if office["status"] == "answered":
            result = office["result"]
            detail = f"{len(result['results'])} of {result['total']} results"
        else:
            detail = f"{office['error']['code']}: {office['error']['detail']}"
        where = f"{office['did']}, {office['elapsed_ms']} ms"
        print(f"  {office['status']:<8} {label}{extra} ({where}): {detail}")
    for did, problem in problems:
        print(f"  NOT VERIFIED HERE {did}: {problem}")
    names = {o["did"]: o["name"] or o["did"] for o in answer["offices"]}
    if answer["results"]:
        print("results:")
    for entry in answer["results"]:
        classes = ",".join(str(c) for c in entry.get("nice_classes", []))
        source = names.get(entry.get("office_did"), "")
        print(
            f"  {entry.get('office', '')} {entry.get('application_number')}"
            f"  {entry.get('verbal_element') or '-'}  {entry.get('holder_name', '')}"
            f"  classes {classes or '-'}  {entry.get('status', '')}  ({source})"
        )


def cmd_search(args: argparse.Namespace) -> int:
    params = _params(args)
    try:
        SearchQuery.from_params(params)  # refuse bad parameters before asking
        url = check_url(args.node, "node") + "/search/rights"
    except QueryError as exc:
        print(f"error: request.query: {exc.detail}", file=sys.stderr)
        return EXIT_UNUSABLE
    except ConfigError as exc:
        print(f"error: {exc.code}: {exc.detail}", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        status, answer = asyncio.run(_get(url, params, args.timeout))
    except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
        print(f"error: cannot search through {url}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    if status != 200 or not isinstance(answer, dict) or "offices" not in answer:
        code = answer.get("code", f"http.{status}") if isinstance(answer, dict) else f"http.{status}"
        detail = answer.get("detail", "") if isinstance(answer, dict) else ""
        print(f"error: {code}: {detail}", file=sys.stderr)
        return EXIT_UNUSABLE
    problems = reverify(answer, int(time.time()))
    if args.json:
        print(json.dumps(answer, indent=1, ensure_ascii=False))
        for did, problem in problems:
            print(f"not verified here: {did}: {problem}", file=sys.stderr)
    else:
        _print_human(answer, problems)
    return EXIT_INVALID if problems or answer["summary"]["invalid"] else EXIT_OK
