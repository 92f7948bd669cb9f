"""What the demo prints: a progress line per step with its timing, the notes under it, a summary table,
and the dashboard URLs. Simple ANSI colours when the output is a terminal, plain text otherwise."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TextIO

from .runner import FAILED, OK, SKIPPED, Step, StepResult
from .world import World

_COLOURS = {OK: "32", FAILED: "31", SKIPPED: "33"}
_MARKS = {OK: "ok", FAILED: "FAILED", SKIPPED: "skipped"}


class Display:
    def __init__(self, out: TextIO | None = None, *, quiet: bool = False, colour: bool | None = None) -> None:
        self.out = out or sys.stdout
        self.quiet = quiet
        # Colour only on a terminal, and never when NO_COLOR is set (no-color.org).
        self._current = ""
        self.tty = (self.out.isatty() and not os.environ.get("NO_COLOR")) if colour is None else colour

    def _paint(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.tty else text

    def line(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def header(self, text: str) -> None:
        if not self.quiet:
            self.line(self._paint(text, "1"))

    def start(self, index: int, total: int, step: Step) -> None:
        self._current = f"[{index:>2}/{total}] {step.title} ..."
        self.progress("")

    def progress(self, text: str) -> None:
        """Rewrite the running step's line on a terminal (nothing otherwise: logs stay clean)."""
        if self.tty and not self.quiet:
            self.out.write("\r\033[K" + self._paint(f"{self._current} {text}".rstrip(), "2"))
            self.out.flush()

    def finish(self, index: int, total: int, result: StepResult, notes: Sequence[str]) -> None:
        if self.quiet and result.status != FAILED:
            return
        if self.tty:
            self.out.write("\r\033[K")
        mark = _MARKS.get(result.status, result.status)
        mark = self._paint(f"{mark:<9}", _COLOURS.get(result.status, "0"))
        timing = f"{result.seconds:6.2f}s" if result.status in (OK, FAILED) else " " * 7
        self.line(f"[{index:>2}/{total}] {mark} {result.title:<54} {timing}  {result.detail}")
        if not self.quiet:
            for note in notes:
                self.line(f"        {self._paint('-', '2')} {note}")

    def summary(self, results: Sequence[StepResult], seconds: float) -> None:
        rows = [(r.name, r.status, f"{r.seconds:.2f}s" if r.seconds else "-", r.detail) for r in results]
        widths = [
            max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(("step", "result", "time"))
        ]
        self.line()
        self.line(self._paint("Summary", "1"))
        head = ("step", "result", "time")
        self.line("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + "  detail")
        self.line("  ".join("-" * w for w in widths) + "  " + "-" * 6)
        for name, status, timing, detail in rows:
            cells = [name.ljust(widths[0]), status.ljust(widths[1]), timing.rjust(widths[2])]
            cells[1] = self._paint(cells[1], _COLOURS.get(status, "0"))
            self.line("  ".join(cells) + "  " + detail)
        counts = {s: sum(r.status == s for r in results) for s in (OK, FAILED, SKIPPED)}
        parts = [f"{counts[OK]} ok", f"{counts[FAILED]} failed", f"{counts[SKIPPED]} skipped"]
        self.line(f"demo: {', '.join(parts)} in {seconds:.1f}s")

    def dashboards(self, world: World, *, kept: bool) -> None:
        self.line()
        if not kept:
            state = " (log in with the admin token; the nodes stop now: run with --keep to browse them)"
        else:
            state = " (log in with the admin token)"
        self.line(self._paint("Dashboards", "1") + state)
        for node in world.nodes:
            if node.url:
                self.line(f"  {node.name:<16} {node.url}/ui   admin token: {node.token_path}")
        self.line(f"  trust root key (offline): {world.root_dir / 'root.key'}")
        self.line(f"  wallets: {world.holder.dir}  {world.agent.dir}")
