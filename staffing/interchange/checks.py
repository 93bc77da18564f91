"""Checking rows: the result of an import, the per-row checks, and the locations and people
files (checked, and written when the import applies them).
"""

import datetime
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import EmailValidator, validate_slug

from orgdesign.kernel import days
from staffing.interchange.columns import (
    BATCH,
    CHANGES_KEPT,
    FALSE,
    MAX_LENGTHS,
    SUMMARY_LABELS,
    TRUE,
)
from staffing.interchange.csvfile import Problem, Table
from staffing.models import Location, Person, Position
from staffing.scope import scope_for


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


Progress = Callable[[str, int], None]  # phase, per cent


def no_progress(phase: str, percent: int) -> None:
    return None


def require_importer(actor) -> None:
    """Only the system (commands, tasks) and users who edit the whole organization import."""
    if actor is not None and not scope_for(actor).edits_all:
        raise PermissionDenied(
            "Only administrators who edit the whole organization may import from CSV."
        )


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


def locations_file(table: Table, result: ImportResult, *, apply: bool, progress: Progress) -> None:
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


def person_values(check: Checker, row: int, cells: dict) -> dict:
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


def write_people(plans: list[PersonPlan]) -> None:
    Person.objects.bulk_create([p.person for p in plans if p.new], batch_size=BATCH)
    changed = [p.person for p in plans if not p.new and p.changed]
    fields = sorted({name for p in plans if not p.new for name in p.changed})
    if changed and fields:
        Person.objects.bulk_update(changed, fields, batch_size=BATCH)


def people_file(table: Table, result: ImportResult, *, apply: bool, progress: Progress) -> None:
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
        values = person_values(check, row, cells)
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
    write_people(plans)
