"""The escalation path as a picture: where work goes when a tier cannot finish it, drawn by
``templates/tiers/escalation.svg.html`` as inline SVG (no JavaScript). The same hops are
listed as text under the picture.

The path holds every tier that answers customers (it has channels) or takes part in an
escalation (it escalates, or work escalates to it), in rank order; after the last tier of a
chain comes engineering (product development, outside the support organization), where
the hardest issues go when only a change to the product fixes them. Tiers off the path
(support operations, management) are named under it.

Two drawings, the page shows the one that suits the screen (as the career ladder does):

* ``layout`` (wide screens): one row, left to right; an arrow to the next box runs straight
  across the gap, labelled above the line with what sends work on; an arrow that skips
  boxes (edited data only) arcs over the row, one that goes back arcs under it.
* ``column`` (phones): one box per row, top down, each as tall as its lines; an arrow to
  the next box goes straight down with its label beside it, any other is a bracket in the
  left margin.
"""

from dataclasses import dataclass, field

from orgdesign.kernel.textwidth import fit, wrap
from tiers.models import Tier

NAME, META, LABEL = 12, 11, 11  # font sizes, px (static/css/app.css, svg.escalation)
CONTENT_WIDTH = 1152  # the page's content at 1440 px (main: 1200 px less its padding)
NARROW_WIDTH = 340  # the page's content on a 390 px phone
MARGIN = 16
GAP = 96  # between boxes side by side: holds the arrow and its label
BOX_MAX_W, BOX_MIN_W = 200, 130
ROW_GAP = 34  # between boxes of the column: holds the arrow and its label
ARC_STEP = 18  # between nested arcs (wide) or brackets (column)
PAD = 8  # text inside a box, from its left edge
NAME_STEP, META_STEP = 15, 14  # line heights
FIRST_LINE = 22  # the first baseline, from a box's top (under its coloured band)
BAND = 6  # the coloured band along a box's top
NAME_LINES = 3  # a tier's name is wrapped over at most this many lines, then cut

ENGINEERING = "engineering"
ENGINEERING_COLOUR = "#374151"


@dataclass
class Step:
    """A box: a tier, or engineering (``tier`` None)."""

    key: str  # the tier's code, or "engineering"
    name: str
    meta: list[str]  # the lines under the name: time per issue, share of tickets
    colour: str
    tier: Tier | None = None
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0
    lines: list[str] = field(default_factory=list)  # the name, wrapped to the box
    shown_meta: list[str] = field(default_factory=list)  # the meta lines, fitted to the box

    @property
    def href(self) -> str:
        return f"#{self.tier.anchor}" if self.tier is not None else ""

    @property
    def label(self) -> str:
        """The box's accessible name: all it says, on one line."""
        return "; ".join([self.name, *self.meta])

    @property
    def band(self) -> str:
        """The coloured band along the box's top, its corners rounded like the box's."""
        x, y, w, r = self.x, self.y, self.width, 6
        return (
            f"M{x:.1f},{y + BAND:.1f} V{y + r:.1f} Q{x:.1f},{y:.1f} {x + r:.1f},{y:.1f} "
            f"H{x + w - r:.1f} Q{x + w:.1f},{y:.1f} {x + w:.1f},{y + r:.1f} V{y + BAND:.1f} Z"
        )

    def baselines(self) -> list[tuple[float, str, str]]:
        """(y, text, CSS class) of each line drawn in the box."""
        out, y = [], self.y + FIRST_LINE
        for line in self.lines:
            out.append((y, line, "name"))
            y += NAME_STEP
        y += META_STEP - NAME_STEP
        for line in self.shown_meta:
            out.append((y, line, "meta"))
            y += META_STEP
        return out

    @property
    def text_x(self) -> float:
        return self.x + PAD


@dataclass
class Hop:
    """An arrow: work going from one box to another."""

    source: Step
    target: Step
    why: str  # what sends the work on ("" when the catalogue does not say)
    d: str = ""
    label_lines: list[str] = field(default_factory=list)
    label_x: float = 0.0
    label_y: float = 0.0  # the first line's baseline
    anchor: str = "middle"
    points: list[tuple[float, float]] = field(default_factory=list)  # the line, as drawn

    @property
    def text(self) -> str:
        said = f"{self.source.name} → {self.target.name}"
        return f"{said}: {self.why}" if self.why else said

    def label_baselines(self) -> list[tuple[float, str]]:
        return [(self.label_y + i * (LABEL + 2), line) for i, line in enumerate(self.label_lines)]


@dataclass
class Path:
    steps: list[Step]
    hops: list[Hop]
    off_path: list[Tier]
    width: int = 0
    height: int = 0
    variant: str = "wide"

    @property
    def key(self) -> str:
        """Unique on the page: the SVG's ids are made from it."""
        return f"escalation-{self.variant}"

    @property
    def description(self) -> str:
        """The picture in one sentence or a few (the SVG's ``desc``)."""
        said = []
        for hop in self.hops:
            why = f" ({hop.why})" if hop.why else ""
            said.append(f"{hop.source.name} passes work to {hop.target.name}{why}")
        return ("; ".join(said) + ".") if said else "No tier passes work on."


def _time(tier: Tier) -> str:
    if not tier.staffed:
        return "not staffed"
    if tier.target_handling_minutes:
        return f"≤ {tier.target_handling_minutes} min an issue"
    return "no time limit"


def _meta(tier: Tier) -> list[str]:
    """The lines under a tier's name: its time per issue, and its share of tickets when the
    catalogue gives one."""
    share = tier.volume_share_display
    return [_time(tier)] + ([f"{share} of tickets"] if share != "—" else [])


def _why(source: Tier, target: Step) -> str:
    """What sends work from ``source`` to ``target``, in a few words."""
    if target.tier is None:
        return "needs a product fix"
    if not source.staffed:
        return "needs a person"
    if source.target_handling_minutes:
        return f"after {source.target_handling_minutes} min"
    return ""


def on_path(tiers: list[Tier]) -> list[Tier]:
    """The tiers the escalation path holds, in rank order (see the module's docstring)."""
    targets = {t.escalates_to_id for t in tiers if t.escalates_to_id}
    return [t for t in tiers if t.channels or t.escalates_to_id or t.pk in targets]


def steps_and_hops(tiers: list[Tier]) -> tuple[list[Step], list[Hop]]:
    """The boxes in order (engineering last, when a chain ends) and the arrows between them."""
    path = sorted(on_path(tiers), key=lambda t: t.rank)
    steps = {t.pk: Step(t.code, t.name, _meta(t), t.colour, t) for t in path}
    engineering = Step(ENGINEERING, "Engineering", ["product development"], ENGINEERING_COLOUR)
    hops = []
    for tier in path:
        target = steps.get(tier.escalates_to_id) if tier.escalates_to_id else engineering
        if target is None:  # escalates to a tier that is not loaded: nothing to draw
            continue
        hops.append(Hop(steps[tier.pk], target, _why(tier, target)))
    ordered = list(steps.values())
    if any(h.target is engineering for h in hops):
        ordered.append(engineering)
    return ordered, hops


def _fill(step: Step, width: float) -> None:
    step.width = width
    step.lines = wrap(step.name, NAME, width - 2 * PAD, lines=NAME_LINES, bold=True)
    step.shown_meta = [fit(line, META, width - 2 * PAD) for line in step.meta]


def _box_height(steps: list[Step]) -> float:
    names = max((len(s.lines) for s in steps), default=1)
    metas = max((len(s.shown_meta) for s in steps), default=0)
    return FIRST_LINE + NAME_STEP * (names - 1) + META_STEP * metas + 9


def layout(tiers: list[Tier], *, width: int = CONTENT_WIDTH) -> Path:
    """The wide drawing: one row, left to right. When the boxes would be narrower than
    ``BOX_MIN_W``, the column drawing (as wide as a box can usefully be) stands in."""
    steps, hops = steps_and_hops(tiers)
    off = [t for t in tiers if t not in on_path(tiers)]
    n = len(steps)
    if not n:
        return Path([], [], off, 0, 0)
    box_w = min(BOX_MAX_W, (width - 2 * MARGIN - (n - 1) * GAP) / n)
    if box_w < BOX_MIN_W:
        return column(tiers, width=min(width, 480), variant="wide")
    for step in steps:
        _fill(step, box_w)
    box_h = _box_height(steps)
    index = {id(s): i for i, s in enumerate(steps)}
    label_room = LABEL + 6
    over = [h for h in hops if index[id(h.target)] > index[id(h.source)] + 1]
    under = [h for h in hops if index[id(h.target)] <= index[id(h.source)]]
    over.sort(key=lambda h: index[id(h.target)] - index[id(h.source)])
    under.sort(key=lambda h: index[id(h.source)] - index[id(h.target)])
    top = MARGIN + (len(over) * ARC_STEP + label_room if over else 0)
    for i, step in enumerate(steps):
        step.x, step.y, step.height = MARGIN + i * (box_w + GAP), top, box_h
    bottom = top + box_h
    for hop in hops:
        a, b = hop.source, hop.target
        if hop in over:
            level = over.index(hop) + 1
            x1, x2 = a.x + a.width * 0.7, b.x + b.width * 0.3
            y = top - 10 - ARC_STEP * (level - 1)
            hop.d = f"M{x1:.1f},{top:.1f} V{y:.1f} H{x2:.1f} V{top:.1f}"
            hop.points = [(x1, top), (x1, y), (x2, y), (x2, top)]
            hop.label_lines = [fit(hop.why, LABEL, x2 - x1 - 8)] if hop.why else []
            hop.label_x, hop.label_y = (x1 + x2) / 2, y - 4
        elif hop in under:
            level = under.index(hop) + 1
            x1, x2 = a.x + a.width * 0.3, b.x + b.width * 0.7
            if a is b:  # to itself (edited data): a loop under the box
                x1, x2 = a.x + a.width * 0.35, a.x + a.width * 0.65
            y = bottom + 10 + ARC_STEP * (level - 1)
            hop.d = f"M{x1:.1f},{bottom:.1f} V{y:.1f} H{x2:.1f} V{bottom:.1f}"
            hop.points = [(x1, bottom), (x1, y), (x2, y), (x2, bottom)]
            hop.label_lines = [fit(hop.why, LABEL, abs(x1 - x2) - 8)] if hop.why else []
            hop.label_x, hop.label_y = (x1 + x2) / 2, y + LABEL + 2
        else:  # to the next box: straight across the gap
            x1, x2, y = a.x + a.width, b.x, top + box_h / 2
            hop.d = f"M{x1:.1f},{y:.1f} H{x2:.1f}"
            hop.points = [(x1, y), (x2, y)]
            hop.label_lines = wrap(hop.why, LABEL, GAP - 10, lines=2) if hop.why else []
            hop.label_x = (x1 + x2) / 2
            hop.label_y = y - 7 - (LABEL + 2) * (len(hop.label_lines) - 1)
    drawn_w = 2 * MARGIN + n * box_w + (n - 1) * GAP
    height = bottom + MARGIN + (len(under) * ARC_STEP + label_room if under else 0)
    return Path(steps, hops, off, int(drawn_w + 0.5), int(height + 0.5))


def column(tiers: list[Tier], *, width: int = NARROW_WIDTH, variant: str = "narrow") -> Path:
    """The phone drawing: one box per row, top down."""
    steps, hops = steps_and_hops(tiers)
    off = [t for t in tiers if t not in on_path(tiers)]
    if not steps:
        return Path([], [], off, 0, 0, variant)
    index = {id(s): i for i, s in enumerate(steps)}
    brackets = [h for h in hops if index[id(h.target)] != index[id(h.source)] + 1]
    brackets.sort(key=lambda h: abs(index[id(h.target)] - index[id(h.source)]))
    gutter = (8 + ARC_STEP * len(brackets)) if brackets else 0
    x0 = 4 + gutter
    box_w = width - 4 - x0
    for step in steps:
        _fill(step, box_w)
    y = 4.0
    for step in steps:  # each box as tall as its own lines
        step.x, step.y, step.height = x0, y, _box_height([step])
        y += step.height + ROW_GAP
    for hop in hops:
        a, b = hop.source, hop.target
        if hop in brackets:
            level = brackets.index(hop) + 1
            xb = x0 - 4 - ARC_STEP * (level - 1) - 6
            y1, y2 = a.y + a.height * 0.3, b.y + b.height * 0.7
            hop.d = f"M{x0:.1f},{y1:.1f} H{xb:.1f} V{y2:.1f} H{x0:.1f}"
            hop.points = [(x0, y1), (xb, y1), (xb, y2), (x0, y2)]
            # no room for words in the margin: the arrow's title and the list below say it
        else:
            x, y1, y2 = x0 + 24, a.y + a.height, b.y
            hop.d = f"M{x:.1f},{y1:.1f} V{y2:.1f}"
            hop.points = [(x, y1), (x, y2)]
            hop.label_lines = [fit(hop.why, LABEL, box_w - 40)] if hop.why else []
            hop.label_x, hop.label_y, hop.anchor = x + 10, (y1 + y2) / 2 + 4, "start"
    height = steps[-1].y + steps[-1].height + 4
    return Path(steps, hops, off, int(width), int(height + 0.5), variant)
