"""rightsmesh protocol: pure, IO-free encoding, keys, signed objects, credentials and reconciliation.

Nothing in this package reads a clock, touches the network or the file system, or logs: time and
bytes are passed in, values or typed :class:`~protocol.errors.ProtocolError` subclasses come out.
"""

__version__ = "0.1.0"
