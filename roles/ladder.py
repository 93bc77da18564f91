"""The geometry of a career ladder diagram; ``templates/roles/ladder.svg.html`` draws it as
inline SVG (no JavaScript). Every path is also listed as text under the diagram.

Two drawings of each ladder, the page shows the one that suits the screen:

* ``layout`` (wide screens): top down, one row per step along the ladder (the longest chain
  of promotions that leads to a role), arrows from a role down to the roles it leads to,
  labelled with the months they need. Roles within a row are ordered to keep arrows from
  crossing (barycentre sweeps, then swaps of neighbours, counting crossings), and a box sits
  under the roles it comes from, so a chain of promotions is a straight column. As wide as
  the widest row: four roles side by side fit the page's 1,152 px.
* ``outline`` (phones): one role per row in the order of a walk down the ladder; an arrow to
  the next row goes straight down, an arrow further down is a bracket in the left margin,
  the longer ones further out, so brackets nest and never cross. 340 px wide.
"""

from dataclasses import dataclass, field
from itertools import pairwise

from orgdesign.kernel.textwidth import fit, text_width, wrap
from roles.models import PromotionPath, Role
from roles.selectors import CareerGraph

BOX_W, BOX_H = 248, 56
COLUMN_GAP, RANK_GAP = 24, 60  # between boxes side by side; between rows (holds the labels)
DUMMY_W = 14  # a path passing a row takes this much room in it
MARGIN = 16
NAME, META, MONTHS = 12, 11, 11  # font sizes, px (static/css/app.css)
CONTENT_WIDTH = 1152  # the page's content at 1440 px (main: 1200 px less its padding)
NARROW_WIDTH = 340  # the page's content on a 390 px phone
OUTLINE_GAP = 26  # between rows of the outline (holds the label of the arrow into a box)
BRACKET_STEP = 9  # between the nested brackets of the outline
PASSES = 8


@dataclass
class Box:
    role: Role
    x: float
    y: float
    lines: list[str]
    meta: str
    width: float = BOX_W

    @property
    def middle_x(self) -> float:
        return self.x + self.width / 2

    @property
    def middle_y(self) -> float:
        return self.y + BOX_H / 2


@dataclass
class Arrow:
    path: PromotionPath
    d: str  # the SVG path
    label: str
    label_x: float
    label_y: float
    anchor: str = "middle"
    points: list[tuple[float, float]] = field(default_factory=list)  # the line, as drawn


@dataclass
class Ladder:
    graph: CareerGraph
    boxes: list[Box]
    arrows: list[Arrow]
    width: int
    height: int
    box_h: int = BOX_H
    variant: str = "wide"

    @property
    def key(self) -> str:
        """Unique on the page: the SVG's ids are made from it."""
        return f"{self.graph.track}-{self.variant}"


def _ranks(graph: CareerGraph) -> dict[int, int]:
    """Each role's row: 0 for roles nobody is promoted into, else one more than the furthest
    role that leads to it (a cycle in edited data stops at the number of roles)."""
    rank = {role.pk: 0 for role in graph.nodes}
    for _ in range(len(graph.nodes)):
        changed = False
        for p in graph.edges:
            wanted = rank[p.from_role_id] + 1
            if rank[p.to_role_id] < wanted <= len(graph.nodes):
                rank[p.to_role_id] = wanted
                changed = True
        if not changed:
            break
    return rank


def _name_lines(role: Role, width: float) -> list[str]:
    return wrap(role.name, NAME, width, lines=2, bold=True)


def _meta(role: Role, width: float) -> str:
    csat = f" · CSAT {role.csat_target.normalize():f} %" if role.csat_target is not None else ""
    tier = role.tier.name
    if text_width(tier + csat, META) > width:
        tier = fit(tier, META, width - text_width(csat, META))
    return tier + csat


def _bezier(p0, p1, p2, p3, steps: int = 12) -> list[tuple[float, float]]:
    out = []
    for i in range(1, steps + 1):
        t = i / steps
        a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
        out.append(
            (
                a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
                a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1],
            )
        )
    return out


# -- the wide drawing: rows top down ---------------------------------------------------


@dataclass
class _Node:
    key: object  # a role's pk, or (path pk, row) for a path passing a row
    rank: int
    width: float
    up: list = field(default_factory=list)  # nodes of the row above it is joined to
    down: list = field(default_factory=list)
    x: float = 0.0  # the left edge


def _crossings(upper: list[_Node], lower: list[_Node]) -> int:
    """How many pairs of the lines between two neighbouring rows cross."""
    place = {id(n): i for i, n in enumerate(lower)}
    ends = [(i, place[id(d)]) for i, n in enumerate(upper) for d in n.down]
    return sum(
        1 for k, (a, b) in enumerate(ends) for c, e in ends[k + 1 :] if (a - c) * (b - e) < 0
    )


def _total(rows: list[list[_Node]]) -> int:
    return sum(_crossings(rows[r], rows[r + 1]) for r in range(len(rows) - 1))


def _order(rows: list[list[_Node]]) -> list[list[_Node]]:
    """Rows reordered to cross as few lines as the sweeps find; the first order found with
    the fewest crossings is kept."""

    def centre(node: _Node, neighbours: list[_Node], index: dict) -> float:
        return sum(index[id(n)] for n in neighbours) / len(neighbours)

    best, fewest = [list(r) for r in rows], _total(rows)
    for sweep in range(PASSES):
        downward = sweep % 2 == 0
        ranks = range(1, len(rows)) if downward else range(len(rows) - 2, -1, -1)
        for r in ranks:
            fixed = rows[r - 1] if downward else rows[r + 1]
            index = {id(n): i for i, n in enumerate(fixed)}
            here = {id(n): i for i, n in enumerate(rows[r])}
            rows[r] = sorted(
                rows[r],
                key=lambda n: (
                    centre(n, n.up if downward else n.down, index)
                    if (n.up if downward else n.down)
                    else here[id(n)]
                ),
            )
        _transpose(rows)
        count = _total(rows)
        if count < fewest:
            best, fewest = [list(r) for r in rows], count
        if fewest == 0:
            break
    return best


def _transpose(rows: list[list[_Node]]) -> None:
    """Swap neighbours within a row while that lowers the crossings."""
    improved = True
    while improved:
        improved = False
        for r, row in enumerate(rows):
            for i in range(len(row) - 1):
                before = _total(rows[max(r - 1, 0) : r + 2])
                row[i], row[i + 1] = row[i + 1], row[i]
                if _total(rows[max(r - 1, 0) : r + 2]) < before:
                    improved = True
                else:
                    row[i], row[i + 1] = row[i + 1], row[i]


def _place(row: list[_Node], wanted: list[float]) -> None:
    """Left edges as near the wanted centres as the row's order and gaps allow (least
    squares, pooling neighbours that would overlap)."""
    offsets, total = [], 0.0
    for i, node in enumerate(row):
        if i:
            total += row[i - 1].width / 2 + COLUMN_GAP + node.width / 2
        offsets.append(total)
    blocks: list[list] = []  # [sum, count] of centre - offset, pooled
    for target, offset in zip(wanted, offsets, strict=True):
        blocks.append([target - offset, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, n = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += n
    i = 0
    for s, n in blocks:
        for _ in range(n):
            row[i].x = s / n + offsets[i] - row[i].width / 2
            i += 1


def layout(graph: CareerGraph) -> Ladder:
    """The wide drawing: rows top down, ordered so that no arrows cross where they need not."""
    rank = _ranks(graph)
    nodes = {role.pk: _Node(role.pk, rank[role.pk], BOX_W) for role in graph.nodes}
    chains: dict[int, list[_Node]] = {}  # path pk → the nodes it runs through, top down
    for p in graph.edges:
        start, end = nodes[p.from_role_id], nodes[p.to_role_id]
        chain = [start]
        for r in range(start.rank + 1, end.rank):  # a path across rows passes each of them
            chain.append(_Node((p.pk, r), r, DUMMY_W))
        chain.append(end)
        for a, b in pairwise(chain):
            if a.rank < b.rank:
                a.down.append(b)
                b.up.append(a)
        chains[p.pk] = chain
    depth = max((n.rank for n in nodes.values()), default=0) + 1
    rows: list[list[_Node]] = [[] for _ in range(depth)]
    for role in graph.nodes:  # in-track roles first, then by level
        rows[rank[role.pk]].append(nodes[role.pk])
    for chain in chains.values():
        for node in chain[1:-1]:
            rows[node.rank].append(node)
    rows = _order(rows)
    for row in rows:
        _place(row, [i * (BOX_W + COLUMN_GAP) for i in range(len(row))])
    for _ in range(PASSES // 2):  # under the roles it comes from, over those it leads to
        for links in ("up", "down"):
            order = rows[1:] if links == "up" else rows[-2::-1]
            for row in order:
                wanted = []
                for node in row:
                    linked = getattr(node, links)
                    wanted.append(
                        sum(n.x + n.width / 2 for n in linked) / len(linked)
                        if linked
                        else node.x + node.width / 2
                    )
                _place(row, wanted)
    left = min((n.x for row in rows for n in row), default=0)
    right = max((n.x + n.width for row in rows for n in row), default=BOX_W)

    def top(r: int) -> float:
        return MARGIN + r * (BOX_H + RANK_GAP)

    boxes = {}
    for role in graph.nodes:
        node = nodes[role.pk]
        boxes[role.pk] = Box(
            role,
            node.x - left + MARGIN,
            top(node.rank),
            _name_lines(role, BOX_W - 20),
            _meta(role, BOX_W - 20),
        )
    arrows, back = [], 0
    for p in graph.edges:
        chain = chains[p.pk]
        if chain[0].rank >= chain[-1].rank:  # a path back up (edited data): round the side
            margin = right - left + MARGIN
            arrows.append(_back(p, boxes[p.from_role_id], boxes[p.to_role_id], margin, back))
            back += 1
            continue
        d, points = "", []
        for a, b in pairwise(chain):
            x1, y1 = a.x - left + MARGIN + a.width / 2 + _port(a, "down", b), top(a.rank) + BOX_H
            x2, y2 = b.x - left + MARGIN + b.width / 2 + _port(b, "up", a), top(b.rank)
            if not d:
                d, points = f"M{x1:.1f},{y1:.1f}", [(x1, y1)]
            elif a.width == DUMMY_W:  # straight through the row it passes
                d += f" L{x1:.1f},{y1:.1f}"
                points.append((x1, y1))
            bend = RANK_GAP / 2
            c1, c2 = (x1, y1 + bend), (x2, y2 - bend)
            d += f" C{c1[0]:.1f},{c1[1]:.1f} {c2[0]:.1f},{c2[1]:.1f} {x2:.1f},{y2:.1f}"
            points += _bezier((x1, y1), c1, c2, (x2, y2))
        (x1, y1), (x2, y2) = points[-13], points[-1]  # the last gap's ends
        if abs(x2 - x1) < 1:
            lx, ly, anchor = x2 + 6, (y1 + y2) / 2 + 4, "start"
        else:
            lx, ly = points[-6]  # past the middle of the last bend, nearer its box
            ly, anchor = ly + 4, "middle"
        arrows.append(Arrow(p, d, p.months_display, lx, ly, anchor, points))
    width = int(right - left + 2 * MARGIN + (6 * back + 100 if back else 0))
    height = int(
        2 * MARGIN + depth * BOX_H + (depth - 1) * RANK_GAP + (6 * back + 10 if back else 0)
    )
    return Ladder(graph, list(boxes.values()), arrows, width, height)


def _port(node: _Node, links: str, other: _Node) -> float:
    """Where along a box's bottom (``down``) or top (``up``) edge the line to ``other`` meets
    it, from the middle: lines to several boxes leave side by side, in their boxes' order."""
    linked = sorted(getattr(node, links), key=lambda n: n.x)
    if len(linked) < 2 or node.width == DUMMY_W:
        return 0.0
    step = min(24.0, (node.width - 60) / (len(linked) - 1))
    index = next(i for i, n in enumerate(linked) if n is other)
    return (index - (len(linked) - 1) / 2) * step


def _back(p: PromotionPath, start: Box, end: Box, margin: float, k: int) -> Arrow:
    """A path up the ladder or within a row (only edited data has them): down into the gap
    under its box, along it to the right margin, up the margin and along the gap over the
    other box into its top. ``k`` counts such paths, each a little further out."""
    step = 6 * k
    x1, y1 = start.middle_x + 10, start.y + BOX_H
    x2, y2 = end.middle_x + 10, end.y
    below, above, side = y1 + 10 + step, y2 - 10 - step, margin + 12 + step
    d = f"M{x1:.1f},{y1:.1f} V{below:.1f} H{side:.1f} V{above:.1f} H{x2:.1f} V{y2:.1f}"
    points = [(x1, y1), (x1, below), (side, below), (side, above), (x2, above), (x2, y2)]
    return Arrow(p, d, p.months_display, side + 4, (below + above) / 2, "start", points)


# -- the narrow drawing: an outline ----------------------------------------------------


def outline(graph: CareerGraph, wide: Ladder | None = None) -> Ladder:
    """The phone drawing: one role per row, each followed by the roles it leads to (depth
    first, in the wide drawing's order left to right), so that a path either goes straight
    down to the next row or is a bracket in the margin that nests inside the longer ones."""
    wide = wide or layout(graph)
    placed = {b.role.pk: b for b in wide.boxes}
    by_pk = {role.pk: role for role in graph.nodes}
    rank = _ranks(graph)
    outgoing: dict[int, list[PromotionPath]] = {}
    for p in graph.edges:
        outgoing.setdefault(p.from_role_id, []).append(p)
    for paths in outgoing.values():
        paths.sort(key=lambda p: placed[p.to_role_id].x)
    order: list[int] = []
    seen: set[int] = set()

    def visit(pk: int) -> None:
        if pk in seen:
            return
        seen.add(pk)
        order.append(pk)
        for p in outgoing.get(pk, []):
            visit(p.to_role_id)

    starts = sorted(graph.nodes, key=lambda r: (rank[r.pk], placed[r.pk].y, placed[r.pk].x))
    for role in starts:
        visit(role.pk)
    row = {pk: i for i, pk in enumerate(order)}
    brackets = [p for p in graph.edges if row[p.to_role_id] != row[p.from_role_id] + 1]
    # a bracket's distance from the boxes: one step more than the brackets it encloses
    spans = {p.pk: sorted((row[p.from_role_id], row[p.to_role_id])) for p in brackets}
    level: dict[int, int] = {}
    for p in sorted(brackets, key=lambda p: spans[p.pk][1] - spans[p.pk][0]):
        low, high = spans[p.pk]
        inside = [
            level[q.pk]
            for q in brackets
            if q.pk in level and low <= spans[q.pk][0] and spans[q.pk][1] <= high
        ]
        level[p.pk] = 1 + max(inside, default=0)
    gutter = 8 + BRACKET_STEP * max(level.values(), default=0)
    box_w = NARROW_WIDTH - 2 * 4 - gutter
    x0 = 4 + gutter

    def top(i: int) -> float:
        return OUTLINE_GAP + i * (BOX_H + OUTLINE_GAP)

    boxes = [
        Box(
            by_pk[pk],
            x0,
            top(i),
            _name_lines(by_pk[pk], box_w - 20),
            _meta(by_pk[pk], box_w - 20),
            box_w,
        )
        for i, pk in enumerate(order)
    ]
    # brackets leave a box the higher the further they reach, so none crosses another
    leaving: dict[int, list[PromotionPath]] = {}
    for p in brackets:
        leaving.setdefault(p.from_role_id, []).append(p)
    exits = {}
    for pk, paths in leaving.items():
        paths.sort(key=lambda p: -level[p.pk])
        for k, p in enumerate(paths):
            exits[p.pk] = top(row[pk]) + 10 + k * (BOX_H - 20) / max(len(paths) - 1, 1)
    incoming: dict[int, list[PromotionPath]] = {}
    for p in graph.edges:
        incoming.setdefault(p.to_role_id, []).append(p)
    arrows = []
    for p in graph.edges:
        i, j = row[p.from_role_id], row[p.to_role_id]
        if j == i + 1:
            x = x0 + 22
            y1, y2 = top(i) + BOX_H, top(j)
            d, points = f"M{x:.1f},{y1:.1f} L{x:.1f},{y2:.1f}", [(x, y1), (x, y2)]
        else:
            xb = x0 - 4 - BRACKET_STEP * level[p.pk]
            y1, y2 = exits[p.pk], top(j) + BOX_H / 2
            d = f"M{x0:.1f},{y1:.1f} H{xb:.1f} V{y2:.1f} H{x0:.1f}"
            points = [(x0, y1), (xb, y1), (xb, y2), (x0, y2)]
        into = incoming[p.to_role_id]  # one label over the box says how to get in
        text = p.months_display
        if len(into) > 1:
            text = "; ".join(f"{q.months_display} as {q.from_role.name}" for q in into)
        label = fit(text, MONTHS, box_w - 32) if p is into[0] else ""
        arrows.append(Arrow(p, d, label, x0 + 30, top(j) - 8, "start", points))
    height = int(top(len(order)))
    return Ladder(graph, boxes, arrows, NARROW_WIDTH, height, variant="narrow")
