"""CSV downloads open in a spreadsheet as text, never as formulas (OWASP's CSV-injection advice)."""

import ast
import csv
import io
from pathlib import Path

import pytest

from nextsupport.exports import csv_lines, csv_response, neutralise

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+447911123456", "'+447911123456"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\n=1", "'\n=1"),
        # Spreadsheets skip leading spaces before they look for a formula.
        (" =1+1", "' =1+1"),
        ("   @SUM(A1)", "'   @SUM(A1)"),
        ("\u00a0=1", "'\u00a0=1"),  # a no-break space
        ("\u3000+1", "'\u3000+1"),  # an ideographic space
        ("\u200b=cmd|' /C calc'!A0", "'\u200b=cmd|' /C calc'!A0"),  # a zero-width space
        # Full-width and small forms, read as = + - @ in East Asian locales.
        ("\uff1dHYPERLINK(1)", "'\uff1dHYPERLINK(1)"),
        ("\uff0b1", "'\uff0b1"),
        ("\uff0d1", "'\uff0d1"),
        ("\uff20SUM(1)", "'\uff20SUM(1)"),
        ("\ufe66 1", "'\ufe66 1"),
        ("\u2212 1", "'\u2212 1"),
        ("  \uff1d1", "'  \uff1d1"),
        # Ordinary text, including triggers that are not at the start.
        ("Ada = Lovelace", "Ada = Lovelace"),
        ("ada@example.com", "ada@example.com"),
        ("  leading spaces", "  leading spaces"),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_cells_a_spreadsheet_would_run_as_formulas_become_text(value, safe):
    assert neutralise(value) == safe


def test_every_cell_of_a_csv_download_is_quoted_and_neutralised_header_included():
    lines = list(csv_lines(["=Row", "Name"], [[1, '=HYPERLINK("http://evil.example","click")'], [2, "Bob"]]))

    assert lines == [
        '\ufeff"\'=Row","Name"\r\n',
        '"1","\'=HYPERLINK(""http://evil.example"",""click"")"\r\n',
        '"2","Bob"\r\n',
    ]


def test_a_value_with_delimiters_quotes_and_line_breaks_stays_one_cell():
    # Given a value that would split into cells, or start a new row, if it were written bare
    hostile = 'a,b;c\td"\r\n=1'

    # When it is exported
    text = "".join(csv_lines(["Value"], [[hostile, "next"]])).lstrip("\ufeff")

    # Then a CSV reader (as a spreadsheet's import) finds the same two cells, and the second line is not a formula
    assert list(csv.reader(io.StringIO(text, newline=""))) == [["Value"], [hostile, "next"]]


def test_a_csv_download_is_streamed_as_an_attachment_and_not_cached():
    response = csv_response("report.csv", ["A"], ([n] for n in range(3)))

    assert response["Content-Disposition"] == 'attachment; filename="report.csv"'
    assert response["Cache-Control"] == "no-store"
    assert b"".join(response.streaming_content).decode() == '\ufeff"A"\r\n"0"\r\n"1"\r\n"2"\r\n'


@pytest.mark.obligation("P26")
def test_no_code_writes_csv_except_through_the_shared_export():
    # Given every module of the product (tests, benchmarks and migrations aside)
    writers = []
    for path in ROOT.glob("*/**/*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0] in {".venv", "tests", "bench", "scripts"} or "migrations" in parts or path.name == "exports.py":
            continue
        # When its code is read for csv writers
        for node in ast.walk(ast.parse(path.read_text())):
            is_csv = isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "csv"
            if is_csv and node.attr in {"writer", "DictWriter"}:
                writers.append(f"{path.relative_to(ROOT)}:{node.lineno}")

    # Then none writes CSV itself: every export goes through nextsupport.exports
    assert writers == []
