"""Running a node: bind the socket, serve the app, and shut down gracefully on SIGTERM or SIGINT.

The socket is bound before the app is built so that a configured port 0 becomes a real port the
descriptor can announce. On a signal the runner stops accepting, lets in-flight requests finish for up
to ``shutdown_timeout`` seconds, then runs the cleanup contexts (the database closes last).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import logging
import signal
import socket
import sys

from aiohttp import web

from protocol.keys import KeyPair

from .app import create_app
from .config import NodeConfig
from .descriptor import SOFTWARE
from .errors import ConfigError
from .logs import configure_logging

log = logging.getLogger("rightsmesh.node")


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0 = a free port chosen by the OS now)."""
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        family = socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ConfigError("config.listen", f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.setblocking(False)
    return sock


def bound_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def serve(app: web.Application, sock: socket.socket, shutdown_timeout: float) -> None:
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=shutdown_timeout, access_log=None)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        site = web.SockSite(runner, sock)
        await site.start()
        url = bound_url(sock)
        log.info("%s listening on %s", SOFTWARE, url)
        print(f"listening on {url}", flush=True)
        await stop.wait()
        log.info("shutting down (waiting up to %ss for in-flight requests)", shutdown_timeout)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await runner.cleanup()
    log.info("stopped")


def run_node(config: NodeConfig, key: KeyPair, admin_token: str, *, log_format: str = "json") -> int:
    """Serve until SIGTERM/SIGINT; logs go to stderr as JSON lines (``log_format="text"`` for people)."""
    configure_logging(log_format, stream=sys.stderr)
    sock = bind_socket(config.host, config.port)
    config = dataclasses.replace(config, port=sock.getsockname()[1])
    try:
        app = create_app(config, key, admin_token)
    except BaseException:
        sock.close()
        raise
    with contextlib.closing(sock):
        asyncio.run(serve(app, sock, config.shutdown_timeout))
    return 0
