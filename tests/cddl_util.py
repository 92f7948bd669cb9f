"""Check CBOR bytes against the CDDL files in specs/cddl/ (pycddl validates against a file's first rule).

Usage in any test::

    from cddl_util import assert_matches_cddl, assert_not_matches_cddl  # tests/ is on sys.path
    assert_matches_cddl("notice", payload_bytes)          # specs/cddl/notice.cddl
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pycddl

CDDL_DIR = Path(__file__).resolve().parent.parent / "specs" / "cddl"


def cddl_path(rule_file: str | Path) -> Path:
    path = Path(rule_file)
    if not path.is_absolute():
        path = CDDL_DIR / path
    if path.suffix != ".cddl":
        path = path.with_name(path.name + ".cddl")
    return path


@cache
def schema(rule_file: str | Path) -> pycddl.Schema:
    return pycddl.Schema(cddl_path(rule_file).read_text(encoding="utf-8"))


def assert_matches_cddl(rule_file: str | Path, data: bytes) -> None:
    """Fail the test unless ``data`` (CBOR) matches the first rule of ``rule_file``."""
    try:
        schema(rule_file).validate_cbor(data)
    except pycddl.ValidationError as exc:
        raise AssertionError(f"{cddl_path(rule_file).name}: {exc}") from None


def assert_not_matches_cddl(rule_file: str | Path, data: bytes) -> None:
    """Fail the test if ``data`` matches: proves the rule is not vacuous."""
    try:
        schema(rule_file).validate_cbor(data)
    except pycddl.ValidationError:
        return
    raise AssertionError(f"{cddl_path(rule_file).name} accepted data it should refuse: {data.hex()}")
