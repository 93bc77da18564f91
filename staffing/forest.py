"""Writes to the forest: what django-mptt does inside its trees, plus the forest's own fields.

django-mptt moves nodes within and between its trees. Around it, this module keeps what the
forest adds (see :mod:`staffing.tree`): a division head roots a tree of its own, ``level``
is the depth in the organization, ``parent`` is the reporting line, and ``trees_under``
counts the division heads below each position. The callers (the services) hold the locks:
:func:`needs_forest` says when a write changes the forest's shape and needs all of it.
"""

from collections import Counter, defaultdict

from django.db.models import F, Max, Q

from staffing.models import Position
from staffing.selectors import lineage_ids


def heads_tree(role, parent) -> bool:
    """Whether a position of ``role`` under ``parent`` roots a tree of its own."""
    return parent is None or bool(role.heads_division)


def needs_forest(position: Position, new_parent: Position | None, role=None) -> bool:
    """Whether placing ``position`` under ``new_parent`` (with ``role``, by default its own)
    changes the forest's shape: a division head created, moved or made, or a team with
    division heads below it moved (their trees' depths and the counts above them change)."""
    role = role if role is not None else position.role
    is_head = position.pk is not None and position.tree_parent_id is None
    return is_head or position.trees_under > 0 or heads_tree(role, new_parent)


def insert(position: Position) -> None:
    """Save the new ``position`` (its ``parent`` set, fresh and locked) into the forest."""
    parent = position.parent
    if heads_tree(position.role, parent):
        position.tree_parent = None
        position.save()  # django-mptt: a new tree, the head at level 0
        depth = parent.level + 1 if parent else 0
        if depth:
            Position.objects.filter(pk=position.pk).update(level=depth)
            position.level = depth
        recount([(parent, 1)])
    else:
        position.tree_parent = parent
        position.save()


def move(position: Position, new_parent: Position | None, where: str = "last-child") -> None:
    """Make ``position`` (fresh, locked, with its role as it is to be) report to
    ``new_parent`` (fresh, locked), with its whole team. Also re-roots a position whose role
    changed whether it heads a division (``new_parent`` its present manager)."""
    was_head = position.tree_parent_id is None
    will_head = heads_tree(position.role, new_parent)
    below = [tree_id for tree_id, _ in position.trees_below()]
    old_parent = position.parent_id
    depth = new_parent.level + 1 if new_parent is not None else 0
    delta = depth - position.level
    # one save of the position, with its new manager (its history row records the move)
    position.parent = new_parent
    if will_head:
        if not was_head:
            position.move_to(None)  # django-mptt: a tree of its own, levels from 0
            delta_here = depth
        else:
            position.save()
            delta_here = delta
        if delta_here:
            Position.objects.filter(tree_id=position.tree_id).update(level=F("level") + delta_here)
    else:
        position.move_to(new_parent, where)  # levels follow new_parent's
    if delta and below:
        Position.objects.filter(tree_id__in=below).update(level=F("level") + delta)
    carried = position.trees_under
    recount([(old_parent, -(carried + was_head)), (new_parent, carried + will_head)])
    if will_head or below:
        keep_tree_order([position.pk] if will_head else [], below)
    position.refresh_from_db()


def keep_tree_order(heads: list[int], trees: list[int]) -> None:
    """Give a new, higher number to each tree among the division heads ``heads`` and the
    ``trees`` that is numbered below its manager's tree, top down. Every division head's tree
    then comes after its manager's, so ordering by ``(tree_id, lft)`` lists every manager
    before their reports (the API's lists, the CSV, the readiness list). Rewrites the rows of
    the trees renumbered only; inside the forest lock."""
    found = list(
        Position.objects.filter(Q(pk__in=heads) | Q(tree_id__in=trees), tree_parent__isnull=True)
        .order_by("level", "tree_id")
        .values_list("tree_id", "parent__tree_id")
    )
    renumbered: dict[int, int] = {}
    fresh = None
    for tree_id, above in found:
        above = renumbered.get(above, above)
        if above is not None and tree_id < above:
            if fresh is None:
                fresh = Position.objects.aggregate(top=Max("tree_id"))["top"]
            fresh += 1
            renumbered[tree_id] = fresh
    for old, new in renumbered.items():
        Position.objects.filter(tree_id=old).update(tree_id=new)


def remove(position: Position) -> None:
    """Delete ``position`` (fresh, locked, with no reports left) from the forest."""
    head = position.tree_parent_id is None
    parent = position.parent_id
    position.delete()
    if head:
        recount([(parent, -1)])


def recount(changes: list[tuple[Position | int | None, int]]) -> None:
    """Add ``n`` to the count of division heads below each of ``position`` and its managers,
    for each ``(position, n)``: a query for each line walked and one per distinct sum."""
    totals: Counter = Counter()
    for position, n in changes:
        if position is None or not n:
            continue
        for pk in lineage_ids(position):
            totals[pk] += n
    by_sum: dict[int, list[int]] = defaultdict(list)
    for pk, n in totals.items():
        if n:
            by_sum[n].append(pk)
    for n, pks in sorted(by_sum.items()):
        Position.objects.filter(pk__in=sorted(pks)).update(trees_under=F("trees_under") + n)
