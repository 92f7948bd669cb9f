"""A node directory of a given role from the CLI (``rightsmesh office ...``, ``rightsmesh market ...``):
its config, checked to be of that role, and its database, closed when the command is done."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from ..config import NodeConfig, load_config
from ..errors import ConfigError
from ..storage.db import open_database


def _a(role: str) -> str:
    return f"an {role}" if role.startswith(tuple("aeiou")) else f"a {role}"


def role_config(directory: Path, role: str) -> NodeConfig:
    """The config of ``directory``; ``config.role`` when the node there has another role."""
    config = load_config(directory)
    if config.role != role:
        raise ConfigError("config.role", f"{directory} is {_a(config.role)} node, not {_a(role)}")
    return config


@contextmanager
def node_database(config: NodeConfig) -> Iterator[sqlite_utils.Database]:
    """``with node_database(config) as db:`` the node's database, closed when the command is done."""
    db = open_database(config.db_path, synchronous=config.sqlite_synchronous)
    try:
        yield db
    finally:
        db.close()
