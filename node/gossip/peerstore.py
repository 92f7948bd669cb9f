"""The peer table in the node database (table ``gossip_peers``), so a restarted node remembers its peers,
their backoff, scores and bans.

The table is made by migration 4 (``node/storage/migrations.py``). The in-memory
:class:`protocol.peers.PeerTable` stays the authority while the node runs; rows are written
back when they change (every maintenance round and at shutdown) and read once at start.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import sqlite_utils

from protocol.peers import Peer, PeerPolicy, PeerState, PeerTable

from ..storage.db import transaction

_COLUMNS = tuple(f.name for f in dataclasses.fields(Peer))


class StoredPeerTable(PeerTable):
    """A :class:`PeerTable` that can be filled from saved rows and tells which rows changed since saved."""

    def __init__(self, self_did: str | None = None, policy: PeerPolicy | None = None) -> None:
        super().__init__(self_did, policy or PeerPolicy())
        self._saved: dict[str, Peer] = {}

    def restore(self, peers: Iterable[Peer]) -> None:
        for peer in peers:
            if peer.did != self.self_did:
                self._put(peer)
        self._saved = {peer.key: peer for peer in self}

    def changes(self) -> tuple[list[Peer], list[str]]:
        """(rows new or changed, keys removed) since the last :meth:`mark_saved`."""
        current = {peer.key: peer for peer in self}
        changed = [peer for key, peer in current.items() if self._saved.get(key) != peer]
        removed = [key for key in self._saved if key not in current]
        return changed, removed

    def mark_saved(self) -> None:
        self._saved = {peer.key: peer for peer in self}


def load_peers(db: sqlite_utils.Database) -> list[Peer]:
    rows = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM gossip_peers ORDER BY key").fetchall()
    peers = []
    for row in rows:
        values = dict(zip(_COLUMNS, row, strict=True))
        values["state"] = PeerState(values["state"])
        values["pinned"] = bool(values["pinned"])
        peers.append(Peer(**values))
    return peers


def save_peers(db: sqlite_utils.Database, table: StoredPeerTable) -> int:
    """Write the rows that changed; returns how many were written or deleted."""
    changed, removed = table.changes()
    if not changed and not removed:
        return 0
    marks = ", ".join("?" for _ in range(len(_COLUMNS) + 1))
    with transaction(db):
        if removed:
            db.conn.executemany("DELETE FROM gossip_peers WHERE key = ?", [(key,) for key in removed])
        db.conn.executemany(
            f"INSERT OR REPLACE INTO gossip_peers (key, {', '.join(_COLUMNS)}) VALUES ({marks})",
            [
                (
                    peer.key,
                    *(
                        int(v) if isinstance(v, bool) else str(v) if isinstance(v, PeerState) else v
                        for v in dataclasses.astuple(peer)
                    ),
                )
                for peer in changed
            ],
        )
    table.mark_saved()
    return len(changed) + len(removed)
