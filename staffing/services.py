"""Every change to people, positions and the reporting tree.

Each function is one transaction. Functions that touch positions hold the tree lock and
re-read the positions they change inside it, so a stale instance passed in by a caller can
never overwrite lft/rght written by a concurrent move. ``actor`` is the user on whose
behalf the change is made (``None`` for commands and tasks); the scope rules of
:mod:`staffing.scope` are checked here, so the browser, API, admin and imports share them.
"""

import datetime
from collections.abc import Callable, Iterable
from typing import Any, Literal, Protocol

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from orgdesign.kernel import days
from orgdesign.kernel.audit import audited, bulk_record
from orgdesign.kernel.words import a_or_an
from roles.models import PromotionPath, Role
from roles.selectors import with_report_rules
from staffing import assignments, checks, forest, loops, tree, triage
from staffing.models import (
    Assignment,
    ChartPreference,
    CriterionSignoff,
    DottedLine,
    Location,
    Person,
    Position,
    Promotion,
    TriageWeek,
)
from staffing.scope import require_edit, require_place_under, scope_for
from staffing.selectors import (
    lineage_ids,
    no_such_person,
    no_such_position,
    placeable_people,
    visible_people,
)
from staffing.spans import marks
from staffing.tree import lock, retrying, tree_transaction
from tiers.models import Squad

UPDATABLE_FIELDS = ("title", "role", "squad", "location", "status", "external_id")


def field_error(field: str, message: str, code: str = "invalid") -> ValidationError:
    """A field error that keeps its code (a plain dict of messages would drop it)."""
    return ValidationError({field: ValidationError(message, code=code)})


def _today() -> datetime.date:
    return timezone.localdate()


def _lock_trees(*positions: Position | int | None, structural: bool = False) -> None:
    """Lock what a write to ``positions`` (instances, ids or None) needs, read from the rows
    as stored now: their trees, or the whole forest (``structural``; see staffing.tree),
    waiting for them. Once the rows are re-read and locked, the write takes the trees they
    are in then with ``lock(..., wait=False)`` (:func:`_locked` does both)."""
    found = tree.places(getattr(p, "pk", p) for p in positions)
    lock({place.tree_id for place in found.values()}, structural=structural)


def _locked(position: Position | int | None, *, structural: bool = False) -> Position | None:
    """``position`` as stored now, locked, with its tree: the tree chosen from the row as
    passed (waiting for it), the row re-read under it, and the tree it is in now taken only
    if free (a concurrent move put it elsewhere: TreeConflict, and the write runs again)."""
    _lock_trees(position, structural=structural)
    fresh = _fresh(position)
    if fresh is not None:
        lock([fresh.tree_id], structural=structural, wait=False)
    return fresh


def _fresh_pair(
    position: Position | int, other: Position | int | None
) -> tuple[Position, Position | None]:
    """Two positions as stored now, locked, with their roles, in one query."""
    pks = [getattr(p, "pk", p) for p in (position, other) if p is not None]
    found = {
        p.pk: p
        for p in Position.objects.select_for_update(of=("self",))
        .select_related("role")
        .filter(pk__in=pks)
    }
    for pk in pks:
        if pk not in found:
            raise ValidationError(f"Position {pk} does not exist (it may have been deleted).")
    return found[pks[0]], found[pks[1]] if len(pks) > 1 else None


def _fresh(position: Position | int | None) -> Position | None:
    """The position as stored now, locked for this transaction."""
    if position is None:
        return None
    pk = position.pk if isinstance(position, Position) else position
    try:
        return Position.objects.select_for_update().get(pk=pk)
    except Position.DoesNotExist:
        raise ValidationError(f"Position {pk} does not exist (it may have been deleted).") from None


# --- positions --------------------------------------------------------------------------------


@audited
@retrying
def position_create(
    *,
    actor,
    parent: Position | None,
    title: str,
    role: Role,
    squad: Squad | None = None,
    location: Location | None = None,
    status: str = Position.Status.OPEN,
    external_id: str = "",
    any_report: bool = False,
) -> Position:
    """Add a vacant (open or planned) position under ``parent``; fill it with person_assign.

    A person (``actor``) adds only a role that ``parent``'s role may have as a report
    (:meth:`roles.models.Role.allows_report`). The system (no actor: commands, tasks, test
    builders) records the organization as it is, and ``any_report`` is for a change judged
    as a whole beforehand (a scenario being applied, whose comparison shows its findings):
    the span-of-control findings flag such a report afterwards, as they flag a move."""
    if status == Position.Status.FILLED:
        raise ValidationError({"status": "Create the position first, then assign a person."})
    structural = forest.heads_tree(role, parent)
    with transaction.atomic():
        parent = _locked(parent, structural=structural)
        require_place_under(actor, parent)
        if actor is not None and not any_report and parent is not None:
            manager = with_report_rules(Role.objects.filter(pk=parent.role_id)).get()
            if not manager.allows_report(role):
                refusal = manager.report_refusal(parent.label, role)
                raise field_error("role", refusal, "report_not_allowed")
        position = Position(
            parent=parent,
            title=title,
            role=role,
            squad=squad,
            location=location,
            status=status,
            external_id=external_id,
        )
        position.full_clean()
        forest.insert(position)
        marks.mark(marks.lineage(position))
    return position


def _would_loop(position: Position, new_parent: Position | None) -> bool:
    places = {p.pk: (p.tree_id, p.lft, p.rght, p.trees_under) for p in (position, new_parent) if p}
    return loops.would_loop_in_tree(
        position.pk, getattr(new_parent, "pk", None), places.get, lineage_ids
    )


def _heads_change(position: Position, role: Role) -> bool:
    """Whether giving ``position`` ``role`` makes it a division head or stops it being one."""
    if position.parent_id is None:
        return False
    return bool(role.heads_division) != (position.tree_parent_id is None)


@audited
@retrying
def position_update(*, actor, position: Position, **changes: Any) -> Position:
    """Change a position's title, role, squad, location, status (open/planned) or external id.

    A role or squad change of a filled position closes the holder's assignment and opens a
    new one from today, so tenure in a role stays true.
    """
    unknown = sorted(set(changes) - set(UPDATABLE_FIELDS))
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(unknown)}.")
    with transaction.atomic():
        rerooting = "role" in changes and _heads_change(position, changes["role"])
        _lock_trees(position, structural=rerooting)
        position = _fresh(position)
        rerooting = "role" in changes and _heads_change(position, changes["role"])
        lock([position.tree_id], structural=rerooting, wait=False)
        require_edit(actor, position)
        new_status = changes.get("status", position.status)
        if new_status != position.status and Position.Status.FILLED in (
            new_status,
            position.status,
        ):
            raise ValidationError(
                {"status": "Fill a position by assigning a person; free it by vacating."}
            )
        before = (position.role_id, position.squad_id)
        changes = {
            name: value
            for name, value in changes.items()
            if getattr(position, name if name not in ("role", "squad", "location") else
                       f"{name}_id") != getattr(value, "pk", value)
        }  # fmt: skip
        if not changes:
            return position  # nothing to write, nothing to record
        for name, value in changes.items():
            setattr(position, name, value)
        position.full_clean()
        if rerooting:  # the move's one save writes the fields too: one history row
            position.updated_at = timezone.now()
            forest.move(position, _fresh(position.parent_id))
        else:
            position.save(update_fields=[*changes, "updated_at"])
        holder = position.holder_id
        reshaped = before != (position.role_id, position.squad_id)
        change = assignments.Change(position.pk, holder, holder, reshaped=reshaped)
        for start in assignments.plan([change], today=_today()).starting:
            current = Assignment.objects.select_for_update().get(
                position=position, end_date__isnull=True
            )
            _end_assignment(current, start.day)
            _start_assignment(position.holder, position, start.day, note=start.note)
        marks.mark(marks.lineage(position))
    return position


@audited
@retrying
def position_move(
    *,
    actor,
    position: Position,
    new_parent: Position | None,
    where: Literal["first-child", "last-child"] = "last-child",
) -> Position:
    """Make ``position`` (with its whole team) report to ``new_parent``.

    A person (``actor``) moves nothing under a position whose role has no reports (an
    agent's): no finding would ever flag it. A role the new manager's span rule does not
    list is moved, and the findings flag it."""
    with transaction.atomic():
        # the locks chosen from the rows as passed, then the rows re-read under them (if a
        # concurrent change moved them, lock() takes what is missing or the write retries)
        structural = forest.needs_forest(position, new_parent) if position.pk else True
        _lock_trees(position, new_parent, structural=structural)
        position, new_parent = _fresh_pair(position, new_parent)
        trees = {position.tree_id, getattr(new_parent, "tree_id", position.tree_id)}
        lock(trees, structural=forest.needs_forest(position, new_parent), wait=False)
        require_edit(actor, position)
        require_place_under(actor, new_parent)
        if _would_loop(position, new_parent):
            if new_parent.pk == position.pk:
                raise field_error("parent", f"{position.label} cannot report to itself.", "cycle")
            raise field_error(
                "parent",
                f"{new_parent.label} is in {position.label}'s own team; "
                "moving there would make a reporting loop.",
                "cycle",
            )
        if actor is not None and new_parent is not None and not new_parent.role.may_have_reports:
            refusal = new_parent.role.report_refusal(new_parent.label)
            raise field_error("parent", refusal, "report_not_allowed")
        if position.parent_id == (new_parent.pk if new_parent else None):
            return position
        before = marks.lineage(position)
        position.updated_at = timezone.now()  # written by the move's one save
        forest.move(position, new_parent, where)
        marks.mark([*before, *marks.lineage(position)])
    return position


def _shapes_forest(position: Position) -> bool:
    """Whether deleting ``position`` changes the forest's shape: a tree's root, or a
    position with divisions below it."""
    return position.tree_parent_id is None or position.trees_under > 0


@audited
@retrying
def position_delete(
    *, actor, position: Position, reports: Literal["refuse", "move_up"] = "refuse"
) -> None:
    """Delete a position. Its direct reports are either moved up to its manager or, by
    default, the deletion is refused while it has any. A holder is vacated first."""
    if reports not in ("refuse", "move_up"):
        raise ValidationError({"reports": "Choose 'refuse' or 'move_up' for the direct reports."})
    with transaction.atomic():
        _lock_trees(position, structural=_shapes_forest(position))
        position = _fresh(position)  # and again as read under the locks
        lock([position.tree_id], structural=_shapes_forest(position), wait=False)
        require_edit(actor, position)
        children = list(
            Position.objects.filter(parent=position)
            .select_related("holder", "role")
            .order_by("tree_id", "lft")
        )
        if children and reports == "refuse":
            names = ", ".join(child.label for child in children[:5])
            more = f" and {len(children) - 5} more" if len(children) > 5 else ""
            raise field_error(
                "reports",
                f"{position.label} has {len(children)} direct report(s) "
                f"({names}{more}). Move them first, or choose to move them up.",
                "has_reports",
            )
        if children and position.parent_id is None:
            raise field_error(
                "reports",
                f"{position.label} is at the top; its reports have nowhere to go.",
                "has_reports",
            )
        for child in children:
            forest.move(_fresh(child), _fresh(position.parent_id))
        position = _fresh(position)
        if position.holder_id:
            _vacate(position, _today(), note="Position deleted")
        above = marks.lineage(_fresh(position.parent_id))
        marks.forget(position)
        checks.position_deleted(position)
        # the assignments keep their title but lose the position (SET_NULL, which Django
        # does in SQL): written here instead, so that the history records it too
        held = list(Assignment.objects.filter(position=position))
        for assignment in held:
            assignment.position = None
        Assignment.objects.bulk_update(held, ["position"])
        bulk_record(Assignment, held, kind="~")
        forest.remove(position)
        marks.mark(above)


@retrying
def position_save(
    *, actor, position: Position | None, values: dict, changed: Iterable[str] = ()
) -> Position:
    """A position created, or changed, from a whole form (the admin's): its move, its holder
    and its fields in one transaction under the tree lock, through the services above, so a
    refusal of any part leaves nothing written. ``values`` are the form's cleaned values;
    ``changed`` names the fields the form changed. Returns the position."""
    changed = set(changed)
    holder = values.get("holder")
    parent = values.get("parent")
    if position is None:
        structural = forest.heads_tree(values["role"], parent)
    else:
        structural = ("parent" in changed and forest.needs_forest(position, parent)) or (
            "role" in changed and _heads_change(position, values["role"])
        )
    with transaction.atomic():
        held = Position.objects.filter(holder=holder).values_list("pk", flat=True).first()
        _lock_trees(position, parent, held, structural=structural)
        if position is None:
            position = position_create(
                actor=actor,
                parent=values.get("parent"),
                title=values["title"],
                role=values["role"],
                squad=values.get("squad"),
                location=values.get("location"),
                status=values.get("status") or Position.Status.OPEN,
                external_id=values.get("external_id", ""),
            )
            if holder is not None:
                person_assign(actor=actor, person=holder, position=position)
            return position
        if "parent" in changed:
            position_move(actor=actor, position=position, new_parent=values.get("parent"))
        if "holder" in changed:
            if Position.objects.filter(pk=position.pk, holder__isnull=False).exists():
                position_vacate(actor=actor, position=position)
            if holder is not None:
                person_assign(actor=actor, person=holder, position=position)
        fields = [f for f in ("title", "role", "squad", "location", "external_id") if f in changed]
        if holder is None and "status" in changed:
            fields.append("status")
        if fields:
            position_update(
                actor=actor, position=position, **{name: values[name] for name in fields}
            )
        return position


# --- people in positions -------------------------------------------------------------------------


@audited
def person_create(
    *,
    actor,
    employee_id: str,
    given_name: str,
    family_name: str,
    email: str = "",
    location: Location | None = None,
    hire_date: datetime.date | None = None,
    user=None,
    is_active: bool = True,
) -> Person:
    with transaction.atomic():
        lock()  # the forest shared: behind an import, which writes people too
        person = Person(
            is_active=is_active,
            employee_id=employee_id,
            given_name=given_name,
            family_name=family_name,
            email=email,
            location=location,
            hire_date=hire_date,
            user=user,
        )
        person.full_clean()
        person.save()
    return person


@audited
def person_update(*, actor, person: Person, **changes: Any) -> Person:
    allowed = {"given_name", "family_name", "email", "location", "hire_date", "user", "is_active"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(unknown)}.")
    with transaction.atomic():
        lock()  # the forest shared: behind an import, which writes people too
        person = Person.objects.select_for_update().get(pk=person.pk)
        held = Position.objects.filter(holder=person).first()
        if held is not None:
            require_edit(actor, held)
        if changes.get("is_active") is False and held is not None:
            raise ValidationError(
                {"is_active": f"{person} holds {held.title}; vacate it before deactivating."}
            )
        for name, value in changes.items():
            setattr(person, name, value)
        person.full_clean()
        person.save()
    return person


@audited
@retrying
def person_assign(
    *,
    actor,
    person: Person,
    position: Position,
    start_date: datetime.date | None = None,
    note: str = "",
) -> Assignment:
    """Put ``person`` into the vacant ``position``, ending whatever they held before."""
    start_date = start_date or _today()
    with transaction.atomic():
        previous = Position.objects.filter(holder=person).values_list("pk", flat=True).first()
        _lock_trees(position, previous)
        if not placeable_people(scope_for(actor)).filter(pk=person.pk).exists():
            raise ValidationError({"person": no_such_person(person.pk)})
        position = _fresh(position)
        lock([position.tree_id], wait=False)
        person = Person.objects.select_for_update().get(pk=person.pk)
        require_edit(actor, position)
        if not person.is_active:
            raise ValidationError({"person": f"{person} is inactive."})
        if position.holder_id == person.pk:
            raise ValidationError({"person": f"{person} already holds {position.title}."})
        if position.holder_id:
            raise field_error(
                "position",
                f"{position.label} is already filled; vacate it first.",
                "filled",
            )
        latest = person.assignments.order_by("-start_date").first()
        latest_start = latest.start_date if latest is not None else None
        if assignments.start_problems(start_date, latest_start=latest_start):
            raise ValidationError(
                {
                    "start_date": f"{person}'s latest assignment starts on "
                    f"{latest.start_date.isoformat()}; the new one cannot start earlier."
                }
            )
        previous = Position.objects.filter(holder=person).first()
        if previous is not None:
            lock([previous.tree_id], wait=False)
        changes = [assignments.Change(position.pk, None, person.pk, day=start_date, note=note)]
        if previous is not None:
            changes.append(assignments.Change(previous.pk, person.pk, None, day=start_date))
        moves = assignments.plan(changes, today=_today())
        if previous is not None:
            previous = _fresh(previous)
            require_edit(actor, previous)
            _vacate(previous, moves.ending[person.pk], note="Moved to another position")
            marks.mark(marks.lineage(previous))
        elif latest is not None and latest.end_date is None:
            _end_assignment(latest, moves.ending[person.pk])
        position.holder = person
        position.status = Position.Status.FILLED
        position.full_clean()
        position.save(update_fields=["holder", "status", "updated_at"])
        marks.mark(marks.lineage(position))
        (start,) = moves.starting
        return _start_assignment(person, position, start.day, note=start.note)


@audited
@retrying
def position_vacate(
    *, actor, position: Position, end_date: datetime.date | None = None, note: str = ""
) -> Position:
    """End the holder's time in ``position``; the position becomes an open vacancy."""
    with transaction.atomic():
        position = _locked(position)
        require_edit(actor, position)
        if not position.holder_id:
            raise field_error("position", f"{position.label} is already vacant.", "vacant")
        leaving = assignments.Change(position.pk, position.holder_id, None, day=end_date)
        moves = assignments.plan([leaving], today=_today())
        _vacate(position, moves.ending[position.holder_id], note=note)
        marks.mark(marks.lineage(position))
    return position


def _vacate(position: Position, end_date: datetime.date, *, note: str = "") -> None:
    current = (
        Assignment.objects.select_for_update()
        .filter(position=position, end_date__isnull=True)
        .first()
    )
    if current is not None:
        if assignments.ends_before_start(end_date, current.start_date):
            raise ValidationError(
                {"end_date": f"The assignment started on {current.start_date.isoformat()}."}
            )
        _end_assignment(current, end_date, note=note)
    position.holder = None
    position.status = Position.Status.OPEN
    position.save(update_fields=["holder", "status", "updated_at"])


def _end_assignment(assignment: Assignment, end_date: datetime.date, *, note: str = "") -> None:
    assignments.close(assignment, end_date, note=note)
    assignment.full_clean()
    assignment.save(update_fields=["end_date", "note"])


def _start_assignment(
    person: Person, position: Position, start: datetime.date, *, note: str = ""
) -> Assignment:
    assignment = Assignment(
        person=person,
        position=position,
        position_title=position.title,
        role=position.role,
        squad=position.squad,
        start_date=start,
        note=note,
    )
    assignment.full_clean()
    assignment.save()
    return assignment


# --- dotted lines ---------------------------------------------------------------------------


@audited
def dotted_line_add(
    *, actor, position: Position, manager: Position, purpose: str = ""
) -> DottedLine:
    with transaction.atomic():
        position = _locked(position)  # a dotted line changes nothing of the tree
        require_edit(actor, position)
        manager = _seen_manager(actor, manager)
        line = DottedLine(position=position, manager=manager, purpose=purpose)
        line.full_clean()
        line.save()
    return line


DOTTED_LINE_FIELDS = ("manager", "purpose")


def _seen_manager(actor, manager: Position | int) -> Position:
    """The dotted-line manager as stored now, locked. A dotted line may lead across parts of
    the organization, but only to a position the actor can see: any other is answered in
    the same words as one that does not exist."""
    pk = getattr(manager, "pk", manager)
    found = Position.objects.select_for_update().filter(pk=pk).first()
    if found is None or not scope_for(actor).can_see(found):
        raise ValidationError({"manager": no_such_position(pk)})
    return found


def _line_position(line: DottedLine | int) -> int | None:
    pk = line.pk if isinstance(line, DottedLine) else line
    return DottedLine.objects.filter(pk=pk).values_list("position_id", flat=True).first()


def _fresh_line(line: DottedLine | int) -> DottedLine:
    """The dotted line as stored now, locked for this transaction."""
    pk = line.pk if isinstance(line, DottedLine) else line
    found = DottedLine.objects.select_for_update().filter(pk=pk).first()
    if found is None:
        raise ValidationError(f"Dotted line {pk} does not exist (it may have been removed).")
    return found


@audited
def dotted_line_update(*, actor, line: DottedLine | int, **changes: Any) -> DottedLine:
    """Change where a dotted line leads (``manager``) or what it is for (``purpose``). Only
    someone who may edit the line's position; its position never changes."""
    unknown = sorted(set(changes) - set(DOTTED_LINE_FIELDS))
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(unknown)}.")
    with transaction.atomic():
        position = _locked(_line_position(line))  # a line's position never changes
        line = _fresh_line(line)
        require_edit(actor, position)
        if "manager" in changes:
            changes["manager"] = _seen_manager(actor, changes["manager"])
        changes = {
            name: value
            for name, value in changes.items()
            if getattr(line, "manager_id" if name == "manager" else name)
            != getattr(value, "pk", value)
        }
        if not changes:
            return line  # nothing to write, nothing to record
        for name, value in changes.items():
            setattr(line, name, value)
        line.full_clean()
        line.save(update_fields=list(changes))
    return line


@audited
def dotted_line_delete(*, actor, line: DottedLine | int) -> None:
    with transaction.atomic():
        position = _locked(_line_position(line))  # a line's position never changes
        line = _fresh_line(line)
        require_edit(actor, position)
        line.delete()


# --- promotions and sign-offs ----------------------------------------------------------


def _actor_name(actor) -> str:
    if actor is None:
        return "the system"
    return actor.get_full_name() or actor.get_username()


@audited
def criterion_signoff(
    *, actor, person: Person, path: PromotionPath, criterion: str, signed: bool, note: str = ""
) -> CriterionSignoff | None:
    """Sign off (or withdraw the sign-off of) one further criterion of a promotion path for
    ``person``. Only someone who may edit the person's position (a manager above them)."""
    with transaction.atomic():
        position = Position.objects.filter(holder=person).first()
        if position is None:
            raise ValidationError({"person": f"{person} holds no position."})
        require_edit(actor, position)
        if criterion not in path.criteria_items:
            raise ValidationError(
                {"criterion": f"“{criterion}” is not a criterion of {path} (it may have changed)."}
            )
        if not signed:
            CriterionSignoff.objects.filter(person=person, path=path, criterion=criterion).delete()
            return None
        signoff, _ = CriterionSignoff.objects.update_or_create(
            person=person,
            path=path,
            criterion=criterion,
            defaults={
                "signed_by": actor,
                "signed_by_name": _actor_name(actor),
                "signed_at": timezone.now(),
                "note": note,
            },
        )
    return signoff


OVERRIDE_MIN_LENGTH = 15  # a promotion that is not ready goes ahead with a sentence why


class PromotionReadiness(Protocol):
    """A judgement of one promotion's prerequisites, made by the app that judges them
    (``metrics.readiness.PathReadiness``): staffing reads it and never makes it."""

    @property
    def ready(self) -> bool: ...

    @property
    def summary(self) -> str: ...

    def record(self) -> list[dict]: ...


# (person, to_role, effective) -> the judgement, or None when no promotion path leads there
PromotionJudge = Callable[[Person, Role, datetime.date], PromotionReadiness | None]


@audited
def promotion_apply(
    *,
    actor,
    person: Person,
    to_role: Role,
    readiness: PromotionJudge,
    position: Position | None = None,
    effective: datetime.date | None = None,
    override_reason: str = "",
) -> Promotion:
    """Promote ``person`` to ``to_role``: end the current assignment and start one in
    ``to_role`` from ``effective``, either in the person's own position (its role changes;
    a title that was the old role's name takes the new one) or in ``position``, an open
    position of ``to_role``. Records who did it and the prerequisites as judged.

    Staffing does not judge readiness: the caller passes ``readiness``, a function that
    judges the person for ``to_role`` on ``effective`` (``metrics.services.person_promote``
    passes ``metrics.readiness.promotion_readiness``); it is called inside this
    transaction. No path (None) is refused; a promotion that is not ready is refused
    unless ``override_reason`` says why in a sentence (OVERRIDE_MIN_LENGTH characters)."""
    effective = effective or _today()
    with tree_transaction():
        current = Position.objects.select_for_update().filter(holder=person).first()
        if current is None:
            raise ValidationError({"person": f"{person} holds no position to be promoted from."})
        require_edit(actor, current)
        from_role = current.role
        judged = readiness(person, to_role, effective)
        if judged is None:
            raise ValidationError(
                {"to_role": f"No promotion path leads from {from_role} to {to_role}."}
            )
        reason = override_reason.strip()
        if judged.ready:
            reason = ""  # nothing to override
        elif len(reason) < OVERRIDE_MIN_LENGTH:
            raise ValidationError(
                {
                    "override_reason": f"{person} is not ready for {to_role} ({judged.summary}"
                    "). To promote anyway, write why in a sentence or more."
                }
            )
        prerequisites = judged.record()
        started = (
            Assignment.objects.filter(person=person, end_date__isnull=True)
            .values_list("start_date", flat=True)
            .first()
        )
        if assignments.ends_before_start(effective, started):
            raise ValidationError(
                {"effective": f"{person} started in the current role on {started.isoformat()}."}
            )
        if position is None:
            target = current
            rerooting = _heads_change(current, to_role)
            if current.title == from_role.name:
                current.title = to_role.name
            current.role = to_role
            current.full_clean()
            if rerooting:  # a director made: the team becomes a division of its own (the
                current.updated_at = timezone.now()  # move's one save writes the role too)
                forest.move(current, _fresh(current.parent_id))
            else:
                current.save(update_fields=["role", "title", "updated_at"])
            assignment = Assignment.objects.select_for_update().filter(
                position=current, end_date__isnull=True
            )
            for old in assignment:
                _end_assignment(old, effective, note="Promoted")
            _start_assignment(person, current, effective, note=f"Promoted from {from_role}")
            marks.mark(marks.lineage(current))
        else:
            target = _fresh(position)
            if target.role_id != to_role.pk:
                raise ValidationError(
                    {
                        "position": f"{target.label} is {a_or_an(target.role)} position, "
                        f"not {to_role}."
                    }
                )
            person_assign(
                actor=actor,
                person=person,
                position=target,
                start_date=effective,
                note=f"Promoted from {from_role}",
            )
        promotion = Promotion.objects.create(
            person=person,
            from_role=from_role,
            to_role=to_role,
            from_position=current,
            to_position=target,
            effective=effective,
            promoted_by=actor,
            promoted_by_name=_actor_name(actor),
            override_reason=reason,
            prerequisites=prerequisites,
        )
    return promotion


# --- locations and the triage rota ------------------------------------------------------------


def location_save(*, actor, location: Location) -> Location:
    """Save a location (new or changed) by someone who changes the whole organization, and
    judge its triage again: its open hours decide whether a week without triage is a gap."""
    if not scope_for(actor).edits_all:
        raise PermissionDenied("Locations are changed by those who change the whole organization.")
    with transaction.atomic():
        location.full_clean()
        location.save()
        checks.triage_check(locations=[location.pk])
    return location


def _rota_week(raw) -> datetime.date:
    if isinstance(raw, datetime.datetime) or not isinstance(raw, datetime.date):
        try:
            raw = days.read_day(raw)
        except days.BadDay as problem:
            raise field_error("week", str(problem)) from None
    if raw.isoweekday() != 1:
        raise field_error(
            "week", f"{raw.isoformat()} is a {raw:%A}; a rota week starts on a Monday."
        )
    return raw


def _person_ids(people: Iterable) -> list[int]:
    ids = []
    for person in people:
        pk = getattr(person, "pk", person)
        if isinstance(pk, bool) or not isinstance(pk, int):
            raise field_error("people", f"{str(pk)[:40]!r} is not a person's id.")
        ids.append(pk)
    return sorted(set(ids))


def triage_week_set(
    *, actor, location: Location | int, week: datetime.date | str, people: Iterable
) -> TriageWeek:
    """Put exactly ``people`` (persons or ids) on triage at ``location`` for the week starting
    on ``week`` (a Monday), among the people ``actor`` sees; those on the rota whom the actor
    does not see stay on it. Each person must hold a position at the location whose role
    may triage (staffing.triage). Then the location's triage findings are judged again, in
    the same transaction."""
    scope = scope_for(actor)
    location_id = getattr(location, "pk", location)
    week = _rota_week(week)
    ids = _person_ids(people)
    with transaction.atomic():
        place = (
            triage.visible_locations(scope).filter(pk=location_id).first()
            if isinstance(location_id, int) and not isinstance(location_id, bool)
            else None
        )
        if place is None:
            raise field_error("location", f"No location with id {str(location_id)[:40]!r}.")
        if not triage.editable_locations(scope).filter(pk=place.pk).exists():
            raise PermissionDenied(f"You do not change the triage rota of {place}.")
        seen = set(visible_people(scope, actor).filter(pk__in=ids).values_list("pk", flat=True))
        unknown = [pk for pk in ids if pk not in seen]
        if unknown:
            raise field_error("people", no_such_person(unknown[0]), "does_not_exist")
        allowed = set(
            triage.may_triage(place).filter(holder_id__in=ids).values_list("holder_id", flat=True)
        )
        refused = Person.objects.filter(pk__in=[pk for pk in ids if pk not in allowed])
        if refused:
            names = ", ".join(p.full_name for p in refused[:3])
            raise field_error(
                "people",
                f"Not an experienced Tier 1 advocate at {place}: {names}. Triage is taken in "
                "turns by advocates from Customer Advocate up who work there.",
                "not_eligible",
            )
        rota, _ = TriageWeek.objects.select_for_update().get_or_create(location=place, week=week)
        kept = rota.people.exclude(pk__in=visible_people(scope, actor).values("pk"))
        rota.people.set([*kept.values_list("pk", flat=True), *ids])
        rota.updated_by = actor if getattr(actor, "pk", None) else None
        rota.save(update_fields=["updated_by", "updated_at"])
        checks.triage_check(locations=[place.pk])
    return rota


# --- preferences ------------------------------------------------------------------------------


def chart_view_remember(*, user, view: str) -> str:
    """Keeps how ``user`` likes the org chart drawn ("chart" or "list")."""
    if view not in ChartPreference.View.values:
        raise field_error("view", "Choose the chart or the list.")
    with transaction.atomic():
        ChartPreference.objects.update_or_create(user=user, defaults={"view": view})
    return view
