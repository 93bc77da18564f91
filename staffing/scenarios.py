"""Scenarios: draft the next organization apart from the live one, compare, then apply.

A scenario copies the live tree (or a part of it, or another scenario) into
:class:`ScenarioPosition` rows that keep the live values of the moment (``base_*``). Draft
edits change only those rows. The diff compares the draft with that base: positions added,
removed, moved and changed, headcount by tier, role, location and squad, and the span
findings that would appear or disappear. Applying replays the changes through the tree
services in one transaction under the tree lock, after checking that nobody changed the
same places in the live tree since the draft was taken; if they did, nothing is applied and
the conflicts are listed.

Every function that changes something is one transaction; readers take no locks.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from orgdesign.audit import audited
from roles.models import Role
from roles.selectors import with_report_rules
from staffing import services
from staffing.models import (
    Location,
    Person,
    Position,
    Scenario,
    ScenarioPosition,
    position_label,
)
from staffing.scope import scope_for
from staffing.selectors import no_such_person, placeable_people
from staffing.spans import engine
from staffing.tree import tree_transaction
from tiers.models import Squad

FIELDS = ("title", "role", "squad", "location", "holder", "status")
FK_FIELDS = ("role", "squad", "location", "holder")
EDITABLE = ("title", "role", "squad", "location", "status")


_refuse = services._refuse  # a field error that keeps its code, as the tree services raise


class Labels:
    """Draft rows (of draft_rows) named as everywhere a position is named for a change:
    "Title (Holder Name)" or "Title (vacant)" (see position_label), as they are in the draft
    (``now``) or as they were when it was taken (``base``). Say which holders are wanted,
    then ``load`` their names in one query."""

    def __init__(self):
        self.wanted: set[int] = set()
        self.names: dict[int, str] = {}

    def want(self, *rows, base: bool = False) -> None:
        for row in rows:
            held = row.base_holder if base else row.holder_id
            if held:
                self.wanted.add(held)

    def load(self) -> "Labels":
        people = Person.objects.filter(pk__in=self.wanted - self.names.keys())
        for pk, given, family in people.values_list("pk", "given_name", "family_name"):
            self.names[pk] = f"{given} {family}".strip()
        return self

    def person(self, pk: int) -> str:
        return self.names.get(pk, f"Person #{pk}")

    def now(self, row) -> str:
        return position_label(row.title, self.names.get(row.holder_id))

    def base(self, row) -> str:
        return position_label(row.base_title, self.names.get(row.base_holder))


def _base(row: ScenarioPosition, name: str):
    return getattr(row, f"base_{name}")


def _now(row: ScenarioPosition, name: str):
    return getattr(row, f"{name}_id") if name in FK_FIELDS else getattr(row, name)


def _parent_source(row: ScenarioPosition, by_id: dict, scenario: Scenario):
    """The live position the draft puts ``row`` under: an id, None for the top, or 0 for a
    position added in the draft. The copied root keeps its live manager."""
    if row.parent_id is None:
        return row.base_parent if row.source_id == scenario.root_id else None
    return by_id[row.parent_id].source_id or 0


# --- making and editing drafts ----------------------------------------------------------------


def _require_author(actor, scenario: Scenario) -> None:
    if scenario.status != Scenario.Status.DRAFT:
        raise _refuse("scenario", f"“{scenario}” is {scenario.get_status_display().lower()}; "
                      "only a draft can change.", "conflict")  # fmt: skip
    scope = scope_for(actor)
    if scope.edits_all or actor is None:
        return
    if scenario.created_by_id != getattr(actor, "pk", None):
        raise PermissionDenied(f"“{scenario}” is someone else's draft.")


def scenario_create(
    *,
    actor,
    name: str,
    description: str = "",
    root: Position | None = None,
    based_on: Scenario | None = None,
) -> Scenario:
    """A new draft: a copy of the live positions under ``root`` (directors and managers: by
    default their own position; admins: the whole organization), or of ``based_on``."""
    scope = scope_for(actor)
    if not (scope.edits_all or scope.root is not None):
        raise PermissionDenied("You lead no part of the organization to draft.")
    if based_on is None:
        if root is None and not scope.edits_all:
            root = scope.root
        if root is None and not scope.edits_all:
            raise PermissionDenied("You lead no part of the organization to draft.")
        if root is not None and not scope.can_see(root):
            raise PermissionDenied(f"{root.title} is outside the part of the organization you see.")
    elif not (scope.edits_all or based_on.created_by_id == getattr(actor, "pk", None)):
        raise PermissionDenied(f"“{based_on}” is someone else's draft.")
    name = name.strip()
    if not name:
        raise _refuse("name", "Give the scenario a name.")
    with transaction.atomic():
        scenario = Scenario.objects.create(
            name=name[:120],
            description=description,
            root=root if based_on is None else based_on.root,
            root_title=(root.title if root else "") if based_on is None else based_on.root_title,
            based_on=based_on,
            created_by=actor,
        )
        if based_on is None:
            _copy_live(scenario, root)
        else:
            _copy_scenario(scenario, based_on)
    return scenario


# one statement: each copied row gets its new id first, so that its parent's new id is known
# in the same INSERT (no second pass over the fresh rows to set parents)
_PG_COPY = """
WITH src AS MATERIALIZED (
    SELECT p.id, p.parent_id, p.title, p.role_id, p.squad_id, p.location_id, p.holder_id,
           p.status, nextval(%s::regclass) AS new_id
    FROM {position} p WHERE {where} ORDER BY p.tree_id, p.lft
)
INSERT INTO {draft} (id, scenario_id, source_id, parent_id, title, role_id, squad_id,
                     location_id, holder_id, status, removed, base_parent, base_title,
                     base_role, base_squad, base_location, base_holder, base_status)
SELECT s.new_id, %s, s.id, up.new_id, s.title, s.role_id, s.squad_id, s.location_id,
       s.holder_id, s.status, FALSE, CASE WHEN s.id = %s THEN NULL ELSE s.parent_id END,
       s.title, s.role_id, s.squad_id, s.location_id, s.holder_id, s.status
FROM src s LEFT JOIN src up ON up.id = s.parent_id
"""


def _copy_live(scenario: Scenario, root: Position | None) -> None:
    """The live positions under ``root`` into the draft. On PostgreSQL one statement that
    never leaves the database; elsewhere in Python."""
    if connection.vendor == "postgresql":
        draft, position = ScenarioPosition._meta.db_table, Position._meta.db_table
        where, params = "TRUE", []
        if root is not None:
            root = Position.objects.get(pk=root.pk)
            where, params = "p.tree_id = %s AND p.lft >= %s AND p.lft < %s", [
                root.tree_id, root.lft, root.rght,
            ]  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [draft])
            sequence = cursor.fetchone()[0]
            cursor.execute(
                _PG_COPY.format(draft=draft, position=position, where=where),
                [sequence, *params, scenario.pk, root.pk if root else None],
            )
        return
    live = Position.objects.all() if root is None else Position.objects.subtree_of(root)
    rows = list(
        live.order_by("tree_id", "lft").values_list(
            "pk", "parent_id", "title", "role_id", "squad_id", "location_id", "holder_id",
            "status",
        )
    )  # fmt: skip
    top = root.pk if root is not None else None
    made = ScenarioPosition.objects.bulk_create(
        [
            ScenarioPosition(
                scenario=scenario, source_id=pk, title=title, role_id=role, squad_id=squad,
                location_id=location, holder_id=holder, status=status,
                base_parent=None if pk == top else parent, base_title=title, base_role=role,
                base_squad=squad, base_location=location, base_holder=holder,
                base_status=status,
            )
            for pk, parent, title, role, squad, location, holder, status in rows
        ],
        batch_size=5000,
    )  # fmt: skip
    by_source = {row.source_id: row.pk for row in made}
    _set_parents(
        [(row.pk, by_source[row.base_parent]) for row in made if row.base_parent in by_source]
    )


def _set_parents(pairs: list[tuple[int, int]]) -> None:
    """Set ``parent_id`` of many draft rows: on PostgreSQL one UPDATE joined to a VALUES
    list per 5,000 rows (a correlated subquery can take minutes on a table the planner has
    no statistics for yet); elsewhere Django's bulk_update."""
    if connection.vendor == "postgresql":
        table = ScenarioPosition._meta.db_table
        with connection.cursor() as cursor:
            for start in range(0, len(pairs), 5000):
                chunk = pairs[start : start + 5000]
                values = ", ".join(["(%s, %s)"] * len(chunk))
                cursor.execute(
                    f'UPDATE "{table}" AS sp SET parent_id = v.parent '
                    f"FROM (VALUES {values}) AS v(id, parent) WHERE sp.id = v.id",
                    [n for pair in chunk for n in pair],
                )
        return
    rows = [ScenarioPosition(pk=pk, parent_id=parent) for pk, parent in pairs]
    ScenarioPosition.objects.bulk_update(rows, ["parent"], batch_size=1000)


def _copy_scenario(scenario: Scenario, other: Scenario) -> None:
    rows = list(other.positions.order_by("pk"))
    old_ids = [r.pk for r in rows]
    parents = [r.parent_id for r in rows]
    for r in rows:
        r.pk, r.scenario = None, scenario
    made = ScenarioPosition.objects.bulk_create(rows, batch_size=5000)
    new_id = {old: new.pk for old, new in zip(old_ids, made, strict=True)}
    _set_parents(
        [(row.pk, new_id[parent]) for row, parent in zip(made, parents, strict=True) if parent]
    )


def _locked(scenario: Scenario, pk, *, removed: bool = False) -> ScenarioPosition | None:
    rows = ScenarioPosition.objects.select_for_update().filter(scenario=scenario, pk=pk)
    return rows.filter(removed=removed).first()


def _draft_row(scenario: Scenario, row, *, actor=None, changing: bool = False):
    """The draft's row ``row`` (an id or a row), locked; with ``changing``, refused when it
    copies the actor's own position, which they cannot change in the live tree either."""
    pk = row.pk if isinstance(row, ScenarioPosition) else row
    found = _locked(scenario, pk)
    if found is None:
        raise _refuse("position", f"No position {pk} in this draft.")
    if changing and found.source_id is not None and not may_change(scope_for(actor), found):
        raise PermissionDenied(f"{found.label} is your own position; it is changed from above.")
    return found


def draft_parents(scenario: Scenario) -> dict[int, int | None]:
    """Every row of the draft with its manager's row, as ids (one query)."""
    return dict(scenario.positions.values_list("pk", "parent_id"))


def in_team(parents: dict[int, int | None], pk: int | None, leader: int) -> bool:
    """Whether draft row ``pk`` is ``leader`` or anywhere below it."""
    while pk is not None:
        if pk == leader:
            return True
        pk = parents.get(pk)
    return False


def placeable_in_draft(scope, scenario: Scenario):
    """The people a draft's author may name for a draft position: those they could place
    live (selectors.placeable_people) and those holding a draft position they may change.
    Anyone else is answered as if they did not exist."""
    people = placeable_people(scope)
    if scope.edits_all or scope.root is None:
        return people
    rows = scenario.positions.filter(removed=False, holder__isnull=False)
    held = rows.exclude(source_id=scope.root.pk).values("holder_id")
    return Person.objects.filter(Q(pk__in=people.values("pk")) | Q(pk__in=held))


def _require_placeable(actor, scenario: Scenario, person: Person) -> None:
    """A person goes into a draft position if the actor could place them live: they hold no
    position, or one the actor may change (in the draft: a row the actor may change)."""
    scope = scope_for(actor)
    if not placeable_in_draft(scope, scenario).filter(pk=person.pk).exists():
        raise _refuse("holder", no_such_person(person.pk))
    if scope.edits_all:
        return
    held = list(scenario.positions.filter(holder=person, removed=False))
    if held:
        if all(may_change(scope, row) for row in held):
            return
    else:
        live = Position.objects.filter(holder=person).first()
        if live is None or scope.can_edit(live):
            return
    raise PermissionDenied(f"{person} holds a position outside the part you may change.")


def _require_top(actor) -> None:
    """Only those who change the whole organization put positions at its top, as live."""
    if not scope_for(actor).edits_all:
        raise PermissionDenied("You cannot add or move positions to the top of the organization.")


def may_change(scope, row: ScenarioPosition) -> bool:
    """Whether a scope may change, move or remove a draft row: any row but the one copying
    the viewer's own position (as in the live tree)."""
    return scope.edits_all or row.source_id is None or row.source_id != getattr(scope.root, "pk", 0)


def visible_scenarios(user, scope):
    """The scenarios ``user`` sees: their own; everyone's for admins and HR."""
    rows = Scenario.objects.select_related("created_by")
    return rows if scope.sees_all else rows.filter(created_by=user)


def draft_shape(scenario: Scenario) -> tuple["Shape", dict[int, tuple[int | None, int | None]]]:
    """The draft's tree as a :class:`Shape` (one query, tuples only), and each row's
    (live source, base parent) to tell a moved row."""
    rows = scenario.positions.filter(removed=False).values_list(
        "pk", "parent_id", "role_id", "holder_id", "title", "source_id", "base_parent"
    )
    nodes, sources = {}, {}
    for pk, parent, role, holder, title, source, base_parent in rows:
        nodes[pk] = (parent, role, holder is not None, title)
        sources[pk] = (source, base_parent)
    return Shape(nodes), sources


def draft_add(
    *, actor, scenario: Scenario, parent, title: str, role: Role, squad=None, location=None,
    status: str = Position.Status.OPEN,
) -> ScenarioPosition:  # fmt: skip
    """Add an open (or planned) position to the draft under ``parent`` (a draft position)."""
    with transaction.atomic():
        _require_author(actor, scenario)
        parent = _draft_row(scenario, parent) if parent is not None else None
        if parent is None:
            _require_top(actor)
        else:
            manager = with_report_rules(Role.objects.filter(pk=parent.role_id)).get()
            if not manager.allows_report(role):
                raise _refuse(
                    "role", manager.report_refusal(parent.label, role), "report_not_allowed"
                )
        if status not in (Position.Status.OPEN, Position.Status.PLANNED):
            raise _refuse("status", "A new position is open or planned; fill it afterwards.")
        if not title.strip():
            raise _refuse("title", "Give the position a title.")
        row = ScenarioPosition.objects.create(
            scenario=scenario, parent=parent, title=title.strip()[:120], role=role, squad=squad,
            location=location, status=status,
        )  # fmt: skip
        scenario.save(update_fields=["updated_at"])
    return row


def draft_update(*, actor, scenario: Scenario, position, **changes) -> ScenarioPosition:
    """Change a draft position's title, role, squad, location or status (open or planned),
    or its holder (a person; None to leave it vacant). A person who holds another position
    of the draft leaves it, as in the live tree."""
    unknown = set(changes) - {*EDITABLE, "holder"}
    if unknown:
        raise _refuse("position", f"These cannot be changed: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        _require_author(actor, scenario)
        row = _draft_row(scenario, position, actor=actor, changing=True)
        if "holder" in changes:
            person = changes.pop("holder")
            if person is not None:
                if not person.is_active:
                    raise _refuse("holder", f"{person} is not active.")
                _require_placeable(actor, scenario, person)
                for other in (
                    ScenarioPosition.objects.select_for_update()
                    .filter(scenario=scenario, holder=person, removed=False)
                    .exclude(pk=row.pk)
                ):
                    other.holder, other.status = None, Position.Status.OPEN
                    other.save(update_fields=["holder", "status"])
                row.holder, row.status = person, Position.Status.FILLED
            elif row.holder_id:
                row.holder, row.status = None, Position.Status.OPEN
        if "status" in changes:
            wanted = changes.pop("status")
            if row.holder_id and wanted != Position.Status.FILLED:
                raise _refuse("status", "Leave the position vacant first.")
            if not row.holder_id and wanted not in (Position.Status.OPEN, "planned"):
                raise _refuse("status", "A vacancy is open or planned.")
            row.status = wanted
        for name, value in changes.items():
            if name == "title" and not str(value).strip():
                raise _refuse("title", "Give the position a title.")
            setattr(row, name, value)
        row.save()
        scenario.save(update_fields=["updated_at"])
    return row


def draft_move(*, actor, scenario: Scenario, position, new_parent) -> ScenarioPosition:
    """Make a draft position (with its team) report to ``new_parent`` (None: the top)."""
    with transaction.atomic():
        _require_author(actor, scenario)
        row = _draft_row(scenario, position, actor=actor, changing=True)
        target = _draft_row(scenario, new_parent) if new_parent is not None else None
        if target is None:
            _require_top(actor)
        if target is not None and in_team(draft_parents(scenario), target.pk, row.pk):
            raise _refuse(
                "parent",
                f"{target.label} is in {row.label}'s own team; moving there would make "
                "a reporting loop.",
                "cycle",
            )
        if target is not None and not target.role.may_have_reports:  # as position_move
            refusal = target.role.report_refusal(target.label)
            raise _refuse("parent", refusal, "report_not_allowed")
        row.parent = target
        row.save(update_fields=["parent"])
        scenario.save(update_fields=["updated_at"])
    return row


def draft_remove(*, actor, scenario: Scenario, position, reports: str = "refuse") -> None:
    """Remove a position from the draft; its direct reports move up to its manager
    (``reports="move_up"``) or, by default, the removal is refused while it has any."""
    with transaction.atomic():
        _require_author(actor, scenario)
        row = _draft_row(scenario, position, actor=actor, changing=True)
        children = ScenarioPosition.objects.filter(scenario=scenario, parent=row, removed=False)
        if children.exists():
            if reports != "move_up":
                raise _refuse("reports", f"{row.label} has direct reports; move them first, or "
                              "choose to move them up.", "has_reports")  # fmt: skip
            if row.parent_id is None:
                raise _refuse("reports", f"{row.label} is at the top; its reports have "
                              "nowhere to go.", "has_reports")  # fmt: skip
            children.update(parent=row.parent_id)
        if row.source_id is None:  # added in the draft: nothing to remember
            # removed rows below it keep their removal (the delete would cascade to them)
            ScenarioPosition.objects.filter(parent=row, removed=True).update(parent=row.parent_id)
            row.delete()
        else:
            row.removed, row.holder = True, None
            row.save(update_fields=["removed", "holder"])
        scenario.save(update_fields=["updated_at"])


def draft_restore(*, actor, scenario: Scenario, position) -> ScenarioPosition:
    """Bring back a position removed from the draft, vacant, under the draft position that
    copies its live manager (under the draft's top when that one is gone too)."""
    pk = position.pk if isinstance(position, ScenarioPosition) else position
    with transaction.atomic():
        _require_author(actor, scenario)
        row = _locked(scenario, pk, removed=True)
        if row is None:
            raise _refuse("position", f"No removed position {pk} in this draft.")
        live = scenario.positions.filter(removed=False)
        parent = live.filter(source_id=row.base_parent).first() if row.base_parent else None
        if parent is None and row.base_parent is not None:  # its manager is gone too
            parent = live.filter(parent__isnull=True).order_by("pk").first()
        row.removed, row.parent = False, parent
        if row.status == Position.Status.FILLED:
            row.status = Position.Status.OPEN  # its holder may be placed elsewhere by now
        row.save(update_fields=["removed", "parent", "status"])
        scenario.save(update_fields=["updated_at"])
    return row


def scenario_close(*, actor, scenario: Scenario, status: str) -> Scenario:
    """Discard a draft, or archive a scenario (applied ones stay readable either way)."""
    if status not in (Scenario.Status.DISCARDED, Scenario.Status.ARCHIVED):
        raise _refuse("status", "Discard or archive.")
    with transaction.atomic():
        scenario = Scenario.objects.select_for_update().get(pk=scenario.pk)
        scope = scope_for(actor)
        if not (actor is None or scope.edits_all or scenario.created_by_id == actor.pk):
            raise PermissionDenied(f"“{scenario}” is someone else's scenario.")
        if status == Scenario.Status.DISCARDED and scenario.status != Scenario.Status.DRAFT:
            raise _refuse("status", "Only a draft can be discarded.", "conflict")
        scenario.status = status
        scenario.save(update_fields=["status", "updated_at"])
    return scenario


# --- comparing --------------------------------------------------------------------------------


@dataclass
class Change:
    row: tuple  # a row of draft_rows
    fields: list[str]  # what differs from the base: "parent" for a move, FIELDS otherwise


@dataclass
class ScenarioDiff:
    added: list[tuple] = field(default_factory=list)  # rows of draft_rows
    removed: list[tuple] = field(default_factory=list)  # rows of draft_rows
    moved: list[tuple] = field(default_factory=list)  # rows of draft_rows
    changed: list[Change] = field(default_factory=list)
    headcount: dict[str, list[tuple[str, int, int]]] = field(default_factory=dict)
    findings_new: list[tuple[str, str]] = field(default_factory=list)  # title, message
    findings_gone: list[tuple[str, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.moved or self.changed)


ROW_COLUMNS = (
    "pk", "source_id", "parent_id", "title", "role_id", "squad_id", "location_id", "holder_id",
    "status", "removed", "base_parent", "base_title", "base_role", "base_squad",
    "base_location", "base_holder", "base_status",
)  # fmt: skip


NOW, BASE = slice(3, 9), slice(11, 17)  # a row's FIELDS as they are, and as they were
assert [c.removesuffix("_id") for c in ROW_COLUMNS[NOW]] == list(FIELDS)
assert [c.removeprefix("base_") for c in ROW_COLUMNS[BASE]] == list(FIELDS)


def draft_rows(scenario: Scenario) -> list:
    """Every row of the draft as plain values (named tuples with the model's attribute
    names, ids for relations): diff, conflicts and apply read all of them, and at 100,000
    rows a Django object each would cost several times as much. The few rows that are shown
    or replayed load their objects."""
    return list(scenario.positions.values_list(*ROW_COLUMNS, named=True))


def compare(scenario: Scenario) -> tuple[list, "ScenarioDiff", list[str]]:
    """The draft's rows, what it changes, and its conflicts with the live tree (none once it
    is no longer a draft), the rows loaded once for both."""
    rows = draft_rows(scenario)
    found = conflicts(scenario, rows) if scenario.status == Scenario.Status.DRAFT else []
    return rows, diff(scenario, rows), found


def diff(scenario: Scenario, rows=None) -> ScenarioDiff:
    """What the draft changes against the live organization it was taken from (``rows``:
    the draft's rows when the caller has loaded them already)."""
    rows = rows if rows is not None else draft_rows(scenario)
    by_id = {r.pk: r for r in rows}
    out = ScenarioDiff()
    for r in rows:
        if r.source_id is None:
            if not r.removed:
                out.added.append(r)
            continue
        if r.removed:
            out.removed.append(r)
            continue
        if _parent_source(r, by_id, scenario) != r.base_parent:
            out.moved.append(r)
        if r[NOW] != r[BASE]:  # one comparison for the many rows the draft leaves alone
            out.changed.append(Change(r, [n for n in FIELDS if _now(r, n) != _base(r, n)]))
    out.headcount = _headcount_delta(rows)
    out.findings_new, out.findings_gone = _findings_delta(rows)
    return out


def _headcount_delta(rows) -> dict[str, list[tuple[str, int, int]]]:
    roles = {r.pk: r for r in Role.objects.select_related("tier")}
    squads = dict(Squad.objects.values_list("pk", "name"))
    locations = dict(Location.objects.values_list("pk", "name"))

    def keys(role_id, squad_id, location_id):
        role = roles[role_id]
        return {
            "tier": role.tier.name,
            "role": role.name,
            "location": locations.get(location_id, "No location"),
            "squad": squads.get(squad_id, "No squad"),
        }

    # counted by (role, squad, location) first: a few hundred combinations, not every row
    was = Counter((r.base_role, r.base_squad, r.base_location) for r in rows if r.source_id)
    now = Counter((r.role_id, r.squad_id, r.location_id) for r in rows if not r.removed)
    before: dict[str, Counter] = defaultdict(Counter)
    after: dict[str, Counter] = defaultdict(Counter)
    for counted, into in ((was, before), (now, after)):
        for combination, n in counted.items():
            for dim, key in keys(*combination).items():
                into[dim][key] += n
    out = {}
    for dim in ("tier", "role", "location", "squad"):
        names = sorted(set(before[dim]) | set(after[dim]))
        out[dim] = [
            (name, before[dim][name], after[dim][name])
            for name in names
            if before[dim][name] != after[dim][name]
        ]
    return out


@dataclass
class Shape:
    """A tree given as {id: (parent id, role id, filled, title)}, with each node's direct
    reports and the size of everything below it (filled and in all)."""

    nodes: dict[int, tuple]
    children: dict[int | None, list[int]] = field(default_factory=lambda: defaultdict(list))
    team_all: dict[int, int] = field(default_factory=dict)
    team_filled: dict[int, int] = field(default_factory=dict)

    def __post_init__(self):
        nodes, children = self.nodes, self.children
        for pk, (parent, *_rest) in nodes.items():
            children[parent].append(pk)
        order, stack = [], [pk for pk, (parent, *_r) in nodes.items() if parent not in nodes]
        while stack:  # depth first, then sizes bottom-up
            pk = stack.pop()
            order.append(pk)
            stack.extend(children.get(pk, ()))
        for pk in reversed(order):
            kids = children.get(pk, ())
            self.team_all[pk] = sum(1 + self.team_all[k] for k in kids)
            self.team_filled[pk] = sum(int(nodes[k][2]) + self.team_filled[k] for k in kids)

    def judge(self, only=None, *, rules=None, role_names=None) -> list[engine.Computed]:
        """Span findings as the live engine judges them: of ``only`` (every node by default)
        as managers, and of their direct reports that their rule does not allow."""
        rules = engine.load_rules() if rules is None else rules
        if role_names is None:
            role_names = dict(Role.objects.values_list("pk", "name"))
        nodes, children = self.nodes, self.children
        found = []
        for pk in self.nodes if only is None else only:
            _parent, role_id, filled, title = nodes[pk]
            rule = rules.get(role_id)
            if rule is None:
                continue
            kids = children.get(pk, ())
            measured = engine.Measured(
                pk, title, filled, len(kids), sum(int(nodes[k][2]) for k in kids),
                self.team_all[pk], self.team_filled[pk],
            )  # fmt: skip
            found += engine.judge(measured, rule)
            if rule.allowed:
                found += [
                    engine.misplaced_finding(
                        k, nodes[k][3], role_names.get(nodes[k][1]), title, rule
                    )
                    for k in kids
                    if nodes[k][1] not in rule.allowed
                ]
        return found


def _judge_tree(nodes: dict[int, tuple], **loaded) -> set[tuple[int, str, str]]:
    """Span findings of a whole tree as a set of (row id, kind, message)."""
    return {(f.position_id, f.kind, f.message) for f in Shape(nodes).judge(**loaded)}


def _findings_delta(rows) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    by_source = {r.source_id: r.pk for r in rows if r.source_id is not None}
    base = {
        r.pk: (
            by_source.get(r.base_parent) if r.base_parent is not None else None,
            r.base_role,
            r.base_holder is not None,
            r.base_title,
        )
        for r in rows
        if r.source_id is not None
    }
    draft = {
        r.pk: (r.parent_id, r.role_id, r.holder_id is not None, r.title)
        for r in rows
        if not r.removed
    }
    loaded = {
        "rules": engine.load_rules(),
        "role_names": dict(Role.objects.values_list("pk", "name")),
    }
    before, after = _judge_tree(base, **loaded), _judge_tree(draft, **loaded)
    by_id = {r.pk: r for r in rows}
    labels = Labels()
    labels.want(*(by_id[pk] for pk, _k, _m in after - before))
    labels.want(*(by_id[pk] for pk, _k, _m in before - after), base=True)
    labels.load()
    new = sorted((labels.now(by_id[pk]), m) for pk, _k, m in after - before)
    gone = sorted((labels.base(by_id[pk]), m) for pk, _k, m in before - after)
    return new, gone


# --- applying ---------------------------------------------------------------------------------


def conflicts(scenario: Scenario, rows=None) -> list[str]:
    """Where the live tree changed, since the draft was taken, in a place the draft
    changes too (a position the draft changes, moves or removes, or a parent it adds under)."""
    rows = rows if rows is not None else draft_rows(scenario)
    by_id = {r.pk: r for r in rows}
    names = ("parent", *FIELDS)
    touched_rows = []
    for r in rows:  # what the draft changes, found without the live tree
        if r.source_id is None:
            parent = by_id.get(r.parent_id)
            if parent is not None and parent.source_id:
                touched_rows.append(parent)
            continue
        if r.removed or r[NOW] != r[BASE] or _parent_source(r, by_id, scenario) != r.base_parent:
            touched_rows.append(r)
    moved_under = {  # copied managers the draft moves someone under: {their source: row}
        by_id[r.parent_id].source_id: r
        for r in touched_rows
        if r.source_id and r.parent_id and by_id[r.parent_id].source_id and not r.removed
        and _parent_source(r, by_id, scenario) != r.base_parent
    }  # fmt: skip
    sources = {r.source_id for r in touched_rows} | set(moved_under)
    live = {
        p[0]: p
        for p in Position.objects.filter(pk__in=sources).values_list(
            "pk", "parent_id", "title", "role_id", "squad_id", "location_id", "holder_id", "status"
        )
    }
    touched_ids = {r.pk for r in touched_rows}
    labels = Labels()
    found = []  # each a function of the loaded labels: the holders are named in one query
    for source, r in moved_under.items():
        if source not in live:
            labels.want(by_id[r.parent_id], r)
            found.append(lambda n, r=r: f"{n.now(by_id[r.parent_id])}, under which the draft "
                         f"moves {n.now(r)}, has been deleted.")  # fmt: skip
    for r in rows:
        if r.source_id is not None and r.pk not in touched_ids:
            continue
        if r.source_id is None:
            parent = by_id.get(r.parent_id)
            if parent is not None and parent.source_id and parent.source_id not in live:
                labels.want(parent, r)
                found.append(lambda n, r=r, p=parent: f"{n.now(p)}, under which the draft adds "
                             f"{n.now(r)}, has been deleted.")  # fmt: skip
            continue
        mine = {"parent": _parent_source(r, by_id, scenario), **{n: _now(r, n) for n in FIELDS}}
        base = {"parent": r.base_parent, **{n: _base(r, n) for n in FIELDS}}
        touched = [n for n in names if r.removed or mine[n] != base[n]]
        if not touched:
            continue
        now = live.get(r.source_id)
        if now is None:
            labels.want(r, base=True)
            found.append(lambda n, r=r: f"{n.base(r)} has been deleted since the draft was taken.")
            continue
        current = dict(zip(names, now[1:], strict=True))
        for name in touched:
            if current[name] != base[name]:
                what = "manager" if name == "parent" else name
                labels.want(r, base=True)
                found.append(lambda n, r=r, what=what: f"{n.base(r)}: its {what} has changed "
                             "since the draft was taken.")  # fmt: skip
    holders = [r.holder_id for r in rows if r.holder_id and r.holder_id != r.base_holder]
    if holders:
        held = dict(Position.objects.filter(holder_id__in=holders).values_list("holder_id", "pk"))
        was = {r.base_holder: r.source_id for r in rows if r.base_holder}
        for person_id in holders:
            if held.get(person_id) != was.get(person_id):
                labels.wanted.add(person_id)
                found.append(lambda n, pk=person_id: f"{n.person(pk)} has moved to another "
                             "position since the draft was taken.")  # fmt: skip
    if not found:
        return []
    labels.load()
    return [message(labels) for message in found]


@audited
def scenario_apply(*, actor, scenario: Scenario) -> dict:
    """Make the draft live: in one transaction under the tree lock, through the tree services
    (so scope, loop checks, assignment history and span marks apply), or not at all. Refused
    with the conflicts when the live tree changed in the same places."""
    with tree_transaction():
        scenario = Scenario.objects.select_for_update().get(pk=scenario.pk)
        _require_author(actor, scenario)
        rows = draft_rows(scenario)
        found = conflicts(scenario, rows)
        if found:
            raise ValidationError(
                {"conflicts": [ValidationError(text, code="conflict") for text in found]}
            )
        result = _replay(actor, scenario, rows)
        scenario.status = Scenario.Status.APPLIED
        scenario.applied_at, scenario.applied_by = timezone.now(), actor
        scenario.applied_summary = result
        scenario.save()
    return result


def _replay(actor, scenario: Scenario, rows: list) -> dict:
    by_id = {r.pk: r for r in rows}
    live_of: dict[int, int] = {r.pk: r.source_id for r in rows if r.source_id is not None}
    counts = Counter()
    related = ScenarioPosition.objects.select_related("role", "squad", "location", "holder")

    def full(r) -> ScenarioPosition:  # the row's objects, for the few rows replayed
        return related.get(pk=r.pk)

    def depth(r) -> int:
        d = 0
        while r.parent_id:
            r, d = by_id[r.parent_id], d + 1
        return d

    def live_parent(r) -> Position | None:
        return Position.objects.get(pk=live_of[r.parent_id]) if r.parent_id else None

    # 1. positions added in the draft, parents first
    for r in sorted((r for r in rows if r.source_id is None and not r.removed), key=depth):
        r = full(r)
        made = services.position_create(
            actor=actor, parent=live_parent(r), title=r.title, role=r.role, squad=r.squad,
            location=r.location, any_report=True,  # judged in the draft, as its moves are
            status=Position.Status.OPEN if r.status == Position.Status.FILLED else r.status,
        )  # fmt: skip
        live_of[r.pk] = made.pk
        counts["added"] += 1
    kept = [r for r in rows if r.source_id is not None and not r.removed]
    # 2. moves, the shallowest destinations first
    for r in sorted(kept, key=depth):
        if _parent_source(r, by_id, scenario) == r.base_parent:
            continue
        target = live_of.get(r.parent_id) if r.parent_id else None
        services.position_move(
            actor=actor,
            position=Position.objects.get(pk=r.source_id),
            new_parent=Position.objects.get(pk=target) if target else None,
        )
        counts["moved"] += 1
    # 3. title, role, squad, location and vacancy status
    for r in kept:
        differ = [n for n in ("title", "role", "squad", "location") if _now(r, n) != _base(r, n)]
        changes = {n: getattr(full(r), n) for n in differ} if differ else {}
        if not r.holder_id and r.status != r.base_status and r.base_holder is None:
            changes["status"] = r.status
        if changes:
            services.position_update(
                actor=actor, position=Position.objects.get(pk=r.source_id), **changes
            )
            counts["changed"] += 1
    # 4. holders: free every position whose holder changes, then fill
    today = timezone.localdate()
    moving = [r for r in rows if not r.removed and r.holder_id != r.base_holder]
    for r in moving:
        if r.source_id and Position.objects.filter(pk=r.source_id, holder__isnull=False).exists():
            services.position_vacate(
                actor=actor, position=Position.objects.get(pk=r.source_id), end_date=today
            )
    for r in moving:
        if r.holder_id:
            services.person_assign(
                actor=actor, person=Person.objects.get(pk=r.holder_id),
                position=Position.objects.get(pk=live_of[r.pk]),
                start_date=today, note=f"Scenario “{scenario.name}”",
            )  # fmt: skip
            counts["filled"] += 1
    # 5. removals, the deepest first (their reports have moved or go too)
    removed = [r for r in rows if r.removed and r.source_id is not None]
    for r in sorted(removed, key=depth, reverse=True):
        position = Position.objects.filter(pk=r.source_id).first()
        if position is not None:
            services.position_delete(actor=actor, position=position, reports="refuse")
            counts["removed"] += 1
    return dict(counts)


# --- from a capacity plan to a draft ------------------------------------------------------


def scenario_from_plan(
    *, actor, name: str, wanted: dict[str, int], root: Position | None = None
) -> tuple[Scenario, list[str]]:
    """A draft of ``root``'s part of the organization reshaped to hold ``wanted`` people
    per role code (a capacity plan's ``by_role``): open positions are added where a role is
    short, leaders first so that agents find a team lead with room, each under the manager
    with the fewest reports that its span rule still allows; vacancies of a role in excess
    are removed (filled positions never are). Returns the draft and notes on what it could
    not do."""
    scenario = scenario_create(actor=actor, name=name, root=root)
    notes: list[str] = []
    with transaction.atomic():
        roles = {r.code: r for r in Role.objects.filter(code__in=wanted)}
        unknown = sorted(set(wanted) - set(roles))
        if unknown:
            raise _refuse("wanted", f"Unknown role codes: {', '.join(unknown)}.")
        rules = Role.objects.filter(span_rule__isnull=False)
        limits = dict(rules.values_list("code", "span_rule__max_direct"))
        rows = list(scenario.positions.filter(removed=False).select_related("role"))
        kids: Counter = Counter(r.parent_id for r in rows if r.parent_id)
        top = next((r for r in rows if r.parent_id is None), None)
        have = Counter(r.role.code for r in rows)
        made: Counter = Counter()
        # the management ladder first (top down), then everyone else
        order = [c for c in reversed(LEADER_ORDER) if c in wanted]
        order += [c for c in wanted if c not in LEADER_ORDER]
        for code in order:
            role, gap = roles[code], wanted[code] - have[code]
            if gap > 0:
                above = PARENT_ROLE.get(code)
                for _ in range(gap):
                    parents = [r for r in rows if r.role.code in above] if above else []
                    room = [
                        p for p in parents
                        if limits.get(p.role.code) is None or kids[p.pk] < limits[p.role.code]
                    ]  # fmt: skip
                    parent = min(room, key=lambda p: (kids[p.pk], p.pk)) if room else top
                    if parent is None:
                        notes.append(f"No place for a new {role.name}: the draft is empty.")
                        break
                    if not room and above:
                        notes.append(f"A new {role.name} went under {parent.title}: no "
                                     f"{' or '.join(sorted(above))} had room.")  # fmt: skip
                    made[code] += 1
                    title = (  # new leaders are told apart: their teams are listed under them
                        f"{role.name} (new {made[code]})" if code in LEADER_ORDER else role.name
                    )
                    added = ScenarioPosition.objects.create(
                        scenario=scenario, parent=parent, title=title, role=role,
                        status=Position.Status.OPEN,
                    )  # fmt: skip
                    rows.append(added)
                    kids[parent.pk] += 1
            elif gap < 0:
                spare = [
                    r for r in rows
                    if r.role_id == role.pk and not r.holder_id and not kids[r.pk]
                    and not r.removed
                ]  # fmt: skip
                spare.sort(key=lambda r: (r.source_id is not None, -r.pk))  # drafts' own first
                for r in spare[:-gap]:
                    draft_remove(actor=actor, scenario=scenario, position=r)
                    r.removed = True
                    kids[r.parent_id] -= 1
                if len(spare) < -gap:
                    notes.append(f"{-gap - len(spare)} {role.name} position(s) over the plan "
                                 "are filled or lead a team; they stay.")  # fmt: skip
        scenario.description = "Drafted from a capacity plan." + (
            " " + " ".join(notes) if notes else ""
        )
        scenario.save(update_fields=["description", "updated_at"])
    return scenario, notes


# who a new position of a role reports to, and the order leaders are added in
PARENT_ROLE = {
    "advocate": {"team-lead"},
    "associate-advocate": {"team-lead"},
    "tse": {"team-lead", "advocate-manager"},
    "architect": {"advocate-manager", "senior-advocate-manager"},
    "team-lead": {"advocate-manager"},
    "advocate-manager": {"senior-advocate-manager", "director"},
    "senior-advocate-manager": {"director"},
    "systems-specialist": {"ops-manager", "advocate-manager"},
    "ops-manager": {"director"},
}
LEADER_ORDER = ("team-lead", "advocate-manager", "senior-advocate-manager", "director")
