"""The node package's own error hierarchy (IO-side failures), separate from protocol errors.

Storage and configuration errors carry stable codes but never HTTP statuses: the web layer maps codes
to statuses, so storage stays usable outside HTTP.
"""

from __future__ import annotations


class NodeError(Exception):
    """Base of errors raised by the node package; ``code`` is stable and machine-readable."""

    def __init__(self, code: str, detail: str = "") -> None:
        self.code = code
        self.detail = detail or code
        super().__init__(f"{code}: {self.detail}")


class ConfigError(NodeError):
    """A node directory, config file, key file or command-line argument is missing or wrong."""


class StorageError(NodeError):
    """The database refused an operation (conflict, missing object, corrupt row)."""


class NotFound(StorageError):
    """The object or record asked for does not exist."""


class Conflict(StorageError):
    """The operation conflicts with what is already stored (duplicate, used once already)."""
