"""The office's tables: register entries, issuance offers, c_nonces, issued credentials, status lists.

Plain functions over a ``sqlite_utils.Database`` so the CLI (node stopped) and the HTTP handlers share
them. Callers wrap each request or command in one ``transaction(db)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import sqlite_utils

from protocol.acceptance import STATUS_LIST_KIND, sequence_field
from protocol.issuance import Offer
from protocol.register import RegisterEntry, entry_from_mapping, entry_to_mapping, public_view

from ..errors import NotFound
from ..storage.db import transaction
from ..storage.objects import ObjectStore

MAX_LIMIT = 100
DEFAULT_LIMIT = 20
IMPORT_BATCH = 500


@dataclass(frozen=True)
class ImportCounts:
    inserted: int
    updated: int
    unchanged: int


def _entry_json(entry: RegisterEntry) -> str:
    return json.dumps(entry_to_mapping(entry), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def import_entries(
    db: sqlite_utils.Database,
    entries: Iterable[RegisterEntry],
    now: int,
    *,
    progress: Callable[[int], None] | None = None,
) -> ImportCounts:
    """Insert or update entries by key; re-importing the same file changes nothing (idempotent).

    Batches of ``IMPORT_BATCH`` entries each commit in one transaction; ``progress(done)`` after each.
    """
    inserted = updated = unchanged = done = 0
    batch: list[RegisterEntry] = []

    def flush() -> None:
        nonlocal inserted, updated, unchanged, done
        with transaction(db):
            for entry in batch:
                text = _entry_json(entry)
                row = db.execute("SELECT entry FROM register_entries WHERE key = ?", [entry.key]).fetchone()
                if row is not None and row[0] == text:
                    unchanged += 1
                    continue
                db.execute(
                    "INSERT INTO register_entries (key, office, application_number, registration_number,"
                    " verbal_element, holder_name, status, entry, imported_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET registration_number = excluded.registration_number,"
                    " verbal_element = excluded.verbal_element, holder_name = excluded.holder_name,"
                    " status = excluded.status, entry = excluded.entry, imported_at = excluded.imported_at",
                    [
                        entry.key,
                        entry.office,
                        entry.application_number,
                        entry.registration_number,
                        entry.verbal_element,
                        entry.holder_name,
                        entry.status,
                        text,
                        now,
                    ],
                )
                db.execute("DELETE FROM register_classes WHERE key = ?", [entry.key])
                db.conn.executemany(
                    "INSERT INTO register_classes (key, class) VALUES (?, ?)",
                    [(entry.key, c) for c in entry.nice_classes],
                )
                if row is None:
                    inserted += 1
                else:
                    updated += 1
        done += len(batch)
        batch.clear()
        if progress is not None:
            progress(done)

    for entry in entries:
        batch.append(entry)
        if len(batch) >= IMPORT_BATCH:
            flush()
    if batch:
        flush()
    return ImportCounts(inserted, updated, unchanged)


def get_entry(db: sqlite_utils.Database, number: str) -> RegisterEntry:
    """The entry with this application (or registration) number, or ``OFFICE:number`` key."""
    row = db.execute(
        "SELECT entry FROM register_entries"
        " WHERE key = ? OR application_number = ? OR registration_number = ?"
        " ORDER BY key LIMIT 1",
        [number, number, number],
    ).fetchone()
    if row is None:
        raise NotFound("office.unknown-right", f"no register entry {number!r}")
    return entry_from_mapping(json.loads(row[0]))


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(
    db: sqlite_utils.Database,
    *,
    q: str | None = None,
    number: str | None = None,
    nice_class: int | None = None,
    owner: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> tuple[list[dict[str, Any]], int]:
    """Matching entries (public view, by application number) and the total count before ``limit``."""
    where: list[str] = []
    params: list[Any] = []
    for word in (q or "").split():
        where.append("(verbal_element LIKE ? ESCAPE '\\' OR holder_name LIKE ? ESCAPE '\\')")
        params += [_like(word), _like(word)]
    for word in (owner or "").split():
        where.append("holder_name LIKE ? ESCAPE '\\'")
        params.append(_like(word))
    if number:
        where.append("(application_number = ? OR registration_number = ?)")
        params += [number, number]
    if nice_class is not None:
        where.append("key IN (SELECT key FROM register_classes WHERE class = ?)")
        params.append(nice_class)
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    total = int(db.execute(f"SELECT COUNT(*) FROM register_entries{clause}", params).fetchone()[0])
    rows = db.execute(
        f"SELECT entry FROM register_entries{clause} ORDER BY application_number, key LIMIT ?",
        [*params, limit],
    ).fetchall()
    return [public_view(entry_from_mapping(json.loads(r[0]))) for r in rows], total


# --- offers and nonces ---------------------------------------------------------------------------------


def save_offer(db: sqlite_utils.Database, offer: Offer) -> None:
    db.execute(
        "INSERT INTO offers"
        " (id, right_key, code_hash, created, expires, attempts, max_attempts, state, holder)"
        " VALUES (:id, :right_key, :code_hash, :created, :expires, :attempts, :max_attempts, :state, :holder)"
        " ON CONFLICT (id) DO UPDATE SET attempts = excluded.attempts, state = excluded.state,"
        " holder = excluded.holder",
        asdict(offer),
    )


def load_offer(db: sqlite_utils.Database, offer_id: str) -> Offer:
    rows = list(db.query("SELECT * FROM offers WHERE id = ?", [offer_id]))
    if not rows:
        raise NotFound("office.unknown-offer", "no such offer")
    row = rows[0]
    return Offer(**{k: row[k] for k in Offer.__dataclass_fields__})


def list_offers(db: sqlite_utils.Database, right_key: str | None = None) -> list[Offer]:
    sql, params = "SELECT * FROM offers", []
    if right_key:
        sql, params = sql + " WHERE right_key = ?", [right_key]
    return [
        Offer(**{k: r[k] for k in Offer.__dataclass_fields__})
        for r in db.query(sql + " ORDER BY created", params)
    ]


# --- credentials and status lists ----------------------------------------------------------------------


def record_credential(
    db: sqlite_utils.Database,
    *,
    credential_id: str,
    right_key: str,
    holder: str,
    status_list: str,
    status_index: int,
    issued_at: int,
    valid_until: str | None,
    credential: Mapping[str, Any],
) -> None:
    db.execute(
        "INSERT INTO credentials (id, right_key, holder, status_list, status_index, issued_at, valid_until,"
        " credential) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            credential_id,
            right_key,
            holder,
            status_list,
            status_index,
            issued_at,
            valid_until,
            json.dumps(credential, separators=(",", ":"), ensure_ascii=False),
        ],
    )


def get_credential(db: sqlite_utils.Database, credential_id: str) -> dict[str, Any]:
    rows = list(db.query("SELECT * FROM credentials WHERE id = ?", [credential_id]))
    if not rows:
        raise NotFound("office.unknown-credential", f"no credential {credential_id!r} issued here")
    return dict(rows[0])


def list_credentials(db: sqlite_utils.Database, right_key: str | None = None) -> list[dict[str, Any]]:
    sql, params = (
        "SELECT id, right_key, holder, status_list, status_index, issued_at, valid_until, revoked_at"
        " FROM credentials",
        [],
    )
    if right_key:
        sql, params = sql + " WHERE right_key = ?", [right_key]
    return [dict(r) for r in db.query(sql + " ORDER BY issued_at, id", params)]


def mark_revoked(db: sqlite_utils.Database, credential_id: str, now: int) -> None:
    db.execute(
        "UPDATE credentials SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [now, credential_id]
    )


def revoked_indexes(db: sqlite_utils.Database, status_list: str) -> list[int]:
    return [
        int(r[0])
        for r in db.execute(
            "SELECT status_index FROM credentials"
            " WHERE status_list = ? AND revoked_at IS NOT NULL ORDER BY 1",
            [status_list],
        )
    ]


def status_list_row(db: sqlite_utils.Database, list_id: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM status_lists WHERE id = ?", [list_id]))
    return dict(rows[0]) if rows else None


def current_list_id(db: sqlite_utils.Database) -> str | None:
    """The newest status list that still has free indexes."""
    row = db.execute(
        "SELECT id FROM status_lists WHERE next_index < size ORDER BY rowid DESC LIMIT 1"
    ).fetchone()
    return None if row is None else str(row[0])


def save_status_list(
    db: sqlite_utils.Database,
    list_id: str,
    *,
    version: int,
    next_index: int,
    size: int,
    credential: Mapping[str, Any],
    now: int,
) -> None:
    """Record a list version; its exact bytes also go to the object store (kind ``status-list``, the
    fields ``POST /objects`` indexes), so the revocation spreads by gossip and ``GET /objects/{id}``."""
    text = json.dumps(credential, separators=(",", ":"), ensure_ascii=False)
    db.execute(
        "INSERT INTO status_lists (id, version, next_index, size, credential, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version,"
        " next_index = excluded.next_index, credential = excluded.credential,"
        " updated_at = excluded.updated_at",
        [list_id, version, next_index, size, text, now],
    )
    subject = credential["credentialSubject"]
    ObjectStore(db).put(
        text.encode("utf-8"),
        kind=STATUS_LIST_KIND,
        signer=str(credential["issuer"]),
        created=now,
        expires=None,
        fields={
            "url": str(credential["id"]),
            "purpose": str(subject["statusPurpose"]),
            "version": sequence_field(version),
        },
        received_at=now,
    )


def allocate_index(db: sqlite_utils.Database, list_id: str) -> int:
    row = db.execute("SELECT next_index FROM status_lists WHERE id = ?", [list_id]).fetchone()
    index = int(row[0])
    db.execute("UPDATE status_lists SET next_index = next_index + 1 WHERE id = ?", [list_id])
    return index


def lapsed_credentials(db: sqlite_utils.Database, in_force: frozenset[str]) -> list[str]:
    """Unrevoked credentials whose register entry no longer has a status in ``in_force``."""
    marks = ", ".join("?" for _ in in_force)
    return [
        str(r[0])
        for r in db.execute(
            "SELECT c.id FROM credentials c JOIN register_entries e ON e.key = c.right_key"
            f" WHERE c.revoked_at IS NULL AND e.status NOT IN ({marks}) ORDER BY c.issued_at, c.id",
            sorted(in_force),
        )
    ]
