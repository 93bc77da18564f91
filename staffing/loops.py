"""The one rule of the reporting tree's shape: no position may end up in its own team.

A move of ``node`` under ``new_parent`` makes a reporting loop when ``new_parent`` is
``node`` itself or anywhere below it. Every place that refuses such a move asks here (the
model's ``clean``, ``services.position_move``, the draft moves of a scenario, the import);
each keeps its own wording of the refusal.

Pure: nothing of the project, no database. The managers come either as a mapping (node →
its manager, None at the top) or as a callable doing the same lookup; a node the lookup does
not know is at the top.
"""

from collections.abc import Callable, Hashable, Iterable, Mapping

ParentOf = Mapping | Callable[[Hashable], Hashable | None]
Place = tuple[int, int, int, int]  # tree_id, lft, rght, trees_under: a node's stored place


def _lookup(parent_of: ParentOf) -> Callable[[Hashable], Hashable | None]:
    return parent_of.get if isinstance(parent_of, Mapping) else parent_of


def would_loop(node: Hashable, new_parent: Hashable | None, parent_of: ParentOf) -> bool:
    """Whether putting ``node`` under ``new_parent`` makes a reporting loop: walks up from
    ``new_parent`` and answers whether the walk meets ``node``. A loop already there that
    does not go through ``node`` ends the walk (it is not this move's doing)."""
    up = _lookup(parent_of)
    seen: set = set()
    current = new_parent
    while current is not None and current not in seen:
        if current == node:
            return True
        seen.add(current)
        current = up(current)
    return False


def would_loop_in_tree(
    node: Hashable,
    new_parent: Hashable | None,
    place_of: Callable[[Hashable], Place | None],
    managers_of: Callable[[Hashable], Iterable[Hashable]] | None = None,
) -> bool:
    """The same decision for live positions, read from the stored forest instead of a walk:
    ``new_parent`` is ``node``, or lies strictly inside ``node``'s (lft, rght) range of the
    same tree, or (when division heads report to ``node``: its ``trees_under``) has
    ``node`` among its managers. ``place_of(id)`` gives a node's ``(tree_id, lft, rght,
    trees_under)`` (None when it is gone); it is not called when ``new_parent`` is None or
    ``node`` itself, and it is called for ``node`` first, then for ``new_parent``.
    ``managers_of(id)`` lists a node and everyone above it (one query). Valid while the
    stored forest matches the parent pointers, which the tree locks and ``check_tree``
    keep so."""
    if new_parent is None:
        return False
    if new_parent == node:
        return True
    mine, above = place_of(node), place_of(new_parent)
    if mine is None or above is None:
        return False
    if mine[0] == above[0]:
        return mine[1] < above[1] < mine[2]
    if not mine[3] or managers_of is None:
        return False
    return node in managers_of(new_parent)


def find_loops(parent_of: ParentOf, starts: Iterable[Hashable] | None = None) -> list[list]:
    """Every reporting loop met walking up from each of ``starts`` (by default every node of
    the mapping), each once, as its nodes in walk order from the first one reached (each
    reports to the next, the last to the first). Linear in the nodes walked."""
    up = _lookup(parent_of)
    if starts is None:
        if not isinstance(parent_of, Mapping):
            raise TypeError("find_loops needs the starting nodes when given a callable.")
        starts = list(parent_of)
    loops: list[list] = []
    state: dict = {}  # 1: on the present walk, 2: done (reaches the top or a known loop)
    for start in starts:
        walk: list = []
        node = start
        while node is not None and node not in state:
            state[node] = 1
            walk.append(node)
            node = up(node)
        if node is not None and state[node] == 1:
            loops.append(walk[walk.index(node) :])
        for seen in walk:
            state[seen] = 2
    return loops
