"""Pictures that read well: sentences take "a" or "an" as the role's name is said, and a
median reads the same everywhere."""

import re

import pytest

from metrics import dashboard
from orgdesign.words import a_or_an
from roles.models import SpanRule


def span_figures(direct: list[int], low: int | None, high: int | None) -> dashboard.SpanFigures:
    rule = SpanRule(min_direct=low, max_direct=high)
    return dashboard.SpanFigures("Advocate Manager", "advocate-manager", rule, direct)


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
    from staffing.spans import Basis, Measured, Rule, judge, misplaced_finding

    rule = Rule(1, 1, "Advocate Manager", 2, 10, 16, 25, Basis.ALL, frozenset(), ("Team Lead",))
    (direct, team) = judge(Measured(1, "Manager", True, 1, 1, 1, 1), rule)
    assert "; an Advocate Manager should have 2–10" in direct.message
    assert "; an Advocate Manager's whole team should be 16–25" in team.message
    misplaced = misplaced_finding(2, "Ops", "Ops Manager", "Manager", rule)
    assert misplaced.message.startswith("An Ops Manager reports to Manager (Advocate Manager)")
