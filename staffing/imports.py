"""Importing an organization from CSV: locations, people, and positions with their holders
and managers.

One service for every entry point (the ``/import/`` page, the admin, ``manage.py import_org``
and the Celery job): :func:`import_run` reads the file, checks **every** row against the
file itself and the database, and collects every problem as (row, column, message), rows
numbered as a spreadsheet shows them (the header is row 1). A dry run stops there and
reports what the import would change. A real import applies every row in one transaction
under the tree lock, or nothing at all.

The file
========

UTF-8 CSV (a byte-order mark is fine), comma-separated, with a header row. Which kind of
file it is comes from the header: a ``position_id`` column makes a positions file, else an
``employee_id`` column a people file, else a ``code`` column a locations file. Column names
are not case-sensitive and may come in any order. A column left out of the header leaves
that field of existing rows as it is; a blank cell in a column that is there clears the
field (person details excepted: a blank name, email or hire date keeps the one stored).
Everything is an upsert by the file's ids; nothing is ever deleted, and rows of the database
that the file does not mention are left alone.

**Positions** (the chart's CSV export, ``/chart/export.csv``, is such a file):

``position_id`` (required)
    The position's external id (``Position.external_id``, the HR system's). The export
    writes ``#`` and the database id for a position without one (``#1234``): such an id
    matches that position, and when no position has that id the row creates a new one
    (with no external id). Other ids starting with ``#`` are refused.
``title``, ``role`` (required)
    ``role`` is a role's code or name.
``manager_id`` (required, may be blank)
    The ``position_id`` of the manager: another row of the file or a position in the
    database. Blank: a top position.
``status``
    ``filled``, ``open`` or ``planned`` (or the export's labels). Blank: filled when the row
    names a holder, else open (a planned position stays planned).
``location``, ``squad``
    A location's code or name; a squad's code or name.
``employee_id``
    The holder's ``Person.employee_id``; blank: a vacancy. A person not in the database is
    created from ``given_name``, ``family_name``, ``email`` and ``hire_date``; for people
    already there, filled cells update those details. A holder moved here from another
    position leaves it vacant.
``start_date``
    When a newly placed holder starts (YYYY-MM-DD; blank: today). Not used for a holder
    already in place.

The export's other columns (``tier``, ``holder``, ``manager``, ``depth_from_export_top``,
``direct_reports``, ``team_size``, ``open_findings``, ``dotted_line_managers``) are read
and ignored, and so is ``levels_below``, the depth's name in older exports. Cells that the
export quoted with ``'`` so that a spreadsheet would not run them as formulas are unquoted.

**People**: ``employee_id`` (required), ``given_name``, ``family_name`` (required for a new
person), ``email``, ``location``, ``hire_date``, ``is_active`` (yes/no).

**Locations**: ``code`` (required), ``name``, ``city``, ``country`` (two letters),
``timezone`` (such as Europe/Dublin); all required for a new location.

Writes
======

New positions are inserted level by level with their final tree fields, computed in Python
with the rest of the tree (:func:`staffing.tree.compute_layout`); positions that change or
move are written with ``bulk_update``, and only the tree fields that change are rewritten.
Holders open and close ``Assignment`` rows as the services do. Each position and assignment
written gets a historical row (reason ``org_import``, the importing user), and the affected
positions and their managers are marked for a span-of-control recompute after commit.
"""

import csv
import datetime
import hashlib
import io
import logging
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import EmailValidator, validate_slug
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Max
from django.utils import timezone

from orgdesign import days
from orgdesign.audit import acting, bulk_record
from orgdesign.rest import FORMULA_STARTS
from orgdesign.words import a_or_an
from roles.models import Role
from staffing.models import Assignment, ImportJob, Location, Person, Position
from staffing.scope import scope_for
from staffing.spans import marks
from staffing.tree import compute_layout, next_tree_id, tree_transaction
from tiers.models import Squad

logger = logging.getLogger(__name__)

REASON = "org_import"
DB_ID_PREFIX = "#"  # position ids of the export for positions without an external id
CHANGES_KEPT = 500  # changes listed row by row in a report (the counts cover all)
BATCH = 2000

POSITION_COLUMNS = (
    "position_id",
    "title",
    "role",
    "status",
    "manager_id",
    "location",
    "squad",
    "employee_id",
    "given_name",
    "family_name",
    "email",
    "hire_date",
    "start_date",
)
POSITION_REQUIRED = ("position_id", "title", "role", "manager_id")
# the export's columns that the import reads and ignores
EXPORT_ONLY = (
    "tier",
    "holder",
    "manager",
    "depth_from_export_top",  # 0 for the export's top position, 1 for its reports, …
    "direct_reports",
    "team_size",
    "open_findings",
    "dotted_line_managers",
)
FORMER_EXPORT_COLUMNS = ("levels_below",)  # depth_from_export_top's earlier name
PEOPLE_COLUMNS = (
    "employee_id",
    "given_name",
    "family_name",
    "email",
    "location",
    "hire_date",
    "is_active",
)
LOCATION_COLUMNS = ("code", "name", "city", "country", "timezone")

KINDS = {
    "positions": (POSITION_COLUMNS, POSITION_REQUIRED, (*EXPORT_ONLY, *FORMER_EXPORT_COLUMNS)),
    "people": (PEOPLE_COLUMNS, ("employee_id",), ()),
    "locations": (LOCATION_COLUMNS, ("code",), ()),
}

# what the summary counts, in the order a report shows them
SUMMARY_LABELS = {
    "locations_created": "Locations created",
    "locations_updated": "Locations updated",
    "people_created": "People created",
    "people_updated": "People updated",
    "positions_created": "Positions created",
    "positions_updated": "Positions changed (title, role, status, location, squad)",
    "positions_moved": "Positions moved to another manager",
    "holders_placed": "Holders placed in a position",
    "positions_vacated": "Positions left vacant",
    "unchanged": "Rows with nothing to change",
    "positions_not_in_file": "Positions not in the file (left as they are)",
}

MAX_LENGTHS = {
    "position_id": Position._meta.get_field("external_id").max_length,
    "title": Position._meta.get_field("title").max_length,
    "employee_id": Person._meta.get_field("employee_id").max_length,
    "given_name": Person._meta.get_field("given_name").max_length,
    "family_name": Person._meta.get_field("family_name").max_length,
    "email": Person._meta.get_field("email").max_length,
    "code": Location._meta.get_field("code").max_length,
    "name": Location._meta.get_field("name").max_length,
    "city": Location._meta.get_field("city").max_length,
}

TRUE, FALSE = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}


# --- results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class ImportResult:
    kind: str = ""
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    changes: list[tuple[int, str, str]] = field(default_factory=list)  # row, id, what
    applied: bool = False
    problem_count: int = 0  # all that were found; ``problems`` keeps the first of them

    def keep_problems(self, problems: list[Problem]) -> None:
        """Count every problem, keep the first IMPORT_MAX_PROBLEMS (by row) for the report."""
        problems.sort(key=lambda p: (p.row, p.column))
        self.problem_count = len(problems)
        self.problems = problems[: settings.IMPORT_MAX_PROBLEMS]

    @property
    def ok(self) -> bool:
        return not self.problems

    def change(self, row: int, key: str, what: str) -> None:
        if len(self.changes) < CHANGES_KEPT:
            self.changes.append((row, key, what))

    def summary(self) -> dict[str, int]:
        """The counts, in report order, zeros left out except for the creations."""
        return {
            key: self.counts.get(key, 0)
            for key in SUMMARY_LABELS
            if self.counts.get(key) or key.endswith("_created")
        }

    def summary_lines(self) -> list[str]:
        return [f"{SUMMARY_LABELS[key]}: {n}" for key, n in self.summary().items()]


class ImportRefused(Exception):
    """The file was refused; ``problems`` says why, row by row."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


Progress = Callable[[str, int], None]  # phase, per cent


def _no_progress(phase: str, percent: int) -> None:
    return None


# --- who may import ------------------------------------------------------------------------


def require_importer(actor) -> None:
    """Only the system (commands, tasks) and users who edit the whole organization import."""
    if actor is not None and not scope_for(actor).edits_all:
        raise PermissionDenied(
            "Only administrators who edit the whole organization may import from CSV."
        )


# --- reading the file -------------------------------------------------------------------


def check_upload(*, name: str, size: int, content_type: str = "") -> list[Problem]:
    """The checks an uploaded file gets before it is read: its size and type."""
    problems = []
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        problems.append(
            Problem(
                1,
                "",
                f"The file is {_megabytes(size)}; the largest file accepted is "
                f"{_megabytes(limit)}. Split it, or import it with manage.py import_org.",
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
    if not name.lower().endswith(".csv") or base_type not in allowed_types:
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


def refuse_too_many_lines(text: str) -> int:
    """The file's lines; ImportRefused for more than IMPORT_MAX_ROWS rows could take, before
    any of it is parsed (a file of blank lines costs nothing to refuse)."""
    lines = text.count("\n") + 1
    if lines > settings.IMPORT_MAX_ROWS + 2:  # the header, and a last line break
        raise ImportRefused(
            [
                Problem(
                    1,
                    "",
                    f"The file has {lines:,} lines; at most {settings.IMPORT_MAX_ROWS:,} rows "
                    "are imported at once. Split it into smaller files.",
                )
            ]
        )
    return lines


def read_table(text: str) -> Table:
    """The header and the rows of ``text``; raises ImportRefused on a file that is not a
    readable table (bad header, a row of the wrong length, a quote left open)."""
    problems: list[Problem] = []
    refuse_too_many_lines(text)
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
    kind = _kind_of(header)
    if kind is None:
        raise ImportRefused(
            [
                Problem(
                    1,
                    "",
                    "The header does not say what the file holds: a positions file has a "
                    "position_id column, a people file employee_id, a locations file code.",
                )
            ]
        )
    known, required, ignored = KINDS[kind]
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
                    f"Unknown column “{column}” for a {kind} file; the columns are "
                    f"{', '.join(known)}.",
                )
            )
        seen.add(column)
    for column in required:
        if column not in seen:
            problems.append(Problem(1, column, f"The column {column} is missing."))
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


def _kind_of(header: list[str]) -> str | None:
    if "position_id" in header:
        return "positions"
    if "employee_id" in header:
        return "people"
    if "code" in header:
        return "locations"
    return None


# --- shared checks ---------------------------------------------------------------------


class Checker:
    """Collects the problems of one row (and of the file) while values are parsed."""

    def __init__(self, result: ImportResult):
        self.result = result

    def add(self, row: int, column: str, message: str) -> None:
        self.result.problems.append(Problem(row, column, message))

    def text(self, row: int, cells: dict, column: str, *, required: bool = False) -> str:
        value = cells.get(column, "")
        if required and not value:
            self.add(row, column, f"{column} is required.")
        limit = MAX_LENGTHS.get(column)
        if limit and len(value) > limit:
            self.add(row, column, f"Too long: {len(value)} characters, at most {limit}.")
        return value

    def date(self, row: int, cells: dict, column: str) -> datetime.date | None:
        value = cells.get(column, "")
        if not value:
            return None
        try:
            return days.read_day(value)
        except days.BadDay as problem:
            self.add(row, column, str(problem))
            return None

    def email(self, row: int, cells: dict) -> str:
        value = self.text(row, cells, "email")
        if value:
            try:
                EmailValidator()(value)
            except ValidationError:
                self.add(row, "email", f"“{value}” is not an email address.")
        return value


class Lookup:
    """Catalogue rows found by code or by name, case-insensitive (one query per table)."""

    def __init__(self, objects: Iterable, what: str):
        self.what = what
        self.by: dict[str, object] = {}
        for obj in objects:
            self.by.setdefault(obj.name.lower(), obj)
        for obj in objects:
            self.by[obj.code.lower()] = obj  # codes win over names

    def find(self, checker: Checker, row: int, column: str, value: str):
        if not value:
            return None
        found = self.by.get(value.lower())
        if found is None:
            checker.add(row, column, f"Unknown {self.what} “{value}”.")
        return found


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


# --- locations ----------------------------------------------------------------------------


def _locations(table: Table, result: ImportResult, *, apply: bool, progress: Progress) -> None:
    check = Checker(result)
    stored = {loc.code: loc for loc in Location.objects.all()}
    names = {loc.name.lower(): loc.code for loc in stored.values()}
    seen: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    create, update = [], []
    present = set(table.columns)
    for row, cells in table.rows:
        code = check.text(row, cells, "code", required=True)
        if code:
            try:
                validate_slug(code)
            except ValidationError:
                check.add(row, "code", f"“{code}” is not a code: use letters, digits, - and _.")
        if code in seen:
            check.add(row, "code", f"The code {code} is also on row {seen[code]}.")
            continue
        seen[code] = row
        location = stored.get(code)
        new = location is None
        values = {}
        for column in ("name", "city", "country", "timezone"):
            if column not in present:
                continue
            value = check.text(row, cells, column, required=new)
            if value:
                values[column] = value
        country = values.get("country")
        if country is not None:
            if not (len(country) == 2 and country.isalpha()):
                check.add(row, "country", f"“{country}” is not a two-letter country code.")
            values["country"] = country.upper()
        if "timezone" in values and values["timezone"] not in _timezones():
            check.add(row, "timezone", f"“{values['timezone']}” is not a known time zone.")
        name = values.get("name")
        if name:
            other = names.get(name.lower())
            if other is not None and other != code:
                check.add(row, "name", f"The name {name} belongs to location {other}.")
            if name.lower() in seen_names:
                check.add(
                    row, "name", f"The name {name} is also on row {seen_names[name.lower()]}."
                )
            seen_names[name.lower()] = row
        if new:
            for column in ("name", "city", "country"):
                if column not in present:
                    check.add(row, column, f"A new location needs a {column}.")
            create.append(Location(code=code, **{"timezone": "UTC", **values}))
            result.counts["locations_created"] += 1
            result.change(row, code, "new location")
        else:
            changed = [k for k, v in values.items() if getattr(location, k) != v]
            if changed:
                for k in changed:
                    setattr(location, k, values[k])
                update.append(location)
                result.counts["locations_updated"] += 1
                result.change(row, code, "changes " + ", ".join(changed))
            else:
                result.counts["unchanged"] += 1
    if result.problems or not apply:
        return
    progress("Writing locations", 60)
    Location.objects.bulk_create(create, batch_size=BATCH)
    if update:
        Location.objects.bulk_update(
            update, ["name", "city", "country", "timezone"], batch_size=BATCH
        )


# --- people -------------------------------------------------------------------------------


@dataclass
class PersonPlan:
    row: int
    person: Person
    new: bool
    changed: list[str]


def _person_values(check: Checker, row: int, cells: dict) -> dict:
    values = {
        "given_name": check.text(row, cells, "given_name"),
        "family_name": check.text(row, cells, "family_name"),
        "email": check.email(row, cells) if "email" in cells else "",
        "hire_date": check.date(row, cells, "hire_date"),
    }
    return {k: v for k, v in values.items() if v not in ("", None)}


class People:
    """The people of the database as a file sees them: found by employee id, emails taken."""

    def __init__(self):
        self.by_id: dict[str, Person] = {p.employee_id: p for p in Person.objects.all()}
        self.emails: dict[str, str] = {
            p.email.lower(): p.employee_id for p in self.by_id.values() if p.email
        }
        self.file_emails: dict[str, tuple[str, int]] = {}

    def plan(self, check: Checker, row: int, employee_id: str, values: dict) -> PersonPlan:
        person = self.by_id.get(employee_id)
        new = person is None
        if new:
            for column in ("given_name", "family_name"):
                if column not in values:
                    check.add(row, column, f"A new person ({employee_id}) needs a {column}.")
            person = Person(employee_id=employee_id, **values)
            changed = list(values)
        else:
            changed = [k for k, v in values.items() if getattr(person, k) != v]
            for k in changed:
                setattr(person, k, values[k])
        email = values.get("email", "").lower()
        if email:
            owner = self.emails.get(email)
            if owner is not None and owner != employee_id:
                check.add(row, "email", f"{values['email']} is the email address of {owner}.")
            taken = self.file_emails.get(email)
            if taken is not None and taken[0] != employee_id:
                check.add(
                    row,
                    "email",
                    f"{values['email']} is also given to {taken[0]} on row {taken[1]}.",
                )
            self.file_emails[email] = (employee_id, row)
        return PersonPlan(row, person, new, changed)


def _write_people(plans: list[PersonPlan]) -> None:
    Person.objects.bulk_create([p.person for p in plans if p.new], batch_size=BATCH)
    changed = [p.person for p in plans if not p.new and p.changed]
    fields = sorted({name for p in plans if not p.new for name in p.changed})
    if changed and fields:
        Person.objects.bulk_update(changed, fields, batch_size=BATCH)


def _people(table: Table, result: ImportResult, *, apply: bool, progress: Progress) -> None:
    check = Checker(result)
    people = People()
    locations = Lookup(list(Location.objects.all()), "location")
    holders = set(Position.objects.filter(holder__isnull=False).values_list("holder_id", flat=True))
    seen: dict[str, int] = {}
    plans: list[PersonPlan] = []
    for row, cells in table.rows:
        employee_id = check.text(row, cells, "employee_id", required=True)
        if not employee_id:
            continue
        if employee_id in seen:
            check.add(row, "employee_id", f"{employee_id} is also on row {seen[employee_id]}.")
            continue
        seen[employee_id] = row
        values = _person_values(check, row, cells)
        if "location" in cells:
            found = locations.find(check, row, "location", cells["location"])
            values["location_id"] = found.pk if found else None
        if cells.get("is_active"):
            flag = cells["is_active"].lower()
            if flag not in TRUE | FALSE:
                check.add(row, "is_active", f"“{cells['is_active']}” is not yes or no.")
            else:
                values["is_active"] = flag in TRUE
        plan = people.plan(check, row, employee_id, values)
        if values.get("is_active") is False and plan.person.pk in holders:
            check.add(row, "is_active", f"{employee_id} holds a position; vacate it first.")
        plans.append(plan)
        if plan.new:
            result.counts["people_created"] += 1
            result.change(row, employee_id, "new person")
        elif plan.changed:
            result.counts["people_updated"] += 1
            what = ", ".join(name.removesuffix("_id") for name in plan.changed)
            result.change(row, employee_id, f"changes {what}")
        else:
            result.counts["unchanged"] += 1
    if result.problems or not apply:
        return
    progress("Writing people", 60)
    _write_people(plans)


# --- positions ----------------------------------------------------------------------------

STORED = (
    "id",
    "external_id",
    "parent_id",
    "title",
    "role_id",
    "squad_id",
    "location_id",
    "status",
    "holder_id",
    "tree_id",
    "lft",
    "rght",
    "level",
)


@dataclass
class Stored:
    """A position as the database holds it (plain values: 100,000 of them load fast)."""

    id: int
    external_id: str
    parent_id: int | None
    title: str
    role_id: int
    squad_id: int | None
    location_id: int | None
    status: str
    holder_id: int | None
    tree_id: int
    lft: int
    rght: int
    level: int

    @property
    def key(self) -> str:
        return self.external_id or f"{DB_ID_PREFIX}{self.id}"


@dataclass
class Planned:
    """A position row of the file, checked: what the position becomes."""

    row: int
    key: str
    node: int  # the position's id; for a new position a negative stand-in
    stored: Stored | None
    values: dict  # title, role_id, squad_id, location_id, status
    manager_key: str
    parent: int | None = None  # node of the manager
    person: PersonPlan | None = None  # the holder the row names
    holder_given: bool = False  # the file has an employee_id column
    start: datetime.date | None = None


def _status_of(value: str) -> str | None:
    value = value.strip().lower()
    for code, label in Position.Status.choices:
        if value in (code, str(label).lower()):
            return code
    return None


def _db_key(key: str) -> int | None:
    """The database id a ``#1234`` key stands for."""
    if key.startswith(DB_ID_PREFIX) and key[1:].isdigit():
        return int(key[1:])
    return None


def _positions(
    table: Table, result: ImportResult, *, apply: bool, progress: Progress, today
) -> None:
    check = Checker(result)
    present = set(table.columns)
    roles = Lookup(list(Role.objects.select_related("tier")), "role")
    squad_list = list(Squad.objects.select_related("tier"))
    squads = Lookup(squad_list, "squad")
    squad_by_pk = {squad.pk: squad for squad in squad_list}
    locations = Lookup(list(Location.objects.all()), "location")
    stored = {row[0]: Stored(*row) for row in Position.objects.order_by().values_list(*STORED)}
    by_external = {s.external_id: s for s in stored.values() if s.external_id}
    people = People()
    current = {  # person id → their current assignment
        a.person_id: a for a in Assignment.objects.filter(end_date__isnull=True).order_by()
    }
    latest = dict(
        Assignment.objects.order_by()
        .values("person_id")
        .annotate(latest=Max("start_date"))
        .values_list("person_id", "latest")
    )
    progress("Checking rows", 10)

    planned: list[Planned] = []
    by_key: dict[str, Planned] = {}
    by_node: dict[int, Planned] = {}
    holders: dict[str, Planned] = {}  # employee id → the row placing them
    total = len(table.rows)
    for n, (row, cells) in enumerate(table.rows, start=1):
        if n % 1000 == 0:
            progress("Checking rows", 10 + 40 * n // total)
        key = check.text(row, cells, "position_id", required=True)
        if not key:
            continue
        existing = by_external.get(key)
        if existing is None and _db_key(key) is not None:
            existing = stored.get(_db_key(key))
        elif existing is None and key.startswith(DB_ID_PREFIX):
            check.add(
                row,
                "position_id",
                f"Ids starting with {DB_ID_PREFIX} are the export's database ids "
                f"({DB_ID_PREFIX} and digits); “{key}” is not one.",
            )
        twin = by_key.get(key) or (by_node.get(existing.id) if existing else None)
        if twin is not None:
            check.add(
                row, "position_id", f"The position {key} is also on row {twin.row}: one row each."
            )
            continue
        role = roles.find(check, row, "role", check.text(row, cells, "role", required=True))
        values = {"title": check.text(row, cells, "title", required=True)}
        if role is not None:
            values["role_id"] = role.pk
        squad = None
        for column, lookup in (("squad", squads), ("location", locations)):
            if column in present:
                found = lookup.find(check, row, column, cells[column])
                values[f"{column}_id"] = found.pk if found else None
                if column == "squad":
                    squad = found
        if (
            role is not None
            and not role.is_active
            and (existing is None or existing.role_id != role.pk)
        ):
            check.add(row, "role", f"{role} is inactive and cannot be given to a position.")
        if role is not None and "squad" not in present and existing is not None:
            squad = squad_by_pk.get(existing.squad_id)
        if (
            role is not None
            and squad is not None
            and role.tier_id != squad.tier_id
            and role.track != Role.Track.MANAGEMENT
        ):
            check.add(
                row,
                "squad",
                f"{squad} belongs to {squad.tier}; {a_or_an(role)} ({role.tier}) cannot join it.",
            )
        status = None
        if cells.get("status"):
            status = _status_of(cells["status"])
            if status is None:
                check.add(
                    row, "status", f"Unknown status “{cells['status']}”: filled, open or planned."
                )
        node = existing.id if existing else -(n)
        plan = Planned(
            row=row,
            key=key,
            node=node,
            stored=existing,
            values=values,
            manager_key=check.text(row, cells, "manager_id"),
            holder_given="employee_id" in present,
        )
        if plan.holder_given:
            employee_id = check.text(row, cells, "employee_id")
            if employee_id:
                other = holders.get(employee_id)
                if other is not None:
                    check.add(
                        row,
                        "employee_id",
                        f"{employee_id} already holds {other.key} on row {other.row}: "
                        "a person holds one position.",
                    )
                else:
                    holders[employee_id] = plan
                    plan.person = people.plan(
                        check, row, employee_id, _person_values(check, row, cells)
                    )
                    if plan.person.new and values.get("location_id"):
                        plan.person.person.location_id = values["location_id"]
            plan.start = check.date(row, cells, "start_date")
        # status against the holder
        if plan.holder_given:
            has_holder = bool(cells.get("employee_id"))
            if status is None:
                if has_holder:
                    status = Position.Status.FILLED
                elif existing is not None and existing.status == Position.Status.PLANNED:
                    status = Position.Status.PLANNED
                else:
                    status = Position.Status.OPEN
            elif status == Position.Status.FILLED and not has_holder:
                check.add(row, "status", "A filled position needs a holder in employee_id.")
            elif status != Position.Status.FILLED and has_holder:
                check.add(
                    row,
                    "status",
                    f"The position is {status} but employee_id names a holder; a position "
                    "with a holder is filled.",
                )
        else:
            before = existing.status if existing else Position.Status.OPEN
            if status is None:
                status = before
            elif (status == Position.Status.FILLED) != (before == Position.Status.FILLED):
                check.add(
                    row,
                    "status",
                    "To fill or vacate a position the file needs an employee_id column.",
                )
        values["status"] = status
        planned.append(plan)
        by_key[key] = plan
        by_node[node] = plan
    progress("Checking managers and holders", 50)

    # managers: a row of the file, else a position of the database
    for plan in planned:
        if not plan.manager_key:
            continue
        manager = by_key.get(plan.manager_key)
        if manager is not None:
            plan.parent = manager.node
            continue
        found = by_external.get(plan.manager_key)
        if found is None and _db_key(plan.manager_key) is not None:
            found = stored.get(_db_key(plan.manager_key))
        if found is None:
            check.add(
                plan.row,
                "manager_id",
                f"No manager {plan.manager_key}: it is neither a position_id of this file "
                "nor a position in the organization.",
            )
            plan.parent = plan.stored.parent_id if plan.stored else None
        else:
            plan.parent = found.id
    parents: dict[int, int | None] = {s.id: s.parent_id for s in stored.values()}
    parents.update({plan.node: plan.parent for plan in planned})
    _check_loops(check, planned, parents, stored, by_node)

    # holders: a person in one position, started after their latest assignment
    for plan in planned:
        if plan.person is None:
            continue
        person = plan.person.person
        if not plan.person.new and not person.is_active:
            check.add(plan.row, "employee_id", f"{person.employee_id} is inactive.")
        if plan.stored is not None and plan.stored.holder_id == person.pk and person.pk:
            continue  # already in place
        start = plan.start or today
        since = latest.get(person.pk) if person.pk else None
        if since is not None and start < since:
            check.add(
                plan.row,
                "start_date",
                f"{person.employee_id}'s latest assignment starts on {since.isoformat()}; "
                f"the new one cannot start earlier ({start.isoformat()}).",
            )
        elif since is not None and plan.start is not None and start == since:
            # an edited export keeps the start of the post the person leaves
            check.add(
                plan.row,
                "start_date",
                f"{person.employee_id} started their present assignment on "
                f"{since.isoformat()}; give the day they start in this position (later), "
                "or leave start_date blank for today.",
            )
        displaced = plan.stored.holder_id if plan.stored is not None else None
        held_since = latest.get(displaced) if displaced and displaced != person.pk else None
        if held_since is not None and start < held_since:
            check.add(
                plan.row,
                "start_date",
                f"The position's present holder started on {held_since.isoformat()}; "
                f"the new one cannot start earlier ({start.isoformat()}).",
            )
        if person.hire_date and start < person.hire_date:
            check.add(
                plan.row,
                "start_date",
                f"{start.isoformat()} is before {person.employee_id}'s hire date "
                f"({person.hire_date.isoformat()}).",
            )
    if result.problems:
        return

    # what changes
    placed_ids = {
        plan.person.person.pk for plan in planned if plan.person and plan.person.person.pk
    }
    listed = {plan.node for plan in planned}
    result.counts["positions_not_in_file"] = len(stored.keys() - listed)
    for plan in planned:
        s, what = plan.stored, []
        if plan.person is not None:
            if plan.person.new:
                result.counts["people_created"] += 1
                what.append(f"new person {plan.person.person.employee_id}")
            elif plan.person.changed:
                result.counts["people_updated"] += 1
                what.append(f"{plan.person.person.employee_id}: {', '.join(plan.person.changed)}")
        if s is None:
            result.counts["positions_created"] += 1
            what.insert(0, "new position")
            if plan.person is not None:
                result.counts["holders_placed"] += 1
        else:
            changed = [k.removesuffix("_id") for k, v in plan.values.items() if getattr(s, k) != v]
            if changed:
                result.counts["positions_updated"] += 1
                what.insert(0, "changes " + ", ".join(changed))
            if plan.parent != s.parent_id:
                result.counts["positions_moved"] += 1
                what.append(f"moves under {plan.manager_key or 'the top'}")
            if plan.holder_given:
                holder = plan.person.person.pk if plan.person else None
                if holder != s.holder_id or (holder is None and plan.person is not None):
                    if plan.person is not None:
                        result.counts["holders_placed"] += 1
                        what.append(f"{plan.person.person.employee_id} takes it")
                    else:
                        result.counts["positions_vacated"] += 1
                        what.append("left vacant")
        if what:
            result.change(plan.row, plan.key, "; ".join(what))
        else:
            result.counts["unchanged"] += 1
    # positions outside the file whose holder the file moves elsewhere
    emptied = [
        s
        for s in stored.values()
        if s.id not in listed and s.holder_id is not None and s.holder_id in placed_ids
    ]
    for s in emptied:
        result.counts["positions_vacated"] += 1
        result.change(
            0, s.key, f"{s.title}: left vacant, its holder moves to a position of the file"
        )
    if not apply:
        return
    progress("Writing", 55)
    _write_positions(planned, stored, parents, emptied, current, today, progress)


def _check_loops(check: Checker, planned: list[Planned], parents, stored, by_node) -> None:
    """Every reporting loop the file would make, reported on each of its rows."""

    def name(node: int) -> str:
        if node in by_node:
            return by_node[node].key
        return stored[node].key if node in stored else str(node)

    state: dict[int, int] = {}  # 1: on the current walk, 2: reaches the top
    for plan in planned:
        walk: list[int] = []
        node: int | None = plan.node
        while node is not None and node not in state:
            state[node] = 1
            walk.append(node)
            node = parents.get(node)
        if node is not None and state[node] == 1:
            loop = walk[walk.index(node) :]
            names = [name(n) for n in loop]
            shown = " → ".join(names[:8]) + (" → …" if len(names) > 8 else "")
            for member in loop:
                if member in by_node:
                    other = by_node[member]
                    check.add(
                        other.row,
                        "manager_id",
                        f"A reporting loop: {shown} → {names[0]} (each reports to the next); "
                        f"{other.key} would be in its own team.",
                    )
        for n in walk:
            state[n] = 2


def _write_positions(planned, stored, parents, emptied, current, today, progress) -> None:
    """Apply the checked rows (inside the caller's transaction, under the tree lock)."""
    now = timezone.now()
    # people first: new holders need their ids
    _write_people([plan.person for plan in planned if plan.person is not None])
    progress("Writing positions", 60)

    # the layout of the whole tree with the new parents; new positions after their siblings
    new_plans = [plan for plan in planned if plan.stored is None]
    rows = [(s.id, parents[s.id], (0, s.tree_id, s.lft)) for s in stored.values()]
    rows += [(plan.node, plan.parent, (1, plan.row, 0)) for plan in new_plans]
    roots: dict[int, int] = {}
    fresh = next_tree_id()
    for node, parent, _ in rows:
        if parent is None:
            s = stored.get(node)
            if s is not None and s.parent_id is None:
                roots[node] = s.tree_id
            else:
                roots[node] = fresh
                fresh += 1
    layout = compute_layout(rows, roots).fields

    # each position's holder at the end
    holder_of: dict[int, int | None] = {s.id: s.holder_id for s in stored.values()}
    for plan in planned:
        if plan.holder_given:
            holder_of[plan.node] = plan.person.person.pk if plan.person else None
    for s in emptied:
        holder_of[s.id] = None
    # free the holders that change first, so that no one holds two positions for a moment
    freed = [
        s.id for s in stored.values() if s.holder_id is not None and holder_of[s.id] != s.holder_id
    ]
    for chunk in _chunks(freed, 900):
        Position.objects.filter(pk__in=chunk).update(holder=None, status=Position.Status.OPEN)

    # assignments: a holder newly placed starts one (ending the one they had); a holder who
    # stays while the role or squad changes starts another from today; a holder who leaves
    # without a new position ends theirs today
    starting: list[tuple[Planned, int, datetime.date, str]] = []  # plan, person, start, note
    ending: dict[int, datetime.date] = {}  # person id → end date
    for plan in planned:
        s, holder = plan.stored, holder_of.get(plan.node)
        before = s.holder_id if s else None
        if holder is not None and holder != before:
            start = plan.start or today
            starting.append((plan, holder, start, "Imported"))
            ending[holder] = start
        elif s is not None and holder is not None:
            role = plan.values.get("role_id", s.role_id)
            squad = plan.values.get("squad_id", s.squad_id)
            if (role, squad) != (s.role_id, s.squad_id):
                starting.append((plan, holder, today, "Role or squad changed"))
                ending[holder] = today
    # a holder replaced without a position of their own leaves on the day the new one starts
    new_start = {plan.node: start for plan, _holder, start, note in starting if note == "Imported"}
    for s in stored.values():
        if s.holder_id is not None and holder_of[s.id] != s.holder_id:
            ending.setdefault(s.holder_id, new_start.get(s.id, today))
    ended = []
    for person_id, end in ending.items():
        assignment = current.get(person_id)
        if assignment is not None:
            assignment.end_date = max(end, assignment.start_date)
            assignment.note = assignment.note or "Ended by an import"
            ended.append(assignment)
    Assignment.objects.bulk_update(ended, ["end_date", "note"], batch_size=BATCH)
    bulk_record(Assignment, ended, kind="~")

    # new positions, level by level so that a manager exists before its reports
    created: dict[int, Position] = {}  # node → position

    def resolve(node: int | None) -> int | None:
        return created[node].pk if node is not None and node < 0 else node

    new_plans.sort(key=lambda plan: layout[plan.node][3])
    for plan in new_plans:
        tree_id, lft, rght, level = layout[plan.node]
        created[plan.node] = Position(
            title=plan.values["title"],
            role_id=plan.values["role_id"],
            squad_id=plan.values.get("squad_id"),
            location_id=plan.values.get("location_id"),
            status=plan.values["status"],
            holder_id=holder_of.get(plan.node),
            external_id="" if _db_key(plan.key) is not None else plan.key,
            tree_id=tree_id,
            lft=lft,
            rght=rght,
            level=level,
        )
    for level in sorted({layout[plan.node][3] for plan in new_plans}):
        batch = [plan for plan in new_plans if layout[plan.node][3] == level]
        for plan in batch:
            created[plan.node].parent_id = resolve(plan.parent)
        Position.objects.bulk_create([created[plan.node] for plan in batch], batch_size=BATCH)
    progress("Writing positions", 75)

    # positions that change: their fields, manager, holder and place in the tree
    plans = {plan.node: plan for plan in planned}
    changing = [s.id for s in emptied]
    for plan in planned:
        s = plan.stored
        if s is not None and (
            any(getattr(s, name) != value for name, value in plan.values.items())
            or plan.parent != s.parent_id
            or holder_of[s.id] != s.holder_id
        ):
            changing.append(s.id)
    changed: list[Position] = []
    for chunk in _chunks(changing, BATCH):
        for position in Position.objects.filter(pk__in=chunk).order_by():
            plan = plans.get(position.pk)
            if plan is not None:
                for name, value in plan.values.items():
                    setattr(position, name, value)
                position.parent_id = resolve(plan.parent)
            position.holder_id = holder_of[position.pk]
            if position.holder_id is None and position.status == Position.Status.FILLED:
                position.status = Position.Status.OPEN
            position.tree_id, position.lft, position.rght, position.level = layout[position.pk]
            position.updated_at = now
            changed.append(position)
    fields = ["title", "role", "squad", "location", "status", "holder", "parent", "updated_at"]
    tree_fields = ["tree_id", "lft", "rght", "level"]
    Position.objects.bulk_update(changed, [*fields, *tree_fields], batch_size=1000)
    # every other position whose place in the nested sets shifts
    written = {position.pk for position in changed}
    shifted = []
    for s in stored.values():
        place = layout[s.id]
        if s.id not in written and place != (s.tree_id, s.lft, s.rght, s.level):
            tree_id, lft, rght, level = place
            shifted.append(Position(pk=s.id, tree_id=tree_id, lft=lft, rght=rght, level=level))
    Position.objects.bulk_update(shifted, tree_fields, batch_size=BATCH)
    bulk_record(Position, created.values(), kind="+")
    bulk_record(Position, changed, kind="~")
    progress("Recording assignments", 85)

    started = []
    for plan, person_id, start, note in starting:
        position = created.get(plan.node)
        values = plan.values
        s = plan.stored
        started.append(
            Assignment(
                person_id=person_id,
                position_id=position.pk if position else plan.node,
                position_title=values["title"],
                role_id=values.get("role_id", s.role_id if s else None),
                squad_id=values.get("squad_id", s.squad_id if s else None),
                start_date=start,
                note=note,
            )
        )
    Assignment.objects.bulk_create(started, batch_size=BATCH)
    bulk_record(Assignment, started, kind="+")

    # span findings: every position written and its managers, before and after
    before = {s.id: s.parent_id for s in stored.values()}
    after = {**{node: resolve(parent) for node, parent in parents.items() if node > 0}}
    after.update({position.pk: position.parent_id for position in created.values()})
    marked: set[int] = set()
    for chain in (before, after):
        seen: set[int] = set()
        for pk in [*written, *(position.pk for position in created.values())]:
            node = pk
            while node is not None and node not in seen:
                seen.add(node)
                node = chain.get(node)
        marked |= seen
    marks.mark(marked)
    progress("Finishing", 95)


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- the service ---------------------------------------------------------------------------


def import_run(
    *,
    actor,
    text: str,
    dry_run: bool,
    progress: Progress | None = None,
) -> ImportResult:
    """Check ``text`` (a CSV file, see the module's documentation) row by row and, unless
    ``dry_run``, apply it whole in one transaction under the tree lock. Problems are returned
    in the result (nothing is written then); PermissionDenied for anyone but the system and
    users who edit the whole organization."""
    require_importer(actor)
    progress = progress or _no_progress
    result = ImportResult()
    progress("Reading the file", 5)
    try:
        table = read_table(text)
    except ImportRefused as refused:
        result.keep_problems(refused.problems)
        return result
    result.kind, result.rows = table.kind, len(table.rows)
    today = timezone.localdate()
    frame = transaction.atomic() if dry_run else tree_transaction()
    with acting(actor, REASON), frame:
        # checked under the lock, so that nothing changes between the check and the writes
        if table.kind == "positions":
            _positions(table, result, apply=not dry_run, progress=progress, today=today)
        elif table.kind == "people":
            _people(table, result, apply=not dry_run, progress=progress)
        else:
            _locations(table, result, apply=not dry_run, progress=progress)
        result.keep_problems(result.problems)
        result.applied = not dry_run and not result.problems
    return result


# --- import jobs (the page, the admin, the Celery task) -----------------------------------


def import_job_check(*, actor, filename: str, data: bytes, content_type: str = "") -> ImportJob:
    """Keep an uploaded file as a job and check it (a dry run): at once for a small file,
    in a Celery job with its progress on the page for one of more than
    IMPORT_CHECK_INLINE_ROWS lines, so that the upload's request stays short. The job is
    ready to import when the check finds no problem. Raises ImportRefused, keeping nothing,
    for a file that cannot be kept (too large, not CSV, not UTF-8)."""
    require_importer(actor)
    problems = check_upload(name=filename, size=len(data), content_type=content_type)
    if problems:
        raise ImportRefused(problems)
    text = decode(data)
    lines = refuse_too_many_lines(text)
    job = ImportJob(
        filename=filename[:255],
        content=text,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        created_by=actor,
    )
    if lines <= settings.IMPORT_CHECK_INLINE_ROWS + 1:
        _record_check(job, import_run(actor=actor, text=text, dry_run=True))
        return job
    with transaction.atomic():
        job.status, job.phase = ImportJob.Status.CHECKING, "Waiting to start"
        job.started_at = timezone.now()  # queued at, until the check ends
        job.save()
        transaction.on_commit(lambda: send_job(job.pk))
    return job


def _record_check(job: ImportJob, result: ImportResult) -> None:
    job.kind, job.rows = result.kind, result.rows
    job.status = ImportJob.Status.CHECKED if result.ok else ImportJob.Status.REFUSED
    job.phase, job.progress = "", 0
    job.problems = [[p.row, p.column, p.message] for p in result.problems]
    job.problem_count = result.problem_count
    job.summary = result.summary()
    job.changes = [list(c) for c in result.changes]
    job.save()


def import_job_check_run(*, job_id: int) -> ImportJob:
    """Check a large file kept by import_job_check (the Celery task), writing its progress
    for the page. A delivery for a job whose check has ended does nothing."""
    with _running(job_id) as mine:
        job = ImportJob.objects.select_related("created_by").get(pk=job_id)
        if not mine or job.status != ImportJob.Status.CHECKING:
            return job
        if job.created_by is None:
            return _job_failed(job, "Not checked: the user who uploaded it no longer exists.")
        try:
            result = _run_stored(job, actor=job.created_by, dry_run=True)
        except Exception as error:  # recorded on the job for the page
            logger.exception("Checking import job %s failed", job.pk)
            return _job_failed(job, f"The file could not be checked: {error}")
        _record_check(job, result)
        return job


def import_job_start(*, actor, job: ImportJob) -> ImportJob:
    """Queue the import of a checked job, to run as ``actor``; the Celery task
    ``staffing.tasks.import_org`` carries it out after this transaction commits
    (in-process when there is no broker; when the broker is down, the job waits and
    ``staffing.tasks.sweep_imports`` sends it once the broker answers again)."""
    require_importer(actor)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportJob.Status.CHECKED:
            raise ValidationError(
                f"This file cannot be imported now: it is {job.get_status_display().lower()}."
            )
        job.status, job.phase, job.progress = ImportJob.Status.QUEUED, "Waiting to start", 0
        job.started_by, job.started_at = actor, timezone.now()  # queued at, until it starts
        job.save(update_fields=["status", "phase", "progress", "started_by", "started_at"])
        transaction.on_commit(lambda: send_job(job.pk))
    return job


def send_job(job_id: int) -> bool:
    """Hand a queued job to a worker; False (the job waiting) when the broker is down."""
    from kombu.exceptions import OperationalError

    from staffing.tasks import check_import, import_org

    checking = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.CHECKING).exists()
    try:
        (check_import if checking else import_org).apply_async(args=[job_id])
    except OperationalError:
        logger.warning("Could not queue import job %s; it waits for the broker", job_id)
        ImportJob.objects.filter(
            pk=job_id, status__in=(ImportJob.Status.QUEUED, ImportJob.Status.CHECKING)
        ).update(phase="Waiting for a worker (the job queue does not answer)")
        return False
    return True


class _ProgressWriter:
    """Writes a job's progress where the page can see it while the import's transaction is
    still open: on PostgreSQL through a second connection; elsewhere only between phases
    outside a transaction (SQLite has one writer)."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.side = None
        self.last = -1
        if connection.vendor == "postgresql":
            main = connections[DEFAULT_DB_ALIAS]
            self.side = type(main)(dict(main.settings_dict), alias="import-progress")

    def __call__(self, phase: str, percent: int) -> None:
        if percent == self.last:
            return
        self.last = percent
        table = ImportJob._meta.db_table
        sql = f"UPDATE {table} SET phase = %s, progress = %s WHERE id = %s"
        if self.side is not None:
            with self.side.cursor() as cursor:  # autocommit: seen at once
                cursor.execute(sql, [phase[:80], percent, self.job_id])
        elif not connection.in_atomic_block:
            ImportJob.objects.filter(pk=self.job_id).update(phase=phase[:80], progress=percent)

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


# a session-level advisory lock per job, held by the worker that runs it: a job found
# "running" whose lock is free was left by a worker that died (its import rolled back)
JOB_LOCK_BASE = 0x696D_706F_0000_0000  # "impo"


@contextmanager
def _running(job_id: int) -> Iterator[bool]:
    """Whether this process may run the job (no other live worker runs it)."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = JOB_LOCK_BASE + job_id
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        mine = cursor.fetchone()[0]
    try:
        yield mine
    finally:
        if mine:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def import_job_run(*, job_id: int) -> ImportJob:
    """Carry out a queued job (the Celery task): the stored file is checked again under the
    tree lock and imported whole, or refused with the problems found now, as the user who
    pressed Import. A delivery for a job that another worker is running, or that has ended,
    does nothing; a job left running by a worker that died is taken over."""
    with _running(job_id) as mine:
        job = ImportJob.objects.select_related("started_by").get(pk=job_id)
        if not mine:
            return job  # another worker has it
        running = (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)
        taken = ImportJob.objects.filter(pk=job_id, status__in=running).update(
            status=ImportJob.Status.RUNNING, started_at=timezone.now(), phase="Starting"
        )
        if not taken:
            return job  # a repeated delivery of a job that has ended
        job.refresh_from_db()
        return _run_job(job)


def _run_job(job: ImportJob) -> ImportJob:
    if job.started_by is None:
        return _job_failed(job, "Nothing was imported: the user who started it no longer exists.")
    try:
        result = _run_stored(job, actor=job.started_by, dry_run=False)
    except Exception as error:  # recorded on the job for the page; the import rolled back
        logger.exception("Import job %s failed", job.pk)
        return _job_failed(job, f"Nothing was imported: {error}")
    job.finished_at = timezone.now()
    job.summary = result.summary()
    job.changes = [list(change) for change in result.changes]
    if result.ok:
        job.status, job.phase, job.progress = ImportJob.Status.DONE, "Done", 100
    else:
        job.status, job.phase = ImportJob.Status.REFUSED, "Refused"
        job.problems = [[p.row, p.column, p.message] for p in result.problems]
        job.message = "The organization changed since the file was checked; nothing was imported."
    job.save()
    return job


def _run_stored(job: ImportJob, *, actor, dry_run: bool) -> ImportResult:
    """import_run on the job's stored file, its progress written where the page sees it."""
    writer = _ProgressWriter(job.pk)
    try:
        return import_run(actor=actor, text=job.content, dry_run=dry_run, progress=writer)
    finally:
        writer.close()


def _job_failed(job: ImportJob, message: str) -> ImportJob:
    job.status, job.phase = ImportJob.Status.FAILED, "Failed"
    job.message, job.finished_at = message, timezone.now()
    job.save(update_fields=["status", "phase", "message", "finished_at"])
    return job


def jobs_waiting(*, older_than_s: int = 60) -> list[int]:
    """Jobs to hand to a worker again: queued for a while (the broker was down, or the
    message was lost), or running (a delivery whose worker died finds its lock free)."""
    since = timezone.now() - datetime.timedelta(seconds=older_than_s)
    waiting = ImportJob.objects.filter(
        status__in=(ImportJob.Status.QUEUED, ImportJob.Status.RUNNING, ImportJob.Status.CHECKING),
        started_at__lt=since,
    )
    return list(waiting.values_list("pk", flat=True))
