"""CSV downloads that are safe to open in a spreadsheet.

Excel, LibreOffice and Google Sheets run a cell that starts with = + - @ (or a
tab or carriage return, which they strip first) as a formula, so a value a
consumer or an attacker typed ("=HYPERLINK(...)") would execute on the
client's machine. Every CSV the product produces goes through `neutralise`,
which makes such a cell plain text by prefixing an apostrophe (OWASP's advice).

    return csv_response("errors.csv", ["Row", "Reason"], rows)
"""

import csv
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value) -> str:
    """The text of `value`, defused if a spreadsheet would treat it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


class _Line:
    """A file-like that hands back what csv.writer wrote, one line at a time."""

    def write(self, text: str) -> str:
        return text


def csv_lines(header: Iterable, rows: Iterable[Iterable]) -> Iterator[str]:
    """The CSV text, line by line, every cell neutralised; starts with a BOM so Excel reads UTF-8."""
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow([neutralise(cell) for cell in header])
    for row in rows:
        yield writer.writerow([neutralise(cell) for cell in row])


def csv_response(filename: str, header: Iterable, rows: Iterable[Iterable]) -> StreamingHttpResponse:
    """A streamed CSV download (memory stays flat however many rows there are)."""
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
