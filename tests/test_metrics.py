"""/metrics (Prometheus text format, one registry per app) and the JSON access log, in process."""

from __future__ import annotations

import hashlib
import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from node.app import create_app
from node.logs import JsonFormatter, configure_logging
from node.metrics import gossip_bytes, gossip_round, kind_of, object_outcome, set_peer_states
from tests.node_fixtures import NODE, OTHER_ROOT, TOKEN, FakeClock, make_config, trust_list

COSE = {"Content-Type": "application/cose"}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, keyed by (name, sorted labels); the parser checks the format."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


async def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    resp = await client.get("/metrics")
    assert resp.status == 200
    assert resp.content_type == "text/plain"
    return samples(await resp.text())


def value(metrics: dict[Any, float], name: str, **labels: str) -> float:
    return metrics.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path) -> TestClient:
    return await aiohttp_client(create_app(make_config(tmp_path), NODE, TOKEN, clock=FakeClock()))


async def test_object_outcomes_are_counted_by_kind_and_reason(client: TestClient) -> None:
    before = await scrape(client)
    assert value(before, "rightsmesh_objects_received_total", kind="trust-list", source="api") == 0
    raw = trust_list(1)
    assert (await client.post("/objects", data=raw, headers=COSE)).status == 201
    assert (await client.post("/objects", data=raw, headers=COSE)).status == 200
    assert (await client.post("/objects", data=trust_list(1, key=OTHER_ROOT), headers=COSE)).status == 403
    assert (await client.post("/objects", data=b"\xd2\x84garbage", headers=COSE)).status == 400
    after = await scrape(client)
    received = "rightsmesh_objects_received_total"
    assert value(after, received, kind="trust-list", source="api") == 3
    assert value(after, received, kind="unknown", source="api") == 1
    accepted = "rightsmesh_objects_accepted_total"
    assert value(after, accepted, kind="trust-list", source="api", outcome="accepted") == 1
    assert value(after, accepted, kind="trust-list", source="api", outcome="duplicate") == 1
    rejected = "rightsmesh_objects_rejected_total"
    reason = "validity.untrusted-root"
    assert value(after, rejected, kind="trust-list", source="api", reason=reason) == 1
    decode = [k for k in after if k[0] == rejected and ("kind", "unknown") in k[1]]
    assert len(decode) == 1 and dict(decode[0][1])["reason"].startswith("decode.")
    assert value(after, "rightsmesh_objects_stored", kind="trust-list") == 1


async def test_latency_histogram_uses_route_templates(client: TestClient) -> None:
    for _ in range(3):
        assert (await client.get("/objects/" + "ab" * 32)).status == 404
    assert (await client.get("/no/such/path")).status == 404
    metrics = await scrape(client)
    count = "rightsmesh_http_request_duration_seconds_count"
    assert value(metrics, count, method="GET", route="/objects/{id}", status="404") == 3
    assert value(metrics, count, method="GET", route="unmatched", status="404") == 1
    assert not any("abab" in str(labels) for _, labels in metrics)
    # the 4 requests (404s included) are done and this scrape is the one being handled
    assert value(metrics, "rightsmesh_http_requests_in_flight") == 1


async def test_gossip_hooks_and_peer_states(client: TestClient) -> None:
    app = client.server.app
    gossip_round(app, "reconcile")
    gossip_round(app, "reconcile", "error")
    gossip_bytes(app, "sent", 1200)
    gossip_bytes(app, "received", 300)
    set_peer_states(app, lambda: {"active": 2, "backoff": 1})
    object_outcome(app, "notice", "rejected", "validity.revoked", source="gossip")
    metrics = await scrape(client)
    assert value(metrics, "rightsmesh_gossip_rounds_total", type="reconcile", result="ok") == 1
    assert value(metrics, "rightsmesh_gossip_rounds_total", type="reconcile", result="error") == 1
    assert value(metrics, "rightsmesh_gossip_bytes_total", direction="sent") == 1200
    assert value(metrics, "rightsmesh_peers", state="active") == 2
    assert value(metrics, "rightsmesh_peers", state="backoff") == 1
    rejected = "rightsmesh_objects_rejected_total"
    assert value(metrics, rejected, kind="notice", source="gossip", reason="validity.revoked") == 1
    with pytest.raises(ValueError):
        object_outcome(app, "notice", "maybe")


async def test_each_app_has_its_own_registry(aiohttp_client: Any, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = await aiohttp_client(create_app(make_config(tmp_path / "a"), NODE, TOKEN, clock=FakeClock()))
    second = await aiohttp_client(create_app(make_config(tmp_path / "b"), NODE, TOKEN, clock=FakeClock()))
    assert (await first.post("/objects", data=trust_list(1), headers=COSE)).status == 201
    received = "rightsmesh_objects_received_total"
    assert value(await scrape(first), received, kind="trust-list", source="api") == 1
    assert value(await scrape(second), received, kind="trust-list", source="api") == 0


def test_kind_of_never_raises() -> None:
    assert kind_of(trust_list(1)) == "trust-list"
    assert kind_of(b'{"type": []}') == "credential"
    for junk in (b"", b"\xd2", b"\xd2\x84\x41", b"\xff" * 10):
        assert kind_of(junk) == "unknown"


async def test_access_log_is_one_json_line_per_request(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="rightsmesh.access"):
        resp = await client.get("/objects/" + "cd" * 32, headers={"X-Request-Id": "req-42"})
    assert resp.headers["X-Request-Id"] == "req-42"
    records = [r for r in caplog.records if r.name == "rightsmesh.access"]
    assert len(records) == 1
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["method"] == "GET" and line["route"] == "/objects/{id}" and line["status"] == 404
    assert line["request_id"] == "req-42" and line["duration_ms"] >= 0
    assert line["level"] == "info" and line["logger"] == "rightsmesh.access"
    fresh = await client.get("/healthz", headers={"X-Request-Id": "bad id with spaces"})
    assert fresh.headers["X-Request-Id"] != "bad id with spaces"


def test_configure_logging_writes_json_lines() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure_logging("json", stream=stream)
        logging.getLogger("rightsmesh.test").info("hello %s", "world", extra={"fields": {"n": 1}})
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logging.getLogger("rightsmesh.test").exception("failed")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["msg"] == "hello world" and lines[0]["n"] == 1
    assert "RuntimeError: boom" in lines[1]["exc"]
    with pytest.raises(ValueError):
        configure_logging("xml")


def test_rightsmesh_run_logs_json_lines(tmp_path: Path) -> None:
    """A real node process: one JSON access line per request on stderr, and /metrics counts it."""
    import urllib.request

    from tests.nodeproc import init_node, start_node

    node = start_node(init_node(tmp_path, "marketplace", "Log Market"))
    try:
        for _ in range(2):
            with urllib.request.urlopen(node.url + "/healthz", timeout=10) as resp:
                assert resp.status == 200
        with urllib.request.urlopen(node.url + "/metrics", timeout=10) as resp:
            metrics = samples(resp.read().decode())
    finally:
        assert node.stop() == 0
    count = "rightsmesh_http_request_duration_seconds_count"
    assert value(metrics, count, method="GET", route="/healthz", status="200") >= 2
    lines = [json.loads(line) for line in node.stderr.splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "rightsmesh.access" and line["route"] == "/healthz"]
    assert len(access) >= 2
    assert all(line["status"] == 200 and len(line["request_id"]) == 16 for line in access)
    assert any(line["msg"] == "database closed" for line in lines)


async def test_gossip_path_counts_objects_rounds_and_bytes(tmp_path: Path) -> None:
    """Two live nodes: an object posted at one reaches the other by gossip, and both count it."""
    import aiohttp

    from tests.gossip_fixtures import post_object, root_trust_list, start_live, wait_for

    a = await start_live(tmp_path, "a", seed=21)
    b = await start_live(tmp_path, "b", seed=22, peers=[a.url])
    try:
        raw = root_trust_list(1)
        async with aiohttp.ClientSession() as session:
            assert await post_object(session, a, raw) == 201
            assert await wait_for(lambda: hashlib.sha256(raw).hexdigest() in b.ids())
            async with session.get(b.url + "/metrics") as resp:
                metrics = samples(await resp.text())
            async with session.get(a.url + "/metrics") as resp:
                at_a = samples(await resp.text())
    finally:
        await b.stop()
        await a.stop()
    accepted = "rightsmesh_objects_accepted_total"
    assert value(metrics, accepted, kind="trust-list", source="gossip", outcome="accepted") == 1
    assert value(at_a, accepted, kind="trust-list", source="api", outcome="accepted") == 1
    traffic = sum(v for (name, _), v in (metrics | at_a).items() if name == "rightsmesh_gossip_bytes_total")
    assert traffic > len(raw)
    rounds = [k for k in (metrics | at_a) if k[0] == "rightsmesh_gossip_rounds_total"]
    assert rounds
    assert any(name == "rightsmesh_peers" for name, _ in metrics)
