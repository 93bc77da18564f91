"""Making and editing drafts: a scenario copies the live tree (or a part of it, or another
scenario) into :class:`ScenarioPosition` rows that keep the live values of the moment
(``base_*``); draft edits change only those rows. Every function that changes something is
one transaction.
"""

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction

from roles.models import Role
from roles.selectors import with_report_rules
from staffing import loops
from staffing.models import (
    Person,
    Position,
    Scenario,
    ScenarioPosition,
)
from staffing.scenarios.read import EDITABLE, draft_parents, may_change, placeable_in_draft
from staffing.scope import scope_for
from staffing.selectors import no_such_person
from staffing.services import field_error


def require_author(actor, scenario: Scenario) -> None:
    if scenario.status != Scenario.Status.DRAFT:
        raise field_error("scenario", f"“{scenario}” is {scenario.get_status_display().lower()}; "
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
        raise field_error("name", "Give the scenario a name.")
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
            trees = [tree_id for tree_id, _ in root.trees_below()]  # divisions below
            where = "(p.tree_id = %s AND p.lft >= %s AND p.lft < %s) OR p.tree_id = ANY(%s)"
            params = [root.tree_id, root.lft, root.rght, trees]
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
        raise field_error("position", f"No position {pk} in this draft.")
    if changing and found.source_id is not None and not may_change(scope_for(actor), found):
        raise PermissionDenied(f"{found.label} is your own position; it is changed from above.")
    return found


def _require_placeable(actor, scenario: Scenario, person: Person) -> None:
    """A person goes into a draft position if the actor could place them live: they hold no
    position, or one the actor may change (in the draft: a row the actor may change)."""
    scope = scope_for(actor)
    if not placeable_in_draft(scope, scenario).filter(pk=person.pk).exists():
        raise field_error("holder", no_such_person(person.pk))
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


def draft_add(
    *, actor, scenario: Scenario, parent, title: str, role: Role, squad=None, location=None,
    status: str = Position.Status.OPEN,
) -> ScenarioPosition:  # fmt: skip
    """Add an open (or planned) position to the draft under ``parent`` (a draft position)."""
    with transaction.atomic():
        require_author(actor, scenario)
        parent = _draft_row(scenario, parent) if parent is not None else None
        if parent is None:
            _require_top(actor)
        else:
            manager = with_report_rules(Role.objects.filter(pk=parent.role_id)).get()
            if not manager.allows_report(role):
                raise field_error(
                    "role", manager.report_refusal(parent.label, role), "report_not_allowed"
                )
        if status not in (Position.Status.OPEN, Position.Status.PLANNED):
            raise field_error("status", "A new position is open or planned; fill it afterwards.")
        if not title.strip():
            raise field_error("title", "Give the position a title.")
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
        raise field_error("position", f"These cannot be changed: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        require_author(actor, scenario)
        row = _draft_row(scenario, position, actor=actor, changing=True)
        if "holder" in changes:
            person = changes.pop("holder")
            if person is not None:
                if not person.is_active:
                    raise field_error("holder", f"{person} is not active.")
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
                raise field_error("status", "Leave the position vacant first.")
            if not row.holder_id and wanted not in (Position.Status.OPEN, "planned"):
                raise field_error("status", "A vacancy is open or planned.")
            row.status = wanted
        for name, value in changes.items():
            if name == "title" and not str(value).strip():
                raise field_error("title", "Give the position a title.")
            setattr(row, name, value)
        row.save()
        scenario.save(update_fields=["updated_at"])
    return row


def draft_move(*, actor, scenario: Scenario, position, new_parent) -> ScenarioPosition:
    """Make a draft position (with its team) report to ``new_parent`` (None: the top)."""
    with transaction.atomic():
        require_author(actor, scenario)
        row = _draft_row(scenario, position, actor=actor, changing=True)
        target = _draft_row(scenario, new_parent) if new_parent is not None else None
        if target is None:
            _require_top(actor)
        if target is not None and loops.would_loop(row.pk, target.pk, draft_parents(scenario)):
            raise field_error(
                "parent",
                f"{target.label} is in {row.label}'s own team; moving there would make "
                "a reporting loop.",
                "cycle",
            )
        if target is not None and not target.role.may_have_reports:  # as position_move
            refusal = target.role.report_refusal(target.label)
            raise field_error("parent", refusal, "report_not_allowed")
        row.parent = target
        row.save(update_fields=["parent"])
        scenario.save(update_fields=["updated_at"])
    return row


KEEP = object()  # draft_change: the manager stays as it is


def draft_change(
    *, actor, scenario: Scenario, position, new_parent=KEEP, **changes
) -> ScenarioPosition:
    """One edit of a draft position that changes its fields (as :func:`draft_update`) and
    its manager (as :func:`draft_move`; ``new_parent`` None: the top) together, in one
    transaction: a refusal of either leaves the draft as it was."""
    with transaction.atomic():
        row = position
        if changes:
            row = draft_update(actor=actor, scenario=scenario, position=row, **changes)
        if new_parent is not KEEP:
            row = draft_move(actor=actor, scenario=scenario, position=row, new_parent=new_parent)
    return row


def draft_remove(*, actor, scenario: Scenario, position, reports: str = "refuse") -> None:
    """Remove a position from the draft; its direct reports move up to its manager
    (``reports="move_up"``) or, by default, the removal is refused while it has any."""
    with transaction.atomic():
        require_author(actor, scenario)
        row = _draft_row(scenario, position, actor=actor, changing=True)
        children = ScenarioPosition.objects.filter(scenario=scenario, parent=row, removed=False)
        if children.exists():
            if reports != "move_up":
                raise field_error("reports", f"{row.label} has direct reports; move them first, or "
                              "choose to move them up.", "has_reports")  # fmt: skip
            if row.parent_id is None:
                raise field_error("reports", f"{row.label} is at the top; its reports have "
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
        require_author(actor, scenario)
        row = _locked(scenario, pk, removed=True)
        if row is None:
            raise field_error("position", f"No removed position {pk} in this draft.")
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
        raise field_error("status", "Discard or archive.")
    with transaction.atomic():
        scenario = Scenario.objects.select_for_update().get(pk=scenario.pk)
        scope = scope_for(actor)
        if not (actor is None or scope.edits_all or scenario.created_by_id == actor.pk):
            raise PermissionDenied(f"“{scenario}” is someone else's scenario.")
        if status == Scenario.Status.DISCARDED and scenario.status != Scenario.Status.DRAFT:
            raise field_error("status", "Only a draft can be discarded.", "conflict")
        scenario.status = status
        scenario.save(update_fields=["status", "updated_at"])
    return scenario
