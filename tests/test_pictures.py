"""Pictures that read well: the dashboard's charts keep their text inside the picture and
apart, the career ladders fit the page and no arrows cross, sentences take "a" or "an" as
the role's name is said, and a median reads the same everywhere."""

import datetime
import re
import xml.etree.ElementTree as ET
from itertools import combinations, pairwise
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string

from metrics import charts, dashboard
from orgdesign.kernel.textwidth import text_width, wrap
from orgdesign.kernel.words import a_or_an
from roles.ladder import CONTENT_WIDTH, NARROW_WIDTH, layout, outline
from roles.models import SpanRule
from roles.selectors import career_graphs
from staffing.selectors import Group

SVG = ""  # inline SVG in the page: no namespace of its own
LONG_NAMES = [
    "Customer Advocate",
    "Senior Customer Advocate",
    "Associate Customer Advocate",
    "Director of Customer Advocacy",
    "Senior Technical Support Architect",
    "Vice President, Global Customer Advocacy and Operations",
    "TL",
]


def group(name: str, filled: int, open_: int = 0, planned: int = 0) -> Group:
    return Group(name.lower(), name, filled, open_, planned, "#2563eb", 0)


def texts(svg: str) -> list[ET.Element]:
    return list(ET.fromstring(svg).iter(f"{SVG}text"))


def shown(element: ET.Element) -> str:
    """The text drawn, without the tooltip a text may carry."""
    title = element.find(f"{SVG}title")
    return (element.text or "") + (title.tail or "" if title is not None else "")


def extent(element: ET.Element, size: float, bold: bool = False) -> tuple[float, float]:
    """Left and right edge of a drawn text, from its x, anchor and the text's width."""
    x = float(element.get("x")) + float(element.get("dx", 0))
    width = text_width(shown(element), size, bold=bold)
    anchor = element.get("text-anchor", "start")
    left = x - width if anchor == "end" else x - width / 2 if anchor == "middle" else x
    return left, left + width


# -- the dashboard's charts ------------------------------------------------------------


@pytest.mark.parametrize("width", [400, 460, 320])
def test_bar_labels_and_totals_stay_inside_the_picture(width):
    groups = [group(n, 40 - i) for i, n in enumerate(LONG_NAMES)]
    chart = charts.bars("Positions by role", groups, width=width)
    svg = render_to_string("metrics/charts/bars.svg.html", {"chart": chart})
    viewbox = [float(v) for v in ET.fromstring(svg).get("viewBox").split()]
    assert viewbox[2] == width
    labels = [t for t in texts(svg) if t.get("class") == "label"]
    values = [t for t in texts(svg) if t.get("class") == "value"]
    assert len(labels) == len(values) == len(LONG_NAMES)
    for label in labels:
        left, right = extent(label, charts.FONT)
        assert left >= 0, label.text  # was "enior Customer Advocate": cut at the left
        assert right <= chart.label_width - 4  # clear of the tier's mark and the bar
    for value in values:
        assert extent(value, charts.FONT, bold=True)[1] <= viewbox[2]
    drawn = {shown(t) for t in labels}
    if width >= 400:  # the roles of the framework are named whole
        assert "Senior Customer Advocate" in drawn and "Associate Customer Advocate" in drawn
    cut = [t for t in labels if shown(t).endswith("…")]
    assert cut and all(t.find(f"{SVG}title").text in LONG_NAMES for t in cut)  # whole on hover


def span_figures(direct: list[int], low: int | None, high: int | None) -> dashboard.SpanFigures:
    rule = SpanRule(min_direct=low, max_direct=high)
    return dashboard.SpanFigures("Advocate Manager", "advocate-manager", rule, direct)


@pytest.mark.parametrize(
    "direct, low, high",
    [
        ([1, 2, 2, 2, 2, 2, 2, 3, 3], 2, 10),  # the tallest column first in the band
        ([4, 7, 7, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 12], 6, 10),
        ([3, 3, 4], 2, 3),  # a band of two columns, narrower than its note
        ([3], None, None),  # no rule: no band
    ],
)
def test_histogram_counts_sit_below_the_rules_note_and_inside_the_picture(direct, low, high):
    chart = charts.histogram(span_figures(direct, low, high))
    svg = render_to_string("metrics/charts/histogram.svg.html", {"chart": chart})
    drawn = texts(svg)
    notes = [t for t in drawn if t.text and t.text.startswith("allowed:")]
    counts = [t for t in drawn if t.get("class") == "value"]
    assert counts
    if low is None and high is None:
        assert not notes
    else:
        (note,) = notes
        note_baseline = float(note.get("y"))
        for count in counts:  # a count's top (baseline less the digits' height) below the note
            top = float(count.get("y")) + float(count.get("dy", 0)) - charts.FONT
            assert top >= note_baseline + 2, (count.text, top, note_baseline)
    for t in drawn:
        size = charts.FONT if t.get("class") == "value" else charts.NOTE
        left, right = extent(t, size)
        assert left >= 0 and right <= chart.width, t.text
    widths = {round(float(r.get("width")), 1) for r in ET.fromstring(svg).iter(f"{SVG}rect")}
    assert max(widths - {round(chart.band[1], 1) if chart.band else -1}) <= 44


def snapshots(*rows: tuple[int, int, int]):
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    return [
        SimpleNamespace(taken_at=start + datetime.timedelta(days=i), total=t, filled=f, open=o)
        for i, (t, f, o) in enumerate(rows)
    ]


@pytest.mark.parametrize(
    "rows",
    [
        [
            (180, 170, 10),
            (184, 174, 10),
        ],  # total and filled end 10 apart: "Total 184" over "Filled 174"
        [(10, 5, 5), (12, 6, 6)],  # filled and open end on the same value
        [(3, 0, 3), (2, 1, 1)],  # all three near the bottom
        [(1000, 990, 10), (1200, 1195, 5)],
    ],
)
def test_trend_line_names_are_a_line_apart_and_inside_the_picture(rows):
    chart = charts.lines(snapshots(*rows))
    svg = render_to_string("metrics/charts/lines.svg.html", {"chart": chart})
    names = [t for t in texts(svg) if t.get("class") == "label"]
    assert [t.text.split()[0] for t in names] == ["Total", "Filled", "Open"]
    baselines = sorted(float(t.get("y")) for t in names)
    assert all(b - a >= charts.FONT for a, b in pairwise(baselines))
    for t in texts(svg):
        left, right = extent(t, charts.FONT if t.get("class") == "label" else charts.NOTE)
        assert left >= 0 and right <= chart.width, t.text
        assert charts.FONT - 2 <= float(t.get("y")) <= chart.height, t.text


def test_spread_keeps_order_and_gap():
    assert charts.spread([10, 12, 50], 14, 0, 100) == [10, 24, 50]
    assert charts.spread([99, 98, 100], 14, 0, 100) == [86, 72, 100]


# -- medians ---------------------------------------------------------------------------


def test_a_median_is_whole_when_it_is_whole_and_one_decimal_otherwise():
    assert dashboard.median([1, 3]) == 2 and str(dashboard.median([1, 3])) == "2"
    assert str(dashboard.median([2, 2, 3])) == "2"
    assert str(dashboard.median([2, 3])) == "2.5"
    assert dashboard.median([]) is None
    figures = span_figures([1, 3], 2, 10)
    assert str(figures.direct_judged["median"]) == "2"


def test_the_span_table_shows_medians_in_one_form(fte85, client):
    from tests.test_dashboard import admin, table_rows

    html = admin().get("/dashboard/").content.decode()
    columns = table_rows(html, "table-spans")
    medians = [row[4] for row in columns] + [row[10] for row in columns]
    assert medians and all(re.fullmatch(r"—|\d+|\d+\.\d", m) for m in medians), medians
    assert not any(m.endswith(".0") for m in medians)


# -- a or an ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phrase, said",
    [
        ("Advocate Manager", "an Advocate Manager"),
        ("Associate Customer Advocate", "an Associate Customer Advocate"),
        ("Ops Manager", "an Ops Manager"),
        ("Team Lead", "a Team Lead"),
        ("Senior Advocate Manager", "a Senior Advocate Manager"),
        ("Unit Lead", "a Unit Lead"),
        ("Escalation Engineer", "an Escalation Engineer"),
        ("SLA", "an SLA"),
        ("T2 engineer", "a T2 engineer"),
        ("hour", "an hour"),
        ("Tier 2 — Technical support", "a Tier 2 — Technical support"),
    ],
)
def test_a_or_an(phrase, said):
    assert a_or_an(phrase) == said
    assert a_or_an(phrase, start=True) == said[0].upper() + said[1:]


def test_a_finding_names_an_advocate_manager_properly():
    from staffing.spans.engine import Basis, Measured, Rule, judge, misplaced_finding

    rule = Rule(1, 1, "Advocate Manager", 2, 10, 16, 25, Basis.ALL, frozenset(), ("Team Lead",))
    (direct, team) = judge(Measured(1, "Manager", True, 1, 1, 1, 1), rule)
    assert "; an Advocate Manager should have 2–10" in direct.message
    assert "; an Advocate Manager's whole team should be 16–25" in team.message
    misplaced = misplaced_finding(2, "Ops", "Ops Manager", "Manager", rule)
    assert misplaced.message.startswith(
        "An Ops Manager reports to Manager, an Advocate Manager position"
    )


# -- the career ladders ----------------------------------------------------------------


def _segments(points):
    return list(pairwise(points))


def _cross(p, q, r, s) -> bool:
    """Whether segments pq and rs properly intersect (touching ends do not count)."""

    def orient(a, b, c):
        value = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
        return 0 if abs(value) < 1e-9 else (1 if value > 0 else -1)

    return orient(p, q, r) * orient(p, q, s) < 0 and orient(r, s, p) * orient(r, s, q) < 0


def crossings(ladder) -> list[tuple[str, str]]:
    """Pairs of arrows whose lines cross, from the drawn geometry; arrows that meet at a box
    are compared without the piece next to that box."""
    found = []
    for a, b in combinations(ladder.arrows, 2):
        pa, pb = list(a.points), list(b.points)
        ends_a = {a.path.from_role_id, a.path.to_role_id}
        ends_b = {b.path.from_role_id, b.path.to_role_id}
        if ends_a & ends_b:  # lines that leave or reach the same box may meet there
            pa, pb = pa[1:-1], pb[1:-1]
        if any(_cross(*s, *t) for s in _segments(pa) for t in _segments(pb)):
            found.append((str(a.path), str(b.path)))
    return found


def boxes_hit(ladder) -> list[tuple[str, str]]:
    """Arrows drawn through a box that is neither of their ends."""
    hit = []
    for arrow in ladder.arrows:
        for box in ladder.boxes:
            if box.role.pk in (arrow.path.from_role_id, arrow.path.to_role_id):
                continue
            inside = [
                (x, y)
                for x, y in arrow.points
                if box.x < x < box.x + box.width and box.y < y < box.y + ladder.box_h
            ]
            if inside:
                hit.append((str(arrow.path), box.role.name))
    return hit


def test_every_ladder_in_the_catalogue_has_no_crossing_arrows_and_fits_the_page(framework):
    graphs = career_graphs()
    assert {g.track for g in graphs} >= {"advocacy", "management", "operations", "technical"}
    for graph in graphs:
        wide = layout(graph)
        narrow = outline(graph, wide)
        for ladder in (wide, narrow):
            assert len(ladder.arrows) == len(graph.edges)
            assert crossings(ladder) == [], (graph.track, ladder.variant)
            assert boxes_hit(ladder) == [], (graph.track, ladder.variant)
            for box in ladder.boxes:  # inside the picture, and no two boxes overlap
                assert box.x >= 0 and box.x + box.width <= ladder.width
                assert box.y >= 0 and box.y + ladder.box_h <= ladder.height
            for a, b in combinations(ladder.boxes, 2):
                apart_x = a.x + a.width <= b.x or b.x + b.width <= a.x
                apart_y = a.y + ladder.box_h <= b.y or b.y + ladder.box_h <= a.y
                assert apart_x or apart_y, (a.role.name, b.role.name)
        # the management ladder was 1,962 px wide in a scroll box: now it fits the page
        assert wide.width <= CONTENT_WIDTH, (graph.track, wide.width)
        assert narrow.width <= NARROW_WIDTH
    management = next(g for g in graphs if g.track == "management")
    assert layout(management).width < 400  # a chain of promotions is one column


def test_the_ladder_orders_roles_to_avoid_crossings_it_was_given(framework):
    """The support-operations ladder, whose roles come in an order that crossed four
    arrows before: reversing the input order changes nothing."""
    graph = next(g for g in career_graphs() if g.track == "operations")
    graph.nodes.reverse()
    assert crossings(layout(graph)) == [] and crossings(outline(graph)) == []


def test_ladder_names_fit_their_boxes(framework):
    for graph in career_graphs():
        for ladder in (layout(graph), outline(graph)):
            for box in ladder.boxes:
                for line in box.lines:
                    assert text_width(line, 12, bold=True) <= box.width - 20
                assert text_width(box.meta, 11) <= box.width - 20


def test_the_roles_page_draws_both_ladders_without_a_scroll_box(framework, client):
    from tests.factories import UserFactory, session_client

    html = session_client(UserFactory()).get("/roles/").content.decode()
    assert 'class="scroll-x"' not in html
    assert html.count('<div class="ladder-wide">') == html.count('<div class="ladder-narrow">') >= 4
    ids = re.findall(r'id="(ladder-[^"]+|arrow-[^"]+)"', html)
    assert len(ids) == len(set(ids))  # each drawing's ids are its own
    for width in re.findall(r'<svg class="ladder" width="(\d+)"', html):
        assert int(width) <= CONTENT_WIDTH


def test_wrap_keeps_to_the_width():
    assert wrap("Senior Support Operations Manager", 12, 200, bold=True) == [
        "Senior Support Operations",
        "Manager",
    ]
    (line,) = wrap("Supercalifragilisticexpialidocious", 12, 80, lines=1)
    assert line.endswith("…") and text_width(line, 12) <= 80


def test_edited_paths_across_rows_and_back_up_are_drawn_clear_of_other_boxes(framework):
    """A path that skips a row runs through a gap in it; a path back down the ladder (a
    loop, only edited data has one) is drawn round the side; the page still renders."""
    from roles.models import PromotionPath, Role

    code = {r.code: r for r in Role.objects.all()}
    PromotionPath.objects.create(
        from_role=code["associate-advocate"], to_role=code["team-lead"], min_months=24
    )
    PromotionPath.objects.create(from_role=code["senior-advocate"], to_role=code["advocate"])
    graph = next(g for g in career_graphs() if g.track == "advocacy")
    wide = layout(graph)
    skipping = next(
        a
        for a in wide.arrows
        if a.path.to_role_id == code["team-lead"].pk and a.path.min_months == 24
    )
    assert len(skipping.points) > 13  # through a gap in the row it passes
    assert boxes_hit(wide) == [] and crossings(outline(graph, wide)) == []
    for box in wide.boxes:
        assert box.x + box.width <= wide.width
    for arrow in wide.arrows:
        assert all(0 <= x <= wide.width and 0 <= y <= wide.height for x, y in arrow.points)
        assert arrow.label_x + text_width(arrow.label, 11) <= wide.width
