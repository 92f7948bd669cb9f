"""The node descriptor: a signed ``node-descriptor`` message saying who this node is and where to reach it.

It is signed when the app starts and again whenever a request finds it within a tenth of its lifetime
of expiring, so what ``/.well-known/rightsmesh`` serves is always valid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from protocol import __version__ as protocol_version
from protocol.keys import KeyPair, x25519_did_url
from protocol.messages import sign_message

from .config import NodeConfig


def software_version() -> str:
    try:
        return metadata.version("rightsmesh")
    except metadata.PackageNotFoundError:
        return protocol_version


SOFTWARE = f"rightsmesh/{software_version()}"


@dataclass(frozen=True)
class Descriptor:
    raw: bytes
    payload: Mapping[str, Any]
    expires: int

    def fresh(self, now: int, ttl: int) -> bool:
        return now < self.expires - max(1, ttl // 10)


def descriptor_payload(
    config: NodeConfig, key: KeyPair, endpoints: Mapping[str, str], now: int
) -> dict[str, Any]:
    base = config.url
    return {
        "created": now,
        "did": key.did,
        "role": config.role,
        "name": config.name,
        "url": base,
        "endpoints": {name: base + path for name, path in sorted(endpoints.items())},
        "software": SOFTWARE,
        "x25519": x25519_did_url(key.did),
        "expires": now + config.descriptor_ttl,
    }


def sign_descriptor(config: NodeConfig, key: KeyPair, endpoints: Mapping[str, str], now: int) -> Descriptor:
    payload = descriptor_payload(config, key, endpoints, now)
    return Descriptor(
        raw=sign_message(key, "node-descriptor", payload), payload=payload, expires=payload["expires"]
    )


class DescriptorHolder:
    """The app's current descriptor, replaced in place when it is re-signed."""

    def __init__(self, config: NodeConfig, key: KeyPair, endpoints: Mapping[str, str]) -> None:
        self.config, self.key, self.endpoints = config, key, endpoints
        self.current: Descriptor | None = None

    def get(self, now: int) -> Descriptor:
        if self.current is None or not self.current.fresh(now, self.config.descriptor_ttl):
            self.current = sign_descriptor(self.config, self.key, self.endpoints, now)
        return self.current
