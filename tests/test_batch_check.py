"""Batch checks of peer objects: a process pool gives exactly the in-process outcomes, failures included."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.batch_check import BatchChecker, CheckFailure, check_many
from node.config import config_from_mapping
from node.errors import ConfigError
from node.ingest import Checked
from protocol.keys import KeyPair
from protocol.messages import sign_message
from tests.node_fixtures import NOW, make_config


def descriptor(i: int, created: int = NOW - 5) -> bytes:
    key = KeyPair.from_seed(bytes([i % 250 + 1]) * 32)
    base = f"http://127.0.0.1:{1000 + i}"
    payload = {
        "created": created,
        "did": key.did,
        "role": "office",
        "name": f"n{i}",
        "url": base,
        "expires": created + 3600,
    }
    return sign_message(key, "node-descriptor", payload)


def batch() -> list[bytes]:
    good = [descriptor(i) for i in range(40)]
    forged = bytearray(good[3])
    forged[-1] ^= 1
    return [*good, bytes(forged), descriptor(99, created=NOW + 3600), b"\xd2\x84", b'{"type": "nope"}']


def summary(outcomes: list[Checked | CheckFailure]) -> list[str]:
    return [o.code if isinstance(o, CheckFailure) else f"ok {o.id} {o.signer} {o.kind}" for o in outcomes]


def test_check_many_reports_each_failure_by_code(tmp_path: Path) -> None:
    outcomes = check_many(make_config(tmp_path), batch(), NOW)
    codes = summary(outcomes)
    assert all(code.startswith("ok ") for code in codes[:40])
    assert codes[40:] == [
        "signature.invalid",
        "validity.not-yet-valid",
        "decode.truncated",
        "objects.kind-not-accepted",
    ]


async def test_pool_gives_the_in_process_outcomes(tmp_path: Path) -> None:
    config = make_config(tmp_path, verify_workers=2)
    checker = BatchChecker(config, config.verify_workers)
    checker.start()
    try:
        pooled = await checker.check(batch(), NOW)
    finally:
        checker.close()
    expected = check_many(config, batch(), NOW)
    assert summary(pooled) == summary(expected)
    first = pooled[0]
    assert isinstance(first, Checked) and first.message is not None
    assert first.message.payload["name"] == "n0"  # the verified payload crosses the process boundary


@pytest.mark.parametrize("value", [-1, 65, True, "2"])
def test_verify_workers_is_checked(tmp_path: Path, value: object) -> None:
    data = {"role": "marketplace", "name": "x", "host": "127.0.0.1", "port": 0, "verify_workers": value}
    with pytest.raises(ConfigError):
        config_from_mapping(tmp_path, data)
