"""OpenAPI path items for dashboard routes: HTML pages behind the session cookie, forms with a CSRF token.

They are described like every other route (the OpenAPI test checks each served route is), so the
document stays complete; the dashboard is not an API, and these items only say so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_HTML: dict[str, Any] = {"text/html": {}}
_LOGIN = {"303": {"description": "no dashboard session: redirect to /ui/login"}}
_FORM_ERRORS = {
    "403": {"description": "CSRF token missing or stale (HTML page)", "content": _HTML},
}


def html_page(
    operation_id: str, summary: str, parameters: Sequence[str] = (), *, public: bool = False
) -> dict[str, Any]:
    """A GET page; ``parameters`` are optional text query parameters (filters)."""
    operation: dict[str, Any] = {
        "summary": summary,
        "operationId": operation_id,
        "tags": ["dashboard"],
        "responses": {"200": {"description": "HTML page", "content": _HTML}, **({} if public else _LOGIN)},
    }
    if parameters:
        operation["parameters"] = [
            {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
            for name in parameters
        ]
    return {"get": operation}


def html_post(operation_id: str, summary: str, answers: Mapping[str, str]) -> dict[str, Any]:
    """A form POST (application/x-www-form-urlencoded, with the session's ``csrf`` field)."""
    responses: dict[str, Any] = {
        status: {"description": text, "content": _HTML} for status, text in answers.items()
    }
    return {
        "post": {
            "summary": summary,
            "operationId": operation_id,
            "tags": ["dashboard"],
            "requestBody": {
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {"type": "object", "required": ["csrf"]},
                    }
                }
            },
            "responses": {**_LOGIN, **_FORM_ERRORS, **responses},
        }
    }
