"""The reporting tree's storage: the tree lock, computing lft/rght in Python, checking, repairing.

django-mptt keeps ``tree_id``, ``lft``, ``rght`` and ``level`` on every position. Its own
updates are not safe under concurrent writers, so every structural write holds one
PostgreSQL advisory transaction lock (:func:`tree_transaction`). Bulk loads and repairs
compute the four fields in Python from the parent pointers and write them in bulk, which
is about forty times faster than ``Position.objects.rebuild()`` on a large tree.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection, transaction

from orgdesign.kernel.audit import bulk_record

# One fixed key for the whole reporting tree ("orgtree" as a number).
TREE_LOCK_KEY = 0x6F7267_74726565

TreeFields = tuple[int, int, int, int]  # tree_id, lft, rght, level


def acquire_tree_lock() -> None:
    """Hold the tree lock until the current transaction ends (no-op off PostgreSQL)."""
    if not connection.in_atomic_block:
        raise RuntimeError("The tree lock belongs to a transaction: call it inside atomic().")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TREE_LOCK_KEY])


@contextmanager
def tree_transaction() -> Iterator[None]:
    """One transaction holding the tree lock: the frame of every structural write."""
    with transaction.atomic():
        acquire_tree_lock()
        yield


@dataclass
class Layout:
    fields: dict[int, TreeFields]
    unreachable: list[int] = field(default_factory=list)  # ids caught in a reporting loop


def compute_layout(
    rows: Iterable[tuple[int, int | None, tuple]],
    root_tree_ids: dict[int, int] | None = None,
) -> Layout:
    """Nested-set fields for nodes given as ``(id, parent_id, sort_key)``.

    Children keep the order of their sort keys. Roots keep the tree id given for them in
    ``root_tree_ids`` when those are distinct; otherwise roots are numbered 1, 2, … in order.
    Nodes that cannot be reached from a root (a loop in the parent pointers, or a parent that
    does not exist) are returned as ``unreachable`` and get no fields.
    """
    rows = list(rows)
    ids = {node_id for node_id, _, _ in rows}
    children: dict[int, list[tuple[tuple, int]]] = defaultdict(list)
    roots: list[tuple[tuple, int]] = []
    for node_id, parent_id, key in rows:
        if parent_id is None:
            roots.append((key, node_id))
        elif parent_id in ids:
            children[parent_id].append((key, node_id))
    roots.sort()
    for kids in children.values():
        kids.sort()
    wanted = [root_tree_ids.get(node_id) for _, node_id in roots] if root_tree_ids else []
    keep_ids = bool(wanted) and None not in wanted and len(set(wanted)) == len(wanted)

    fields: dict[int, TreeFields] = {}
    for number, (_, root) in enumerate(roots, start=1):
        tree_id = wanted[number - 1] if keep_ids else number
        counter = 1
        lft = {root: counter}
        counter += 1
        stack = [(root, 0, iter(children.get(root, ())))]
        while stack:
            node, level, kids = stack[-1]
            nxt = next(kids, None)
            if nxt is None:
                fields[node] = (tree_id, lft[node], counter, level)
                counter += 1
                stack.pop()
            else:
                child = nxt[1]
                lft[child] = counter
                counter += 1
                stack.append((child, level + 1, iter(children.get(child, ()))))
    unreachable = sorted(ids - fields.keys())
    return Layout(fields=fields, unreachable=unreachable)


@dataclass
class TreeReport:
    checked: int
    wrong: list[tuple[int, TreeFields, TreeFields]]  # id, stored, expected
    unreachable: list[int]
    repaired: int = 0

    @property
    def ok(self) -> bool:
        return not self.wrong and not self.unreachable


def tree_check() -> TreeReport:
    """Compare the stored nested-set fields with the ones the parent pointers imply."""
    from staffing.models import Position

    stored = list(
        Position.objects.order_by().values_list(
            "id", "parent_id", "tree_id", "lft", "rght", "level"
        )
    )
    rows = [(pk, parent, (tree_id, lft, pk)) for pk, parent, tree_id, lft, _, _ in stored]
    roots = {pk: tree_id for pk, parent, tree_id, *_ in stored if parent is None}
    layout = compute_layout(rows, roots)
    wrong = []
    for pk, _parent, tree_id, lft, rght, level in stored:
        expected = layout.fields.get(pk)
        if expected is not None and expected != (tree_id, lft, rght, level):
            wrong.append((pk, (tree_id, lft, rght, level), expected))
    return TreeReport(checked=len(stored), wrong=wrong, unreachable=layout.unreachable)


def tree_repair() -> TreeReport:
    """Rewrite the nested-set fields that disagree with the parent pointers, under the lock."""
    from staffing.models import Position

    with tree_transaction():
        report = tree_check()
        if report.wrong:
            objs = []
            for pk, _stored, (tree_id, lft, rght, level) in report.wrong:
                objs.append(Position(pk=pk, tree_id=tree_id, lft=lft, rght=rght, level=level))
            Position.objects.bulk_update(objs, ["tree_id", "lft", "rght", "level"], batch_size=2000)
            report.repaired = len(objs)
    return report


def next_tree_id() -> int:
    from django.db.models import Max

    from staffing.models import Position

    return (Position.objects.aggregate(m=Max("tree_id"))["m"] or 0) + 1


def bulk_create_tree(positions: list, parents: list[int | None], *, batch_size: int = 5000):
    """Insert new positions forming new trees in a few queries, without mptt's per-row work.

    ``parents[i]`` is the index in ``positions`` of the parent of ``positions[i]`` (or None
    for a new top position); parents must come before their children. Must run inside
    :func:`tree_transaction`. Returns the saved positions with their ids.
    """
    from staffing.models import Position

    if not connection.in_atomic_block:
        raise RuntimeError("bulk_create_tree must run inside tree_transaction().")
    first_tree = next_tree_id()
    rows = [(index, parent, (index,)) for index, parent in enumerate(parents)]
    roots = {index: first_tree + n for n, index in enumerate(i for i, p, _ in rows if p is None)}
    layout = compute_layout(rows, roots)
    by_level: dict[int, list[int]] = defaultdict(list)
    for index, position in enumerate(positions):
        tree_id, lft, rght, level = layout.fields[index]
        position.tree_id, position.lft, position.rght, position.level = tree_id, lft, rght, level
        by_level[level].append(index)
    for level in sorted(by_level):
        batch = by_level[level]
        for index in batch:
            parent = parents[index]
            positions[index].parent_id = positions[parent].pk if parent is not None else None
        Position.objects.bulk_create([positions[i] for i in batch], batch_size=batch_size)
    bulk_record(Position, positions, batch_size=batch_size)
    return positions
