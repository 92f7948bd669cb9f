"""The node key file, optionally encrypted under a passphrase.

A plain key file is helper A's format (:mod:`node.keyfile`). The encrypted variant wraps those exact
bytes: a JSON envelope carrying the Argon2id parameters (libsodium ``crypto_pwhash``, via
``nacl.pwhash.argon2id``) and a ``nacl.secret.SecretBox`` (XSalsa20-Poly1305) ciphertext. Keeping the
parameters in the file lets them be raised later without breaking old files; authenticated encryption
makes a wrong passphrase fail cleanly (``config.passphrase-wrong``) rather than yield a wrong key.
Files are created with mode 0600 and never overwritten.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from protocol.errors import ProtocolError
from protocol.keys import KeyPair

from . import keyfile
from .errors import ConfigError

ENVELOPE_TYPE = "rightsmesh-encrypted-key"
OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_MODERATE
MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    return bytes(
        nacl.pwhash.argon2id.kdf(
            nacl.secret.SecretBox.KEY_SIZE,
            passphrase.encode("utf-8"),
            salt,
            opslimit=opslimit,
            memlimit=memlimit,
        )
    )


def encrypt_key_bytes(
    plain: bytes, did: str, passphrase: str, *, opslimit: int = OPSLIMIT, memlimit: int = MEMLIMIT
) -> bytes:
    """The encrypted envelope around a plain key file's bytes."""
    if not passphrase:
        raise ConfigError("config.passphrase-empty", "the passphrase must not be empty")
    salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
    box = nacl.secret.SecretBox(_derive(passphrase, salt, opslimit, memlimit))
    envelope = {
        "type": ENVELOPE_TYPE,
        "version": 1,
        "did": did,
        "kdf": {"name": "argon2id", "opslimit": opslimit, "memlimit": memlimit, "salt": _b64(salt)},
        "cipher": "xsalsa20-poly1305",
        "ciphertext": _b64(bytes(box.encrypt(plain))),
    }
    return (json.dumps(envelope, indent=2) + "\n").encode("utf-8")


def _envelope(data: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(value, dict) and value.get("type") == ENVELOPE_TYPE:
        return value
    return None


def is_encrypted(data: bytes) -> bool:
    return _envelope(data) is not None


def decrypt_key_bytes(data: bytes, passphrase: str) -> bytes:
    envelope = _envelope(data)
    if envelope is None:
        raise ConfigError("config.key-format", "not an encrypted rightsmesh key file")
    try:
        kdf = envelope["kdf"]
        if envelope["version"] != 1 or kdf["name"] != "argon2id" or envelope["cipher"] != "xsalsa20-poly1305":
            raise ConfigError("config.key-format", "unsupported key file encryption")
        key = _derive(passphrase, _unb64(kdf["salt"]), int(kdf["opslimit"]), int(kdf["memlimit"]))
        return bytes(nacl.secret.SecretBox(key).decrypt(_unb64(envelope["ciphertext"])))
    except nacl.exceptions.CryptoError as exc:
        raise ConfigError("config.passphrase-wrong", "the passphrase does not open this key file") from exc
    except (KeyError, TypeError, ValueError, nacl.exceptions.ValueError) as exc:
        raise ConfigError("config.key-format", f"malformed encrypted key file: {exc}") from exc


def write_new_file(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600 atomically refusing to overwrite (O_EXCL), and fsync it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise ConfigError("config.exists", f"{path} already exists; refusing to overwrite") from exc
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def save_key(path: Path, key: KeyPair, passphrase: str | None = None) -> None:
    """Write ``key`` to a new file (0600), encrypted when a passphrase is given."""
    plain = keyfile.dump_key(key)
    data = plain if passphrase is None else encrypt_key_bytes(plain, key.did, passphrase)
    write_new_file(path, data)


def load_key(path: Path, passphrase: str | None = None) -> KeyPair:
    """Read a plain or encrypted key file; an encrypted one needs ``passphrase``."""
    data = keyfile.read_key_file(path)
    if is_encrypted(data):
        if passphrase is None:
            raise ConfigError("config.passphrase-required", f"{path} is encrypted: give --passphrase-env VAR")
        data = decrypt_key_bytes(data, passphrase)
    try:
        return keyfile.parse_key(data)
    except ProtocolError as exc:
        raise ConfigError("config.key-format", f"{path}: {exc.detail}") from exc


def passphrase_from_env(var: str | None) -> str | None:
    """The passphrase held in environment variable ``var`` (never a command-line argument: ps shows those)."""
    if var is None:
        return None
    value = os.environ.get(var)
    if value is None:
        raise ConfigError("config.passphrase-env", f"environment variable {var} is not set")
    if not value:
        raise ConfigError("config.passphrase-empty", f"environment variable {var} is empty")
    return value
