"""The wallet directory: the key, credentials, marketplaces met, sent notices, receipts and decisions.

Plain files, so a holder can back a wallet up or inspect it with ordinary tools::

    W/wallet.key                key file (0600; passphrase-encrypted with node/keystore.py if asked)
    W/credentials/<h>.json      credentials held (right credentials, authorisations given or received)
    W/marketplaces.json         DID -> base URL, learned from signed node descriptors
    W/enrolments.json           enrolment results (marketplace, enrolment id, signed receipt)
    W/notices/<id>.cose         notices sent (exact signed bytes; the id is their SHA-256)
    W/notices/<id>.json         where each was sent
    W/receipts/<id>.cose        receipts received (art. 16(4))
    W/decisions/<id>.cose       decisions received, from any node

Every signed file is stored under the SHA-256 of its bytes and re-verified when read.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protocol.errors import ProtocolError
from protocol.keys import KeyPair
from protocol.messages import SignedMessage, verify_message

from ..errors import ConfigError
from ..keystore import load_key, save_key

KEY_FILE = "wallet.key"
SUBDIRS = ("credentials", "notices", "receipts", "decisions")


def _write(path: Path, data: bytes) -> None:
    """Write atomically (temp file + rename), mode 0600: a wallet holds personal data."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


@dataclass
class Wallet:
    dir: Path
    key: KeyPair

    @property
    def did(self) -> str:
        return self.key.did

    # -- creation ---------------------------------------------------------------------------------

    @classmethod
    def create(cls, directory: Path, *, passphrase: str | None = None, key: KeyPair | None = None) -> Wallet:
        directory = Path(directory)
        if (directory / KEY_FILE).exists():
            raise ConfigError("wallet.exists", f"{directory} already holds a wallet")
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        for sub in SUBDIRS:
            (directory / sub).mkdir(mode=0o700, exist_ok=True)
        key = key or KeyPair.generate()
        save_key(directory / KEY_FILE, key, passphrase)
        return cls(directory, key)

    @classmethod
    def open(cls, directory: Path, *, passphrase: str | None = None) -> Wallet:
        directory = Path(directory)
        if not (directory / KEY_FILE).exists():
            raise ConfigError("wallet.missing", f"{directory} is not a wallet (rightsmesh wallet new --dir)")
        return cls(directory, load_key(directory / KEY_FILE, passphrase))

    # -- credentials ------------------------------------------------------------------------------

    def add_credential(self, document: dict[str, Any]) -> Path:
        cid = document.get("id")
        if not isinstance(cid, str):
            raise ConfigError("wallet.credential-id", "a credential to keep needs an id")
        path = self.dir / "credentials" / (hashlib.sha256(cid.encode()).hexdigest()[:32] + ".json")
        _write(path, json.dumps(document, indent=1, sort_keys=True).encode())
        return path

    def credentials(self) -> list[dict[str, Any]]:
        out = []
        for path in sorted((self.dir / "credentials").glob("*.json")):
            out.append(json.loads(path.read_bytes()))
        return out

    def credential(self, cid: str) -> dict[str, Any] | None:
        return next((c for c in self.credentials() if c.get("id") == cid), None)

    def rights(self) -> list[dict[str, Any]]:
        """Right credentials held (this wallet's own, or a holder's given to this agent)."""
        return [c for c in self.credentials() if "IPRightCredential" in c.get("type", [])]

    def authorisations(self, *, received: bool = True) -> list[dict[str, Any]]:
        """Authorisations naming this wallet as agent (``received``) or issued by it."""
        out = []
        for c in self.credentials():
            if "AgentAuthorisationCredential" not in c.get("type", []):
                continue
            subject = c.get("credentialSubject", {}).get("id")
            if (subject == self.did) == received:
                out.append(c)
        return out

    # -- marketplaces and enrolments ----------------------------------------------------------------

    def _json(self, name: str, default: Any) -> Any:
        path = self.dir / name
        return json.loads(path.read_bytes()) if path.exists() else default

    def marketplaces(self) -> dict[str, str]:
        value: dict[str, str] = self._json("marketplaces.json", {})
        return value

    def remember_marketplace(self, did: str, url: str) -> None:
        known = self.marketplaces()
        if known.get(did) != url:
            known[did] = url
            _write(self.dir / "marketplaces.json", json.dumps(known, indent=1, sort_keys=True).encode())

    def add_enrolment(self, record: dict[str, Any]) -> None:
        records = self._json("enrolments.json", [])
        records.append(record)
        _write(self.dir / "enrolments.json", json.dumps(records, indent=1).encode())

    def enrolments(self) -> list[dict[str, Any]]:
        value: list[dict[str, Any]] = self._json("enrolments.json", [])
        return value

    # -- signed messages ----------------------------------------------------------------------------

    def add_signed(self, folder: str, raw: bytes) -> str:
        id_hex = hashlib.sha256(raw).hexdigest()
        path = self.dir / folder / f"{id_hex}.cose"
        if not path.exists():
            _write(path, raw)
        return id_hex

    def signed(self, folder: str, now: int) -> Iterator[SignedMessage]:
        for path in sorted((self.dir / folder).glob("*.cose")):
            try:
                yield verify_message(path.read_bytes(), now, max_skew=10**9)
            except ProtocolError:
                continue  # expired or damaged: not shown

    def add_notice(self, raw: bytes, sent_to: dict[str, str]) -> str:
        id_hex = self.add_signed("notices", raw)
        meta = self.dir / "notices" / f"{id_hex}.json"
        _write(meta, json.dumps({"sent_to": sent_to}, indent=1, sort_keys=True).encode())
        return id_hex

    def notice_meta(self, id_hex: str) -> dict[str, Any]:
        path = self.dir / "notices" / f"{id_hex}.json"
        value: dict[str, Any] = json.loads(path.read_bytes()) if path.exists() else {"sent_to": {}}
        return value
