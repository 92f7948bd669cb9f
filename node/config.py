"""The node's configuration: ``config.toml`` in the node directory, flat keys, read with :mod:`tomllib`.

The file is written by ``rightsmesh init`` (by hand: it is flat, so no TOML writer is needed) and read
by ``rightsmesh run``. Every key is documented in ``specs/node-api.md``; unknown keys are refused so a
typo never silently falls back to a default.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from protocol.errors import ProtocolError
from protocol.keys import public_key_from_did

from .errors import ConfigError

ROLES = ("office", "marketplace")
CONFIG_FILE = "config.toml"
KEY_FILE = "node.key"
DB_FILE = "node.db"
TOKEN_FILE = "admin.token"

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8470
DEFAULT_MAX_BODY = 1 << 20  # 1 MiB: the largest request body any route accepts
DEFAULT_MAX_OBJECT = 65536  # a signed object (COSE) is at most this many bytes (the CBOR decode limit)
DEFAULT_SHUTDOWN_TIMEOUT = 10.0
DEFAULT_DESCRIPTOR_TTL = 86400
DEFAULT_GOSSIP_INTERVAL = 5.0
DEFAULT_GOSSIP_FANOUT = 3
DEFAULT_GOSSIP_VIEW = 5
DEFAULT_GOSSIP_TIMEOUT = 5.0
DEFAULT_SEARCH_TIMEOUT = 3.0
DEFAULT_RETENTION_DAYS = 365


@dataclass(frozen=True)
class NodeConfig:
    """A parsed ``config.toml``. ``public_url`` is empty when the node should derive it from its socket."""

    dir: Path
    role: str
    name: str
    host: str
    port: int
    public_url: str
    peers: tuple[str, ...]
    trust_roots: tuple[str, ...]
    max_body: int = DEFAULT_MAX_BODY
    max_object: int = DEFAULT_MAX_OBJECT
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT
    descriptor_ttl: int = DEFAULT_DESCRIPTOR_TTL
    sqlite_synchronous: str = "full"
    key_encrypted: bool = False
    # Gossip (node/gossip): seconds between reconciliations with a random peer, eager-push links,
    # peers kept in the dissemination view, and the timeout of one peer request.
    gossip_interval: float = DEFAULT_GOSSIP_INTERVAL
    gossip_fanout: int = DEFAULT_GOSSIP_FANOUT
    gossip_view: int = DEFAULT_GOSSIP_VIEW
    gossip_timeout: float = DEFAULT_GOSSIP_TIMEOUT
    # Federated search (node/search): seconds each office gets to answer GET /search/rights.
    search_timeout: float = DEFAULT_SEARCH_TIMEOUT
    # Processes that verify signatures of objects from peers (node/batch_check.py); 0 = in process.
    verify_workers: int = 0
    # Days event-like objects (notices, decisions, ...) are kept by ``created`` (protocol/retention.py);
    # 0 = forever. Older ones are refused on ingest, left out of reconciliation and pruned.
    retention_days: int = DEFAULT_RETENTION_DAYS

    @property
    def key_path(self) -> Path:
        return self.dir / KEY_FILE

    @property
    def db_path(self) -> Path:
        return self.dir / DB_FILE

    @property
    def token_path(self) -> Path:
        return self.dir / TOKEN_FILE

    @property
    def config_path(self) -> Path:
        return self.dir / CONFIG_FILE

    @property
    def url(self) -> str:
        """The URL peers use: ``public_url`` if set, else derived from host and port."""
        return self.public_url or f"http://{self.host}:{self.port}"


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (IPv6 as ``[::1]:PORT``); port 0 means a free port picked when the node starts."""
    host, sep, port_text = value.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ConfigError("config.listen", f"expected HOST:PORT, got {value!r}")
    port = int(port_text)
    if not 0 <= port <= 65535:
        raise ConfigError("config.listen", f"port out of range in {value!r}")
    return host.strip("[]"), port


def check_url(value: str, what: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"config.{what}", f"{what} must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def check_did(value: str) -> str:
    try:
        public_key_from_did(value)
    except ProtocolError as exc:
        raise ConfigError("config.trust-root", f"not a did:key DID: {value!r} ({exc.code})") from exc
    if "#" in value:
        raise ConfigError("config.trust-root", f"a trust root is a DID, not a DID URL: {value!r}")
    return value


_KEYS: dict[str, type | tuple[type, ...]] = {
    "role": str,
    "name": str,
    "host": str,
    "port": int,
    "public_url": str,
    "peers": list,
    "trust_roots": list,
    "max_body": int,
    "max_object": int,
    "shutdown_timeout": (int, float),
    "descriptor_ttl": int,
    "sqlite_synchronous": str,
    "key_encrypted": bool,
    "gossip_interval": (int, float),
    "gossip_fanout": int,
    "gossip_view": int,
    "gossip_timeout": (int, float),
    "search_timeout": (int, float),
    "verify_workers": int,
    "retention_days": int,
}
_REQUIRED = ("role", "name", "host", "port")
_GOSSIP_KEYS = ("gossip_interval", "gossip_fanout", "gossip_view", "gossip_timeout")


def config_from_mapping(directory: Path, data: Mapping[str, Any]) -> NodeConfig:
    """Validate a parsed config (every key typed and checked) into a :class:`NodeConfig`."""
    for key, value in data.items():
        expected = _KEYS.get(key)
        if expected is None:
            raise ConfigError("config.unknown-key", f"unknown key {key!r} in {CONFIG_FILE}")
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError("config.type", f"{key} has the wrong type in {CONFIG_FILE}")
    for key in _REQUIRED:
        if key not in data:
            raise ConfigError("config.missing-key", f"{CONFIG_FILE} lacks {key!r}")
    role = data["role"]
    if role not in ROLES:
        raise ConfigError("config.role", f"role must be one of {ROLES}, got {role!r}")
    name = data["name"].strip()
    if not name:
        raise ConfigError("config.name", "name must not be empty")
    port = data["port"]
    if not 0 <= port <= 65535:
        raise ConfigError("config.port", "port out of range")
    peers = data.get("peers", [])
    roots = data.get("trust_roots", [])
    if not all(isinstance(p, str) for p in peers) or not all(isinstance(r, str) for r in roots):
        raise ConfigError("config.type", "peers and trust_roots are lists of strings")
    public_url = data.get("public_url", "")
    numbers = {
        k: data[k]
        for k in (
            "max_body", "max_object", "descriptor_ttl", "shutdown_timeout", "search_timeout", *_GOSSIP_KEYS
        )
        if k in data
    }
    for key, value in numbers.items():
        if value <= 0:
            raise ConfigError("config.range", f"{key} must be positive")
    workers = data.get("verify_workers", 0)
    if not 0 <= workers <= 64:
        raise ConfigError("config.range", "verify_workers must be between 0 and 64")
    retention = data.get("retention_days", DEFAULT_RETENTION_DAYS)
    if not 0 <= retention <= 100 * 366:
        raise ConfigError("config.range", "retention_days is 0 (keep forever) or a number of days")
    synchronous = data.get("sqlite_synchronous", "full")
    if synchronous not in ("full", "normal"):
        raise ConfigError("config.sqlite-synchronous", "sqlite_synchronous is 'full' or 'normal'")
    return NodeConfig(
        dir=directory,
        role=role,
        name=name,
        host=data["host"],
        port=port,
        public_url=check_url(public_url, "public_url") if public_url else "",
        peers=tuple(check_url(p, "peer") for p in peers),
        trust_roots=tuple(check_did(r) for r in roots),
        max_body=int(numbers.get("max_body", DEFAULT_MAX_BODY)),
        max_object=int(numbers.get("max_object", DEFAULT_MAX_OBJECT)),
        shutdown_timeout=float(numbers.get("shutdown_timeout", DEFAULT_SHUTDOWN_TIMEOUT)),
        descriptor_ttl=int(numbers.get("descriptor_ttl", DEFAULT_DESCRIPTOR_TTL)),
        sqlite_synchronous=synchronous,
        key_encrypted=bool(data.get("key_encrypted", False)),
        gossip_interval=float(numbers.get("gossip_interval", DEFAULT_GOSSIP_INTERVAL)),
        gossip_fanout=int(numbers.get("gossip_fanout", DEFAULT_GOSSIP_FANOUT)),
        gossip_view=int(numbers.get("gossip_view", DEFAULT_GOSSIP_VIEW)),
        gossip_timeout=float(numbers.get("gossip_timeout", DEFAULT_GOSSIP_TIMEOUT)),
        search_timeout=float(numbers.get("search_timeout", DEFAULT_SEARCH_TIMEOUT)),
        verify_workers=workers,
        retention_days=retention,
    )


def load_config(directory: Path | str) -> NodeConfig:
    directory = Path(directory)
    path = directory / CONFIG_FILE
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError("config.missing", f"{path} does not exist (run `rightsmesh init` first)") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config.syntax", f"{path}: {exc}") from exc
    return config_from_mapping(directory.resolve(), data)


def _toml_value(value: Any) -> str:
    # JSON string escaping is a subset of TOML basic-string escaping; ints and bools print alike.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Sequence):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def render_config(config: NodeConfig) -> str:
    """The ``config.toml`` text for ``config`` (round-trips through :func:`load_config`)."""
    values: dict[str, Any] = {
        "role": config.role,
        "name": config.name,
        "host": config.host,
        "port": config.port,
        "public_url": config.public_url,
        "peers": list(config.peers),
        "trust_roots": list(config.trust_roots),
        "max_body": config.max_body,
        "max_object": config.max_object,
        "shutdown_timeout": config.shutdown_timeout,
        "descriptor_ttl": config.descriptor_ttl,
        "sqlite_synchronous": config.sqlite_synchronous,
        "key_encrypted": config.key_encrypted,
        "gossip_interval": config.gossip_interval,
        "gossip_fanout": config.gossip_fanout,
        "gossip_view": config.gossip_view,
        "gossip_timeout": config.gossip_timeout,
        "search_timeout": config.search_timeout,
        "verify_workers": config.verify_workers,
        "retention_days": config.retention_days,
    }
    lines = ["# rightsmesh node configuration (keys: specs/node-api.md)"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"
