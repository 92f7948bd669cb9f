"""AppKeys of the notice lifecycle (marketplace role)."""

from __future__ import annotations

from aiohttp import web

from .state import NoticeState

NOTICES = web.AppKey("notices", NoticeState)
