"""Opening the node database: WAL journal, foreign keys, busy timeout, migrations.

Durability: WAL with ``synchronous=FULL`` (the default here) fsyncs the WAL on every commit, so an
acknowledged write survives a process crash (``kill -9``) *and* an OS crash or power loss.
``synchronous=NORMAL`` (config key ``sqlite_synchronous = "normal"``) skips that fsync: still safe against
a process crash, since the committed WAL frames are in the OS page cache, but the last commits may be
lost on power loss. A node acknowledges objects to peers, so FULL is the default.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from ..errors import StorageError
from .migrations import MIGRATIONS, Migration

SYNCHRONOUS_MODES = ("full", "normal")
BUSY_TIMEOUT_MS = 5000
# WAL pages before an automatic checkpoint (SQLite's default: 1000, 4 MB). Objects are keyed by random
# hashes, so each one dirties about one page per index; a gossip chunk of 256 objects dirtied ~1000
# pages and made nearly every commit a checkpoint that wrote them all again (and fsynced the database).
# A longer WAL lets a checkpoint write a page once for many commits: ingest of 12,000 objects went from
# 74 to 58 us per object (scripts/bench/ingest.py breakdown, same run). Durability is unchanged (commits
# are durable in the WAL); the WAL file is bounded by JOURNAL_SIZE_LIMIT after a checkpoint.
WAL_AUTOCHECKPOINT_PAGES = 4000
JOURNAL_SIZE_LIMIT = 64 << 20


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One transaction (a savepoint when nested): everything inside commits together or not at all."""
    with db.atomic():
        yield db


@contextmanager
def joined_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """A transaction, or, inside one already open, simply part of it (no savepoint).

    For steps whose only failure after a write is a database error, which aborts the enclosing
    transaction anyway: gossip stores a chunk of objects in one transaction, and two savepoints per
    object (SAVEPOINT and RELEASE statements) cost about as much as the object's INSERTs.
    """
    if db.conn.in_transaction:
        yield db
        return
    with db.atomic():
        yield db


def schema_version(db: sqlite_utils.Database) -> int:
    row = db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
    return int(row[0])


def _check_migrations(migrations: Sequence[Migration]) -> None:
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise StorageError(
                "storage.migrations",
                f"migration numbers must run 1, 2, 3, ...; found {migration.version} at position {expected}",
            )


def apply_migrations(db: sqlite_utils.Database, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply every migration newer than the database; return the resulting version."""
    _check_migrations(migrations)
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY NOT NULL, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))"
    )
    current = schema_version(db)
    if current > len(migrations):
        raise StorageError(
            "storage.schema-too-new",
            f"the database is at schema version {current}; this software knows {len(migrations)}",
        )
    for migration in migrations[current:]:
        with transaction(db):
            cursor = db.conn.cursor()
            for statement in _statements(migration.sql):
                cursor.execute(statement)
            db.execute(
                "INSERT INTO schema_version (version, name) VALUES (?, ?)",
                [migration.version, migration.name],
            )
    return schema_version(db)


def _statements(sql: str) -> list[str]:
    """Split a migration script into complete statements (``executescript`` would commit mid-way)."""
    statements, buffer = [], ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise StorageError("storage.migrations", "a migration ends with an incomplete statement")
    return statements


def open_database(
    path: Path | str,
    *,
    synchronous: str = "full",
    migrations: Sequence[Migration] = MIGRATIONS,
) -> sqlite_utils.Database:
    """Open (creating if needed) the database at ``path`` and bring its schema up to date."""
    if synchronous not in SYNCHRONOUS_MODES:
        raise StorageError("storage.synchronous", f"sqlite_synchronous must be one of {SYNCHRONOUS_MODES}")
    try:
        db = sqlite_utils.Database(str(path))
        db.enable_wal()
        db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        db.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        db.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
        apply_migrations(db, migrations)
    except sqlite3.DatabaseError as exc:
        raise StorageError("storage.open", f"cannot open database {path}: {exc}") from exc
    return db


def check_integrity(db: sqlite_utils.Database) -> bool:
    """``PRAGMA integrity_check`` answers the single row ``ok`` on a sound database."""
    rows = db.execute("PRAGMA integrity_check").fetchall()
    return rows == [("ok",)]
