"""The geometry of the dashboard's charts; templates in ``templates/metrics/charts/`` draw it
as inline SVG. No JavaScript, nothing fetched: every chart also carries its numbers as text,
and filled, open and planned differ by pattern as well as colour."""

from dataclasses import dataclass, field

from metrics.dashboard import Group, SpanFigures

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
    label: str
    total: int
    segments: list[Segment]
    end: float
    colour: str = ""


@dataclass
class Bars:
    title: str
    rows: list[BarRow]
    width: int
    height: int
    label_width: int
    bar_height: int
    legend: list[tuple[str, str]] = field(default_factory=lambda: [s[1:] for s in STATUS_STYLES])


def bars(title: str, groups: list[Group], *, limit: int = 15, width: int = 460) -> Bars:
    """Horizontal bars, one per group (the ``limit`` largest), split into filled, open and
    planned."""
    shown = groups[:limit]
    label_width, bar_height, gap, top = 150, 18, 8, 6
    room = width - label_width - 60
    largest = max((g.total for g in shown), default=0) or 1
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
        name = group.name if len(group.name) <= 24 else group.name[:23] + "…"
        rows.append(BarRow(y, name, group.total, segments, x + 6, group.colour))
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


def histogram(figures: SpanFigures, *, width: int = 460, height: int = 170) -> Histogram:
    """How many positions of one manager role have each number of direct reports, with the
    rule's range shaded."""
    values = figures.histogram
    left, base = 30, height - 30
    step = (width - left - 10) / max(len(values), 1)
    most = max((n for _, n in values), default=0) or 1
    low, high = figures.rule.min_direct, figures.rule.max_direct
    columns = []
    for i, (value, n) in enumerate(values):
        h = (base - 20) * n / most
        inside = (low is None or value >= low) and (high is None or value <= high)
        columns.append(Column(left + i * step + 2, base - h, step - 4, h, value, n, inside))
    band = None
    inside_columns = [c for c in columns if c.inside]
    if inside_columns and (low is not None or high is not None):
        start = inside_columns[0].x - 2
        band = (start, inside_columns[-1].x + inside_columns[-1].width + 2 - start)
    title = f"{figures.role}: direct reports per position"
    return Histogram(title, columns, width, height, base, band, figures.direct_judged["range"])


@dataclass
class Series:
    name: str
    points: str  # SVG polyline points
    marks: list[tuple[float, float, int]]  # x, y, value
    dash: str
    shape: str
    last: tuple[float, float, int] | None


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


def lines(snapshots, *, width: int = 460, height: int = 200) -> Lines | None:
    """Total, filled and open positions over the snapshots (oldest first)."""
    if len(snapshots) < 2:
        return None
    left, right, top, base = 40, 70, 12, height - 28
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
    return Lines(
        "Positions over time",
        series,
        width,
        height,
        f"{snapshots[0].taken_at:%d %b %Y}",
        f"{snapshots[-1].taken_at:%d %b %Y}",
        most,
        base,
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
