"""A draft's rows read: their values now and when the draft was taken, their names, their
managers, and the draft's tree as a :class:`Shape` judged by the span engine.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q

from roles.models import Role
from staffing.models import (
    Person,
    Scenario,
    ScenarioPosition,
    position_label,
)
from staffing.selectors import placeable_people
from staffing.spans import engine

FIELDS = ("title", "role", "squad", "location", "holder", "status")
FK_FIELDS = ("role", "squad", "location", "holder")
EDITABLE = ("title", "role", "squad", "location", "status")


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


def base_value(row: ScenarioPosition, name: str):
    return getattr(row, f"base_{name}")


def draft_value(row: ScenarioPosition, name: str):
    return getattr(row, f"{name}_id") if name in FK_FIELDS else getattr(row, name)


def parent_source(row: ScenarioPosition, by_id: dict, scenario: Scenario):
    """The live position the draft puts ``row`` under: an id, None for the top, or 0 for a
    position added in the draft. The copied root keeps its live manager."""
    if row.parent_id is None:
        return row.base_parent if row.source_id == scenario.root_id else None
    return by_id[row.parent_id].source_id or 0


def draft_parents(scenario: Scenario) -> dict[int, int | None]:
    """Every row of the draft with its manager's row, as ids (one query)."""
    return dict(scenario.positions.values_list("pk", "parent_id"))


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

    def by_role(self, kids) -> tuple[tuple[int, int, int], ...]:
        """``kids`` by role, as (role id, all, filled), as the engine measures them."""
        counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for kid in kids:
            _parent, role_id, filled, _title = self.nodes[kid]
            counts[role_id][0] += 1
            counts[role_id][1] += int(filled)
        return tuple(sorted((role, n, nf) for role, (n, nf) in counts.items()))

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
                self.by_role(kids) if rule.limits else (),
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
