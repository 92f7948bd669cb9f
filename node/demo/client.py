"""HTTP calls of the demo: every printed result comes from one of these real responses.

A refusal the story does not expect becomes a :class:`DemoError` naming the request and the node's
problem code (RFC 9457 ``code``), so the summary says exactly what went wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from .procs import DemoError

REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=20, connect=5)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def code(self) -> str:
        """The problem code of an error answer (``http.<status>`` if it has none)."""
        body = self.json()
        if isinstance(body, dict) and isinstance(body.get("code"), str):
            return str(body["code"])
        return f"http.{self.status}"

    @property
    def detail(self) -> str:
        body = self.json()
        return str(body.get("detail", "")) if isinstance(body, dict) else ""


class Api:
    """One aiohttp session for the whole demo."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def request(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        data: bytes | None = None,
        content_type: str | None = None,
        token: str | None = None,
        params: dict[str, str] | None = None,
    ) -> Answer:
        headers: dict[str, str] = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if content_type:
            headers["Content-Type"] = content_type
        try:
            async with self.session.request(
                method,
                url,
                json=json_body,
                data=data,
                headers=headers,
                params=params,
                timeout=REQUEST_TIMEOUT,
            ) as resp:
                return Answer(resp.status, await resp.read(), resp.content_type)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DemoError(
                f"{method} {_short(url)}: cannot reach the node ({exc or type(exc).__name__})"
            ) from exc

    async def expect(self, method: str, url: str, ok: tuple[int, ...] = (200, 201), **kwargs: Any) -> Answer:
        """The answer if its status is in ``ok``; otherwise a :class:`DemoError` with the problem code."""
        answer = await self.request(method, url, **kwargs)
        if answer.status not in ok:
            detail = f": {answer.detail}" if answer.detail else ""
            raise DemoError(f"{method} {_short(url)} answered {answer.status} {answer.code}{detail}")
        return answer

    async def json(self, method: str, url: str, **kwargs: Any) -> Any:
        answer = await self.expect(method, url, **kwargs)
        body = answer.json()
        if body is None:
            raise DemoError(f"{method} {_short(url)}: the answer is not JSON")
        return body


def _short(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}"
