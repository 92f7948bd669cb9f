"""Every signed object the node holds, kept as its exact bytes under its id (hex SHA-256 of the bytes).

The store never re-encodes: what comes out of :meth:`ObjectStore.get` is byte for byte what was put,
so the id is the same on every node. Kind-specific lookups go through the ``object_fields`` table
(name, value) that the caller fills at :meth:`ObjectStore.put` time. Validation is the caller's job;
the store only checks that the id matches the bytes.
"""

from __future__ import annotations

import hashlib
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from ..errors import NotFound
from .db import joined_transaction

_META_COLUMNS = "id, kind, signer, created, expires, received_at, length(raw) AS size"


@dataclass(frozen=True)
class ObjectMeta:
    id: str
    kind: str
    signer: str
    created: int
    expires: int | None
    received_at: int
    size: int

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ObjectMeta:
        return cls(
            id=row["id"],
            kind=row["kind"],
            signer=row["signer"],
            created=int(row["created"]),
            expires=None if row["expires"] is None else int(row["expires"]),
            received_at=int(row["received_at"]),
            size=int(row["size"]),
        )


_LISTENERS: weakref.WeakKeyDictionary[
    sqlite_utils.Database, list[Callable[[str, str, int, int | None], None]]
] = weakref.WeakKeyDictionary()


class ObjectStore:
    """Signed objects in the ``objects`` and ``object_fields`` tables of one database."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        # Called as listener(id_hex, kind, created, expires) after each insert (gossip announces new
        # objects); a listener must not raise and must tolerate a later rollback of the insert.
        # Shared by every ObjectStore over the same database object, so an insert made through a store
        # a role module opened itself (e.g. the office's status list versions) is announced too.
        self.on_insert: list[Callable[[str, str, int, int | None], None]] = _LISTENERS.setdefault(db, [])

    def put(
        self,
        raw: bytes,
        *,
        kind: str,
        signer: str,
        created: int,
        expires: int | None,
        fields: Mapping[str, str | Sequence[str]] | None = None,
        received_at: int | None = None,
    ) -> tuple[str, bool]:
        """Store ``raw`` unless already present; return ``(id_hex, inserted)``.

        A field value may be a list to index several values under one name (e.g. several DIDs).
        """
        id_hex = hashlib.sha256(raw).hexdigest()
        now = int(time.time()) if received_at is None else received_at
        with joined_transaction(self.db):
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO objects (id, kind, signer, created, expires, received_at, raw)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [id_hex, kind, signer, created, expires, now, bytes(raw)],
            )
            inserted = cursor.rowcount == 1
            if inserted and fields:
                rows = [
                    (id_hex, name, value)
                    for name, values in fields.items()
                    for value in ([values] if isinstance(values, str) else values)
                ]
                self.db.conn.executemany(
                    "INSERT OR IGNORE INTO object_fields (object_id, name, value) VALUES (?, ?, ?)", rows
                )
        if inserted:
            for listener in self.on_insert:
                listener(id_hex, kind, created, expires)
        return id_hex, inserted

    def get(self, id_hex: str) -> bytes:
        row = self.db.execute("SELECT raw FROM objects WHERE id = ?", [id_hex.lower()]).fetchone()
        if row is None:
            raise NotFound("objects.not-found", f"no object {id_hex}")
        return bytes(row[0])

    def has(self, id_hex: str) -> bool:
        row = self.db.execute("SELECT 1 FROM objects WHERE id = ?", [id_hex.lower()]).fetchone()
        return row is not None

    def held(self, ids_hex: Sequence[str]) -> set[str]:
        """Which of ``ids_hex`` (lower-case hex) the store holds: one query for a batch."""
        out: set[str] = set()
        for start in range(0, len(ids_hex), 500):
            part = list(ids_hex[start : start + 500])
            marks = ", ".join("?" for _ in part)
            rows = self.db.execute(f"SELECT id FROM objects WHERE id IN ({marks})", part)
            out.update(str(row[0]) for row in rows)
        return out

    def get_meta(self, id_hex: str) -> ObjectMeta:
        rows = list(self.db.query(f"SELECT {_META_COLUMNS} FROM objects WHERE id = ?", [id_hex.lower()]))
        if not rows:
            raise NotFound("objects.not-found", f"no object {id_hex}")
        return ObjectMeta.from_row(rows[0])

    def fields(self, id_hex: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name, value in self.db.execute(
            "SELECT name, value FROM object_fields WHERE object_id = ? ORDER BY name, value", [id_hex.lower()]
        ):
            out.setdefault(name, []).append(value)
        return out

    def list(
        self,
        *,
        kind: str | None = None,
        signer: str | None = None,
        field: tuple[str, str] | None = None,
        limit: int = 1000,
    ) -> list[ObjectMeta]:
        """Objects matching every given filter, newest ``created`` first."""
        where: list[str] = []
        params: list[Any] = []
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        if signer is not None:
            where.append("signer = ?")
            params.append(signer)
        if field is not None:
            where.append("id IN (SELECT object_id FROM object_fields WHERE name = ? AND value = ?)")
            params.extend(field)
        sql = f"SELECT {_META_COLUMNS} FROM objects"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created DESC, id DESC LIMIT ?"
        params.append(int(limit))
        return [ObjectMeta.from_row(row) for row in self.db.query(sql, params)]

    def items(self, since: int = 0, *, limit: int | None = None) -> Iterator[ObjectMeta]:
        """Objects with ``created >= since`` in (created, id) order: the gossip reconciliation key."""
        sql = f"SELECT {_META_COLUMNS} FROM objects WHERE created >= ? ORDER BY created, id"
        params: list[Any] = [since]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        for row in self.db.query(sql, params):
            yield ObjectMeta.from_row(row)

    def counts_by_kind(self) -> dict[str, int]:
        """How many objects of each kind the node holds (admin status, dashboard, metrics)."""
        rows = self.db.execute("SELECT kind, COUNT(*) FROM objects GROUP BY kind ORDER BY kind")
        return {str(kind): int(n) for kind, n in rows}

    def count(self, kind: str | None = None) -> int:
        if kind is None:
            row = self.db.execute("SELECT COUNT(*) FROM objects").fetchone()
        else:
            row = self.db.execute("SELECT COUNT(*) FROM objects WHERE kind = ?", [kind]).fetchone()
        return int(row[0])

    def prune(
        self, kinds: Sequence[str], before: int, limit: int = 500, *, keep: Sequence[str] = ()
    ) -> list[str]:
        """Delete at most ``limit`` objects of ``kinds`` created before ``before`` (their field rows go by
        ON DELETE CASCADE) in one transaction; returns their ids. ``keep``: SELECTs of one id column whose
        ids are never deleted. Callers loop in bounded batches so a large backlog never holds the write
        lock for long (the retention prune, node/gossip/retention.py)."""
        if not kinds:
            return []
        marks = ", ".join("?" for _ in kinds)
        kept = "".join(f" AND id NOT IN ({select})" for select in keep)
        with joined_transaction(self.db):
            rows = self.db.execute(
                f"SELECT id FROM objects WHERE kind IN ({marks}) AND created < ?{kept}"
                " ORDER BY created LIMIT ?",
                [*kinds, before, int(limit)],
            ).fetchall()
            ids = [str(row[0]) for row in rows]
            self.db.conn.executemany("DELETE FROM objects WHERE id = ?", [(i,) for i in ids])
        return ids
