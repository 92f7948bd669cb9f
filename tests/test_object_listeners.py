"""ObjectStore.on_insert listeners are shared by every store over the same database object, so an
object stored through a store a role module opened itself (the office's status list versions) is
announced to gossip like one stored through the app's store."""

from __future__ import annotations

from pathlib import Path

from node.storage.db import open_database
from node.storage.objects import ObjectStore


def test_listeners_shared_per_database(tmp_path: Path) -> None:
    db = open_database(tmp_path / "a.db")
    other = open_database(tmp_path / "b.db")
    try:
        heard: list[tuple[str, str]] = []
        ObjectStore(db).on_insert.append(lambda id_hex, kind, created, expires: heard.append((id_hex, kind)))
        meta = {"kind": "status-list", "signer": "did:x", "created": 1, "expires": None}
        id_hex, inserted = ObjectStore(db).put(b"one", **meta)  # type: ignore[arg-type]
        assert inserted and heard == [(id_hex, "status-list")]
        ObjectStore(db).put(b"one", **meta)  # type: ignore[arg-type]
        assert len(heard) == 1  # not inserted again: not announced again
        ObjectStore(other).put(b"two", **meta)  # type: ignore[arg-type]
        assert len(heard) == 1  # another database has its own listeners
    finally:
        db.close()
        other.close()
