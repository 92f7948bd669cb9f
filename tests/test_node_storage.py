"""SQLite storage: migrations, transactions, and the object store's exact-bytes contract."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from node.errors import NotFound, StorageError
from node.storage import MIGRATIONS, Migration, ObjectStore, open_database, schema_version, transaction
from node.storage.db import JOURNAL_SIZE_LIMIT, WAL_AUTOCHECKPOINT_PAGES, check_integrity


def test_open_applies_every_migration_once(tmp_path: Path) -> None:
    db = open_database(tmp_path / "n.db")
    assert schema_version(db) == len(MIGRATIONS)
    assert db.journal_mode == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone() == (1,)
    assert db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    assert db.execute("PRAGMA wal_autocheckpoint").fetchone() == (WAL_AUTOCHECKPOINT_PAGES,)
    assert db.execute("PRAGMA journal_size_limit").fetchone() == (JOURNAL_SIZE_LIMIT,)
    db.close()
    db = open_database(tmp_path / "n.db", synchronous="normal")
    assert schema_version(db) == len(MIGRATIONS)
    assert db.execute("SELECT COUNT(*) FROM schema_version").fetchone() == (len(MIGRATIONS),)
    assert db.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
    assert check_integrity(db)


def test_migration_numbers_must_be_consecutive(tmp_path: Path) -> None:
    broken = (*MIGRATIONS, Migration(len(MIGRATIONS) + 2, "gap", "CREATE TABLE t (x)"))
    with pytest.raises(StorageError) as info:
        open_database(tmp_path / "n.db", migrations=broken)
    assert info.value.code == "storage.migrations"


def test_a_failing_migration_leaves_the_previous_version(tmp_path: Path) -> None:
    extra = Migration(len(MIGRATIONS) + 1, "bad", "CREATE TABLE fine (x);\nCREATE TABLE objects (y);")
    with pytest.raises(StorageError):
        open_database(tmp_path / "n.db", migrations=(*MIGRATIONS, extra))
    db = open_database(tmp_path / "n.db")
    assert schema_version(db) == len(MIGRATIONS)
    assert "fine" not in db.table_names()


def test_database_newer_than_software_is_refused(tmp_path: Path) -> None:
    extra = Migration(len(MIGRATIONS) + 1, "future", "CREATE TABLE future (x);")
    open_database(tmp_path / "n.db", migrations=(*MIGRATIONS, extra)).close()
    with pytest.raises(StorageError) as info:
        open_database(tmp_path / "n.db")
    assert info.value.code == "storage.schema-too-new"


def test_not_a_database(tmp_path: Path) -> None:
    (tmp_path / "n.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError) as info:
        open_database(tmp_path / "n.db")
    assert info.value.code == "storage.open"


def test_unknown_synchronous_mode(tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        open_database(tmp_path / "n.db", synchronous="off")


@pytest.fixture
def store(tmp_path: Path) -> ObjectStore:
    return ObjectStore(open_database(tmp_path / "n.db"))


def test_put_get_exact_bytes_and_meta(store: ObjectStore) -> None:
    raw = b"\xd2\x84exact bytes"
    id_hex, inserted = store.put(
        raw,
        kind="trust-list",
        signer="did:key:a",
        created=10,
        expires=20,
        fields={"m": ["x", "y"]},
        received_at=15,
    )
    assert inserted and id_hex == hashlib.sha256(raw).hexdigest()
    assert store.get(id_hex) == raw and store.get(id_hex.upper()) == raw
    meta = store.get_meta(id_hex)
    assert (meta.kind, meta.signer, meta.created, meta.expires, meta.received_at, meta.size) == (
        "trust-list",
        "did:key:a",
        10,
        20,
        15,
        len(raw),
    )
    assert store.fields(id_hex) == {"m": ["x", "y"]}
    assert store.put(raw, kind="other", signer="s", created=1, expires=None) == (id_hex, False)
    assert store.get_meta(id_hex).kind == "trust-list"


def test_missing_objects(store: ObjectStore) -> None:
    with pytest.raises(NotFound) as info:
        store.get("00" * 32)
    assert info.value.code == "objects.not-found"
    with pytest.raises(NotFound):
        store.get_meta("00" * 32)
    assert not store.has("00" * 32)


def test_list_filters_and_items_order(store: ObjectStore) -> None:
    a, _ = store.put(b"a", kind="k1", signer="s1", created=30, expires=None, fields={"f": "1"})
    b, _ = store.put(b"b", kind="k1", signer="s2", created=10, expires=None, fields={"f": "2"})
    c, _ = store.put(b"c", kind="k2", signer="s1", created=20, expires=None)
    assert [m.id for m in store.list()] == [a, c, b]
    assert [m.id for m in store.list(kind="k1")] == [a, b]
    assert [m.id for m in store.list(signer="s1")] == [a, c]
    assert [m.id for m in store.list(field=("f", "2"))] == [b]
    assert [m.id for m in store.list(limit=1)] == [a]
    assert [m.id for m in store.items()] == [b, c, a]
    assert [m.id for m in store.items(20)] == [c, a]
    assert [m.id for m in store.items(0, limit=2)] == [b, c]
    assert store.count() == 3 and store.count("k2") == 1


def test_transaction_rolls_back_everything(store: ObjectStore) -> None:
    with pytest.raises(RuntimeError), transaction(store.db):
        store.put(b"one", kind="k", signer="s", created=1, expires=None, fields={"f": "v"})
        store.put(b"two", kind="k", signer="s", created=1, expires=None)
        raise RuntimeError("fail after writing")
    assert store.count() == 0
    assert store.db.execute("SELECT COUNT(*) FROM object_fields").fetchone() == (0,)


def test_committed_write_is_visible_to_another_connection(store: ObjectStore, tmp_path: Path) -> None:
    id_hex, _ = store.put(b"durable", kind="k", signer="s", created=1, expires=None)
    other = sqlite3.connect(tmp_path / "n.db")
    assert other.execute("SELECT raw FROM objects WHERE id = ?", [id_hex]).fetchone() == (b"durable",)
