"""Register parsing: accepted entries, rejected lines with stable codes, both formats, the sample register."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from protocol.errors import DecodeError, SchemaError
from protocol.register import CSV_COLUMNS, entry_to_mapping, parse_register, public_view

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "specs" / "examples"
HEADER = ",".join(CSV_COLUMNS)
GOOD = ("trademark,EM,018123456,018123456,ACME,word,individual,9;35,12-2023,EU,2023-02-01,2023-08-01,"
        "2033-02-01,registered,Acme Widgets GmbH,DE,ip@acme.example")


def _csv(*rows: str) -> str:
    return "\n".join((HEADER, *rows)) + "\n"


def test_good_line_parses() -> None:
    result = parse_register(_csv(GOOD))
    assert result.rejected == ()
    [(line, entry)] = result.entries
    assert line == 2
    assert entry.key == "EM:018123456"
    assert entry.nice_classes == (9, 35)
    assert entry.status == "registered"
    assert "contact_email" not in public_view(entry)


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda c: c.__setitem__(0, "copyright"), "schema.vocabulary"),
        (lambda c: c.__setitem__(1, "EUIPO"), "schema.format"),
        (lambda c: c.__setitem__(2, ""), "schema.missing-field"),
        (lambda c: c.__setitem__(7, "9;46"), "schema.nice-class"),
        (lambda c: c.__setitem__(7, ""), "schema.nice-class"),
        (lambda c: c.__setitem__(10, "01/02/2023"), "schema.date"),
        (lambda c: c.__setitem__(11, "2022-01-01"), "schema.date-order"),
        (lambda c: c.__setitem__(12, ""), "schema.missing-field"),
        (lambda c: c.__setitem__(13, "alive"), "schema.vocabulary"),
        (lambda c: c.__setitem__(15, "Germany"), "schema.format"),
        (lambda c: c.__setitem__(16, "not-an-email"), "schema.format"),
        (lambda c: c.__setitem__(4, ""), "schema.missing-field"),
        (lambda c: c.__setitem__(1, "ZZ"), "schema.right.office-code"),
    ],
)
def test_bad_lines_are_rejected_with_codes(mutate: object, code: str) -> None:
    cells = GOOD.split(",")
    mutate(cells)  # type: ignore[operator]
    result = parse_register(_csv(GOOD.replace("018123456", "018000001"), ",".join(cells)))
    assert len(result.entries) == 1
    assert [(r.line, r.code) for r in result.rejected] == [(3, code)]


def test_wrong_cell_count_and_duplicates() -> None:
    result = parse_register(_csv(GOOD, "trademark,EM", GOOD))
    assert [(r.line, r.code) for r in result.rejected] == [(3, "schema.csv-columns"), (4, "schema.duplicate")]


def test_whole_file_errors() -> None:
    with pytest.raises(DecodeError) as exc:
        parse_register(b"\xff\xfe")
    assert exc.value.code == "decode.utf8"
    with pytest.raises(SchemaError) as exc2:
        parse_register("office,number\nEM,1\n")
    assert exc2.value.code == "schema.csv-header"
    with pytest.raises(DecodeError) as exc3:
        parse_register("[{", "json")
    assert exc3.value.code == "decode.json"
    with pytest.raises(SchemaError):
        parse_register('{"x": 1}')


def test_json_items_numbered_and_checked() -> None:
    entry = parse_register(_csv(GOOD)).entries[0][1]
    good = entry_to_mapping(entry)
    bad_type = dict(good, application_number=18123457)
    extra = dict(good, application_number="018123458", colour="red")
    doc = json.dumps({"entries": [good, 5, bad_type, extra]})
    result = parse_register(doc.encode())
    assert [e.key for _, e in result.entries] == ["EM:018123456"]
    assert [(r.line, r.code) for r in result.rejected] == [
        (2, "schema.field-type"), (3, "schema.field-type"), (4, "schema.unknown-field")]
    assert result.entries[0][1] == entry


def test_sample_register_is_valid_and_reproducible() -> None:
    csv_result = parse_register((EXAMPLES / "register-em.csv").read_bytes())
    json_result = parse_register((EXAMPLES / "register-em.json").read_bytes())
    assert csv_result.rejected == () and json_result.rejected == ()
    assert len(csv_result.entries) >= 200
    assert [e for _, e in csv_result.entries] == [e for _, e in json_result.entries]
    statuses = {e.status for _, e in csv_result.entries}
    assert {"registered", "filed", "refused"} <= statuses
    check = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_register.py"), "--check"],
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
