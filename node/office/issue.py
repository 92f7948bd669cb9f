"""Issuing right credentials and keeping the office's Bitstring Status List, inside the caller's transaction.

Each credential gets the next free index of the current status list (a new list is started when one is
full); revoking sets that index's bit and re-signs the list as a new version, which ``GET /status/{list}``
serves from then on. Shared by the HTTP routes and the CLI (node stopped or running: SQLite serialises).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from protocol.ip_right import issue_ip_right_credential, right_from_json
from protocol.keys import KeyPair
from protocol.register import public_view
from protocol.status_list import (
    MIN_ENTRIES,
    issue_status_list_credential,
    new_status_list,
    status_list_from_credential,
)
from protocol.status_list import (
    revoke as revoke_bits,
)
from protocol.vc import format_datetime

from ..errors import Conflict
from . import store

STATUS_PATH = "/status/"


def timestamp(now: int) -> str:
    return format_datetime(datetime.fromtimestamp(now, UTC))


def status_url(base_url: str, list_id: str) -> str:
    return base_url.rstrip("/") + STATUS_PATH + list_id


def _open_list(key: KeyPair, db: sqlite_utils.Database, base_url: str, now: int) -> str:
    """The id of a status list with a free index, creating (and signing) a new one when needed."""
    list_id = store.current_list_id(db)
    if list_id is not None:
        return list_id
    count = int(db.execute("SELECT COUNT(*) FROM status_lists").fetchone()[0])
    list_id = str(count + 1)
    status_list = new_status_list(status_url(base_url, list_id), key.did, "revocation", size=MIN_ENTRIES)
    credential = issue_status_list_credential(key, status_list, created=timestamp(now))
    store.save_status_list(
        db,
        list_id,
        version=status_list.version,
        next_index=0,
        size=status_list.size,
        credential=credential,
        now=now,
    )
    return list_id


def issue_credential(
    key: KeyPair, base_url: str, db: sqlite_utils.Database, right_key: str, holder: str, now: int
) -> dict[str, Any]:
    """Sign an IPRightCredential for ``holder`` over the register entry ``right_key`` and record it;
    its status entry points at ``base_url``/status/<list>."""
    entry = store.get_entry(db, right_key)
    right = right_from_json(public_view(entry))
    list_id = _open_list(key, db, base_url, now)
    index = store.allocate_index(db, list_id)
    credential_id = f"urn:uuid:{uuid.uuid4()}"
    credential = issue_ip_right_credential(
        key,
        holder,
        right,
        created=timestamp(now),
        status_list_url=status_url(base_url, list_id),
        status_index=index,
        credential_id=credential_id,
    )
    store.record_credential(
        db,
        credential_id=credential_id,
        right_key=entry.key,
        holder=holder,
        status_list=list_id,
        status_index=index,
        issued_at=now,
        valid_until=credential.get("validUntil"),
        credential=credential,
    )
    return credential


def revoke(key: KeyPair, db: sqlite_utils.Database, credential_id: str, now: int) -> dict[str, Any]:
    """Revoke one issued credential: set its bit and sign the next version of its status list."""
    row = store.get_credential(db, credential_id)
    if row["revoked_at"] is not None:
        raise Conflict("office.already-revoked", f"{credential_id} was revoked at {row['revoked_at']}")
    list_row = store.status_list_row(db, row["status_list"])
    assert list_row is not None  # the foreign key guarantees it
    current = status_list_from_credential(json.loads(list_row["credential"]))
    updated = revoke_bits(current, int(row["status_index"]))
    credential = issue_status_list_credential(key, updated, created=timestamp(now))
    store.save_status_list(
        db,
        row["status_list"],
        version=updated.version,
        next_index=list_row["next_index"],
        size=list_row["size"],
        credential=credential,
        now=now,
    )
    store.mark_revoked(db, credential_id, now)
    return {
        "credential": credential_id,
        "status_list": current.url,
        "status_index": int(row["status_index"]),
        "version": updated.version,
    }
