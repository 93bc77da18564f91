"""What a draft changes against the live organization it was taken from: positions added,
removed, moved and changed, headcount by tier, role, location and squad, and the span
findings that would appear or disappear. Readers take no locks.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from roles.models import Role
from staffing.models import (
    Location,
    Scenario,
)
from staffing.scenarios.apply import conflicts
from staffing.scenarios.read import (
    BASE,
    FIELDS,
    NOW,
    Labels,
    Shape,
    base_value,
    draft_rows,
    draft_value,
    parent_source,
)
from staffing.spans import engine
from tiers.models import Squad


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
        if parent_source(r, by_id, scenario) != r.base_parent:
            out.moved.append(r)
        if r[NOW] != r[BASE]:  # one comparison for the many rows the draft leaves alone
            out.changed.append(
                Change(r, [n for n in FIELDS if draft_value(r, n) != base_value(r, n)])
            )
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
