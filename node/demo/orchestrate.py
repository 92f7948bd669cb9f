"""``run_demo``: build the cast in a base directory, run the story, print the summary, clean up.

Cleanup is certain: whatever happens (a failed step, a bug, Ctrl-C), every node process the demo started
is stopped (SIGTERM, bounded wait, SIGKILL) unless ``keep``; a temporary base directory is removed after a
successful run and kept (with the node logs) after a failure.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import aiohttp

from protocol.keys import KeyPair

from .client import Api
from .display import Display
from .procs import NodeProcess, stop_all
from .runner import StepResult, run_story, succeeded
from .story import STEPS
from .world import AGENT_NAME, HOLDER_NAME, MARKETPLACES, OFFICES, Node, Party, World

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130


@dataclass(frozen=True)
class Options:
    keep: bool = False
    dir: Path | None = None
    quiet: bool = False
    fail_at: str | None = None


def build_world(base: Path, api: Api) -> World:
    return World(
        base=base,
        api=api,
        root=KeyPair.generate(),
        root_dir=base / "trust-root",
        offices=[Node(c, base / c.slug) for c in OFFICES],
        markets=[Node(c, base / c.slug) for c in MARKETPLACES],
        holder=Party(HOLDER_NAME, base / "wallet-holder"),
        agent=Party(AGENT_NAME, base / "wallet-agent"),
    )


def _processes(world: World | None) -> list[NodeProcess]:
    if world is None:
        return []
    return [n.process for n in world.nodes if n.process is not None]


async def _tell(base: Path, display: Display, options: Options, holder: list[World]) -> list[StepResult]:
    connector = aiohttp.TCPConnector(limit_per_host=8)
    async with aiohttp.ClientSession(connector=connector) as session:
        world = build_world(base, Api(session))
        holder.append(world)
        return await run_story(world, STEPS, display, fail_at=options.fail_at)


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM (a supervisor, a test timeout) stops the demo like Ctrl-C: nodes are cleaned up."""
    raise KeyboardInterrupt


def _print_kept(display: Display, base: Path, processes: list[NodeProcess]) -> None:
    running = [p for p in processes if p.running()]
    (base / "pids").write_text("".join(f"{p.pid}\n" for p in running))
    display.line()
    display.line(f"--keep: {len(running)} nodes keep running (pids in {base / 'pids'}); stop them with:")
    display.line(f"  kill {' '.join(str(p.pid) for p in running)}" if running else "  (none running)")


def run_demo(options: Options, out: TextIO | None = None) -> int:
    display = Display(out or sys.stdout, quiet=options.quiet)
    temporary = options.dir is None
    if options.dir is not None:
        options.dir.mkdir(parents=True, exist_ok=True)
        if any(options.dir.iterdir()):
            display.line(f"error: {options.dir} is not empty; give an empty or new directory")
            return 2
        base = options.dir.resolve()
    else:
        base = Path(tempfile.mkdtemp(prefix="rightsmesh-demo-"))
    display.header(f"rightsmesh demo in {base}")
    started = time.monotonic()
    worlds: list[World] = []
    results: list[StepResult] = []
    code = EXIT_FAILED
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        results = asyncio.run(_tell(base, display, options, worlds))
        code = EXIT_OK if succeeded(results) else EXIT_FAILED
    except KeyboardInterrupt:
        display.line("interrupted: stopping the nodes")
        code = EXIT_INTERRUPTED
    finally:
        # The cleanup is bounded (SIGTERM, wait, SIGKILL): let it finish whatever signal comes next.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
        world = worlds[0] if worlds else None
        processes = _processes(world)
        keep = options.keep and code != EXIT_INTERRUPTED
        try:
            if results:
                display.summary(results, time.monotonic() - started)
            if world is not None and code != EXIT_INTERRUPTED:
                display.dashboards(world, kept=options.keep)
            if keep:
                _print_kept(display, base, processes)
            elif code != EXIT_OK:
                display.line(f"node logs kept in {base}/*/node.log")
        finally:  # even if printing fails (a closed pipe): the nodes must not outlive the demo
            if not keep:
                stop_all(processes)
                if temporary and code == EXIT_OK:
                    shutil.rmtree(base, ignore_errors=True)
    signal.signal(signal.SIGTERM, previous)
    signal.signal(signal.SIGINT, interrupt)
    if code == EXIT_FAILED:
        failed = next((r for r in results if r.status == "failed"), None)
        if failed is not None:
            print(f"error: step {failed.name} failed: {failed.detail}", file=sys.stderr)
    return code
