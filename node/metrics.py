"""Prometheus metrics of one node (``GET /metrics``) and the per-request middleware (timing, access log).

Why a registry per application: several apps run in one test process, and prometheus-client's global
registry would refuse the second app's metrics (or mix their counts). Code that sees an object's fate
calls :func:`object_outcome` (POST /objects here; the gossip path and notice routes call it too), the
gossip engine calls :func:`gossip_round` / :func:`gossip_bytes` and registers a peer-state source with
:func:`set_peer_states`; everything else (request latency, objects held by kind) is measured here.
Label values are bounded: kinds and error codes are stable vocabularies, routes are templates
(``/objects/{id}``), never raw paths.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

from protocol import cbor
from protocol.cbor import Limits
from protocol.errors import ProtocolError
from protocol.messages import cose_parts, kind_from_typ

from .appkeys import OBJECTS

access_log = logging.getLogger("rightsmesh.access")

OUTCOMES = ("accepted", "duplicate", "rejected")
SOURCES = ("api", "gossip", "notice")
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_HEADER_LIMITS = Limits(max_bytes=4096, max_depth=4, max_items=16)
_H_TYP = 16


class _StateCollector(Collector):
    """Gauges read at scrape time: objects held by kind (from the store) and peers by state (from the
    source the gossip engine registers)."""

    def __init__(self, app: web.Application, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    def collect(self) -> Iterator[GaugeMetricFamily]:
        held = GaugeMetricFamily("rightsmesh_objects_stored", "Signed objects held, by kind", labels=["kind"])
        if OBJECTS in self.app:
            for kind, count in self.app[OBJECTS].counts_by_kind().items():
                held.add_metric([kind], count)
        yield held
        peers = GaugeMetricFamily("rightsmesh_peers", "Known gossip peers, by state", labels=["state"])
        source = self.metrics.peer_states
        if source is not None:
            for state, count in sorted(source().items()):
                peers.add_metric([state], count)
        yield peers


class Metrics:
    """The metric objects of one application, in their own :class:`CollectorRegistry`."""

    def __init__(self, app: web.Application) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.objects_received = Counter(
            "rightsmesh_objects_received", "Signed objects received", ["kind", "source"], registry=r
        )
        self.objects_accepted = Counter(
            "rightsmesh_objects_accepted",
            "Objects received that were valid (outcome: stored now, or already held)",
            ["kind", "source", "outcome"],
            registry=r,
        )
        self.objects_rejected = Counter(
            "rightsmesh_objects_rejected",
            "Objects refused, by kind and stable error code",
            ["kind", "source", "reason"],
            registry=r,
        )
        self.gossip_rounds = Counter(
            "rightsmesh_gossip_rounds",
            "Gossip rounds (push or reconciliation)",
            ["type", "result"],
            registry=r,
        )
        self.gossip_bytes = Counter(
            "rightsmesh_gossip_bytes", "Bytes of gossip traffic", ["direction"], registry=r
        )
        self.request_duration = Histogram(
            "rightsmesh_http_request_duration_seconds",
            "HTTP request handling time by route template",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.requests_in_flight = Gauge(
            "rightsmesh_http_requests_in_flight",
            "HTTP requests being handled now (a graceful shutdown waits for them)",
            registry=r,
        )
        self.peer_states: Callable[[], Mapping[str, int]] | None = None
        r.register(_StateCollector(app, self))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


METRICS = web.AppKey("metrics", Metrics)


def object_outcome(
    app: web.Application, kind: str, outcome: str, reason: str = "", *, source: str = "api"
) -> None:
    """Count one received object: ``outcome`` accepted (stored now), duplicate (already held) or
    rejected (``reason`` = the stable error code). Unknown kinds are counted as ``unknown``."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}")
    metrics = app.get(METRICS)
    if metrics is None:
        return
    kind = kind or "unknown"
    metrics.objects_received.labels(kind, source).inc()
    if outcome == "rejected":
        metrics.objects_rejected.labels(kind, source, reason or "unknown").inc()
    else:
        metrics.objects_accepted.labels(kind, source, outcome).inc()


def gossip_round(app: web.Application, type_: str, result: str = "ok") -> None:
    """Count one gossip round (``type_``: push, reconcile, ...; ``result``: ok, error, timeout)."""
    metrics = app.get(METRICS)
    if metrics is not None:
        metrics.gossip_rounds.labels(type_, result).inc()


def gossip_bytes(app: web.Application, direction: str, count: int) -> None:
    """Add ``count`` bytes of gossip traffic (``direction``: sent or received)."""
    metrics = app.get(METRICS)
    if metrics is not None and count > 0:
        metrics.gossip_bytes.labels(direction).inc(count)


def set_peer_states(app: web.Application, source: Callable[[], Mapping[str, int]]) -> None:
    """Register the function the scrape calls for ``rightsmesh_peers{state}`` (state -> count)."""
    app[METRICS].peer_states = source


def gossip_totals(app: web.Application) -> dict[str, float]:
    """Gossip rounds by ``type/result`` and bytes by direction so far (for the dashboard)."""
    metrics = app.get(METRICS)
    totals: dict[str, float] = {}
    if metrics is None:
        return totals
    for counter, prefix in ((metrics.gossip_rounds, "rounds"), (metrics.gossip_bytes, "bytes")):
        for family in counter.collect():
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    totals[prefix + " " + "/".join(sample.labels.values())] = sample.value
    return dict(sorted(totals.items()))


def kind_of(raw: bytes) -> str:
    """Best-effort kind of an object that may be invalid (for labelling a rejection): the COSE ``typ``,
    ``credential`` for JSON, else ``unknown``. Never raises."""
    if raw.lstrip()[:1] == b"{":
        return "credential"
    try:
        protected, _, _ = cose_parts(raw)
        header = cbor.decode(protected, _HEADER_LIMITS)
        if isinstance(header, dict):
            return kind_from_typ(header.get(_H_TYP))
    except (ProtocolError, ValueError, TypeError, IndexError):
        pass
    return "unknown"


def route_label(request: web.Request) -> str:
    """The matched route's template (``/objects/{id}``), or ``unmatched``: never the raw path."""
    route = request.match_info.route
    resource = getattr(route, "resource", None)
    return "unmatched" if resource is None else resource.canonical


def request_id(request: web.Request) -> str:
    """The caller's ``X-Request-Id`` if it is short and plain, else a fresh random id."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _REQUEST_ID.match(given) else secrets.token_hex(8)


@web.middleware
async def observe_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Outermost middleware: request id, latency histogram, one JSON-ready access log line."""
    rid = request_id(request)
    start = time.perf_counter()
    status = 500
    metrics = request.app.get(METRICS)
    if metrics is not None:
        metrics.requests_in_flight.inc()
    try:
        response = await handler(request)
        status = response.status
        response.headers[REQUEST_ID_HEADER] = rid
        return response
    except web.HTTPException as exc:  # redirects (and anything the problem middleware re-raises)
        status = exc.status
        exc.headers[REQUEST_ID_HEADER] = rid
        raise
    finally:
        elapsed = time.perf_counter() - start
        route = route_label(request)
        if metrics is not None:
            metrics.requests_in_flight.dec()
            metrics.request_duration.labels(request.method, route, str(status)).observe(elapsed)
        fields: dict[str, Any] = {
            "method": request.method,
            "route": route,
            "path": request.path,
            "status": status,
            "duration_ms": round(elapsed * 1000, 3),
            "request_id": rid,
        }
        access_log.info("%s %s %s", request.method, request.path, status, extra={"fields": fields})


routes = web.RouteTableDef()


@routes.get("/metrics")
async def get_metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS].exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})


def setup(app: web.Application) -> None:
    app[METRICS] = Metrics(app)
    app.router.add_routes(routes)


OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/metrics": {
        "get": {
            "summary": "Prometheus metrics (text exposition format): objects received/accepted/rejected by"
            " kind and reason, objects held, gossip rounds and bytes, peers by state, request latency",
            "operationId": "getMetrics",
            "responses": {"200": {"description": "metrics", "content": {"text/plain": {}}}},
        }
    }
}
