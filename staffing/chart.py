"""The org chart's data: which positions a view shows, as a tree of cards.

Every function here runs a fixed number of queries whatever the size of the organization:
the levels shown are fetched by tree range and depth, counts come from annotations, and the
open findings of the shown cards from one query.
"""

from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.http import Http404

from roles.models import Role
from staffing.models import DottedLine, Location, Person, Position
from staffing.scope import Scope
from staffing.selectors import open_finding_messages, with_card_figures

EXPANDED_LEVELS = 2  # below the root, shown at once; deeper levels load when expanded
CARD_BUDGET = 150  # fewer levels open at once when they would hold more cards than this
SEARCH_LIMIT = 20


@dataclass
class Node:
    position: Position
    children: list["Node"] = field(default_factory=list)
    loaded: bool = False  # whether its children are in the page
    findings: list = field(default_factory=list)
    on_path: bool = False  # an ancestor of the highlighted card
    editable: bool = False  # the viewer may change, move, fill, vacate or delete it
    can_add: bool = False  # the viewer may add a position under it
    dotted: list = field(default_factory=list)  # dotted-line managers: (title, purpose)

    @property
    def has_children(self) -> bool:
        return self.position.rght - self.position.lft > 1

    @property
    def expanded(self) -> bool:
        return self.loaded and bool(self.children)


def card(
    scope: Scope, position: Position, findings: dict, dotted: dict, *, on_path: bool = False
) -> Node:
    return Node(
        position,
        findings=findings.get(position.pk, []),
        dotted=dotted.get(position.pk, []),
        on_path=on_path,
        editable=scope.can_edit(position),
        # "Add report" only where the role may have reports (no query: with_card_figures
        # loads the role's span rule)
        can_add=scope.can_place_under(position) and position.role.may_have_reports,
    )


def dotted_lines(position_ids) -> dict[int, list[tuple[str, str]]]:
    """The dotted-line managers of these positions (one query)."""
    found: dict[int, list[tuple[str, str]]] = {}
    lines = DottedLine.objects.filter(position_id__in=list(position_ids)).select_related("manager")
    for line in lines.order_by("manager__title"):
        found.setdefault(line.position_id, []).append((line.manager.title, line.purpose))
    return found


def visible(scope: Scope):
    return scope.filter_visible(Position.objects.all())


def visible_position(scope: Scope, raw) -> Position | None:
    """The position with id ``raw`` if ``scope`` can see it; None for no id; 404 otherwise."""
    if raw in (None, ""):
        return None
    if not str(raw).isdigit():
        raise Http404("No such position.")
    position = visible(scope).filter(pk=raw).first()
    if position is None:
        raise Http404("No such position in the part of the organization you can see.")
    return position


def roots_for(scope: Scope, root: Position | None) -> list[Position]:
    """The top cards: a chosen root, the user's own position, or every top position."""
    if root is not None:
        return [root]
    if scope.root is not None and not scope.sees_all:
        return [scope.root]
    return list(visible(scope).filter(parent__isnull=True).order_by("tree_id"))


def opened_depth(scope: Scope, roots: list[Position]) -> int:
    """How many levels below the roots open at once: up to EXPANDED_LEVELS, fewer when
    they would hold more than CARD_BUDGET cards (the roots' own reports always show).
    One query: positions per level."""
    within = Q()
    for root in roots:
        within |= Q(
            tree_id=root.tree_id,
            level__gt=root.level,
            level__lte=root.level + EXPANDED_LEVELS,
            lft__gt=root.lft,
            lft__lt=root.rght,
        )
    per_level = dict(
        visible(scope).filter(within).order_by().values_list("level").annotate(n=Count("pk"))
    )
    base = min(root.level for root in roots)
    return levels_to_open({level - base: n for level, n in per_level.items()}, len(roots))


def levels_to_open(below: dict[int, int], roots: int) -> int:
    """How many levels below ``roots`` cards open at once, given the cards at each depth
    below them (``below[1]``: their direct reports): up to EXPANDED_LEVELS, fewer when they
    would hold more than CARD_BUDGET cards; the roots' own reports always show."""
    depth, cards = 1, roots + below.get(1, 0)
    while depth < EXPANDED_LEVELS and cards + below.get(depth + 1, 0) <= CARD_BUDGET:
        depth += 1
        cards += below.get(depth, 0)
    return depth


def build(scope: Scope, roots: list[Position], *, focus: Position | None = None) -> list[Node]:
    """The cards under ``roots`` to EXPANDED_LEVELS, plus the path down to ``focus`` with
    the siblings along it. Three queries, five with a focus (levels, cards, path, cards
    along it, findings)."""
    if not roots:
        return []
    depth = opened_depth(scope, roots)
    top_levels = Q()
    for root in roots:
        top_levels |= Q(
            tree_id=root.tree_id,
            level__lte=root.level + depth,
            lft__gte=root.lft,
            lft__lt=root.rght,
        )
    positions = list(with_card_figures(visible(scope).filter(top_levels)))
    path_ids: list[int] = []
    if focus is not None:
        path_ids = list(
            Position.objects.filter(
                tree_id=focus.tree_id, lft__lte=focus.lft, rght__gte=focus.rght
            ).values_list("pk", flat=True)
        )
        # the path and the siblings along it, in a query of its own: OR-ed with the range
        # above, PostgreSQL could use neither index
        shown = {p.pk for p in positions}
        along = visible(scope).filter(Q(parent_id__in=path_ids) | Q(pk__in=path_ids))
        positions += [p for p in with_card_figures(along) if p.pk not in shown]
    positions.sort(key=lambda p: (p.tree_id, p.lft))
    findings = open_finding_messages(p.pk for p in positions)
    dotted = dotted_lines(p.pk for p in positions)
    nodes = {p.pk: card(scope, p, findings, dotted, on_path=p.pk in path_ids) for p in positions}
    root_ids = {root.pk for root in roots}
    top = assemble(nodes, root_ids)
    return [node for node in top if node.position.pk in root_ids] or top


def assemble(nodes: dict[int, Node], root_ids: set[int]) -> list[Node]:
    """Hang each card under its manager's card (those loaded); the cards left at the top
    (the roots, and any whose manager is not shown), in the order given."""
    top: list[Node] = []
    for node in nodes.values():
        parent = nodes.get(node.position.parent_id)
        if node.position.pk in root_ids or parent is None:
            top.append(node)
            continue
        parent.children.append(node)
        parent.loaded = True
    return top


def children_of(scope: Scope, parent: Position) -> list[Node]:
    """The direct reports of ``parent`` as cards (two queries)."""
    positions = list(with_card_figures(visible(scope).filter(parent=parent)).order_by("lft"))
    findings = open_finding_messages(p.pk for p in positions)
    dotted = dotted_lines(p.pk for p in positions)
    return [card(scope, p, findings, dotted) for p in positions]


def breadcrumb(scope: Scope, position: Position) -> list[Position]:
    """The managers above ``position`` that the viewer can see, top first (one query)."""
    return list(
        visible(scope)
        .filter(tree_id=position.tree_id, lft__lt=position.lft, rght__gt=position.rght)
        .order_by("lft")
    )


def search(scope: Scope, text: str, *, moving: Position | None = None) -> list[Position]:
    """Positions whose title, role, holder or location matches ``text`` (one query). With
    ``moving``: only those it could be moved under (in the viewer's editing scope, outside
    its own team, not its present manager)."""
    text = text.strip()
    if len(text) < 2:
        return []
    # one indexed lookup per way of matching, united by id: an OR across the joined tables
    # would make PostgreSQL scan every position
    people = Person.objects.filter(Q(given_name__icontains=text) | Q(family_name__icontains=text))
    ids = (
        Position.objects.filter(title__icontains=text)
        .values("pk")
        .union(
            Position.objects.filter(holder__in=people.values("pk")).values("pk"),
            Position.objects.filter(
                role__in=Role.objects.filter(name__icontains=text).values("pk")
            ).values("pk"),
            Position.objects.filter(
                location__in=Location.objects.filter(name__icontains=text).values("pk")
            ).values("pk"),
        )
    )
    found = visible(scope).filter(pk__in=ids)
    if moving is not None:
        found = (
            scope.filter_placeable(found)
            .exclude(tree_id=moving.tree_id, lft__gte=moving.lft, lft__lt=moving.rght)
            .exclude(pk=moving.parent_id or 0)
        )
    return list(
        found.select_related("role", "holder", "location").order_by("level", "title")[:SEARCH_LIMIT]
    )
