"""Story step: staff log in to the web dashboards (``/ui``) with the admin token and see the story's
results on their pages, as a browser would (session cookie, CSRF token of the login form)."""

from __future__ import annotations

import re

import aiohttp

from .client import REQUEST_TIMEOUT
from .procs import DemoError
from .world import EM_NUMBER, Node, World

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def _page_after_login(node: Node, path: str) -> str:
    """Log in to ``node``'s dashboard and return the HTML of ``path``. One cookie jar per node: cookies
    do not tell ports apart, and every node names its session cookie alike."""
    jar = aiohttp.CookieJar(unsafe=True)  # unsafe: keep cookies from an IP address (127.0.0.1)
    async with aiohttp.ClientSession(cookie_jar=jar, timeout=REQUEST_TIMEOUT) as session:
        async with session.get(f"{node.url}/ui/login") as resp:
            form = await resp.text()
            if resp.status != 200:
                raise DemoError(f"{node.name}: GET /ui/login answered {resp.status}")
        match = _CSRF.search(form)
        if match is None:
            raise DemoError(f"{node.name}: the login form carries no CSRF token")
        data = {"csrf": match.group(1), "token": node.token}
        async with session.post(f"{node.url}/ui/login", data=data, allow_redirects=False) as resp:
            if resp.status != 303:
                raise DemoError(f"{node.name}: login with the admin token answered {resp.status}")
        async with session.get(f"{node.url}{path}", allow_redirects=False) as resp:
            if resp.status != 200:
                raise DemoError(f"{node.name}: GET {path} after login answered {resp.status}")
            return await resp.text()


async def dashboards(world: World) -> str:
    """The office's dashboard lists the credential it issued; a marketplace's inbox lists the notice."""
    checks = [(world.offices[0], "/ui/office/credentials", world.facts[f"credential:{EM_NUMBER}"])]
    if "notice" in world.facts:
        checks.append((world.big[0], "/ui/market/notices", world.facts["notice"]))
    for node, path, expected in checks:
        page = await _page_after_login(node, path)
        if expected not in page:
            raise DemoError(f"{node.name}: {path} does not show {expected}")
        world.note(f"{node.name}: logged in with {node.token_path.name}; {path} shows {expected[:24]}...")
    return f"logged in to {len(checks)} dashboards with the admin token; the story's results are shown"
