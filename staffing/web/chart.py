"""The org chart's data: which positions a view shows, as a tree of cards.

Every function here runs a fixed number of queries whatever the size of the organization:
the levels shown are fetched by tree range and depth, counts come from annotations, and the
open findings of the shown cards from one query.
"""

from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.http import JsonResponse
from django.shortcuts import render

from roles.models import Role
from roles.selectors import roles_with_reports
from staffing.models import ChartPreference, DottedLine, Location, Person, Position, subtree_q
from staffing.scope import Scope, request_scope
from staffing.selectors import (
    above,
    direct_reports_count,
    lineage_ids,
    open_finding_messages,
    placeable_for,
    visible,
    visible_position,
    with_catalogue,
)
from staffing.web import layout

EXPANDED_LEVELS = 2  # below the root, shown at once; deeper levels load when expanded
CARD_BUDGET = 150  # fewer levels open at once when they would hold more cards than this
CARD_LIMIT = 400  # "expand to level N" stops at the level that would hold more than this
OPEN_LIMIT = 400  # teams a chart view may ask to have open (``?open=``)
DEEPEST_LEVEL = 30  # the most levels "expand to level N" asks for
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
    marks: list = field(default_factory=list)  # a draft's notes on the card ("moved")
    x: float = 0  # where the chart view draws it (staffing.web.layout)
    y: float = 0
    stacked: bool = False  # its reports are drawn as a column under it
    column: float | None = None  # a mixed team: where its column of members is
    left: float = 0  # the same, from its manager's card (cards nest as the tree does)
    top: float = 0

    @property
    def has_children(self) -> bool:
        return self.position.has_reports

    @property
    def expanded(self) -> bool:
        return self.loaded and bool(self.children)

    @property
    def shown_children(self) -> list["Node"]:
        return self.children if self.expanded else []


def card(
    scope: Scope, position: Position, findings: dict, dotted: dict, *, on_path: bool = False
) -> Node:
    return Node(
        position,
        findings=findings.get(position.pk, []),
        dotted=dotted.get(position.pk, []),
        on_path=on_path,
        editable=scope.can_edit(position),
        # "Add report" only where the role may have reports (no query: with_catalogue
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


def roots_for(scope: Scope, root: Position | None) -> list[Position]:
    """The top cards: a chosen root, the user's own position, or every top position."""
    if root is not None:
        return [root]
    if scope.root is not None and not scope.sees_all:
        return [scope.root]
    return list(visible(scope).filter(parent__isnull=True).order_by("tree_id"))


def opened_depth(
    scope: Scope, roots: list[Position], *, want: int = EXPANDED_LEVELS, budget: int = CARD_BUDGET
) -> int:
    """How many levels below the roots open at once: up to ``want``, fewer when they would
    hold more than ``budget`` cards (the roots' own reports always show). One query:
    positions per level."""
    within = Q()
    for root in roots:
        within |= subtree_q(root, include_self=False) & Q(level__lte=root.level + want)
    per_level = dict(
        visible(scope).filter(within).order_by().values_list("level").annotate(n=Count("pk"))
    )
    base = min(root.level for root in roots)
    below = {level - base: n for level, n in per_level.items()}
    return levels_to_open(below, len(roots), want=want, budget=budget)


def levels_to_open(
    below: dict[int, int], roots: int, *, want: int = EXPANDED_LEVELS, budget: int = CARD_BUDGET
) -> int:
    """How many levels below ``roots`` cards open at once, given the cards at each depth
    below them (``below[1]``: their direct reports): up to ``want``, fewer when they would
    hold more than ``budget`` cards; the roots' own reports always show (``want`` 0: none)."""
    if want <= 0:
        return 0
    depth, cards = 1, roots + below.get(1, 0)
    while depth < want and below.get(depth + 1) and cards + below[depth + 1] <= budget:
        depth += 1
        cards += below[depth]
    return depth


def parse_open(raw: str | None) -> set[int] | None:
    """The teams a chart view asks to have open, from ``?open=`` (ids, comma separated);
    None when it does not say. ValueError for anything but ids, or too many."""
    if raw is None:
        return None
    parts = [part for part in raw.split(",") if part.strip()]
    if not all(part.strip().isdigit() and len(part.strip()) <= 18 for part in parts):
        raise ValueError("open lists the teams to show open: position ids, comma separated.")
    if len(parts) > OPEN_LIMIT:
        raise ValueError(f"open lists at most {OPEN_LIMIT} teams.")
    return {int(part) for part in parts}


def parse_level(raw: str | None) -> int | None:
    """``?level=N``: open every team down to N levels below the top cards (0: collapse all)."""
    if raw in (None, ""):
        return None
    if not raw.isdigit() or int(raw) > DEEPEST_LEVEL:
        raise ValueError(
            f"level is how many levels to open: a whole number from 0 to {DEEPEST_LEVEL}."
        )
    return int(raw)


def parse_state(params) -> tuple[set[int] | None, int | None]:
    """The teams a chart view asks to have open (``open``) and the level to open it to
    (``level``) from a request's parameters; ValueError with the reason for anything else."""
    return parse_open(params.get("open")), parse_level(params.get("level"))


def build(
    scope: Scope,
    roots: list[Position],
    *,
    focus: Position | None = None,
    opened: set[int] | None = None,
    level: int | None = None,
    shape_only: bool = False,
) -> list[Node]:
    """The cards under ``roots`` to EXPANDED_LEVELS, plus the path down to ``focus`` with
    the siblings along it. Three queries, five with a focus (levels, cards, path, cards
    along it, findings).

    ``opened``: instead, the roots and the reports of exactly these teams (those shown: a
    team under a closed one is not). ``level``: every team open down to that many levels
    below the roots, or as many as hold CARD_LIMIT cards."""
    if not roots:
        return []
    if opened is not None:
        return _build_opened(scope, roots, opened, focus, shape_only=shape_only)
    if level is None:
        depth = opened_depth(scope, roots)
    else:
        depth = opened_depth(scope, roots, want=level, budget=CARD_LIMIT)
    top_levels = Q()
    for root in roots:
        top_levels |= subtree_q(root) & Q(level__lte=root.level + depth)
    positions = list(card_rows(visible(scope).filter(top_levels)))
    path_ids: list[int] = []
    if focus is not None:
        path_ids = lineage_ids(focus)
        # the path and the siblings along it below the levels above, in a query of its own:
        # OR-ed with the range above, PostgreSQL could use neither index
        shown = {p.pk for p in positions}
        along = visible(scope).filter(Q(parent_id__in=path_ids) | Q(pk__in=path_ids))
        along = along.filter(level__gt=min(root.level for root in roots) + depth)
        positions += [p for p in card_rows(along) if p.pk not in shown]
    positions.sort(key=lambda p: (p.tree_id, p.lft))  # reports in order under each card
    return _cards(scope, roots, positions, path_ids)


def card_rows(queryset):
    """``queryset`` with the holder and the count of direct reports: with the catalogue
    objects (:func:`staffing.selectors.with_catalogue`, once for all the rows) what a card
    shows. Leaner than :func:`staffing.selectors.with_card_figures` (no manager, no count
    of findings: a card lists its findings), for a chart's hundreds of cards."""
    return queryset.select_related("holder").annotate(direct_reports=direct_reports_count())


def _within(roots: list[Position]) -> Q:
    within = Q()
    for root in roots:
        within |= subtree_q(root)
    return within


# what placing needs
SHAPE_FIELDS = ("id", "parent_id", "tree_id", "lft", "rght", "level", "trees_under")


def _build_opened(
    scope: Scope,
    roots: list[Position],
    opened: set[int],
    focus: Position | None,
    *,
    shape_only: bool = False,
) -> list[Node]:
    """The roots and the reports of the ``opened`` teams among them; with a focus, the
    path down to it opened too. Four queries (roots, reports, findings, dotted lines), six
    with a focus. ``shape_only``: the tree alone, for placing the cards (two queries, no
    figures: nothing of these cards is drawn)."""
    path_ids = lineage_ids(focus)
    teams = (set(opened) | (set(path_ids) - {focus.pk})) if focus is not None else set(opened)
    root_ids = [root.pk for root in roots]

    def cards(queryset):
        return queryset.only(*SHAPE_FIELDS) if shape_only else card_rows(queryset)

    positions = list(cards(visible(scope).filter(pk__in=root_ids)))
    if teams:
        below = visible(scope).filter(_within(roots), parent_id__in=teams)
        positions += [p for p in cards(below) if p.pk not in root_ids]
    # a team asked for under a closed one is not shown: keep what hangs from the roots
    by_parent: dict[int | None, list[Position]] = {}
    for p in positions:
        by_parent.setdefault(p.parent_id, []).append(p)
    shown, reach = [], [p for p in positions if p.pk in root_ids]
    while reach:
        p = reach.pop()
        shown.append(p)
        reach += by_parent.get(p.pk, []) if p.pk in teams else []
    shown.sort(key=lambda p: (p.tree_id, p.lft))
    if shape_only:
        top = assemble({p.pk: Node(p) for p in shown}, set(root_ids))
        return [node for node in top if node.position.pk in root_ids] or top
    return _cards(scope, roots, shown, path_ids)


def _cards(
    scope: Scope, roots: list[Position], positions: list[Position], path_ids: list[int]
) -> list[Node]:
    with_catalogue(positions)  # every card's role, tier, squad and location, once
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
    reports = visible(scope).filter(parent=parent).order_by("tree_id", "lft")
    positions = with_catalogue(list(card_rows(reports)))
    findings = open_finding_messages(p.pk for p in positions)
    dotted = dotted_lines(p.pk for p in positions)
    return [card(scope, p, findings, dotted) for p in positions]


def breadcrumb(scope: Scope, position: Position) -> list[Position]:
    """The managers above ``position`` that the viewer can see, top first (one query)."""
    return list(visible(scope).filter(above(position)).order_by("level"))


def search(scope: Scope, text: str, *, moving: Position | None = None) -> list[Position]:
    """Positions whose title, role, holder or location matches ``text`` (one query). With
    ``moving``: only those it could be moved under (:func:`staffing.selectors.placeable_for`:
    in the viewer's editing scope, outside its own team, not its present manager, of a role
    that takes reports; two queries)."""
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
    if moving is not None:  # never under a position that takes no reports (an agent's)
        found = placeable_for(scope, moving, found, roles=roles_with_reports())
    return list(
        found.select_related("role", "holder", "location").order_by("level", "title")[:SEARCH_LIMIT]
    )


def pick_shown(
    tops: list[int],
    children,
    *,
    opened: set[int] | None = None,
    level: int | None = None,
    path: list[int] = (),
) -> set[int]:
    """Which cards of a tree held in memory (a draft, a past day) a view shows, by the same
    rules as :func:`build`: ``children(pk)`` gives the ids under ``pk`` the viewer sees;
    ``path`` (top first) is opened down to its last card."""
    shown = set(tops)
    if opened is not None:
        teams = set(opened) | set(path[:-1])
        stack = list(tops)
        while stack:
            pk = stack.pop()
            if pk in teams:
                below = list(children(pk))
                shown.update(below)
                stack += below
        return shown
    want, budget = (EXPANDED_LEVELS, CARD_BUDGET) if level is None else (level, CARD_LIMIT)
    layer = list(tops)
    for depth in range(want):
        below = [k for pk in layer for k in children(pk)]
        if not below or (depth and len(shown) + len(below) > budget):
            break
        shown.update(below)
        layer = below
    for pk in path:
        shown.add(pk)
        shown.update(children(pk))
    return shown


# -- the chart view ----------------------------------------------------------------------------

PAD = 16  # around the cards of the chart view


def view_for(user) -> str:
    """How ``user`` likes the chart drawn: "chart" (the default) or "list" (one query)."""
    view = ChartPreference.objects.filter(user=user).values_list("view", flat=True).first()
    return view or ChartPreference.View.CHART


@dataclass
class Frame:
    """What the chart view draws besides the cards: the canvas, the reporting lines, and
    which teams are open (the page sends them back to open or close one more)."""

    view: str
    width: int = 0
    height: int = 0
    lines: str = ""  # the reporting lines, one SVG path
    open_ids: str = ""
    cards: int = 0
    levels: int = 0  # levels shown below the top cards
    closed: int = 0  # cards shown whose teams are not
    places: dict = field(default_factory=dict)  # id → (left, top, stacked), chart view only


def _walk(nodes: list[Node], depth: int = 0):
    for node in nodes:
        yield node, depth
        yield from _walk(node.children, depth + 1)


def _relative(nodes: list[Node], x: float, y: float) -> None:
    for node in nodes:
        node.left, node.top = node.x - x, node.y - y
        _relative(node.shown_children, node.x, node.y)


def frame(nodes: list[Node], view: str) -> Frame:
    """Places ``nodes`` for the chart view (staffing.web.layout, as the exports are); for the
    list view only which teams are open."""
    walked = list(_walk(nodes))
    every = [node for node, _ in walked]
    opened = ",".join(str(n.position.pk) for n in every if n.expanded)
    shape = {
        "open_ids": opened,
        "cards": len(every),
        "levels": max((depth for _, depth in walked), default=0),
        "closed": sum(1 for n in every if n.has_children and not n.expanded),
    }
    if view != ChartPreference.View.CHART:
        return Frame(view, **shape)
    arranged = layout.arrange(nodes, PAD, PAD)
    _relative(nodes, 0, 0)
    shape["places"] = {n.position.pk: (round(n.left), round(n.top), n.stacked) for n in every}
    lines = "".join(f"M{x1:g} {y1:g}L{x2:g} {y2:g}" for x1, y1, x2, y2 in arranged.lines)
    return Frame(
        view,
        width=int(arranged.width + 2 * PAD),
        height=int(max(arranged.height, 0) + 2 * PAD),
        lines=lines,
        **shape,
    )


def _placed(frame: Frame) -> dict:
    return {
        "places": frame.places,
        "width": frame.width,
        "height": frame.height,
        "lines": frame.lines,
        "open": frame.open_ids,
        "cards": frame.cards,
    }


def chart_response(request, context: dict, page: str, extra=None):
    """A chart page (live, a draft, a past day) or, for the chart view's script, a part of
    it: ``?partial=chart`` the whole chart; ``?partial=team&team=<id>`` only the cards of
    that team, just opened, with the new places of every card (so the page moves the cards
    it has instead of receiving them all again); ``?partial=places`` only the places (a team
    closed). ``extra``: what the whole page adds to ``context`` (a function: only called for
    the whole page)."""
    partial = request.GET.get("partial")
    if partial == "chart":
        return render(request, "staffing/_chart_tree.html", context)
    if partial in ("team", "places") and context["frame"].view == ChartPreference.View.CHART:
        placed = _placed(context["frame"])
        if partial == "places":
            return JsonResponse(placed)
        team = request.GET.get("team", "")
        found = next((n for n, _ in _walk(context["nodes"]) if str(n.position.pk) == team), None)
        cards = found.children if found else []
        if found and context.get("shape_only"):  # the team's own cards, with their figures
            cards = children_of(context["scope"], found.position)
            for node in cards:
                at = context["frame"].places.get(node.position.pk)
                if at:
                    node.left, node.top, node.stacked = at
        return render(
            request, "staffing/_chart_team.html", {**context, "team": cards, "placed": placed}
        )
    return render(request, page, {**context, **(extra() if extra else {})})


def search_response(request, text: str, results, *, moving=None, nearby=None, **extra):
    """The search fragment (``_chart_search.html``) of the live chart and of a draft alike:
    the matches for ``text``, as links or, with ``?pick=``, as a dialog field's choices;
    ``moving`` the card being moved and ``nearby`` the places near it."""
    context = {
        "results": results,
        "q": text,
        "pick": request.GET.get("pick"),
        "moving": moving,
        "nearby": nearby,
        **extra,
    }
    return render(request, "staffing/_chart_search.html", context)


# --- a request's chart ------------------------------------------------------------------------


def visible_from(request, raw) -> Position | None:
    return visible_position(request_scope(request), raw)


def posted_open(request) -> set[int] | None:
    """The teams the chart had open when a change was sent (None if it did not say, or said
    it wrongly: the chart then opens as it does at first)."""
    try:
        return parse_open(request.POST.get("open"))
    except ValueError:
        return None


def chart_context(
    request,
    root_raw,
    focus_raw,
    *,
    opened: set[int] | None = None,
    level: int | None = None,
    shape_only: bool = False,
) -> dict:
    scope = request_scope(request)
    root = visible_from(request, root_raw)
    focus = visible_from(request, focus_raw)
    if focus is not None and root is not None and not root.contains(focus):
        root = None  # the card is outside the chosen root: show it from the top of the scope
    roots = roots_for(scope, root)
    top = roots[0] if len(roots) == 1 else None
    shape_only = shape_only and opened is not None
    nodes = build(scope, roots, focus=focus, opened=opened, level=level, shape_only=shape_only)
    return {
        "shape_only": shape_only,
        "scope": scope,
        "nodes": nodes,
        "frame": frame(nodes, view_for(request.user)),
        "root": root,
        "focus": focus,
        "breadcrumb": breadcrumb(scope, top) if top is not None else [],
        "top": top,
        "level": level,
    }
