"""The import service: one file checked, and applied whole in one transaction under the tree
lock, or not at all.

Writes
======

New positions are inserted level by level with their final tree fields, computed in Python
with the rest of the tree (:func:`staffing.tree.compute_layout`); positions that change or
move are written with ``bulk_update``, and only the tree fields that change are rewritten.
Holders open and close ``Assignment`` rows as the services do. Each position and assignment
written gets a historical row (reason ``org_import``, the importing user), and the affected
positions and their managers are marked for a span-of-control recompute after commit.
"""

from django.db import transaction
from django.utils import timezone

from orgdesign.kernel.audit import acting, bulk_record
from staffing import assignments
from staffing.interchange.checks import (
    ImportResult,
    Progress,
    locations_file,
    no_progress,
    people_file,
    require_importer,
    write_people,
)
from staffing.interchange.columns import BATCH, REASON
from staffing.interchange.csvfile import ImportRefused, read_table
from staffing.interchange.plan import Checked, check_positions, db_key
from staffing.models import Assignment, Position
from staffing.spans import marks
from staffing.tree import (
    PLACE_FIELDS_WRITTEN,
    Place,
    compute_layout,
    division_role_ids,
    tree_transaction,
)


def _place(position: Position, place: Place, resolve) -> Position:
    """``position`` given its place in the forest (``resolve`` turns a new position's
    stand-in id into its id)."""
    position.tree_id, position.lft, position.rght, position.level = place[:4]
    position.tree_parent_id = resolve(place.tree_parent)
    position.trees_under = place.trees_under
    return position


def _write_positions(checked: Checked, *, today, progress: Progress) -> None:
    """Apply the checked rows (inside the caller's transaction, under the tree lock)."""
    planned, stored, parents = checked.planned, checked.stored, checked.parents
    emptied, current = checked.emptied, checked.current
    now = timezone.now()
    # people first: new holders need their ids
    write_people([plan.person for plan in planned if plan.person is not None])
    progress("Writing positions", 60)

    # the layout of the whole tree with the new parents; new positions after their siblings
    new_plans = [plan for plan in planned if plan.stored is None]
    rows = [(s.id, parents[s.id], (0, s.tree_id, s.lft)) for s in stored.values()]
    rows += [(plan.node, plan.parent, (1, plan.row, 0)) for plan in new_plans]
    # division heads root trees of their own (staffing.tree); a head that stays one keeps
    # its tree's number, a new tree is numbered after every tree there is
    divisions = division_role_ids()
    role_of = {s.id: s.role_id for s in stored.values()}
    role_of.update(
        {plan.node: plan.values.get("role_id", role_of.get(plan.node)) for plan in planned}
    )
    heads = {node for node, role in role_of.items() if role in divisions}
    roots = {s.id: s.tree_id for s in stored.values() if s.tree_parent_id is None}
    layout = compute_layout(rows, roots, heads).fields

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

    # assignments (the rules of staffing.assignments): a holder newly placed starts one
    # (ending the one they had); a holder who stays while the role or squad changes starts
    # another from today; a holder who leaves without a new position ends theirs on the day
    # the new holder starts (today when none)
    changes = []
    for plan in planned:
        s, holder = plan.stored, holder_of.get(plan.node)
        before = s.holder_id if s else None
        reshaped = s is not None and (
            plan.values.get("role_id", s.role_id),
            plan.values.get("squad_id", s.squad_id),
        ) != (s.role_id, s.squad_id)
        day = plan.start if holder is not None else None
        changes.append(assignments.Change(plan.node, before, holder, reshaped, day, "Imported"))
    changes += [assignments.Change(s.id, s.holder_id, None) for s in emptied]
    moves = assignments.plan(changes, today=today)
    ended = []
    for person_id, end in moves.ending.items():
        assignment = current.get(person_id)
        if assignment is not None:
            ended.append(assignments.close(assignment, end, note="Ended by an import"))
    Assignment.objects.bulk_update(ended, ["end_date", "note"], batch_size=BATCH)
    bulk_record(Assignment, ended, kind="~")

    # new positions, level by level so that a manager exists before its reports
    created: dict[int, Position] = {}  # node → position

    def resolve(node: int | None) -> int | None:
        return created[node].pk if node is not None and node < 0 else node

    new_plans.sort(key=lambda plan: layout[plan.node].level)
    for plan in new_plans:
        tree_id, lft, rght, level, _tree_parent, trees_under = layout[plan.node]
        created[plan.node] = Position(
            title=plan.values["title"],
            role_id=plan.values["role_id"],
            squad_id=plan.values.get("squad_id"),
            location_id=plan.values.get("location_id"),
            status=plan.values["status"],
            holder_id=holder_of.get(plan.node),
            external_id="" if db_key(plan.key) is not None else plan.key,
            tree_id=tree_id,
            lft=lft,
            rght=rght,
            level=level,
            trees_under=trees_under,
        )
    for level in sorted({layout[plan.node].level for plan in new_plans}):
        batch = [plan for plan in new_plans if layout[plan.node].level == level]
        for plan in batch:
            created[plan.node].parent_id = resolve(plan.parent)
            created[plan.node].tree_parent_id = resolve(layout[plan.node].tree_parent)
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
            _place(position, layout[position.pk], resolve)
            position.updated_at = now
            changed.append(position)
    fields = ["title", "role", "squad", "location", "status", "holder", "parent", "updated_at"]
    tree_fields = PLACE_FIELDS_WRITTEN
    Position.objects.bulk_update(changed, [*fields, *tree_fields], batch_size=1000)
    # every other position whose place in the nested sets shifts
    written = {position.pk for position in changed}
    shifted = []
    for s in stored.values():
        place = layout[s.id]
        if s.id not in written and tuple(place) != s.place:
            shifted.append(_place(Position(pk=s.id), place, resolve))
    Position.objects.bulk_update(shifted, tree_fields, batch_size=BATCH)
    bulk_record(Position, created.values(), kind="+")
    bulk_record(Position, changed, kind="~")
    progress("Recording assignments", 85)

    started = []
    for start in moves.starting:
        plan = plans[start.position]
        position = created.get(plan.node)
        values = plan.values
        s = plan.stored
        started.append(
            Assignment(
                person_id=start.person,
                position_id=position.pk if position else plan.node,
                position_title=values["title"],
                role_id=values.get("role_id", s.role_id if s else None),
                squad_id=values.get("squad_id", s.squad_id if s else None),
                start_date=start.day,
                note=start.note,
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
    progress = progress or no_progress
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
            checked = check_positions(table, result, progress=progress, today=today)
            if checked is not None and not dry_run:
                progress("Writing", 55)
                _write_positions(checked, today=today, progress=progress)
        elif table.kind == "people":
            people_file(table, result, apply=not dry_run, progress=progress)
        else:
            locations_file(table, result, apply=not dry_run, progress=progress)
        result.keep_problems(result.problems)
        result.applied = not dry_run and not result.problems
    return result
