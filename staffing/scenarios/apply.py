"""Applying a draft: its changes replayed through the tree services in one transaction under
the tree lock, after checking that nobody changed the same places in the live tree since
the draft was taken; if they did, nothing is applied and the conflicts are listed.
"""

from collections import Counter

from django.core.exceptions import ValidationError
from django.utils import timezone

from orgdesign.kernel.audit import audited
from staffing import services
from staffing.models import (
    Person,
    Position,
    Scenario,
    ScenarioPosition,
)
from staffing.scenarios.drafts import require_author
from staffing.scenarios.read import (
    BASE,
    FIELDS,
    NOW,
    Labels,
    base_value,
    draft_rows,
    draft_value,
    parent_source,
)
from staffing.tree import tree_transaction


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
        if r.removed or r[NOW] != r[BASE] or parent_source(r, by_id, scenario) != r.base_parent:
            touched_rows.append(r)
    moved_under = {  # copied managers the draft moves someone under: {their source: row}
        by_id[r.parent_id].source_id: r
        for r in touched_rows
        if r.source_id and r.parent_id and by_id[r.parent_id].source_id and not r.removed
        and parent_source(r, by_id, scenario) != r.base_parent
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
        mine = {
            "parent": parent_source(r, by_id, scenario),
            **{n: draft_value(r, n) for n in FIELDS},
        }
        base = {"parent": r.base_parent, **{n: base_value(r, n) for n in FIELDS}}
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
        require_author(actor, scenario)
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
        if parent_source(r, by_id, scenario) == r.base_parent:
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
        differ = [
            n
            for n in ("title", "role", "squad", "location")
            if draft_value(r, n) != base_value(r, n)
        ]
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
