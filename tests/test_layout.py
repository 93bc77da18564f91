"""The chart's layout as arithmetic: no overlapping cards, managers centred over their
teams, members without teams stacked (a whole team, or one column of a mixed team), and no
reporting line running through a card."""

from dataclasses import dataclass, field

from staffing.web.layout import CARD_H, CARD_W, INDENT, arrange


@dataclass
class Card:
    name: str
    children: list["Card"] = field(default_factory=list)
    x: float = 0
    y: float = 0
    stacked: bool = False
    column: float | None = None

    @property
    def shown_children(self):
        return self.children


def team(name: str, size: int) -> Card:
    return Card(name, [Card(f"{name} {i}") for i in range(size)])


def every(card: Card):
    yield card
    for child in card.children:
        yield from every(child)


def overlaps(a: Card, b: Card) -> bool:
    return a.x < b.x + CARD_W and b.x < a.x + CARD_W and a.y < b.y + CARD_H and b.y < a.y + CARD_H


def crosses(line, card: Card) -> bool:
    """Whether a horizontal or vertical reporting line runs through a card's inside."""
    x1, y1, x2, y2 = line
    left, right, top, bottom = card.x + 1, card.x + CARD_W - 1, card.y + 1, card.y + CARD_H - 1
    if y1 == y2:
        return top < y1 < bottom and min(x1, x2) < right and max(x1, x2) > left
    return left < x1 < right and min(y1, y2) < bottom and max(y1, y2) > top


def test_a_mixed_team_puts_its_members_without_teams_in_one_column():
    lead = Card("Lead", [Card("Agent 1"), team("Sub-lead", 8), Card("Agent 2"), Card("Agent 3")])
    arranged = arrange([lead])
    agents = [c for c in lead.children if not c.children]
    sub = lead.children[1]
    assert lead.column == 0 and not lead.stacked
    assert {a.x for a in agents} == {INDENT}  # one column, indented under the bus
    assert [a.y for a in agents] == sorted(a.y for a in agents)
    assert sub.x > INDENT + CARD_W and sub.stacked  # the sub-lead's agents stack under it
    assert lead.x == (INDENT + sub.x) / 2  # centred over the column and the team
    assert arranged.width == INDENT + CARD_W + 18 + INDENT + CARD_W  # two columns wide
    cards = list(every(lead))
    assert not any(overlaps(a, b) for i, a in enumerate(cards) for b in cards[i + 1 :])
    assert not any(crosses(line, card) for line in arranged.lines for card in cards)


def test_a_deep_organization_has_no_overlaps_and_no_line_through_a_card():
    director = Card(
        "Director",
        [
            Card("Manager A", [team("Lead A", 9), team("Lead B", 3), Card("Analyst")]),
            Card("Manager B", [team("Lead C", 12)]),
            Card("Assistant"),
            Card("Manager C", [Card("Spec 1"), Card("Spec 2"), team("Lead D", 2)]),
        ],
    )
    arranged = arrange([director, team("Other", 4)], 16, 16)
    cards = [c for top in (director,) for c in every(top)]
    assert not any(overlaps(a, b) for i, a in enumerate(cards) for b in cards[i + 1 :])
    assert not any(crosses(line, card) for line in arranged.lines for card in cards)
    for manager in cards:
        if manager.children and not manager.stacked:
            shown = (
                [c for c in manager.children if c.children]
                if manager.column is not None
                else manager.children
            )
            first = shown[0].x if manager.column is None else manager.column + INDENT
            assert manager.x == (first + shown[-1].x) / 2
    assert arranged.height == max(c.y for c in cards) + CARD_H - 16
