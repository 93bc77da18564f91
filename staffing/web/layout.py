"""Where each card of a chart goes: one top-down layout for the chart on screen and for the
SVG and PNG exports.

Cards have a fixed size. A manager is centred over the teams below; a team whose members
have nobody shown below them is stacked as a column under its lead, so a chart grows with
the number of teams, not of agents. In a mixed team (some members lead teams of their own,
some do not) the members without teams form one such column, left of the others.

Pure arithmetic on anything with ``shown_children``, ``x``, ``y``, ``stacked`` and ``column``:
no queries, no Django.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

CARD_W, CARD_H = 230, 94
H_GAP, V_GAP, STACK_GAP, INDENT = 18, 34, 14, 20
LEAD_GAP = 18  # under the lead of a stacked column: room for its team's toggle
TREE_GAP = 2 * H_GAP  # between top cards side by side

Line = tuple[float, float, float, float]


class Placed(Protocol):
    x: float
    y: float
    stacked: bool
    column: float | None  # in a mixed team: where the column of members without teams is

    @property
    def shown_children(self) -> list["Placed"]: ...


@dataclass
class Arrangement:
    width: float  # from ``left``, the cards' right edge
    height: float  # from ``top``, the cards' bottom edge
    lines: list[Line]  # reporting lines, (x1, y1, x2, y2)


def _place(box: Placed, left: float, top: float) -> float:
    """Lays out ``box`` and its reports from (left, top); returns the width taken."""
    box.y = top
    children = box.shown_children
    box.stacked, box.column = False, None
    if not children:
        box.x = left
        return CARD_W
    leaves = [child for child in children if not child.shown_children]
    if len(leaves) == len(children):
        box.stacked = True
        box.x = left
        _stack(leaves, left + INDENT, top + CARD_H + LEAD_GAP)
        return INDENT + CARD_W
    x, below = left, top + CARD_H + V_GAP
    if len(leaves) > 1:  # a mixed team: its members without teams in one column first
        box.column = left
        _stack(leaves, left + INDENT, below)
        x += INDENT + CARD_W + H_GAP
        children = [child for child in children if child.shown_children]
    for child in children:
        x += _place(child, x, below) + H_GAP
    width = max(x - H_GAP - left, CARD_W)
    first = children[0].x if box.column is None else box.column + INDENT
    box.x = (first + children[-1].x) / 2  # centred over its first and last report
    return width


def _stack(cards: list[Placed], x: float, top: float) -> None:
    for i, card in enumerate(cards):
        card.x, card.y = x, top + i * (CARD_H + STACK_GAP)
        card.stacked, card.column = False, None


def _connectors(box: Placed, lines: list[Line]) -> None:
    children = box.shown_children
    if not children:
        return
    if box.stacked:
        trunk = box.x + INDENT / 2
        lines.append((trunk, box.y + CARD_H, trunk, children[-1].y + CARD_H / 2))
        for child in children:
            lines.append((trunk, child.y + CARD_H / 2, child.x, child.y + CARD_H / 2))
        return
    middle = box.x + CARD_W / 2
    bus = box.y + CARD_H + V_GAP / 2
    lines.append((middle, box.y + CARD_H, middle, bus))
    if box.column is not None:  # the column of members without teams hangs from the bus
        column = [child for child in children if not child.shown_children]
        children = [child for child in children if child.shown_children]
        trunk = box.column + INDENT / 2
        lines.append((trunk, bus, trunk, column[-1].y + CARD_H / 2))
        for child in column:
            lines.append((trunk, child.y + CARD_H / 2, child.x, child.y + CARD_H / 2))
    centres = [child.x + CARD_W / 2 for child in children]
    ends = [*centres, middle, *([box.column + INDENT / 2] if box.column is not None else [])]
    lines.append((min(ends), bus, max(ends), bus))
    for child, centre in zip(children, centres, strict=True):
        lines.append((centre, bus, centre, child.y))
        _connectors(child, lines)


def _bottom(box: Placed) -> float:
    return max([box.y, *(_bottom(child) for child in box.shown_children)])


def arrange(tops: Iterable[Placed], left: float = 0, top: float = 0) -> Arrangement:
    """Places ``tops`` side by side from (left, top), each over everything shown below it."""
    tops = list(tops)
    x = left
    for box in tops:
        x += _place(box, x, top) + TREE_GAP
    lines: list[Line] = []
    for box in tops:
        _connectors(box, lines)
    bottom = max((_bottom(box) for box in tops), default=top - CARD_H)
    return Arrangement(width=max(x - TREE_GAP - left, 0), height=bottom + CARD_H - top, lines=lines)
