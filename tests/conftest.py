"""Suite-wide rule: under CI nothing may be skipped.

Some tests skip when a tool their set-up installs is missing (Debian's chromium, the npm packages, the
shared W3C vectors), so that a developer without them still runs the rest. In CI the set-up must have
installed them all: a skip there means a test that did not run, so the run fails and says which.
"""

from __future__ import annotations

import os

import pytest

_SKIPS_FAIL = bool(os.environ.get("CI")) or bool(os.environ.get("RIGHTSMESH_NO_SKIPS"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _SKIPS_FAIL or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped:
        reporter.ensure_newline()
        for report in skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            reporter.write_line(f"skipped under CI (fails the run): {report.nodeid}: {reason}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
