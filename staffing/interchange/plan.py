"""A positions file checked row by row against itself and the database: what its import
would write (:class:`Checked`), or every problem it has.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Max

from orgdesign.kernel.words import a_or_an
from roles.models import Role
from staffing import assignments, loops
from staffing.interchange.checks import (
    Checker,
    ImportResult,
    Lookup,
    People,
    PersonPlan,
    Progress,
    person_values,
)
from staffing.interchange.columns import DB_ID_PREFIX
from staffing.interchange.csvfile import Table
from staffing.models import Assignment, Location, Position
from tiers.models import Squad

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
    "tree_parent_id",
    "trees_under",
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
    tree_parent_id: int | None
    trees_under: int

    @property
    def place(self) -> tuple:
        """Its stored place in the forest, as staffing.tree.Place compares."""
        return (
            self.tree_id, self.lft, self.rght, self.level, self.tree_parent_id, self.trees_under
        )  # fmt: skip

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


@dataclass
class Checked:
    """A positions file with no problem: what its import writes."""

    planned: list[Planned]
    stored: dict[int, Stored]
    parents: dict[int, int | None]  # every node's manager after the import
    emptied: list[Stored]  # positions outside the file whose holder the file moves
    current: dict[int, Assignment]  # person id → their current assignment


def _status_of(value: str) -> str | None:
    value = value.strip().lower()
    for code, label in Position.Status.choices:
        if value in (code, str(label).lower()):
            return code
    return None


def db_key(key: str) -> int | None:
    """The database id a ``#1234`` key stands for."""
    if key.startswith(DB_ID_PREFIX) and key[1:].isdigit():
        return int(key[1:])
    return None


def check_positions(
    table: Table, result: ImportResult, *, progress: Progress, today
) -> Checked | None:
    """Check every row of a positions file against the file and the database; what the
    import would write (None when a row has a problem, listed in ``result``)."""
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
        if existing is None and db_key(key) is not None:
            existing = stored.get(db_key(key))
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
                        check, row, employee_id, person_values(check, row, cells)
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
        if found is None and db_key(plan.manager_key) is not None:
            found = stored.get(db_key(plan.manager_key))
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
        displaced = plan.stored.holder_id if plan.stored is not None else None
        held_since = latest.get(displaced) if displaced and displaced != person.pk else None
        problems = assignments.start_problems(
            start,
            latest_start=since,
            same_day_refused=plan.start is not None,
            displaced_since=held_since,
            hire_date=person.hire_date,
        )
        if assignments.BEFORE_LATEST in problems:
            check.add(
                plan.row,
                "start_date",
                f"{person.employee_id}'s latest assignment starts on {since.isoformat()}; "
                f"the new one cannot start earlier ({start.isoformat()}).",
            )
        if assignments.ON_LATEST in problems:
            # an edited export keeps the start of the post the person leaves
            check.add(
                plan.row,
                "start_date",
                f"{person.employee_id} started their present assignment on "
                f"{since.isoformat()}; give the day they start in this position (later), "
                "or leave start_date blank for today.",
            )
        if assignments.BEFORE_DISPLACED in problems:
            check.add(
                plan.row,
                "start_date",
                f"The position's present holder started on {held_since.isoformat()}; "
                f"the new one cannot start earlier ({start.isoformat()}).",
            )
        if assignments.BEFORE_HIRE in problems:
            check.add(
                plan.row,
                "start_date",
                f"{start.isoformat()} is before {person.employee_id}'s hire date "
                f"({person.hire_date.isoformat()}).",
            )
    if result.problems:
        return None

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
    return Checked(planned, stored, parents, emptied, current)


def _check_loops(check: Checker, planned: list[Planned], parents, stored, by_node) -> None:
    """Every reporting loop the file would make, reported on each of its rows."""

    def name(node: int) -> str:
        if node in by_node:
            return by_node[node].key
        return stored[node].key if node in stored else str(node)

    for loop in loops.find_loops(parents, [plan.node for plan in planned]):
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
