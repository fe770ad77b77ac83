import pytest

from nextsupport.exports import csv_lines, csv_response, neutralise


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+447911123456", "'+447911123456"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Ada = Lovelace", "Ada = Lovelace"),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_cells_a_spreadsheet_would_run_as_formulas_become_text(value, safe):
    assert neutralise(value) == safe


def test_every_cell_of_a_csv_download_is_neutralised_header_included():
    lines = list(csv_lines(["=Row", "Name"], [[1, '=HYPERLINK("http://evil.example","click")'], [2, "Bob"]]))

    assert lines == ["\ufeff'=Row,Name\r\n", '1,"\'=HYPERLINK(""http://evil.example"",""click"")"\r\n', "2,Bob\r\n"]


def test_a_csv_download_is_streamed_as_an_attachment_and_not_cached():
    response = csv_response("report.csv", ["A"], ([n] for n in range(3)))

    assert response["Content-Disposition"] == 'attachment; filename="report.csv"'
    assert response["Cache-Control"] == "no-store"
    assert b"".join(response.streaming_content).decode() == "\ufeffA\r\n0\r\n1\r\n2\r\n"
