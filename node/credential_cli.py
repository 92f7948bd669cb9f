"""File and option handling shared by the credential, presentation, status-list and trust-list commands.

Why here: the commands read the same kinds of files (key files, credentials, status lists, trust lists)
and options (``--now``, ``--status-list``, ``--trust-list``); an unreadable file is always exit 2 with a
``config.*`` code, a readable but invalid document always exit 1 with the verifier's codes.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from protocol.data_integrity import SUITES
from protocol.errors import ProtocolError
from protocol.keys import KeyPair
from protocol.trust_list import TrustStore, verify_trust_list
from protocol.vc import format_datetime, load_json, parse_datetime
from protocol.verify import VerificationResult, result_text

from . import keystore
from .errors import ConfigError

EXIT_VALID, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2


def add_key_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--key", required=True, type=Path, help="key file (rightsmesh key new)")
    parser.add_argument("--passphrase-env", metavar="VAR", help="environment variable holding the passphrase")


def add_suite_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--suite", choices=SUITES, default=SUITES[0], help="Data Integrity cryptosuite")


def add_verify_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trust-list", type=Path, help="signed trust list (rightsmesh trust-list sign)")
    parser.add_argument("--trust-root", action="append", default=[], metavar="DID",
                        help="accept trust lists only from this root (repeatable; default: its signer)")
    parser.add_argument("--status-list", action="append", default=[], type=Path, metavar="FILE",
                        help="a status list credential (repeatable)")
    parser.add_argument("--no-status", action="store_true",
                        help="do not require status lists (the result says status was not checked)")
    parser.add_argument("--now", help="verify at this date-time (ISO 8601 with zone; default: now)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def load_key(args: argparse.Namespace) -> KeyPair:
    return keystore.load_key(args.key, keystore.passphrase_from_env(args.passphrase_env))


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError("config.read", f"cannot read {path}: {exc.strerror}") from exc


def read_json(path: Path) -> Any:
    """A JSON document from ``path``: bounded, repeated keys refused (DecodeError -> exit 2)."""
    return load_json(read_bytes(path))


def read_object(path: Path, what: str) -> dict[str, Any]:
    value = read_json(path)
    if not isinstance(value, dict):
        raise ConfigError("config.input", f"{path} must hold a JSON object ({what})")
    return value


def write_bytes(data: bytes, out: Path | None) -> None:
    """``data`` to ``out``, or to standard output without one; an unwritable file is ``config.write``."""
    if out is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise ConfigError("config.write", f"cannot write {out}: {exc.strerror}") from exc


def write_json(document: Any, out: Path | None) -> None:
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    write_bytes(text.encode("utf-8"), out)


def parse_moment(text: str | None, option: str = "--now") -> datetime:
    """An ISO 8601 date-time with zone (``Z`` or offset), or the current time when ``text`` is None."""
    if text is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        return parse_datetime(text, option)
    except ProtocolError as exc:
        raise ConfigError("config.time", f"{option} {text!r}: {exc.detail}") from exc


def timestamp(text: str | None, option: str = "--created") -> str:
    """An XSD dateTimeStamp for signing: the given one (checked) or now."""
    if text is None:
        return format_datetime(datetime.now(UTC))
    parse_moment(text, option)
    return text


def status_lists(paths: list[Path]) -> dict[str, Mapping[str, Any]]:
    """Status list credentials by their id (the URL credentials name); verified by the verifier."""
    out: dict[str, Mapping[str, Any]] = {}
    for path in paths:
        document = read_object(path, "a status list credential")
        url = document.get("id")
        if not isinstance(url, str):
            raise ConfigError("config.input", f"{path} is not a status list credential (no id)")
        out[url] = document
    return out


def trust_store(path: Path | None, roots: list[str], now: datetime) -> tuple[TrustStore | None, str | None]:
    """The trust store from ``--trust-list`` (and the root it came from), or (None, None) without one.

    Without ``--trust-root`` the file's signer is taken as the root: the operator chose the file."""
    if path is None:
        if roots:
            raise ConfigError("config.input", "--trust-root needs --trust-list")
        return None, None
    trust_list = verify_trust_list(read_bytes(path), int(now.timestamp()))
    store = TrustStore.with_roots(roots or [trust_list.root])
    return store.accept(trust_list), trust_list.root


@dataclass(frozen=True)
class VerifyInputs:
    """What ``credential verify`` and ``presentation verify`` read from the same options."""

    now: datetime
    document: dict[str, Any]
    trust: TrustStore | None
    trust_root: str | None
    status_lists: dict[str, Mapping[str, Any]]


def verify_inputs(args: argparse.Namespace, what: str) -> VerifyInputs:
    """Read ``args.file`` and the options of :func:`add_verify_options` (unusable input -> ConfigError)."""
    now = parse_moment(args.now)
    document = read_object(args.file, what)
    trust, root = trust_store(args.trust_list, args.trust_root, now)
    return VerifyInputs(now, document, trust, root, status_lists(args.status_list))


def report(result: VerificationResult, args: argparse.Namespace, trust_root: str | None) -> int:
    if args.json:
        body = result.to_json()
        body["trust_root"] = trust_root
        print(json.dumps(body, indent=2, ensure_ascii=False))
    else:
        print(result_text(result))
        if trust_root is not None:
            print(f"  trust root: {trust_root}")
    return EXIT_VALID if result.valid else EXIT_INVALID
