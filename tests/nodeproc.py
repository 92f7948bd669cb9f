"""Real node processes for multi-process tests: ``init_node`` (the CLI's init) and ``start_node`` (run).

Nodes listen on 127.0.0.1 with a port picked by the OS at run time (``--listen 127.0.0.1:0``); the
process prints ``listening on URL`` and the helper then polls ``/healthz`` in a bounded loop.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0


def rightsmesh_command(*args: str) -> list[str]:
    """The command line for the rightsmesh CLI with this interpreter (works without the console script)."""
    return [sys.executable, "-m", "node.cli", *args]


def run_cli(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        rightsmesh_command(*args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=Path(__file__).resolve().parent.parent,
    )


def init_node(
    tmp: Path,
    role: str,
    name: str,
    *,
    trust_roots: Sequence[str] = (),
    peers: Sequence[str] = (),
    passphrase: str | None = None,
    public_url: str | None = None,
) -> Path:
    """``rightsmesh init`` a node directory under ``tmp`` (named after ``name``); returns it."""
    directory = tmp / name.lower().replace(" ", "-")
    args = ["init", "--role", role, "--name", name, "--dir", str(directory), "--listen", "127.0.0.1:0"]
    for root in trust_roots:
        args += ["--trust-root", root]
    for peer in peers:
        args += ["--peer", peer]
    if public_url:
        args += ["--public-url", public_url]
    env = {}
    if passphrase is not None:
        args += ["--passphrase-env", "RIGHTSMESH_TEST_PASSPHRASE"]
        env["RIGHTSMESH_TEST_PASSPHRASE"] = passphrase
    result = run_cli(*args, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"rightsmesh init failed ({result.returncode}): {result.stderr}")
    return directory


@dataclass
class NodeProcess:
    dir: Path
    process: subprocess.Popen[str]
    url: str
    stderr_lines: list[str] = field(default_factory=list)

    @property
    def admin_token(self) -> str:
        return (self.dir / "admin.token").read_text().strip()

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM, then wait for the process to exit; returns its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)
            raise

    def kill(self) -> int:
        """SIGKILL (``kill -9``): no cleanup at all."""
        if self.process.poll() is None:
            self.process.kill()
        return self.process.wait(STOP_TIMEOUT)

    @property
    def stderr(self) -> str:
        return "".join(self.stderr_lines)


def _pump(stream: object, sink: list[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        sink.append(line)


def _pump_queue(stream: object, sink: queue.Queue[str | None]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        sink.put(line)
    sink.put(None)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start_node(directory: Path, *, passphrase: str | None = None, listen: str = "127.0.0.1:0") -> NodeProcess:
    """``rightsmesh run --dir DIR`` on a free port; returns once /healthz answers (bounded wait)."""
    args = ["run", "--dir", str(directory), "--listen", listen]
    env = dict(os.environ)
    if passphrase is not None:
        args += ["--passphrase-env", "RIGHTSMESH_TEST_PASSPHRASE"]
        env["RIGHTSMESH_TEST_PASSPHRASE"] = passphrase
    process = subprocess.Popen(
        rightsmesh_command(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
    )
    stderr_lines: list[str] = []
    stdout_lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stderr, stderr_lines), daemon=True).start()
    threading.Thread(target=_pump_queue, args=(process.stdout, stdout_lines), daemon=True).start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    url = ""
    while not url:
        try:
            line = stdout_lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:  # stdout closed: the process exited
            break
        if line.startswith("listening on "):
            url = line.removeprefix("listening on ").strip()
    if not url:
        if process.poll() is None:
            process.kill()
        process.wait(STOP_TIMEOUT)
        raise RuntimeError(f"node did not start (exit {process.returncode}): {''.join(stderr_lines)}")
    node = NodeProcess(directory, process, url, stderr_lines)
    while not _healthy(url):
        if process.poll() is not None or time.monotonic() > deadline:
            node.kill()
            raise RuntimeError(f"node at {url} never became healthy: {node.stderr}")
        time.sleep(0.05)
    return node
