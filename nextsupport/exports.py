"""CSV downloads that are safe to open in a spreadsheet: the one place every CSV export goes through.

Excel, LibreOffice and Google Sheets run a cell that starts with = + - @ as a
formula, so a value a consumer or an attacker typed ("=HYPERLINK(...)") would
execute on the client's machine. Following OWASP's CSV-injection advice,
`neutralise` makes such a cell plain text by prefixing an apostrophe, and every
field is quoted, so a delimiter, quote or line break inside a value can never
start a new cell. A cell counts as formula-like when its first visible character
is a trigger: spreadsheets skip leading spaces (and some, a tab or carriage
return), and in East Asian locales they read the full-width and small forms of
= + - @ as the ASCII ones.

    return csv_response("errors.csv", ["Row", "Reason"], rows)
"""

import csv
import datetime
import io
import json
import zipfile
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

FORMULA_TRIGGERS = frozenset(
    "=+-@"  # ASCII
    "\uff1d\uff0b\uff0d\uff20"  # full-width = + - @
    "\ufe66\ufe62\ufe63\ufe6b"  # small = + - @
    "\u2212"  # the minus sign, which LibreOffice reads as "-"
    "\t\r\n"  # stripped by some spreadsheets before they look for a formula
)
# Skipped before the first visible character: whitespace of any script, and the
# zero-width characters a pasted value may start with.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


def neutralise(value) -> str:
    """The text of `value`, defused if a spreadsheet would treat it as a formula."""
    text = "" if value is None else str(value)
    visible = text.lstrip().lstrip(_INVISIBLE).lstrip()
    if text[:1] in FORMULA_TRIGGERS or visible[:1] in FORMULA_TRIGGERS:
        return "'" + text
    return text


class _Line:
    """A file-like that hands back what csv.writer wrote, one line at a time."""

    def write(self, text: str) -> str:
        return text


def csv_lines(header: Iterable, rows: Iterable[Iterable]) -> Iterator[str]:
    """The CSV text, line by line, every cell quoted and neutralised; starts with a BOM so Excel reads UTF-8."""
    writer = csv.writer(_Line(), quoting=csv.QUOTE_ALL)
    yield "\ufeff" + writer.writerow([neutralise(cell) for cell in header])
    for row in rows:
        yield writer.writerow([neutralise(cell) for cell in row])


def csv_response(filename: str, header: Iterable, rows: Iterable[Iterable]) -> StreamingHttpResponse:
    """A streamed CSV download (memory stays flat however many rows there are)."""
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


# --- Structured exports (access, portability, the account export: P35, P39) -------------------
# One JSON writer and one CSV-of-records writer, so the data-subject package
# (compliance.packages) and a client's account export read the same way.


def _plain(value):
    """What JSON cannot say natively, as text: dates, ids, decimals. A digest is never shown raw."""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return "(kept only as a one-way fingerprint)"
    return str(value)


def json_bytes(data) -> bytes:
    """`data` as indented UTF-8 JSON."""
    return json.dumps(data, indent=2, ensure_ascii=False, default=_plain).encode()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=_plain)
    return _plain(value)


def records_csv(records: Iterable[dict], *, first: Iterable[str] = ()) -> str:
    """Records (dicts) as one CSV text: a column for every key any record has, `first` ones leading.

    Nested values are written as JSON in their cell; every cell goes through `neutralise`.
    """
    records = list(records)
    header = list(dict.fromkeys([*first, *(key for record in records for key in record)]))
    return "".join(csv_lines(header, ([_cell(record.get(key)) for key in header] for record in records)))


def zip_bytes(files: dict[str, bytes | str]) -> bytes:
    """A ZIP archive of `files` (name -> contents), built in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, contents in files.items():
            archive.writestr(name, contents.encode() if isinstance(contents, str) else contents)
    return buffer.getvalue()
