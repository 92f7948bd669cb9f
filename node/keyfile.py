"""The plain private-key file: a small JSON object, written once with mode 0600.

Format (UTF-8 JSON, one object)::

    {"type": "Ed25519", "did": "did:key:z6Mk…", "privateKeyMultibase": "z3u2…"}

``privateKeyMultibase`` is the Multikey form (multicodec ed25519-priv 0x8026, base58btc) of the 32-byte
seed; ``did`` is redundant and checked on load, so a file edited by hand cannot silently name another
key. The file is created with ``O_CREAT | O_EXCL`` and mode 0600 in one step: there is no moment when
it exists with wider permissions, and an existing key is never overwritten. :mod:`node.keystore` wraps
these bytes for the passphrase-encrypted variant.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from protocol.keys import KeyPair

from .errors import ConfigError

KEY_TYPE = "Ed25519"


def dump_key(key: KeyPair) -> bytes:
    """The file bytes for ``key``."""
    body = {"type": KEY_TYPE, "did": key.did, "privateKeyMultibase": key.private_multibase}
    return (json.dumps(body, indent=2) + "\n").encode("utf-8")


def parse_key(data: bytes) -> KeyPair:
    """The key pair in a key file's bytes; ConfigError (or a ProtocolError from key decoding) if malformed."""
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigError("config.key-format", "a key file is a UTF-8 JSON object") from exc
    if not isinstance(body, dict) or body.get("type") != KEY_TYPE:
        raise ConfigError("config.key-format", f"a key file is a JSON object with type {KEY_TYPE!r}")
    private = body.get("privateKeyMultibase")
    if not isinstance(private, str):
        raise ConfigError("config.key-format", "privateKeyMultibase is missing")
    key = KeyPair.from_private_multibase(private)
    if "did" in body and body["did"] != key.did:
        raise ConfigError("config.key-format", "the file's did does not match its private key")
    return key


def save_key(path: Path, key: KeyPair) -> None:
    """Create ``path`` (mode 0600, refusing to overwrite) holding ``key``."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise ConfigError("config.exists", f"{path} already exists; refusing to overwrite") from exc
    except OSError as exc:
        raise ConfigError("config.write", f"cannot create {path}: {exc.strerror}") from exc
    try:
        os.fchmod(fd, 0o600)  # the umask cannot have widened it, but it may have narrowed it
        os.write(fd, dump_key(key))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_key_file(path: Path) -> bytes:
    """A key file's bytes; a missing or unreadable file (a directory, no permission) is a ConfigError."""
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError("config.key-missing", f"{path} does not exist") from exc
    except OSError as exc:
        raise ConfigError("config.key-unreadable", f"cannot read {path}: {exc.strerror}") from exc


def load_key(path: Path) -> KeyPair:
    """Read a plain key file."""
    return parse_key(read_key_file(path))
