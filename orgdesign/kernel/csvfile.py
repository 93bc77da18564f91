"""One intake for every uploaded CSV file: its size and type, its encoding, its header and
its rows (the organization's import and the KPI upload both read files through it).

Every problem is a :class:`Problem` (row, column, message), rows numbered as a spreadsheet
shows them (the header is row 1); a file that cannot be read at all raises
:class:`ImportRefused` with its problems. What a file may hold is the caller's: the kinds of
file (their known, required and ignored columns) and how a header tells which kind it is.
"""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from orgdesign.kernel.rest import FORMULA_STARTS
from orgdesign.kernel.words import a_or_an

# a kind of file: its known columns, the required ones, and columns read and ignored
Kind = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]


class Problem(NamedTuple):
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"


class ImportRefused(Exception):
    """The file was refused; ``problems`` says why, row by row."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def check_upload(
    *,
    name: str,
    size: int,
    limit: int,
    content_type: str = "",
    too_big: str = "Split it.",
    extensions: tuple[str, ...] = (".csv",),
) -> list[Problem]:
    """The checks an uploaded file gets before it is read: its size (at most ``limit``
    bytes; ``too_big`` says what to do instead) and its type (its name ends with one of
    ``extensions``)."""
    problems = []
    if size > limit:
        problems.append(
            Problem(
                1,
                "",
                f"The file is {_megabytes(size)}; the largest file accepted is "
                f"{_megabytes(limit)}. {too_big}",
            )
        )
    allowed_types = {
        "",
        "text/csv",
        "text/plain",
        "application/csv",
        "text/comma-separated-values",
        "application/vnd.ms-excel",  # what Windows browsers send for a .csv file
        "application/octet-stream",
    }
    base_type = content_type.split(";")[0].strip().lower()
    if not name.lower().endswith(extensions) or base_type not in allowed_types:
        problems.append(
            Problem(
                1,
                "",
                f"“{name}” is not a CSV file. Upload a .csv file (in a spreadsheet: "
                "Save as… CSV UTF-8).",
            )
        )
    return problems


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def decode(data: bytes) -> str:
    """The file's text; raises ImportRefused when it is empty, binary or not UTF-8."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportRefused(
            [
                Problem(
                    1,
                    "",
                    "The file is UTF-16 text (a spreadsheet's “Unicode text”); save it as "
                    "CSV UTF-8.",
                )
            ]
        )
    if data.startswith(b"PK\x03\x04"):
        raise ImportRefused(
            [
                Problem(
                    1, "", "This is a spreadsheet workbook (.xlsx), not CSV; save it as CSV UTF-8."
                )
            ]
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        row = data.count(b"\n", 0, error.start) + 1
        raise ImportRefused(
            [
                Problem(
                    row,
                    "",
                    f"The file is not UTF-8 text (byte {error.start + 1} is "
                    f"0x{data[error.start]:02x}): it was probably saved as “CSV” in a "
                    "legacy encoding. Save it as CSV UTF-8.",
                )
            ]
        ) from None
    if "\x00" in text:
        raise ImportRefused([Problem(1, "", "The file holds binary data, not CSV text.")])
    if not text.strip():
        raise ImportRefused([Problem(1, "", "The file is empty.")])
    return text


def _unquote(cell: str) -> str:
    """A cell's value: blanks trimmed, the export's formula quote taken off."""
    cell = cell.strip()
    if cell.startswith("'") and cell[1:2] and cell[1:2] in FORMULA_STARTS:
        return cell[1:]
    return cell


@dataclass
class Table:
    kind: str
    columns: list[str]  # as in the header, lower-cased
    rows: list[tuple[int, dict[str, str]]]  # spreadsheet row number, cells by column


def refuse_too_many_lines(text: str, *, max_rows: int) -> int:
    """The file's lines; ImportRefused for more than ``max_rows`` rows could take, before
    any of it is parsed (a file of blank lines costs nothing to refuse)."""
    lines = text.count("\n") + 1
    if lines > max_rows + 2:  # the header, and a last line break
        raise ImportRefused(
            [
                Problem(
                    1,
                    "",
                    f"The file has {lines:,} lines; at most {max_rows:,} rows "
                    "are imported at once. Split it into smaller files.",
                )
            ]
        )
    return lines


def read_table(
    text: str,
    *,
    kinds: dict[str, Kind],
    kind_of: Callable[[list[str]], str | None],
    unknown_kind: str,
    max_rows: int,
) -> Table:
    """The header and the rows of ``text``; raises ImportRefused on a file that is not a
    readable table (bad header, a row of the wrong length, a quote left open). ``kind_of``
    tells the kind of file from its lower-cased header (None: ``unknown_kind`` says what a
    header should hold); ``kinds`` gives each kind's columns."""
    problems: list[Problem] = []
    refuse_too_many_lines(text, max_rows=max_rows)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            records.append((number, record))
    except csv.Error as error:
        raise ImportRefused(
            [
                Problem(
                    number + 1,
                    "",
                    f"The file cannot be read from here on ({error}): it may have been cut "
                    "short, or a quote is left open.",
                )
            ]
        ) from None
    if not records:
        raise ImportRefused([Problem(1, "", "The file is empty.")])
    header = [cell.strip().lstrip("\ufeff").lower() for cell in records[0][1]]
    kind = kind_of(header)
    if kind is None:
        raise ImportRefused([Problem(1, "", unknown_kind)])
    known, required, ignored = kinds[kind]
    seen: set[str] = set()
    for column in header:
        if not column:
            problems.append(Problem(1, "", "A column of the header has no name."))
        elif column in seen:
            problems.append(Problem(1, column, f"The column {column} appears twice."))
        elif column not in known and column not in ignored:
            problems.append(
                Problem(
                    1,
                    column,
                    f"Unknown column “{column}” for {a_or_an(kind)} file; the columns are "
                    f"{', '.join(known)}.",
                )
            )
        seen.add(column)
    for column in required:
        if column not in seen:
            problems.append(
                Problem(1, column, f"The column {column} is missing (the header lacks it).")
            )
    rows: list[tuple[int, dict[str, str]]] = []
    width = len(header)
    for number, record in records[1:]:
        if not any(cell.strip() for cell in record):
            continue  # an empty line
        if len(record) != width:
            problems.append(
                Problem(
                    number,
                    "",
                    f"This row has {len(record)} cell{'s' if len(record) != 1 else ''} where "
                    f"the header has {width}: the file may have been cut short, or a cell "
                    "holds a comma without quotes.",
                )
            )
            continue
        rows.append((number, {c: _unquote(v) for c, v in zip(header, record, strict=True)}))
    if not rows and not problems:
        problems.append(Problem(2, "", "The file has a header but no rows."))
    if problems:
        raise ImportRefused(problems)
    return Table(kind=kind, columns=header, rows=rows)
