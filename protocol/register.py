"""An office's register as data: entries, and CSV/JSON parsing with a verdict per line.

Why pure: the office node imports files of hundreds of thousands of lines, and an operator must learn
which lines were refused and why without anything half-stored. Parsing yields accepted entries and
rejected lines (line number, stable reason code, detail); the node decides what to store.

The fields follow what an IP office register records (EUIPO-style) and what the right credential claims
(see ``protocol/ip_right.py``), plus ``contact_email``: the registered owner's contact, used only to send
the one-time code of an issuance offer out of band. It is never put in a credential or a search answer.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Literal

from .errors import DecodeError, SchemaError
from .ip_right import MARK_FEATURES as _MARK_FEATURES
from .ip_right import MARK_KINDS as _MARK_KINDS
from .ip_right import RIGHT_TYPES as _RIGHT_TYPES
from .ip_right import STATUSES as _STATUSES
from .ip_right import right_from_json

__all__ = [
    "CSV_COLUMNS",
    "MARK_FEATURES",
    "MARK_KINDS",
    "RIGHT_TYPES",
    "STATUSES",
    "ParseResult",
    "RegisterEntry",
    "Rejected",
    "entry_from_mapping",
    "entry_to_mapping",
    "parse_register",
    "public_view",
]

# The vocabularies are the credential's (protocol/ip_right.py), so every accepted entry can be issued.
RIGHT_TYPES, MARK_FEATURES, MARK_KINDS, STATUSES = _RIGHT_TYPES, _MARK_FEATURES, _MARK_KINDS, _STATUSES

CSV_COLUMNS: tuple[str, ...] = (
    "right_type", "office", "application_number", "registration_number", "verbal_element", "mark_feature",
    "mark_kind", "nice_classes", "nice_edition", "territory", "filing_date", "registration_date",
    "expiry_date", "status", "holder_name", "holder_country", "contact_email",
)
_REQUIRED = ("right_type", "office", "application_number", "territory", "filing_date", "status",
             "holder_name", "holder_country")

_OFFICE = re.compile(r"^[A-Z]{2}$")
_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./-]{0,31}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_EDITION = re.compile(r"^[0-9]{1,2}-[0-9]{4}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[A-Za-z]{2,}$")
MAX_TEXT = 500
MAX_CLASSES = 45


@dataclass(frozen=True)
class RegisterEntry:
    """One right as the register records it. Dates are ISO ``YYYY-MM-DD`` strings, already validated."""

    right_type: str
    office: str
    application_number: str
    registration_number: str | None
    verbal_element: str | None
    mark_feature: str | None
    mark_kind: str | None
    nice_classes: tuple[int, ...]
    nice_edition: str | None
    territory: str
    filing_date: str
    registration_date: str | None
    expiry_date: str | None
    status: str
    holder_name: str
    holder_country: str
    contact_email: str | None

    @property
    def key(self) -> str:
        """The entry's identity in the register: ``OFFICE:application_number``."""
        return f"{self.office}:{self.application_number}"


@dataclass(frozen=True)
class Rejected:
    """A refused line: 1-based line (CSV) or item (JSON) number, stable code, human detail."""

    line: int
    code: str
    detail: str


@dataclass(frozen=True)
class ParseResult:
    entries: tuple[tuple[int, RegisterEntry], ...]
    rejected: tuple[Rejected, ...]


def _text(raw: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    value = raw.get(name)
    if value is None or (isinstance(value, str) and value.strip() == ""):
        if required:
            raise SchemaError("schema.missing-field", f"{name} is required")
        return None
    if not isinstance(value, str):
        raise SchemaError("schema.field-type", f"{name} must be a string")
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise SchemaError("schema.too-long", f"{name} is longer than {MAX_TEXT} characters")
    return value


def _date(raw: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    value = _text(raw, name, required=required)
    if value is None:
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise SchemaError("schema.date", f"{name} is not a YYYY-MM-DD date: {value!r}") from None


def _choice(raw: Mapping[str, Any], name: str, allowed: frozenset[str], *, required: bool) -> str | None:
    value = _text(raw, name, required=required)
    if value is None:
        return None
    value = value.lower()
    if value not in allowed:
        raise SchemaError("schema.vocabulary", f"{name} {value!r} is not one of {sorted(allowed)}")
    return value


def _pattern(raw: Mapping[str, Any], name: str, pattern: re.Pattern[str], *, required: bool) -> str | None:
    value = _text(raw, name, required=required)
    if value is not None and not pattern.match(value):
        raise SchemaError("schema.format", f"{name} has an invalid format: {value!r}")
    return value


def _classes(value: Any) -> tuple[int, ...]:
    if value is None or value == "":
        return ()
    items: Sequence[Any]
    if isinstance(value, str):
        items = [part.strip() for part in re.split(r"[;, ]+", value.strip()) if part.strip()]
    elif isinstance(value, list):
        items = value
    else:
        raise SchemaError("schema.nice-class", "nice_classes must be a list or a ;-separated string")
    out: set[int] = set()
    for item in items:
        if isinstance(item, bool):
            raise SchemaError("schema.nice-class", f"not a Nice class: {item!r}")
        try:
            number = int(item) if isinstance(item, (int, str)) else -1
        except ValueError:
            number = -1
        if not 1 <= number <= MAX_CLASSES:
            raise SchemaError("schema.nice-class", f"not a Nice class (1-45): {item!r}")
        out.add(number)
    return tuple(sorted(out))


def entry_from_mapping(raw: Mapping[str, Any]) -> RegisterEntry:
    """Validate one record (CSV row or JSON object) into an entry; raises SchemaError with a stable code."""
    unknown = set(raw) - set(CSV_COLUMNS)
    if unknown:
        raise SchemaError("schema.unknown-field", f"unknown fields: {sorted(map(str, unknown))}")
    right_type = _choice(raw, "right_type", RIGHT_TYPES, required=True)
    office = _pattern(raw, "office", _OFFICE, required=True)
    application_number = _pattern(raw, "application_number", _NUMBER, required=True)
    status = _choice(raw, "status", STATUSES, required=True)
    assert right_type and office and application_number and status  # required=True guarantees it
    classes = _classes(raw.get("nice_classes"))
    if right_type == "trademark" and not classes:
        raise SchemaError("schema.nice-class", "a trade mark needs at least one Nice class")
    filing = _date(raw, "filing_date", required=True)
    registration = _date(raw, "registration_date", required=status == "registered")
    expiry = _date(raw, "expiry_date", required=status == "registered")
    assert filing is not None
    if registration is not None and registration < filing:
        raise SchemaError("schema.date-order", "registration_date is before filing_date")
    if expiry is not None and expiry <= (registration or filing):
        raise SchemaError("schema.date-order", "expiry_date is not after registration/filing date")
    entry = RegisterEntry(
        right_type=right_type,
        office=office,
        application_number=application_number,
        registration_number=_pattern(raw, "registration_number", _NUMBER, required=False),
        verbal_element=_text(raw, "verbal_element", required=False),
        mark_feature=_choice(raw, "mark_feature", MARK_FEATURES, required=False),
        mark_kind=_choice(raw, "mark_kind", MARK_KINDS, required=False),
        nice_classes=classes,
        nice_edition=_pattern(raw, "nice_edition", _EDITION, required=False),
        territory=_text(raw, "territory", required=True) or "",
        filing_date=filing,
        registration_date=registration,
        expiry_date=expiry,
        status=status,
        holder_name=_text(raw, "holder_name", required=True) or "",
        holder_country=_pattern(raw, "holder_country", _COUNTRY, required=True) or "",
        contact_email=_pattern(raw, "contact_email", _EMAIL, required=False),
    )
    if entry.right_type == "trademark" and entry.verbal_element is None and entry.mark_feature == "word":
        raise SchemaError("schema.missing-field", "a word mark needs its verbal_element")
    right_from_json(public_view(entry))  # the credential's own rules (office codes, ...): schema.right.*
    return entry


def entry_to_mapping(entry: RegisterEntry) -> dict[str, Any]:
    """The entry as a JSON-ready dict (the JSON register format); ``None`` fields are left out."""
    out: dict[str, Any] = {}
    for f in fields(entry):
        value = getattr(entry, f.name)
        if value is None:
            continue
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def public_view(entry: RegisterEntry) -> dict[str, Any]:
    """What a register search may disclose: everything but the owner's contact."""
    out = entry_to_mapping(entry)
    out.pop("contact_email", None)
    return out


def _csv_records(text: str) -> Iterator[tuple[int, Mapping[str, Any] | Rejected]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise DecodeError("decode.csv", f"unreadable CSV header: {exc}") from None
    header = [h.strip().lstrip("\ufeff") for h in header]
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        raise SchemaError("schema.csv-header", f"CSV header lacks columns: {missing}")
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown or len(set(header)) != len(header):
        raise SchemaError("schema.csv-header", f"CSV header has unknown or repeated columns: {unknown}")
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, Rejected(reader.line_num, "decode.csv", str(exc))
            continue
        if not row or all(cell.strip() == "" for cell in row):
            continue
        if len(row) != len(header):
            yield reader.line_num, Rejected(
                reader.line_num, "schema.csv-columns", f"{len(row)} cells, header has {len(header)}"
            )
            continue
        yield reader.line_num, dict(zip(header, row, strict=True))


def _json_records(text: str) -> Iterator[tuple[int, Mapping[str, Any] | Rejected]]:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise DecodeError("decode.json", f"not JSON: {exc}") from None
    if isinstance(doc, dict) and isinstance(doc.get("entries"), list):
        doc = doc["entries"]
    if not isinstance(doc, list):
        raise SchemaError("schema.register", "a JSON register is a list of entries or {\"entries\": [...]}")
    for number, item in enumerate(doc, start=1):
        if not isinstance(item, dict):
            yield number, Rejected(number, "schema.field-type", "an entry must be a JSON object")
        else:
            yield number, item


def parse_register(data: bytes | str, fmt: Literal["csv", "json"] | None = None) -> ParseResult:
    """Parse a CSV or JSON register (format sniffed when ``fmt`` is None) into accepted and rejected lines.

    A whole-file problem (not UTF-8, not JSON, bad CSV header) raises DecodeError/SchemaError; a bad line
    only lands in ``rejected``. A repeated ``office:application_number`` keeps the first occurrence.
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DecodeError("decode.utf8", "the register is not UTF-8") from None
    else:
        text = data.lstrip("\ufeff")
    if fmt is None:
        fmt = "json" if text.lstrip()[:1] in ("[", "{") else "csv"
    records = _json_records(text) if fmt == "json" else _csv_records(text)
    entries: list[tuple[int, RegisterEntry]] = []
    rejected: list[Rejected] = []
    seen: dict[str, int] = {}
    for line, record in records:
        if isinstance(record, Rejected):
            rejected.append(record)
            continue
        try:
            entry = entry_from_mapping(record)
        except SchemaError as exc:
            rejected.append(Rejected(line, exc.code, exc.detail))
            continue
        if entry.key in seen:
            detail = f"{entry.key} already on line {seen[entry.key]}"
            rejected.append(Rejected(line, "schema.duplicate", detail))
            continue
        seen[entry.key] = line
        entries.append((line, entry))
    return ParseResult(tuple(entries), tuple(rejected))
