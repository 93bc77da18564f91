"""The reporting tree's storage: a forest of bounded trees, their locks, layout, check, repair.

django-mptt keeps ``tree_id``, ``lft``, ``rght`` and ``level`` on every position, over
``tree_parent``. The reporting line is ``parent``; ``tree_parent`` is the same except at the
head of a division (a position whose role ``heads_division``, or one with no manager),
which roots a tree of its own. A move then rewrites the rows of the one or two trees it
touches (a director's part, about a thousand positions), not the whole organization.
``level`` is the depth in the organization (not in a tree), and ``trees_under`` counts the
division heads below a position, so that "everything under X" stays one range for almost
every X (README, "The reporting tree").

Locks: one PostgreSQL advisory lock per tree, plus the forest lock. An edit inside one or
two trees holds the forest lock shared and the trees' locks, taken in ascending tree order
(two moves between the same two parts cannot deadlock). A change to the forest's shape (a
division head created, moved, deleted or re-roled; anything with division heads below it;
an import, a scenario applied, a repair) holds the forest lock exclusively.
"""

import functools
import random
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, transaction

from orgdesign.kernel.audit import bulk_record

# The forest lock ("orgtree" as a number); trees are locked as (TREE_LOCK_CLASS, tree_id),
# a key space of its own in PostgreSQL.
TREE_LOCK_KEY = 0x6F7267_74726565
TREE_LOCK_CLASS = 0x6F7274


class Place(NamedTuple):
    """A position's stored place in the forest."""

    tree_id: int
    lft: int
    rght: int
    level: int  # depth in the organization
    tree_parent: int | None
    trees_under: int


PLACE_FIELDS = list(Place._fields)


# --- locks ----------------------------------------------------------------------------------


@dataclass
class _Held:
    exclusive: bool = False
    trees: set[int] = field(default_factory=set)

    def hook(self) -> None:  # marks the transaction the locks belong to (see _held)
        pass


def _held() -> _Held:
    """What this transaction holds. Advisory transaction locks end with the transaction; the
    record of them is tied to it by an on-commit hook, which Django drops on commit and on
    rollback alike."""
    held = getattr(connection, "_orgdesign_tree_locks", None)
    if held is not None and any(entry[1] == held.hook for entry in connection.run_on_commit):
        return held
    held = _Held()
    connection._orgdesign_tree_locks = held
    transaction.on_commit(held.hook)
    return held


class TreeConflict(ValidationError):
    """The rows a write read moved to other trees before it could lock them."""


def conflict() -> TreeConflict:
    return TreeConflict(
        "The organization changed while this change was being made; please try again.",
        code="conflict",
    )


ATTEMPTS = 5
RETRY_WAIT_S = 0.02  # the longest wait before the second attempt; longer for later ones


def retrying(func):
    """Run a write again when it met a :class:`TreeConflict` as its own transaction (rolled
    back, so its locks are gone and it reads everything afresh); inside a caller's
    transaction the conflict goes to the caller."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return func(*args, **kwargs)
            except (TreeConflict, OperationalError) as error:
                if isinstance(error, OperationalError) and not _deadlock(error):
                    raise
                if connection.in_atomic_block or attempt == ATTEMPTS:
                    raise
                # a short, random wait before trying again: writers that met each other
                # do not meet again at once in the same order
                time.sleep(random.uniform(0, RETRY_WAIT_S * attempt))

    return wrapper


def _deadlock(error: OperationalError) -> bool:
    """PostgreSQL's own answer to a deadlock (it rolled one side back): worth another try."""
    return getattr(error.__cause__, "pgcode", None) == "40P01"


def lock(tree_ids: Iterable[int] = (), *, structural: bool = False, wait: bool = True) -> None:
    """Hold what a write needs until the transaction ends: the whole forest (``structural``)
    or the trees ``tree_ids``, each tree in ascending order after the forest lock shared.

    Called again in the same transaction (a write that re-read its rows under the locks,
    or several writes in one transaction) it takes only what is missing: waiting for it
    where the order allows, otherwise only if it is free at once (never waiting out of
    order, so never a deadlock), and otherwise refusing with a conflict (a concurrent change
    moved the rows: the transaction is rolled back and may be tried again). ``wait=False``
    once the caller holds row locks: then nothing is waited for (a writer holding a missing
    tree would wait for those rows), only taken if free at once. Off PostgreSQL
    the database itself serializes writers and nothing is locked here."""
    if not connection.in_atomic_block:
        raise RuntimeError("The tree locks belong to a transaction: call it inside atomic().")
    held = _held()
    if held.exclusive:
        return
    if structural:
        if (held.trees or not wait) and not _advisory(
            "pg_try_advisory_xact_lock(%s)", [TREE_LOCK_KEY]
        ):
            raise conflict()
        if not held.trees and wait:
            _advisory("pg_advisory_xact_lock(%s)", [TREE_LOCK_KEY])
        held.exclusive = True
        return
    calls, params = [], []
    if not held.trees and not wait:
        if not _advisory("pg_try_advisory_xact_lock_shared(%s)", [TREE_LOCK_KEY]):
            raise conflict()
        held.trees.add(0)
    if not held.trees:
        calls.append("pg_advisory_xact_lock_shared(%s)")
        params.append(TREE_LOCK_KEY)
        held.trees.add(0)  # the forest, shared; 0 is below every tree id
    top = max(held.trees)
    missing = sorted(set(tree_ids) - held.trees)
    for tree_id in (t for t in missing if t > top and wait):  # in order: wait for each
        calls.append("pg_advisory_xact_lock(%s, %s)")
        params += [TREE_LOCK_CLASS, tree_id]
    if calls:  # one statement; PostgreSQL calls a select list's functions left to right
        _advisory(", ".join(calls), params)
    held.trees.update(t for t in missing if t > top and wait)
    for tree_id in (t for t in missing if t < top or not wait):  # only if free at once
        if not _advisory("pg_try_advisory_xact_lock(%s, %s)", [TREE_LOCK_CLASS, tree_id]):
            raise conflict()
        held.trees.add(tree_id)


def _advisory(call: str, params: list) -> bool:
    """Run an advisory lock function; whether the lock was taken (always, off PostgreSQL)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {call}", params)
        taken = cursor.fetchone()[0]
    return taken is not False  # the waiting functions return void (None)


def acquire_tree_lock() -> None:
    """Hold the whole forest until the current transaction ends."""
    lock(structural=True)


@contextmanager
def tree_transaction() -> Iterator[None]:
    """One transaction holding the whole forest: the frame of a change to its shape, an
    import, a scenario applied, a repair."""
    with transaction.atomic():
        lock(structural=True)
        yield


def places(pks: Iterable[int | None]) -> dict[int, Place]:
    """The stored places of the positions ``pks`` (no row locks: read them to choose the
    locks, then read the rows again under them)."""
    from staffing.models import Position

    wanted = {pk for pk in pks if pk is not None}
    if not wanted:
        return {}
    rows = Position.objects.filter(pk__in=wanted).values_list("pk", *PLACE_FIELDS)
    return {pk: Place(*rest) for pk, *rest in rows}


# --- layout ---------------------------------------------------------------------------------


@dataclass
class Layout:
    fields: dict[int, Place]
    unreachable: list[int] = field(default_factory=list)  # ids caught in a reporting loop


def compute_layout(
    rows: Iterable[tuple[int, int | None, tuple]],
    root_tree_ids: dict[int, int] | None = None,
    heads: Iterable[int] = (),
) -> Layout:
    """The forest's stored fields for nodes given as ``(id, parent_id, sort_key)``.

    A node roots a tree when it has no parent or is one of ``heads`` (the division heads).
    Children keep the order of their sort keys; ``level`` is the depth from the top of the
    organization. Trees are numbered in the order a walk from the top meets their roots,
    but a root keeps the id ``root_tree_ids`` gives it where no other root has it. Nodes
    that cannot be reached from the top (a loop in the parent pointers, or a parent that
    does not exist) are returned as ``unreachable`` and get no fields.
    """
    rows = list(rows)
    ids = {node_id for node_id, _, _ in rows}
    heads = set(heads)
    parent_of: dict[int, int | None] = {}
    children: dict[int, list[tuple[tuple, int]]] = defaultdict(list)
    tops: list[tuple[tuple, int]] = []
    for node_id, parent_id, key in rows:
        if parent_id is None:
            tops.append((key, node_id))
            parent_of[node_id] = None
        elif parent_id in ids:
            children[parent_id].append((key, node_id))
            parent_of[node_id] = parent_id
    tops.sort()
    for kids in children.values():
        kids.sort()

    # one walk from the top: each node numbered in its own tree (a division head starts a
    # tree of its own, counted from 1, while its manager's tree goes on counting)
    roots: list[int] = []  # in walk order
    counters: list[int] = []
    entered: dict[int, tuple[int, int, int]] = {}  # node → (tree index, lft, depth)
    found: dict[int, tuple] = {}
    for _, top in tops:
        walk = [(top, 0, iter(children.get(top, ())))]
        roots.append(top)
        counters.append(2)
        entered[top] = (len(roots) - 1, 1, 0)
        while walk:
            node, level, kids = walk[-1]
            nxt = next(kids, None)
            tree, lft, _ = entered[node]
            if nxt is None:
                rght = counters[tree]
                counters[tree] = rght + 1
                found[node] = (tree, lft, rght, level)
                walk.pop()
                continue
            child = nxt[1]
            if child in heads:
                roots.append(child)
                counters.append(2)
                entered[child] = (len(roots) - 1, 1, level + 1)
            else:
                entered[child] = (tree, counters[tree], level + 1)
                counters[tree] += 1
            walk.append((child, level + 1, iter(children.get(child, ()))))

    # a root keeps its number where no other root has it and its manager's tree comes
    # before it (so that (tree_id, lft) lists every manager before their reports)
    numbers: list[int] = [0] * len(roots)
    given = root_tree_ids or {}
    taken: set[int] = set()
    fresh = max(given.values(), default=0)  # new trees after every one given
    for index, node in enumerate(roots):  # walk order: a manager's tree first
        above = parent_of[node]
        floor = numbers[found[above][0]] if above is not None else 0
        kept = given.get(node)
        if kept is not None and kept not in taken and kept > floor:
            numbers[index] = kept
        else:
            fresh += 1
            numbers[index] = fresh
        taken.add(numbers[index])
    under: dict[int, int] = defaultdict(int)
    for root in roots:
        above = parent_of[root]
        while above is not None:
            under[above] += 1
            above = parent_of[above]
    root_set = set(roots)
    placed = {
        node: Place(
            numbers[tree],
            lft,
            rght,
            level,
            None if node in root_set else parent_of[node],
            under.get(node, 0),
        )
        for node, (tree, lft, rght, level) in found.items()
    }
    unreachable = sorted(ids - placed.keys())
    return Layout(fields=placed, unreachable=unreachable)


def division_role_ids() -> set[int]:
    from roles.models import Role

    return set(Role.objects.filter(heads_division=True).values_list("pk", flat=True))


# --- check and repair -----------------------------------------------------------------------


@dataclass
class TreeReport:
    checked: int
    wrong: list[tuple[int, Place, Place]]  # id, stored, expected
    unreachable: list[int]
    repaired: int = 0
    trees: int = 0

    @property
    def ok(self) -> bool:
        return not self.wrong and not self.unreachable


def tree_check() -> TreeReport:
    """Compare the stored forest with the one the parent pointers and the division heads'
    roles imply: every tree's nested sets, its root exactly where the rule puts one, the
    depth in the organization, the tree parents and the counts of division heads below."""
    from staffing.models import Position

    stored = list(
        Position.objects.order_by().values_list("id", "parent_id", "role_id", *PLACE_FIELDS)
    )
    divisions = division_role_ids()
    heads = {pk for pk, _parent, role, *_ in stored if role in divisions}
    rows = [(pk, parent, (place[0], place[1], pk)) for pk, parent, _role, *place in stored]
    roots = {pk: place[0] for pk, parent, _role, *place in stored if place[4] is None}
    layout = compute_layout(rows, roots, heads)
    wrong = []
    for pk, _parent, _role, *place in stored:
        expected = layout.fields.get(pk)
        if expected is not None and expected != tuple(place):
            wrong.append((pk, Place(*place), expected))
    trees = len({place.tree_id for place in layout.fields.values()})
    return TreeReport(checked=len(stored), wrong=wrong, unreachable=layout.unreachable, trees=trees)


def tree_repair() -> TreeReport:
    """Rewrite the stored fields that disagree with the parent pointers, under the lock."""
    from staffing.models import Position

    with tree_transaction():
        report = tree_check()
        if report.wrong:
            objs = [
                Position(
                    pk=pk,
                    tree_id=e.tree_id,
                    lft=e.lft,
                    rght=e.rght,
                    level=e.level,
                    tree_parent_id=e.tree_parent,
                    trees_under=e.trees_under,
                )
                for pk, _stored, e in report.wrong
            ]
            # two trees may swap ids: move the rewritten rows out of the way first
            Position.objects.filter(pk__in=[o.pk for o in objs]).update(tree_id=0)
            Position.objects.bulk_update(objs, PLACE_FIELDS_WRITTEN, batch_size=2000)
            report.repaired = len(objs)
    return report


PLACE_FIELDS_WRITTEN = ["tree_id", "lft", "rght", "level", "tree_parent", "trees_under"]


def next_tree_id() -> int:
    from django.db.models import Max

    from staffing.models import Position

    return (Position.objects.aggregate(m=Max("tree_id"))["m"] or 0) + 1


def bulk_create_tree(positions: list, parents: list[int | None], *, batch_size: int = 5000):
    """Insert new positions in a few queries, without mptt's per-row work.

    ``parents[i]`` is the index in ``positions`` of the parent of ``positions[i]`` (or None
    for a new top position); parents must come before their children. Division heads root
    trees of their own. Must run inside :func:`tree_transaction`. Returns the saved
    positions with their ids.
    """
    from staffing.models import Position

    if not connection.in_atomic_block:
        raise RuntimeError("bulk_create_tree must run inside tree_transaction().")
    first_tree = next_tree_id()
    divisions = division_role_ids()
    heads = {i for i, position in enumerate(positions) if position.role_id in divisions}
    rows = [(index, parent, (index,)) for index, parent in enumerate(parents)]
    layout = compute_layout(rows, heads=heads)
    by_level: dict[int, list[int]] = defaultdict(list)
    for index, position in enumerate(positions):
        place = layout.fields[index]
        position.tree_id = first_tree + place.tree_id - 1
        position.lft, position.rght, position.level = place.lft, place.rght, place.level
        position.trees_under = place.trees_under
        by_level[place.level].append(index)
    for level in sorted(by_level):
        batch = by_level[level]
        for index in batch:
            parent = parents[index]
            position = positions[index]
            position.parent_id = positions[parent].pk if parent is not None else None
            tree_parent = layout.fields[index].tree_parent
            position.tree_parent_id = positions[tree_parent].pk if tree_parent is not None else None
        Position.objects.bulk_create([positions[i] for i in batch], batch_size=batch_size)
    bulk_record(Position, positions, batch_size=batch_size)
    return positions
