"""Inspectors for ``rightsmesh inspect``: one module per object format the project knows.

Each module listed in :data:`INSPECTORS` exposes ``recognise(data: bytes) -> bool`` (cheap sniffing: is
this my format?) and ``inspect(data: bytes, now: int) -> Inspection`` (decode and verify). The command
tries them in order and uses the first that recognises the bytes. To support a new format, add a module
here and append its name to ``INSPECTORS``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

# Modules under node.inspectors, tried in this order.
INSPECTORS: tuple[str, ...] = ("cose", "credential")


@dataclass(frozen=True)
class Inspection:
    """What ``inspect`` reports about one object.

    ``decodable`` False means the bytes are not a well-formed object of the recognised format (exit 2);
    otherwise ``valid`` says whether every check passed (exit 0) or not (exit 1, ``error`` holds the code).
    ``created``/``expires`` are Unix seconds for CBOR messages and XSD dateTime strings for credentials.
    """

    format: str
    decodable: bool
    valid: bool
    kind: str | None = None
    signer: str | None = None
    id: str | None = None
    created: int | str | None = None
    expires: int | str | None = None
    payload: Any = None
    error: str | None = None
    detail: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def load_inspectors() -> list[ModuleType]:
    return [importlib.import_module(f"node.inspectors.{name}") for name in INSPECTORS]


def to_json_value(value: Any) -> Any:
    """A JSON-ready copy of a decoded CBOR value: byte strings become ``{"$hex": "…"}``."""
    if isinstance(value, bytes):
        return {"$hex": value.hex()}
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    return value
