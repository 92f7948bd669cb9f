"""The holder's and the agent's side of the demo: every action is a real ``rightsmesh wallet ...``
child process on that party's wallet directory (the demo's own process never opens a wallet).

The wallet commands answer JSON on stdout and, on an error, ``error: CODE: DETAIL`` on stderr (exit 2;
``wallet notify`` exits 1 when some marketplace refused the notice), so the demo reads every result from
what the command printed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .procs import DemoError, run_cli
from .world import Party


@dataclass(frozen=True)
class WalletAnswer:
    returncode: int
    body: Any  # the JSON the command printed (None if it printed none)
    error: str  # "CODE: DETAIL" from stderr on failure, else ""

    @property
    def code(self) -> str:
        return self.error.split(":", 1)[0] if self.error else ""


def _error_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("error: "):
            return line.removeprefix("error: ").strip()
    return lines[-1].strip() if lines else "(no output)"


async def wallet(party: Party, action: str, *args: str, expect: tuple[int, ...] = (0,)) -> WalletAnswer:
    """Run ``rightsmesh wallet ACTION --dir <party's wallet> ARGS``; raises :class:`DemoError` when it
    exits with a code not in ``expect`` or a successful run prints no JSON."""
    result = await run_cli("wallet", action, "--dir", str(party.dir), *args, check=False)
    error = _error_line(result.stderr) if result.returncode != 0 else ""
    if result.returncode not in expect:
        raise DemoError(
            f"`rightsmesh wallet {action}` ({party.name}) exited {result.returncode}: {error or '(no error)'}"
        )
    try:
        body = json.loads(result.stdout) if result.stdout.strip() else None
    except ValueError:
        raise DemoError(f"`rightsmesh wallet {action}` ({party.name}) printed no JSON") from None
    if result.returncode == 0 and body is None:
        raise DemoError(f"`rightsmesh wallet {action}` ({party.name}) printed nothing")
    return WalletAnswer(result.returncode, body, error)


def notice_status(answer: WalletAnswer, notice_id: str) -> dict[str, Any]:
    """The entry of ``notice_id`` in a ``wallet status`` answer: ``marketplaces`` maps a marketplace DID
    to its receipt id and standing outcome."""
    for entry in answer.body.get("notices", []):
        if entry.get("notice") == notice_id:
            return dict(entry)
    raise DemoError("the agent's wallet (wallet status) does not know the notice it sent")
