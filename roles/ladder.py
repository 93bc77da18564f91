"""The geometry of a career ladder diagram; ``templates/roles/ladder.svg.html`` draws it as
inline SVG (no JavaScript). Roles are boxes in columns by step along the ladder (the longest
chain of promotions that leads to them), paths are arrows labelled with the months they
need. Every path is also listed as text under the diagram."""

from dataclasses import dataclass

from roles.models import PromotionPath, Role
from roles.selectors import CareerGraph

BOX_W, BOX_H = 230, 52
COLUMN_GAP, ROW_GAP = 110, 22
MARGIN = 16


@dataclass
class Box:
    role: Role
    x: float
    y: float
    lines: list[str]

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


@dataclass
class Ladder:
    graph: CareerGraph
    boxes: list[Box]
    arrows: list[Arrow]
    width: int
    height: int
    box_w: int = BOX_W
    box_h: int = BOX_H


def _wrap(text: str, width: int = 28) -> list[str]:
    """At most two lines of about ``width`` characters; the rest is cut with an ellipsis."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    if len(lines) > 2:
        lines = [lines[0], (lines[1] + "…")[: width + 1]]
    return lines


def _columns(graph: CareerGraph) -> dict[int, int]:
    """Each role's column: 0 for roles nobody is promoted into, else one more than the
    furthest role that leads to it (a cycle in edited data stops at the number of roles)."""
    column = {role.pk: 0 for role in graph.nodes}
    for _ in range(len(graph.nodes)):
        changed = False
        for p in graph.edges:
            wanted = column[p.from_role_id] + 1
            if column[p.to_role_id] < wanted <= len(graph.nodes):
                column[p.to_role_id] = wanted
                changed = True
        if not changed:
            break
    return column


def _curve(*points: tuple[float, float]) -> str:
    (x0, y0), *rest = points
    return f"M{x0:.0f},{y0:.0f} C" + " ".join(f"{x:.0f},{y:.0f}" for x, y in rest)


def layout(graph: CareerGraph) -> Ladder:
    column = _columns(graph)
    stacks: dict[int, list[Role]] = {}
    for role in graph.nodes:  # in-track roles first, then by level
        stacks.setdefault(column[role.pk], []).append(role)
    boxes: dict[int, Box] = {}
    for col, roles in stacks.items():
        for row, role in enumerate(roles):
            boxes[role.pk] = Box(
                role,
                MARGIN + col * (BOX_W + COLUMN_GAP),
                MARGIN + row * (BOX_H + ROW_GAP),
                _wrap(role.name),
            )
    arrows = []
    for p in graph.edges:
        start, end = boxes[p.from_role_id], boxes[p.to_role_id]
        x1, y1 = start.x + BOX_W, start.middle_y
        x2, y2 = end.x, end.middle_y
        if x2 <= x1:  # a path back to an earlier column (edited data): go round below
            low = max(start.y, end.y) + BOX_H + ROW_GAP / 2
            d = _curve((x1, y1), (x1 + 40, low), (x2 - 40, low), (x2, y2))
            lx, ly = (x1 + x2) / 2, low
        else:
            bend = (x2 - x1) / 2
            d = _curve((x1, y1), (x1 + bend, y1), (x2 - bend, y2), (x2, y2))
            lx, ly = x2 - 10, y2 - 6  # by the arrow's head: fanned-out labels do not collide
        arrows.append(Arrow(p, d, p.months_display, lx, ly))
    columns = max(column.values(), default=0) + 1
    rows = max((len(r) for r in stacks.values()), default=1)
    return Ladder(
        graph,
        list(boxes.values()),
        arrows,
        width=int(2 * MARGIN + columns * BOX_W + (columns - 1) * COLUMN_GAP),
        height=int(2 * MARGIN + rows * BOX_H + (rows - 1) * ROW_GAP + ROW_GAP),
    )
