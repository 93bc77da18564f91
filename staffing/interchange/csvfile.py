"""The organization's CSV files read through the kernel's one intake
(:mod:`orgdesign.kernel.csvfile`): the limits set for them, and which kind of file a header
makes (positions, people or locations)."""

from django.conf import settings

from orgdesign.kernel import csvfile
from orgdesign.kernel.csvfile import ImportRefused, Problem, Table, decode
from staffing.interchange.columns import KINDS

__all__ = [
    "ImportRefused",
    "Problem",
    "Table",
    "check_upload",
    "decode",
    "read_table",
    "refuse_too_many_lines",
]

UNKNOWN_KIND = (
    "The header does not say what the file holds: a positions file has a position_id column, "
    "a people file employee_id, a locations file code."
)


def check_upload(*, name: str, size: int, content_type: str = "") -> list[Problem]:
    """An uploaded organization file's size (IMPORT_MAX_BYTES) and type."""
    return csvfile.check_upload(
        name=name,
        size=size,
        content_type=content_type,
        limit=settings.IMPORT_MAX_BYTES,
        too_big="Split it, or import it with manage.py import_org.",
    )


def refuse_too_many_lines(text: str) -> int:
    return csvfile.refuse_too_many_lines(text, max_rows=settings.IMPORT_MAX_ROWS)


def kind_of(header: list[str]) -> str | None:
    if "position_id" in header:
        return "positions"
    if "employee_id" in header:
        return "people"
    if "code" in header:
        return "locations"
    return None


def read_table(text: str) -> Table:
    """A positions, people or locations file's header and rows (see the kernel's
    :func:`~orgdesign.kernel.csvfile.read_table`)."""
    return csvfile.read_table(
        text,
        kinds=KINDS,
        kind_of=kind_of,
        unknown_kind=UNKNOWN_KIND,
        max_rows=settings.IMPORT_MAX_ROWS,
    )
