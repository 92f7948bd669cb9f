"""Node life cycle commands: ``init`` (create a node directory), ``run`` (serve it), ``publish``."""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import sys
from pathlib import Path

import aiohttp

from protocol.keys import KeyPair

from ..config import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    ROLES,
    NodeConfig,
    check_did,
    check_url,
    config_from_mapping,
    load_config,
    parse_listen,
    render_config,
)
from ..errors import ConfigError
from ..keystore import load_key, passphrase_from_env, save_key, write_new_file
from ..storage.db import open_database

EXIT_OK, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2
PUBLISH_TYPES = {".cose": "application/cose", ".cbor": "application/cbor", ".json": "application/json"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    init = subparsers.add_parser("init", help="create a node directory (key, config, database, admin token)")
    init.add_argument("--role", required=True, choices=ROLES)
    init.add_argument("--name", required=True, help="human-readable node name")
    init.add_argument(
        "--dir", required=True, type=Path, help="node directory to create (must not exist or be empty)"
    )
    init.add_argument(
        "--listen",
        default=f"{DEFAULT_HOST}:{DEFAULT_PORT}",
        help="HOST:PORT to listen on (port 0: pick at run time)",
    )
    init.add_argument(
        "--public-url", default="", help="URL peers use (default: derived from the listen address)"
    )
    init.add_argument(
        "--peer", action="append", default=[], metavar="URL", help="a peer node URL (repeatable)"
    )
    init.add_argument(
        "--trust-root", action="append", default=[], metavar="DID", help="a trusted root DID (repeatable)"
    )
    init.add_argument(
        "--passphrase-env", metavar="VAR", help="encrypt the key with the passphrase in env VAR"
    )
    init.set_defaults(handler=cmd_init)

    run = subparsers.add_parser("run", help="run a node from its directory")
    run.add_argument("--dir", required=True, type=Path)
    run.add_argument("--listen", help="override the configured HOST:PORT (port 0: a free port)")
    run.add_argument("--passphrase-env", metavar="VAR", help="env VAR holding the key passphrase")
    run.add_argument(
        "--log-format",
        choices=("json", "text"),
        default="json",
        help="stderr log lines: JSON objects, one per request and event (default), or text",
    )
    run.set_defaults(handler=cmd_run)

    publish = subparsers.add_parser("publish", help="post a signed object file to a node's /objects")
    publish.add_argument("--node", required=True, help="the node's base URL")
    publish.add_argument("file", type=Path)
    publish.set_defaults(handler=cmd_publish)


def cmd_init(args: argparse.Namespace) -> int:
    directory: Path = args.dir
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ConfigError(
            "config.exists", f"{directory} exists and is not an empty directory; refusing to overwrite"
        )
    host, port = parse_listen(args.listen)
    passphrase = passphrase_from_env(args.passphrase_env)
    # Validate everything before creating anything.
    config = config_from_mapping(
        directory.resolve(),
        {
            "role": args.role,
            "name": args.name,
            "host": host,
            "port": port,
            "public_url": check_url(args.public_url, "public_url") if args.public_url else "",
            "peers": [check_url(p, "peer") for p in args.peer],
            "trust_roots": [check_did(r) for r in args.trust_root],
            "key_encrypted": passphrase is not None,
        },
    )
    created_dir = not directory.exists()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        key = KeyPair.generate()
        save_key(config.key_path, key, passphrase)
        token = secrets.token_urlsafe(32)
        write_new_file(config.token_path, (token + "\n").encode("ascii"))
        open_database(config.db_path).close()
        config.db_path.chmod(0o600)  # register data and personal data live here; SQLite copies the mode
        write_new_file(config.config_path, render_config(config).encode("utf-8"))
    except BaseException:
        # Leave nothing half made: remove what this command created.
        if created_dir:
            shutil.rmtree(directory, ignore_errors=True)
        else:
            for child in directory.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        raise
    print(f"did: {key.did}")
    print(f"admin token: {config.token_path}")
    print(f"url: {_display_url(config)}")
    return EXIT_OK


def _display_url(config: NodeConfig) -> str:
    if config.public_url:
        return config.public_url
    if config.port == 0:
        return f"http://{config.host}:<port chosen at run time>"
    return config.url


def read_admin_token(config: NodeConfig) -> str:
    try:
        token = config.token_path.read_text("ascii").strip()
    except FileNotFoundError as exc:
        raise ConfigError("config.token-missing", f"{config.token_path} does not exist") from exc
    if not token:
        raise ConfigError("config.token-empty", f"{config.token_path} is empty")
    return token


def cmd_run(args: argparse.Namespace) -> int:
    from ..server import run_node  # imported here: the server pulls in the whole app

    config = load_config(args.dir)
    if args.listen:
        host, port = parse_listen(args.listen)
        config = config.__class__(**{**config.__dict__, "host": host, "port": port})
    if config.key_encrypted and not args.passphrase_env:
        raise ConfigError(
            "config.passphrase-required", "the node key is encrypted: give --passphrase-env VAR"
        )
    key = load_key(config.key_path, passphrase_from_env(args.passphrase_env))
    return run_node(config, key, read_admin_token(config), log_format=args.log_format)


def cmd_publish(args: argparse.Namespace) -> int:
    import asyncio

    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_UNUSABLE
    content_type = PUBLISH_TYPES.get(args.file.suffix.lower(), "application/cose")
    url = check_url(args.node, "node") + "/objects"
    try:
        status, body = asyncio.run(_post(url, data, content_type))
    except (aiohttp.ClientError, TimeoutError) as exc:
        print(f"error: cannot reach {url}: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    if status in (200, 201) and isinstance(body, dict) and "id" in body:
        print(body["id"])
        return EXIT_OK
    code = body.get("code", f"http.{status}") if isinstance(body, dict) else f"http.{status}"
    detail = body.get("detail", "") if isinstance(body, dict) else ""
    print(code)
    if detail:
        print(f"{code}: {detail}", file=sys.stderr)
    return EXIT_INVALID


async def _post(url: str, data: bytes, content_type: str) -> tuple[int, object]:
    timeout = aiohttp.ClientTimeout(total=30)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.post(url, data=data, headers={"Content-Type": content_type}) as resp,
    ):
        text = await resp.text()
        try:
            return resp.status, json.loads(text)
        except ValueError:
            return resp.status, None
