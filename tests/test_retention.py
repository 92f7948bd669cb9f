"""The retention window: the pure rule, refusal on ingest (no peer penalty), the reconciled set of two
nodes with the same window staying identical whether or not one has pruned, and the bounded prune."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from node.config import ConfigError, config_from_mapping, render_config
from node.gossip.index import ReconcileIndex
from node.gossip.retention import prune_once
from node.gossip.wire import encode_push
from node.ingest import Refused, ingest_object
from node.storage import ObjectStore, open_database
from protocol.errors import ValidityError
from protocol.keys import KeyPair
from protocol.messages import sign_message
from protocol.retention import DAY, EVENT_KINDS, check_retained, cutoff, is_retained, window_seconds
from tests.gossip_fixtures import LiveNode, peer_post, post_object, root_trust_list, start_live, wait_for
from tests.node_fixtures import make_config

A = KeyPair.from_seed(bytes([91] * 32))
ROGUE = KeyPair.from_seed(bytes([202] * 32))
NOW = 1_800_000_000
WINDOW = window_seconds(30)


def test_rule_ages_out_event_kinds_only() -> None:
    old = NOW - WINDOW - 1
    for kind in EVENT_KINDS:
        assert not is_retained(kind, old, NOW, WINDOW)
        assert is_retained(kind, NOW - WINDOW, NOW, WINDOW)  # the boundary itself is kept
        assert is_retained(kind, old, NOW, 0)  # 0 = forever
    for kind in ("trust-list", "status-list", "node-descriptor", "marketplace-profile", "credential"):
        assert is_retained(kind, 0, NOW, WINDOW)
    assert cutoff(NOW, 0) is None and cutoff(NOW, WINDOW) == NOW - 30 * DAY
    with pytest.raises(ValidityError) as caught:
        check_retained("notice", old, NOW, WINDOW)
    assert caught.value.code == "validity.retention"


def test_retention_days_config(tmp_path: Path) -> None:
    base = {"role": "office", "name": "O", "host": "127.0.0.1", "port": 8470}
    assert config_from_mapping(tmp_path, base).retention_days == 365
    config = config_from_mapping(tmp_path, {**base, "retention_days": 0})
    assert config.retention_days == 0 and "retention_days = 0" in render_config(config)
    for bad in (-1, 100 * 366 + 1):
        with pytest.raises(ConfigError) as caught:
            config_from_mapping(tmp_path, {**base, "retention_days": bad})
        assert caught.value.code == "config.range"


def test_ingest_refuses_an_event_older_than_the_window(tmp_path: Path) -> None:
    store = ObjectStore(open_database(tmp_path / "node.db"))
    now = int(time.time())
    old = sign_message(A, "notice", {"created": now - 31 * DAY})
    with pytest.raises(ValidityError) as caught:
        ingest_object(make_config(tmp_path, retention_days=30), store, old, now)
    assert caught.value.code == "validity.retention" and store.count() == 0
    # with a longer window the same bytes pass the check and reach acceptance (which wants holdings)
    with pytest.raises((Refused, ValidityError)) as later:
        ingest_object(make_config(tmp_path, retention_days=40), store, old, now)
    assert later.value.code != "validity.retention"


def _put(store: ObjectStore, kind: str, created: int, n: int) -> str:
    raw = sign_message(A, "test", {"created": created, "n": n})
    id_hex, _ = store.put(raw, kind=kind, signer=A.did, created=created, expires=None, fields={"k": str(n)})
    return id_hex


def _items(index: ReconcileIndex) -> list[tuple[int, bytes]]:
    return [index.items.item(i) for i in range(len(index.items))]


def test_reconcile_sets_stay_identical_whether_or_not_a_node_pruned(tmp_path: Path) -> None:
    stores = [ObjectStore(open_database(tmp_path / f"{name}.db")) for name in ("a", "b")]
    for store in stores:
        _put(store, "notice", NOW - WINDOW - 100, 1)  # already outside the window
        _put(store, "decision", NOW - WINDOW + 50, 2)  # leaves it 50 s from now
        _put(store, "notice", NOW - 10, 3)
        _put(store, "trust-list", NOW - 10 * WINDOW, 4)  # state: never ages out
    a, b = stores
    assert len(a.prune(sorted(EVENT_KINDS), NOW - WINDOW)) == 1  # a pruned, b did not
    assert a.count() == 3 and b.count() == 4
    assert not a.db.execute("SELECT 1 FROM object_fields WHERE value = '1'").fetchall()  # rows cascade
    indexes = [ReconcileIndex(store, WINDOW) for store in stores]
    assert [index.load(NOW) for index in indexes] == [3, 3]
    assert _items(indexes[0]) == _items(indexes[1])
    for index in indexes:
        index.refresh(NOW + 49)
        assert len(index) == 3
        index.refresh(NOW + 51)  # the decision aged out: both rebuild without it
        assert len(index) == 2
    assert _items(indexes[0]) == _items(indexes[1])
    # an aged object never joins the set; a forever window keeps everything
    assert not indexes[0].add("cd" * 32, "notice", NOW - WINDOW - 1, None, NOW)
    assert ReconcileIndex(b, 0).load(NOW) == 4


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[LiveNode]:
    live = await start_live(tmp_path, "r", seed=31, retention_days=30)
    try:
        yield live
    finally:
        await live.stop()


async def test_a_peer_pushing_aged_objects_is_not_penalised(
    node: LiveNode, session: aiohttp.ClientSession
) -> None:
    now = int(time.time())
    old = [sign_message(ROGUE, "notice", {"created": now - 31 * DAY, "n": n}) for n in range(12)]
    body = encode_push([(raw, 1, "") for raw in old])
    status, answer = await peer_post(session, ROGUE, node.url + "/peer/objects", body)
    assert status == 200 and json.loads(answer)["ignored"] == 12
    assert not {hashlib.sha256(raw).hexdigest() for raw in old} & node.ids()
    peer = node.engine.peers.get(ROGUE.did)
    assert peer is not None and peer.invalid == 0  # more than the ban threshold, and still no penalty


async def test_prune_removes_aged_events_in_batches_and_keeps_state(node: LiveNode) -> None:
    store, now = node.engine.store, int(time.time())
    aged = {_put(store, "notice", now - 31 * DAY, n) for n in range(7)}
    fresh = _put(store, "notice", now - DAY, 100)
    state = {_put(store, "trust-list", now - 400 * DAY, 101), _put(store, "credential", now - 400 * DAY, 102)}
    case = _put(store, "notice", now - 31 * DAY, 103)  # in the marketplace's inbox: a case record
    decision = _put(store, "decision", now - 31 * DAY, 104)
    store.db.execute(
        "INSERT INTO notice_inbox (notice_id, received_at, via, notifier, holder, role, trusted_flagger,"
        " enrolled, receipt_id, decision_id) VALUES (?, 0, 'gossip', 'n', 'h', 'holder', 0, 0, NULL, ?)",
        [case, decision],
    )
    assert await prune_once(node.engine, batch=3) == 7
    held = node.ids()
    assert not aged & held and fresh in held and state <= held and {case, decision} <= held
    assert await prune_once(node.engine) == 0


async def test_two_live_nodes_with_the_same_window_reconcile_to_identical_sets(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    """a holds an event that has left the window (not pruned yet); b never gets it, and both reconcile
    the same set, so no round finds a difference."""
    a = await start_live(tmp_path, "ra", seed=41, retention_days=30)
    b = await start_live(tmp_path, "rb", seed=42, retention_days=30, peers=[a.url])
    try:
        now = int(time.time())
        aged = _put(a.engine.store, "notice", now - 31 * DAY, 1)
        assert await post_object(session, a, root_trust_list(1)) == 201

        def items(node: LiveNode) -> list[tuple[int, bytes]]:
            return _items(node.engine.index)

        assert await wait_for(lambda: len(items(b)) >= 2 and items(a) == items(b))
        assert aged in a.ids() and aged not in b.ids()
        assert all(item_id.hex() != aged for _, item_id in items(a))
    finally:
        await b.stop()
        await a.stop()
