"""Running the story: steps in order, each timed, with one result each.

A step is an async function of the :class:`~node.demo.world.World` that returns a one-line detail built
from real answers, or raises. Outcomes:

- ``ok``: it ran and every check held;
- ``failed``: it raised (the error is its detail); the steps built on it are ``skipped``, the others run;
- ``skipped``: a step it builds on (``after``) did not succeed.

``fail_at`` (``rightsmesh demo --fail-at STEP``) makes that step fail on purpose before it acts, to
check the failure path: error shown, processes cleaned up, non-zero exit.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from protocol.errors import ProtocolError

from ..errors import NodeError
from .procs import DemoError
from .world import World

OK, FAILED, SKIPPED = "ok", "failed", "skipped"


@dataclass(frozen=True)
class Step:
    name: str
    title: str
    run: Callable[[World], Awaitable[str]]
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepResult:
    name: str
    title: str
    status: str
    seconds: float
    detail: str


class Display(Protocol):
    def start(self, index: int, total: int, step: Step) -> None: ...

    def progress(self, text: str) -> None: ...

    def finish(self, index: int, total: int, result: StepResult, notes: Sequence[str]) -> None: ...


class ForcedFailure(DemoError):
    """Raised by ``--fail-at``."""


async def run_story(
    world: World, steps: Sequence[Step], display: Display, *, fail_at: str | None = None
) -> list[StepResult]:
    """Run every step whose earlier steps succeeded; a failure does not stop
    the steps that do not build on it, so one broken part hides as little of the story as possible."""
    results: list[StepResult] = []
    status_of: dict[str, str] = {}
    total = len(steps)
    for index, step in enumerate(steps, start=1):
        notes: list[str] = []
        if blocked := [a for a in step.after if status_of.get(a) != OK]:
            result = StepResult(step.name, step.title, SKIPPED, 0.0, f"needs step {', '.join(blocked)}")
        else:
            display.start(index, total, step)
            world.notes = notes
            world.progress = display.progress
            result = await _run_one(world, step, fail_at)
        status_of[step.name] = result.status
        results.append(result)
        display.finish(index, total, result, notes)
    return results


async def _run_one(world: World, step: Step, fail_at: str | None) -> StepResult:
    started = time.monotonic()
    try:
        if fail_at == step.name:
            raise ForcedFailure(f"forced failure (--fail-at {step.name})")
        detail = await step.run(world)
        status = OK
    except (DemoError, NodeError, ProtocolError) as exc:
        detail, status = _describe(exc), FAILED
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a bug in the demo itself: show where, still clean up
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        detail = f"{type(exc).__name__}: {exc} ({frame.filename.rsplit('/', 1)[-1]}:{frame.lineno})"
        status = FAILED
    return StepResult(step.name, step.title, status, time.monotonic() - started, detail)


def _describe(exc: Exception) -> str:
    if isinstance(exc, (NodeError, ProtocolError)):
        return f"{exc.code}: {exc.detail}"
    return str(exc)


def succeeded(results: Sequence[StepResult]) -> bool:
    """True only when every step ran and held (a skipped step means one it builds on failed)."""
    return all(r.status == OK for r in results)
