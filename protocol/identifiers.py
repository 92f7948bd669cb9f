"""Checks for the identifiers a notice or a listing carries: listing URLs and GTINs.

Kept apart from the notice schema because matching normalises the same identifiers on the query side.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MAX_URL = 2048
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"^(?:{_LABEL}\.)*{_LABEL}$")
_IPV6 = re.compile(r"^\[[0-9A-Fa-f:.]+\]$")
_URL_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")
GTIN_LENGTHS = frozenset({8, 12, 13, 14})


def check_listing_url(value: object) -> str | None:
    """An absolute http(s) URI (RFC 3986 characters only, non-ASCII percent-encoded), a host, no user info.

    Returns the value unchanged when valid, else None. User info is refused because it has no place in
    a listing location and is a classic way to disguise the real host.
    """
    if not isinstance(value, str) or not 0 < len(value) <= MAX_URL or not _URL_CHARS.fullmatch(value):
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or "@" in parts.netloc or parts.netloc.endswith(":"):
        return None
    host = parts.netloc.rsplit(":", 1)[0] if port is not None or parts.netloc.endswith(":") else parts.netloc
    if not host or not (_HOST.fullmatch(host) or _IPV6.fullmatch(host)):
        return None
    if port is not None and port == 0:
        return None
    return value


def url_host(url: str) -> str:
    """The lower-case host of a checked listing URL."""
    return (urlsplit(url).hostname or "").lower()


def gtin_check_digit_ok(digits: str) -> bool:
    """GS1 mod-10: weights 3,1,3,... from the rightmost data digit; the check digit completes to 10."""
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def check_gtin(value: object) -> str | None:
    """A GTIN-8, -12 (UPC), -13 (EAN) or -14 with a valid check digit, as digits; else None."""
    if (
        not isinstance(value, str)
        or len(value) not in GTIN_LENGTHS
        or not value.isascii()
        or not value.isdigit()
        or not gtin_check_digit_ok(value)
    ):
        return None
    return value


def gtin14(value: str) -> str:
    """The GTIN-14 form (left-padded with zeros) under which equal GTINs of any length compare equal."""
    return value.rjust(14, "0")
