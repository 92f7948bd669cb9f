"""The OpenAPI 3.1 document served at ``/openapi.json``, assembled from data the route modules contribute.

Each route module defines ``OPENAPI_PATHS``: a mapping from an OpenAPI path template (``/objects/{id}``)
to its path item (one operation per lower-case method). The document gathers these from the module of
every registered handler, plus anything added with :func:`add_paths`, so a module's description lives
next to its routes. ``tests/test_node_openapi.py`` checks every route is described and vice versa.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from typing import Any

from aiohttp import web

from .appkeys import OPENAPI_PATHS

METHODS = ("get", "put", "post", "delete", "patch")

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `code` is stable and machine-readable.",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
    },
}


def problem(description: str) -> dict[str, Any]:
    """A response object for an error answer (problem+json)."""
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def json_answer(description: str) -> dict[str, Any]:
    """A response object for a JSON answer."""
    return {"description": description, "content": {"application/json": {}}}


# Fragments the route modules share: an admin operation's security, its 401, and the refusals of a body
# read by read_json.
ADMIN: dict[str, Any] = {"security": [{"adminToken": []}]}
AUTH_ERRORS: dict[str, Any] = {"401": problem("auth.missing / auth.invalid")}
BODY_ERRORS: dict[str, Any] = {
    "400": problem("request.json: malformed JSON"),
    "413": problem("request.too-large"),
    "415": problem("request.content-type"),
}


def add_paths(app: web.Application, paths: Mapping[str, Mapping[str, Any]]) -> None:
    """Contribute path items explicitly (for routes whose handlers live outside a described module)."""
    app[OPENAPI_PATHS].update({path: dict(item) for path, item in paths.items()})


def route_templates(app: web.Application) -> Iterator[tuple[str, str, Any]]:
    """(method lower-case, OpenAPI path template, handler) for every registered route except HEAD."""
    for route in app.router.routes():
        method = route.method.lower()
        if method == "head" or route.resource is None:
            continue
        info = route.resource.get_info()
        template = info.get("formatter") or info.get("path")
        if template is None:
            continue
        yield method, str(template), route.handler


def collect_paths(app: web.Application) -> dict[str, dict[str, Any]]:
    paths: dict[str, dict[str, Any]] = {}
    seen_modules: set[str] = set()
    for _method, _template, handler in route_templates(app):
        module_name = getattr(handler, "__module__", None)
        if not module_name or module_name in seen_modules:
            continue
        seen_modules.add(module_name)
        contributed = getattr(sys.modules.get(module_name), "OPENAPI_PATHS", None)
        for path, item in (contributed or {}).items():
            paths.setdefault(path, {}).update(item)
    for path, item in app[OPENAPI_PATHS].items():
        paths.setdefault(path, {}).update(item)
    return dict(sorted(paths.items()))


def build_document(app: web.Application, *, title: str, version: str, server_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "HTTP API of a rightsmesh node. Errors are application/problem+json (RFC 9457).",
        },
        "servers": [{"url": server_url}],
        "paths": collect_paths(app),
        "components": {
            "schemas": {"Problem": PROBLEM_SCHEMA},
            "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer"}},
        },
    }
