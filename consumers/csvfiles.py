"""Reading the CSV files clients export from CRMs and spreadsheets.

Excel, Google Sheets, Numbers and CRMs write CSV in several encodings (UTF-8
with or without a BOM, UTF-16 from "Unicode text", Windows-1252 from older
Excel) and with commas, semicolons (European locales) or tabs. `inspect()`
works out which from the first block of the file and refuses, with a reason a
person can act on, anything that is not a CSV we can read. `rows()` then
streams the whole file with constant memory, however large it is.
"""

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from nextsupport.identifiers import InvalidEmail, InvalidPhoneNumber, normalise_email, normalise_phone

SAMPLE_BYTES = 64 * 1024
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
PREVIEW_ROWS = 5

# Other formats people upload by mistake, by their first bytes.
_SIGNATURES = [
    (b"PK\x03\x04", "an Excel workbook or another zipped file (.xlsx, .zip)"),
    (b"\xd0\xcf\x11\xe0", "an old-style Excel or Word file (.xls, .doc)"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip-compressed file"),
]
_SAVE_AS_CSV = (
    'Open it in your spreadsheet and use "Save as" with the format "CSV UTF-8 (comma delimited)", then upload that file.'
)


class ImportFileError(ValidationError):
    """The file as a whole cannot be imported; the message says why and what to do."""


@dataclass(frozen=True)
class FileShape:
    encoding: str
    delimiter: str
    columns: list[str]
    preview: list[list[str]]


def encoding_label(encoding: str) -> str:
    return {
        "utf-8-sig": "UTF-8 (with BOM)",
        "utf-8": "UTF-8",
        "utf-16": "UTF-16",
        "utf-16-le": "UTF-16",
        "utf-16-be": "UTF-16",
        "cp1252": "Windows-1252",
    }.get(encoding, encoding.upper())


def duplicate_columns(columns: list[str]) -> list[dict]:
    """Header names that appear more than once (ignoring case, spaces and punctuation).

    Each comes with the column numbers (1-based, as a spreadsheet counts) and the
    one we use: the first. The others are not imported unless the client maps
    one of them instead, so no column is ever dropped without the client being told.
    """
    seen: dict[str, list[int]] = {}
    for position, name in enumerate(columns, start=1):
        seen.setdefault(" ".join(re.sub(r"[^\w]+", " ", name.casefold()).split()), []).append(position)
    return [
        {"name": columns[positions[0] - 1], "columns": positions, "used": positions[0]}
        for positions in seen.values()
        if len(positions) > 1
    ]


def duplicate_columns_message(duplicate: dict) -> str:
    columns = duplicate["columns"]
    numbers = ", ".join(str(n) for n in columns[:-1]) + f" and {columns[-1]}"
    return (
        f"Columns {numbers} are {'both' if len(columns) == 2 else 'all'} called “{duplicate['name']}”. "
        f"We use column {duplicate['used']}; "
        "the others are not imported unless you choose one of them below."
    )


def inspect(stream, *, size: int, max_bytes: int) -> FileShape:
    """The encoding, delimiter, header and first rows of an uploaded file, or ImportFileError."""
    if size == 0:
        raise ImportFileError("The file is empty. Export your contacts again and upload the CSV file.", code="empty")
    if size > max_bytes:
        raise ImportFileError(too_large_message(size, max_bytes), code="too_large")
    stream.seek(0)
    sample = stream.read(SAMPLE_BYTES)
    stream.seek(0)
    complete = size <= SAMPLE_BYTES
    encoding = detect_encoding(sample, complete=complete)
    if not encoding.startswith("utf-16"):
        _refuse_nul_bytes(stream)
    text = _decode_sample(sample, encoding, complete=complete)
    if not text.strip():
        raise ImportFileError("The file holds no text. Export your contacts again and upload the CSV file.", code="empty")
    if not complete and "\n" not in text and "\r" not in text:
        raise ImportFileError(
            f"The first line of the file runs on for more than {SAMPLE_BYTES // 1024} KB without a line break, so it is not a "
            f"list of contacts with one person per line. {_SAVE_AS_CSV}",
            code="no_lines",
        )
    delimiter = detect_delimiter(text)
    records = _sample_records(text, delimiter, complete=complete)
    header, data = records[0], [r for r in records[1:] if any(cell.strip() for cell in r)]
    columns = _check_header(header)
    if not data:
        raise ImportFileError(
            "The file has a header row but no contacts under it. Check you exported the rows, not just the column names.",
            code="no_rows",
        )
    return FileShape(encoding, delimiter, columns, [_fit(r, len(columns)) for r in data[:PREVIEW_ROWS]])


def detect_encoding(sample: bytes, *, complete: bool = False) -> str:
    """The encoding of a file that starts with `sample` (the whole file when `complete`)."""
    for signature, what in _SIGNATURES:
        if sample.startswith(signature):
            raise ImportFileError(f"This is {what}, not a CSV file. {_SAVE_AS_CSV}", code="not_csv")
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if unmarked := _utf16_without_bom(sample):
        return unmarked
    # NUL bytes are left to _refuse_nul_bytes, which looks through the whole file and names the line.
    try:
        # Incremental, so a character cut in half at the end of a partial sample is not an error.
        # At the end of the whole file it is: a Windows-1252 file ending in "é" (0xE9) is not UTF-8.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        raise ImportFileError(
            f"We cannot read the text in this file: it is not UTF-8, UTF-16 or Windows-1252. {_SAVE_AS_CSV}", code="encoding"
        ) from None


def _utf16_without_bom(sample: bytes) -> str | None:
    """ "utf-16-le" or "utf-16-be" for UTF-16 text saved without its byte-order mark, else None.

    Text in Latin script has a zero byte beside nearly every character; which
    side it falls tells the byte order. Binary files have zeros too, but not
    so regularly, and their bytes do not then decode as text.
    """
    pairs = sample[: len(sample) // 2 * 2]
    if len(pairs) < 4:
        return None
    even, odd = pairs[0::2], pairs[1::2]
    for encoding, zeros, chars in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if zeros.count(0) >= 0.6 * len(zeros) and chars.count(0) == 0:
            try:
                codecs.getincrementaldecoder(encoding)().decode(pairs, final=False)
            except UnicodeDecodeError:
                continue
            return encoding
    return None


_SCAN_BYTES = 1024 * 1024


def _refuse_nul_bytes(stream) -> None:
    """ImportFileError naming the line of the first NUL byte anywhere in the file (not only in the sample).

    A NUL cannot be in a text file; found only when the import reads that row,
    it would fail the import after the client had mapped and attested it.
    """
    stream.seek(0)
    line = 1
    while block := stream.read(_SCAN_BYTES):
        at = block.find(b"\x00")
        if at >= 0:
            line += block.count(b"\n", 0, at)
            stream.seek(0)
            raise ImportFileError(
                f"Line {line:,} of the file contains a NUL byte (binary data), which no text file holds: "
                f"part of the file is not text, or it was saved in a format we do not read. {_SAVE_AS_CSV}",
                code="not_csv",
            )
        line += block.count(b"\n")
    stream.seek(0)


def _decode_sample(sample: bytes, encoding: str, *, complete: bool) -> str:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        text = decoder.decode(sample, final=complete)
    except UnicodeDecodeError:
        raise ImportFileError(
            f"We cannot read the text in this file as {encoding_label(encoding)}. {_SAVE_AS_CSV}", code="encoding"
        ) from None
    if any(ch < " " and ch not in "\t\r\n" for ch in text):
        raise ImportFileError(f"This is not a text file (it contains control characters). {_SAVE_AS_CSV}", code="not_csv")
    return text


def detect_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most equal-width rows of more than one column."""
    lines = text.splitlines()[:50]
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        try:
            widths = [len(r) for r in csv.reader(lines, delimiter=delimiter) if r]
        except csv.Error:
            continue
        if not widths or widths[0] < 2:
            continue
        score = (sum(1 for w in widths if w == widths[0]), widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _sample_records(text: str, delimiter: str, *, complete: bool) -> list[list[str]]:
    if not complete:
        # The sample ends mid-file: drop its last, probably partial, line.
        text = text[: max(text.rfind("\n"), 0)] or text
    try:
        records = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as exc:
        raise ImportFileError(f"The start of the file is not valid CSV ({exc}). {_SAVE_AS_CSV}", code="not_csv") from None
    while records and not any(cell.strip() for cell in records[0]):
        records.pop(0)
    if not records:
        raise ImportFileError("The file holds no rows. Export your contacts again and upload the CSV file.", code="empty")
    return records


def _check_header(header: list[str]) -> list[str]:
    columns = [cell.strip() for cell in header]
    for position, cell in enumerate(columns, start=1):
        if _looks_like_contact(cell):
            raise ImportFileError(
                f"The first row must hold the column names (such as Phone, Name, Email), but column {position} "
                "holds contact details. Add a row of column names at the top and upload the file again.",
                code="no_header",
            )
    return [name or f"Column {position}" for position, name in enumerate(columns, start=1)]


def _looks_like_contact(cell: str) -> bool:
    if not cell or not any(ch.isdigit() or ch == "@" for ch in cell):
        return False
    try:
        normalise_phone(cell)
        return True
    except InvalidPhoneNumber:
        pass
    try:
        normalise_email(cell)
        return True
    except InvalidEmail:
        return False


def _fit(record: list[str], width: int) -> list[str]:
    return (record + [""] * width)[:width]


def _size(size: int) -> str:
    for unit, scale in (("MB", 1_000_000), ("KB", 1000)):
        if size >= scale:
            return f"{size / scale:,.2f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{size} bytes"


def too_large_message(size: int, max_bytes: int) -> str:
    return f"The file is {_size(size)}, more than the {_size(max_bytes)} limit. Split it into smaller files and upload each one."


_UNDECODABLE = "\ufffd"  # what the decoder puts in place of bytes that are not text


class FileReader:
    """Streams the data rows of a stored file as (row number, cells).

    Row numbers are what a spreadsheet shows: the header (the first non-blank
    row) is usually row 1, and blank lines are skipped but still counted.

    Memory stays flat: the file is read through a small buffer, whatever its size.
    `bytes_done` tells how far into the raw file reading has got (for progress).
    """

    def __init__(self, binary, *, encoding: str, delimiter: str):
        self._binary = binary
        self.encoding = encoding
        # "replace", then a check per row: the decoder works a buffer ahead of
        # the CSV reader, so a strict decoding error would name the wrong row.
        self._text = io.TextIOWrapper(binary, encoding=encoding, newline="", errors="replace")
        self._reader = csv.reader(self._text, delimiter=delimiter)
        self._row = 0
        self._header_seen = False

    @property
    def bytes_done(self) -> int:
        try:
            return self._binary.tell()
        except (OSError, ValueError):
            return 0

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        try:
            for record in self._reader:
                self._row += 1
                if not any(cell.strip() for cell in record):
                    continue
                if any(_UNDECODABLE in cell for cell in record):
                    raise ImportFileError(
                        f"Row {self._row:,} cannot be read: it is not valid {encoding_label(self.encoding)} text, "
                        f"though the start of the file is, so part of it was saved differently. {_SAVE_AS_CSV}",
                        code="encoding",
                    )
                if not self._header_seen:
                    self._header_seen = True
                    continue
                yield self._row, record
        except csv.Error as exc:
            raise ImportFileError(_csv_error(self._row + 1, exc), code="not_csv") from None

    def close(self):
        self._text.detach()


def _csv_error(row: int, exc: csv.Error) -> str:
    message = str(exc)
    if "field larger than field limit" in message:
        return (
            f"Row {row:,} cannot be read: a value runs on for more than {csv.field_size_limit():,} characters. "
            'This usually means an opening quote (") without its closing quote.'
        )
    if "NUL" in message:
        return f"Row {row:,} cannot be read: it contains binary data (a NUL character). {_SAVE_AS_CSV}"
    return f"Row {row:,} cannot be read as CSV ({message})."
