"""The geometry of the dashboard's charts; templates in ``templates/metrics/charts/`` draw it
as inline SVG. No JavaScript, nothing fetched: every chart also carries its numbers as text,
and filled, open and planned differ by pattern as well as colour."""

import math
from dataclasses import dataclass, field

from metrics.dashboard import Group, SpanFigures
from orgdesign.kernel.textwidth import fit, text_width

FONT = 12  # px, the charts' text (static/css/app.css sets the same on svg.chart)
NOTE = 11  # px, notes and axis labels

STATUS_STYLES = [  # status, label, fill (patterns are defined in the page once)
    ("filled", "Filled", "var(--filled)"),
    ("open", "Open", "url(#pattern-open)"),
    ("planned", "Planned", "url(#pattern-planned)"),
]


@dataclass
class Segment:
    x: float
    width: float
    status: str
    label: str
    fill: str
    n: int


@dataclass
class BarRow:
    y: float
    label: str  # as drawn: cut with an ellipsis to the label column
    total: int
    segments: list[Segment]
    end: float
    colour: str = ""
    name: str = ""  # in full, for the tooltip


@dataclass
class Bars:
    title: str
    rows: list[BarRow]
    width: int
    height: int
    label_width: int
    bar_height: int
    legend: list[tuple[str, str]] = field(default_factory=lambda: [s[1:] for s in STATUS_STYLES])

    @property
    def label_end(self) -> int:
        """Where the labels end (they are drawn right-aligned to it)."""
        return self.label_width - LABEL_PAD


LABEL_PAD = 9  # between a label and its bar; the tier's colour mark sits in it


def bars(title: str, groups: list[Group], *, limit: int = 15, width: int = 400) -> Bars:
    """Horizontal bars, one per group (the ``limit`` largest), split into filled, open and
    planned. The label column is as wide as the longest label needs, up to half of ``width``;
    a label longer than that is cut with an ellipsis (the table beside it has it whole)."""
    shown = groups[:limit]
    bar_height, gap, top = 18, 8, 6
    widest = max((text_width(g.name, FONT) for g in shown), default=0)
    label_width = math.ceil(min(max(widest, 40) + LABEL_PAD + 4, width * 0.5))
    largest = max((g.total for g in shown), default=0) or 1
    room = width - label_width - text_width(str(largest), FONT, bold=True) - 12
    rows = []
    for i, group in enumerate(shown):
        y = top + i * (bar_height + gap)
        x = float(label_width)
        segments = []
        for status, label, fill in STATUS_STYLES:
            n = getattr(group, status)
            if n:
                w = room * n / largest
                segments.append(Segment(x, max(w, 1.5), status, label, fill, n))
                x += w
        name = fit(group.name, FONT, label_width - LABEL_PAD - 4)
        rows.append(BarRow(y, name, group.total, segments, x + 6, group.colour, group.name))
    height = top * 2 + len(rows) * (bar_height + gap)
    return Bars(title, rows, width, max(height, 30), label_width, bar_height)


@dataclass
class Column:
    x: float
    y: float
    width: float
    height: float
    value: int
    n: int
    inside: bool  # within the rule's range

    @property
    def centre(self) -> float:
        return self.x + self.width / 2


@dataclass
class Histogram:
    title: str
    columns: list[Column]
    width: int
    height: int
    base: float
    band: tuple[float, float] | None  # x and width of the rule's range
    rule: str
    note_x: float = 0  # where the band's "allowed: …" note starts
    note_y: float = NOTE + 3  # its baseline, in a strip above the tallest column's count

    @property
    def plot_top(self) -> float:
        """The top of the tallest column: its count sits between the note and it."""
        return self.note_y + 4 + FONT + 3


def histogram(figures: SpanFigures, *, width: int = 400, height: int = 180) -> Histogram:
    """How many positions of one manager role have each number of direct reports, with the
    rule's range shaded. The range's note has a strip of its own above the columns' counts,
    so a count never runs into it; columns are at most 44 px wide, centred."""
    values = figures.histogram
    left, right, base = 30, 10, height - 30
    step = min((width - left - right) / max(len(values), 1), 48)
    left += (width - left - right - step * len(values)) / 2
    most = max((n for _, n in values), default=0) or 1
    low, high = figures.rule.min_direct, figures.rule.max_direct
    chart = Histogram(
        f"{figures.role}: direct reports per position",
        [],
        width,
        height,
        base,
        None,
        figures.direct_judged["range"],
    )
    for i, (value, n) in enumerate(values):
        h = (base - chart.plot_top) * n / most
        inside = (low is None or value >= low) and (high is None or value <= high)
        chart.columns.append(Column(left + i * step + 2, base - h, step - 4, h, value, n, inside))
    inside_columns = [c for c in chart.columns if c.inside]
    if inside_columns and (low is not None or high is not None):
        start = inside_columns[0].x - 2
        chart.band = (start, inside_columns[-1].x + inside_columns[-1].width + 2 - start)
        note = text_width(f"allowed: {chart.rule}", NOTE)
        chart.note_x = max(2.0, min(start + 4, width - 2 - note))
    return chart


@dataclass
class Series:
    name: str
    points: str  # SVG polyline points
    marks: list[tuple[float, float, int]]  # x, y, value
    dash: str
    shape: str
    last: tuple[float, float, int] | None
    label_y: float = 0  # the baseline of its "name value" label at the right end


@dataclass
class Lines:
    title: str
    series: list[Series]
    width: int
    height: int
    first: str
    last: str
    top_value: int
    base: float
    plot_right: float  # where the time axis ends; the lines' names are right of it


LINE_LABEL_GAP = FONT + 2  # the least distance between two end labels' baselines


def spread(wanted: list[float], gap: float, low: float, high: float) -> list[float]:
    """Baselines as near ``wanted`` as they can be while at least ``gap`` apart and within
    ``low``–``high`` (in the order given by ``wanted``)."""
    order = sorted(range(len(wanted)), key=lambda i: wanted[i])
    placed: dict[int, float] = {}
    previous = None
    for i in order:  # down from the top, pushing each below the one above
        y = max(wanted[i], low)
        if previous is not None:
            y = max(y, previous + gap)
        placed[i] = previous = y
    following = None
    for i in reversed(order):  # then up from the bottom, if that ran off it
        y = min(placed[i], high)
        if following is not None:
            y = min(y, following - gap)
        placed[i] = following = y
    return [placed[i] for i in range(len(wanted))]


def lines(snapshots, *, width: int = 420, height: int = 200) -> Lines | None:
    """Total, filled and open positions over the snapshots (oldest first). Each line is named
    at its right end with its last value; the names are moved apart where lines end close
    together."""
    if len(snapshots) < 2:
        return None
    last = snapshots[-1]
    widest = max(
        text_width(f"{name} {value}", FONT)
        for name, value in (("Total", last.total), ("Filled", last.filled), ("Open", last.open))
    )
    left, top, base = 40, 12, height - 28
    right = int(widest + 14)
    most = max(s.total for s in snapshots) or 1
    span = (snapshots[-1].taken_at - snapshots[0].taken_at).total_seconds() or 1

    def x(snapshot) -> float:
        elapsed = (snapshot.taken_at - snapshots[0].taken_at).total_seconds()
        return left + (width - left - right) * elapsed / span

    def y(value: int) -> float:
        return base - (base - top) * value / most

    series = []
    for name, attr, dash, shape in (
        ("Total", "total", "", "circle"),
        ("Filled", "filled", "6 3", "square"),
        ("Open", "open", "2 3", "triangle"),
    ):
        marks = [(x(s), y(getattr(s, attr)), getattr(s, attr)) for s in snapshots]
        points = " ".join(f"{px:.1f},{py:.1f}" for px, py, _ in marks)
        series.append(Series(name, points, marks[-40:], dash, shape, marks[-1]))
    baselines = spread([s.last[1] + 4 for s in series], LINE_LABEL_GAP, FONT, base + 4)
    for line, baseline in zip(series, baselines, strict=True):
        line.label_y = baseline
    return Lines(
        "Positions over time",
        series,
        width,
        height,
        f"{snapshots[0].taken_at:%d %b %Y}",
        f"{snapshots[-1].taken_at:%d %b %Y}",
        most,
        base,
        width - right,
    )


@dataclass
class Spark:
    points: str
    target_y: float | None
    last: tuple[float, float]
    width: int
    height: int


def sparkline(values: list, target=None, *, width: int = 120, height: int = 28) -> Spark | None:
    """A small line of a KPI's recent values with its target as a dashed line."""
    if len(values) < 2:
        return None
    numbers = [float(v) for v in values]
    if target is not None:
        numbers.append(float(target))
    low, high = min(numbers), max(numbers)
    room = (high - low) or 1

    def y(v) -> float:
        return 3 + (height - 6) * (1 - (float(v) - low) / room)

    step = (width - 6) / (len(values) - 1)
    marks = [(3 + i * step, y(v)) for i, v in enumerate(values)]
    points = " ".join(f"{px:.1f},{py:.1f}" for px, py in marks)
    return Spark(points, y(target) if target is not None else None, marks[-1], width, height)
