"""Dashboard sessions: a server-side table of random session ids, each with its own CSRF token.

Why server-side: logout and expiry are real (the id stops working at once), and nothing secret or
signed travels in the cookie. The table keeps only SHA-256 digests of ids, so a memory dump does not
hand out live sessions. It lives in memory: a restart logs everyone out, which is acceptable for an
admin dashboard of one node.

The login form needs a CSRF token too, so ``GET /ui/login`` opens an *anonymous* session (short-lived,
evicted first when the table is full); a successful login replaces it with a new authenticated session
under a new id (no session fixation).

Cookie: ``HttpOnly``, ``SameSite=Strict``, ``Path=/ui``, and ``Secure`` when the request came over
HTTPS, when a reverse proxy says so (``X-Forwarded-Proto: https``), or when the node's public URL is
https. On plain ``http://127.0.0.1`` (a local node, the demo) the flag is left out, because a browser
may refuse to store a Secure cookie set over http; such a node should not be reachable from elsewhere.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace

from aiohttp import web

from ..appkeys import CONFIG

COOKIE = "rightsmesh_ui"
COOKIE_PATH = "/ui"
ANONYMOUS_TTL = 15 * 60
IDLE_TTL = 2 * 3600
ABSOLUTE_TTL = 12 * 3600
MAX_SESSIONS = 1000


@dataclass(frozen=True)
class Session:
    digest: str  # SHA-256 of the session id (the id itself is only in the cookie)
    csrf: str
    authenticated: bool
    created: float
    last_seen: float

    def expired(self, now: float) -> bool:
        if not self.authenticated:
            return now - self.created > ANONYMOUS_TTL
        return now - self.created > ABSOLUTE_TTL or now - self.last_seen > IDLE_TTL


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


class SessionStore:
    """Sessions by id digest, bounded: when full, expired sessions go first, then the oldest
    anonymous ones, then the oldest of all."""

    def __init__(self, max_sessions: int = MAX_SESSIONS) -> None:
        self.max_sessions = max_sessions
        self._sessions: dict[str, Session] = {}

    def __len__(self) -> int:
        return len(self._sessions)

    def create(self, now: float, *, authenticated: bool) -> tuple[str, Session]:
        """A new session; returns the id (for the cookie, never stored) and the session."""
        self._make_room(now)
        session_id = secrets.token_urlsafe(32)
        session = Session(_digest(session_id), secrets.token_urlsafe(32), authenticated, now, now)
        self._sessions[session.digest] = session
        return session_id, session

    def get(self, session_id: str, now: float) -> Session | None:
        """The live session for ``session_id`` (its last use refreshed), or None."""
        digest = _digest(session_id)
        session = self._sessions.get(digest)
        if session is None:
            return None
        if session.expired(now):
            del self._sessions[digest]
            return None
        session = replace(session, last_seen=now)
        self._sessions[digest] = session
        return session

    def delete(self, session: Session) -> None:
        self._sessions.pop(session.digest, None)

    def _make_room(self, now: float) -> None:
        if len(self._sessions) < self.max_sessions:
            return
        for digest, session in list(self._sessions.items()):
            if session.expired(now):
                del self._sessions[digest]
        by_age = sorted(self._sessions.values(), key=lambda s: (s.authenticated, s.last_seen))
        for session in by_age[: max(0, len(self._sessions) - self.max_sessions + 1)]:
            del self._sessions[session.digest]


SESSIONS = web.AppKey("ui_sessions", SessionStore)


def csrf_valid(session: Session | None, token: object) -> bool:
    """The synchroniser-token check: the form's token equals its session's (constant time)."""
    if session is None or not isinstance(token, str) or not token:
        return False
    return hmac.compare_digest(session.csrf.encode("utf-8"), token.encode("utf-8"))


def is_secure(request: web.Request) -> bool:
    """Whether the browser reached us over HTTPS (directly, via a proxy that says so, or as configured)."""
    if request.secure:
        return True
    if request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower() == "https":
        return True
    return request.app[CONFIG].url.startswith("https://")


def set_cookie(request: web.Request, response: web.StreamResponse, session_id: str) -> None:
    response.set_cookie(
        COOKIE,
        session_id,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Strict",
        secure=is_secure(request),
    )


def clear_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path=COOKIE_PATH)


def current(request: web.Request, now: float) -> Session | None:
    session_id = request.cookies.get(COOKIE)
    if not session_id:
        return None
    return request.app[SESSIONS].get(session_id, now)
