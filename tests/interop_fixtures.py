"""Shared by the Data Integrity interop tests: where the JavaScript reference stack is, when to skip, and
one call that runs a batch of requests through tests/interop/di.mjs in a single node process."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

INTEROP = Path(__file__).resolve().parent / "interop"
NODE = shutil.which("node")
MODULES = INTEROP / "node_modules" / "@digitalbazaar" / "vc"

DI_MARKS = [
    pytest.mark.interop,
    pytest.mark.skipif(NODE is None, reason="node is not installed: cannot run the JavaScript reference"),
    pytest.mark.skipif(not MODULES.is_dir(), reason=f"JavaScript packages missing: npm ci in {INTEROP}"),
]


def run_di(requests: list[dict[str, Any]], *, timeout: float = 180) -> list[dict[str, Any]]:
    """One answer per request from di.mjs (a failing process or a short answer fails the test)."""
    assert NODE is not None
    done = subprocess.run([NODE, str(INTEROP / "di.mjs")], input=json.dumps(requests), capture_output=True,
                          text=True, timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    answers = json.loads(done.stdout)
    assert isinstance(answers, list) and len(answers) == len(requests)
    return answers
