"""Gossip state kept by the node: the persisted peer table, the reconciled set (expiry, kinds, declined)."""

from __future__ import annotations

from pathlib import Path

from node.gossip.index import ReconcileIndex
from node.gossip.peerstore import StoredPeerTable, load_peers, save_peers
from node.storage import ObjectStore, open_database
from protocol.keys import KeyPair
from protocol.messages import sign_message
from protocol.peers import PeerState

A = KeyPair.from_seed(bytes([81] * 32))
B = KeyPair.from_seed(bytes([82] * 32))


def test_peer_table_round_trips_through_the_database(tmp_path: Path) -> None:
    db = open_database(tmp_path / "node.db")
    table = StoredPeerTable("did:key:self")
    table.add_bootstrap("http://127.0.0.1:9001", 100.0)
    table.learn(A.did, "http://127.0.0.1:9002", 100.0)
    table.record_contact(A.did, 110.0)
    for _ in range(10):
        table.record_invalid(B.did, 120.0)
    assert save_peers(db, table) == 3
    assert save_peers(db, table) == 0  # nothing changed since
    table.record_failure("http://127.0.0.1:9001", 130.0, 0.5)
    assert save_peers(db, table) == 1
    restored = StoredPeerTable("did:key:self")
    restored.restore(load_peers(db))
    assert {p.key: p for p in restored} == {p.key: p for p in table}
    banned = restored.get(B.did)
    assert banned is not None and banned.state is PeerState.BANNED and banned.invalid == 10
    assert restored.is_refused(B.did, 121.0)
    bootstrap = restored.get("http://127.0.0.1:9001")
    assert bootstrap is not None and bootstrap.pinned and bootstrap.failures == 1


def test_index_holds_gossiped_unexpired_objects_and_declined_versions(tmp_path: Path) -> None:
    store = ObjectStore(open_database(tmp_path / "node.db"))

    def put(kind: str, created: int, expires: int | None) -> str:
        raw = sign_message(A, "test", {"created": created, "n": f"{kind}{created}"})
        id_hex, _ = store.put(raw, kind=kind, signer=A.did, created=created, expires=expires)
        return id_hex

    keep = put("trust-list", 10, None)
    soon = put("node-descriptor", 20, 1000)
    put("enrolment-result", 30, None)  # a kind gossip does not carry
    put("trust-list", 40, 500)  # expired already
    index = ReconcileIndex(store)
    assert index.load(900) == 2
    assert index.add(put("trust-list", 50, None), "trust-list", 50, None, 900)
    assert not index.add(put("enrolment-result", 60, None), "enrolment-result", 60, None, 900)
    index.decline("ab" * 32, 45, b"superseded bytes")
    assert len(index) == 4 and index.declined("ab" * 32) == b"superseded bytes"
    index.refresh(999)
    assert len(index) == 4
    index.refresh(1000)  # the descriptor expires: the set is rebuilt without it, declined kept
    items = [index.items.item(i) for i in range(len(index))]
    assert items[0] == (10, bytes.fromhex(keep))
    assert (20, bytes.fromhex(soon)) not in items and (45, bytes.fromhex("ab" * 32)) in items
    assert len(index) == 3
