"""Real node processes for the demo: ``rightsmesh init`` and ``rightsmesh run`` as child processes.

Each node listens on 127.0.0.1 with a port the OS picks when it starts (``--listen 127.0.0.1:0``); the
process prints ``listening on URL`` (captured in ``DIR/stdout.log``) and logs to ``DIR/node.log``.
Children run in their own session so that ``--keep`` leaves them running after the demo exits and a
Ctrl-C reaches only the demo, which then stops them itself: SIGTERM, a bounded wait, then SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
CLI_TIMEOUT = 60.0
REPO = Path(__file__).resolve().parent.parent.parent


class DemoError(Exception):
    """A step's action failed; ``str()`` says what and why (a problem code when a node refused)."""


def cli_command(*args: str) -> list[str]:
    """The rightsmesh CLI with this interpreter (works with or without the installed console script)."""
    return [sys.executable, "-m", "node.cli", *args]


@dataclass(frozen=True)
class CliResult:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


async def run_cli(*args: str, timeout: float = CLI_TIMEOUT, check: bool = True) -> CliResult:
    """Run one ``rightsmesh`` command; raises :class:`DemoError` when ``check`` and it exits non-zero."""
    proc = await asyncio.create_subprocess_exec(
        *cli_command(*args),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=REPO,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except (TimeoutError, asyncio.CancelledError):
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    result = CliResult(tuple(args), int(proc.returncode or 0), out.decode(), err.decode())
    if check and result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise DemoError(f"`rightsmesh {' '.join(args[:2])}` exited {result.returncode}: {last}")
    return result


@dataclass
class NodeProcess:
    """A running ``rightsmesh run`` child."""

    dir: Path
    process: subprocess.Popen[bytes]
    url: str = ""

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def log_path(self) -> Path:
        return self.dir / "node.log"

    def running(self) -> bool:
        return self.process.poll() is None


def spawn_node(directory: Path) -> NodeProcess:
    """Start ``rightsmesh run --dir DIR --listen 127.0.0.1:0``; :func:`wait_ready` gives its URL."""
    stdout = (directory / "stdout.log").open("wb")
    stderr = (directory / "node.log").open("wb")
    try:
        process = subprocess.Popen(
            cli_command("run", "--dir", str(directory), "--listen", "127.0.0.1:0"),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            cwd=REPO,
            start_new_session=True,
        )
    finally:
        stdout.close()
        stderr.close()
    return NodeProcess(directory, process)


def _listening_url(directory: Path) -> str:
    try:
        text = (directory / "stdout.log").read_text("utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    for line in text.splitlines():
        if line.startswith("listening on "):
            return line.removeprefix("listening on ").strip()
    return ""


def _log_tail(node: NodeProcess, lines: int = 3) -> str:
    try:
        tail = node.log_path.read_text("utf-8", errors="replace").strip().splitlines()[-lines:]
    except FileNotFoundError:
        return ""
    return " | ".join(tail)


async def wait_ready(
    node: NodeProcess, session: aiohttp.ClientSession, timeout: float = STARTUP_TIMEOUT
) -> str:
    """Wait (bounded) until the node printed its URL and ``/healthz`` answers; returns the URL."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not node.running():
            raise DemoError(f"node {node.dir.name} exited with {node.process.returncode}: {_log_tail(node)}")
        if not node.url:
            node.url = _listening_url(node.dir)
        if node.url:
            try:
                async with session.get(node.url + "/healthz", timeout=aiohttp.ClientTimeout(total=2)) as r:
                    if r.status == 200:
                        return node.url
            except (aiohttp.ClientError, TimeoutError):
                pass
        await asyncio.sleep(0.05)
    raise DemoError(f"node {node.dir.name} did not become healthy within {timeout:.0f}s: {_log_tail(node)}")


def stop_all(nodes: list[NodeProcess], timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM every running node, wait up to ``timeout`` in total, SIGKILL the rest. Never raises."""
    for node in nodes:
        if node.running():
            with contextlib.suppress(ProcessLookupError):
                node.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for node in nodes:
        try:
            node.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(node.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                node.process.kill()
            node.process.wait(STOP_TIMEOUT)
