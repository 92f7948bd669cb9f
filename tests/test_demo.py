"""``rightsmesh demo``: the whole story end to end as a real subprocess, its failure path, and the
runner's outcome rules (failed, skipped) on steps that really fail."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from node.demo.display import Display
from node.demo.procs import DemoError
from node.demo.runner import FAILED, OK, SKIPPED, Step, run_story, succeeded
from node.demo.story import STEP_NAMES

REPO = Path(__file__).resolve().parent.parent
DEMO_TIMEOUT = 240  # the demo itself must finish within 2 minutes; the bound leaves room on a busy machine
DEMO_BUDGET = 120.0  # seconds: what the demo's own summary line may report
NODES = ("office-em", "office-dk", "bazaar-nord", "mercato-sud", "kiosk-est", "atelier-ouest")


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "node.cli", "demo", *args],
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT,
        cwd=REPO,
        env={**os.environ, "NO_COLOR": "1"},
    )


def summary_rows(stdout: str) -> dict[str, str]:
    """step name -> result, from the summary table."""
    lines = stdout.split("\nSummary\n", 1)[1].splitlines()
    rows = {}
    for line in lines[2:]:
        if not line.strip() or line.startswith("demo:"):
            break
        name, rest = line.split(None, 1)
        rows[name] = rest.split()[0]
    return rows


def reported_seconds(stdout: str, steps: int) -> float:
    """The total time of the summary line ``demo: N ok, 0 failed, 0 skipped in X s``."""
    found = re.search(rf"^demo: {steps} ok, 0 failed, 0 skipped in ([0-9.]+)s$", stdout, re.MULTILINE)
    assert found is not None, stdout
    return float(found.group(1))


def listening_url(node_dir: Path) -> str:
    for line in (node_dir / "stdout.log").read_text().splitlines():
        if line.startswith("listening on "):
            return line.removeprefix("listening on ").strip()
    raise AssertionError(f"{node_dir.name} printed no URL")


def leftover_processes(base: Path) -> list[int]:
    """Processes whose command line names a directory under ``base`` (the demo's nodes)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if str(base) in cmdline:
            found.append(int(entry.name))
    return found


@pytest.mark.slow
def test_demo_end_to_end(tmp_path: Path) -> None:
    base = tmp_path / "demo"
    result = run_demo("--dir", str(base), "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = summary_rows(result.stdout)
    assert list(rows) == list(STEP_NAMES)
    assert all(status == OK for status in rows.values()), rows
    assert reported_seconds(result.stdout, len(STEP_NAMES)) < DEMO_BUDGET
    for node in NODES:
        assert f"/ui   admin token: {base / node / 'admin.token'}" in result.stdout
    assert leftover_processes(base) == []


@pytest.mark.slow
def test_demo_keep_leaves_nodes_running(tmp_path: Path) -> None:
    """--keep: the demo exits 0, the six nodes keep running, their pids are in BASE/pids and the printed
    `kill` line names them; a node still answers /healthz; the test then stops them itself."""
    base = tmp_path / "demo"
    try:
        result = run_demo("--dir", str(base), "--quiet", "--keep")
        assert result.returncode == 0, result.stdout + result.stderr
        assert reported_seconds(result.stdout, len(STEP_NAMES)) < DEMO_BUDGET
        pids = [int(line) for line in (base / "pids").read_text().split()]
        assert len(pids) == len(NODES)
        assert f"--keep: {len(NODES)} nodes keep running (pids in {base / 'pids'}); stop them with:" in (
            result.stdout
        )
        assert f"  kill {' '.join(map(str, pids))}" in result.stdout.splitlines()
        assert sorted(leftover_processes(base)) == sorted(pids)
        url = listening_url(base / "bazaar-nord")
        with urllib.request.urlopen(url + "/healthz", timeout=5) as answer:
            assert answer.status == 200
            assert json.loads(answer.read())["role"] == "marketplace"
        for pid in pids:  # what the printed `kill` line does
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while leftover_processes(base) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert leftover_processes(base) == []
    finally:  # never leave a node behind, whatever failed above (only pids that are still the demo's)
        for pid in leftover_processes(base):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_demo_failure_path(tmp_path: Path) -> None:
    """--fail-at makes a step fail: the error is printed, the steps built on it are skipped, the others
    still run, every node process is stopped, and the exit code is 1."""
    base = tmp_path / "demo"
    result = run_demo("--dir", str(base), "--quiet", "--fail-at", "issuance")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "error: step issuance failed: forced failure (--fail-at issuance)" in result.stderr
    rows = summary_rows(result.stdout)
    assert rows["issuance"] == FAILED
    assert rows["start"] == rows["register"] == OK
    assert rows["enrolment"] == rows["authorise"] == SKIPPED
    assert f"node logs kept in {base}" in result.stdout
    assert (base / "office-em" / "node.log").exists()
    assert leftover_processes(base) == []


def test_demo_refuses_unknown_step_and_nonempty_dir(tmp_path: Path) -> None:
    assert run_demo("--fail-at", "no-such-step").returncode == 2
    (tmp_path / "x").write_text("")
    result = run_demo("--dir", str(tmp_path))
    assert result.returncode == 2 and "not empty" in result.stdout


class FakeWorld:
    """The runner only touches ``notes`` and ``progress``."""

    def __init__(self) -> None:
        self.notes: list[str] = []


def test_runner_outcomes() -> None:
    ran: list[str] = []

    async def fine(world: Any) -> str:
        ran.append("fine")
        world.notes.append("a note")
        return "done"

    async def broken(world: Any) -> str:
        ran.append("broken")
        raise DemoError("the node answered 422 schema.x")

    async def buggy(world: Any) -> str:
        ran.append("buggy")
        return str({}["missing"])

    async def never(world: Any) -> str:
        ran.append("never")
        return "should not run"

    steps = [
        Step("a", "A", fine),
        Step("b", "B", broken, after=("a",)),
        Step("c", "C", never, after=("b",)),
        Step("d", "D", fine, after=("a",)),
        Step("f", "F", buggy),
    ]
    out = io.StringIO()
    results = asyncio.run(run_story(FakeWorld(), steps, Display(out)))  # type: ignore[arg-type]
    assert [r.status for r in results] == [OK, FAILED, SKIPPED, OK, FAILED]
    assert ran == ["fine", "broken", "fine", "buggy"]
    assert results[1].detail == "the node answered 422 schema.x"
    assert results[2].detail == "needs step b"
    assert results[4].detail.startswith("KeyError: 'missing'")
    assert not succeeded(results)
    assert succeeded([r for r in results if r.status == OK])
    text = out.getvalue()
    assert "a note" in text and "\033[" not in text  # not a terminal: plain text


def test_runner_fail_at_and_summary() -> None:
    async def fine(world: Any) -> str:
        return "done"

    steps = [Step("a", "A", fine), Step("b", "B", fine, after=("a",))]
    results = asyncio.run(run_story(FakeWorld(), steps, Display(io.StringIO()), fail_at="a"))  # type: ignore[arg-type]
    assert [r.status for r in results] == [FAILED, SKIPPED]
    assert results[0].detail == "forced failure (--fail-at a)"
    out = io.StringIO()
    Display(out).summary(results, 1.5)
    assert "demo: 0 ok, 1 failed, 1 skipped in 1.5s" in out.getvalue()
    assert not succeeded(results[1:])  # a skipped step alone is not success either


@pytest.mark.slow
def test_demo_sigterm_stops_every_node(tmp_path: Path) -> None:
    """SIGTERM (or Ctrl-C) while nodes run: the demo stops them all and exits 130."""
    base = tmp_path / "demo"
    process = subprocess.Popen(
        [sys.executable, "-m", "node.cli", "demo", "--dir", str(base), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
    )
    last = base / "atelier-ouest" / "stdout.log"
    deadline = time.monotonic() + 60
    while not (last.exists() and "listening on" in last.read_text()):
        assert process.poll() is None and time.monotonic() < deadline, "the last node never started"
        time.sleep(0.05)
    assert leftover_processes(base) != []
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 130, out
    assert "interrupted: stopping the nodes" in out
    assert leftover_processes(base) == []
