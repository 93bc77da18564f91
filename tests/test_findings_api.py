"""/api/findings/: who sees which findings, every filter, bad filter values, pagination,
order, and a query count that does not grow with the number of findings."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from staffing import services
from staffing.models import Finding
from staffing.spans import marks
from tests.factories import log_in, make_position, make_team

K = Finding.Kind
URL = "/api/findings/"

pytestmark = pytest.mark.django_db


def titles(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["position_title"] for row in response.json()["results"]}


def test_anonymous_callers_are_refused():
    response = APIClient().get(URL)
    assert response.status_code == 401
    assert "results" not in response.json()


def test_an_admin_sees_every_finding_with_its_figures(findings_org):
    data = log_in(superuser=True).get(URL).json()
    assert data["count"] == Finding.objects.open().count() == len(data["results"])
    row = next(r for r in data["results"] if r["kind"] == K.TOO_MANY_DIRECT)
    assert row["position"]["id"] == findings_org["west"].pk
    assert row["position"]["name"] == "West Lead"
    assert row["position"]["url"].endswith(f"/api/positions/{findings_org['west'].pk}/")
    assert (row["measured"], row["allowed_min"], row["allowed_max"]) == (13, 6, 10)
    assert row["rule_role"] == "Team Lead"
    assert row["is_open"] is True and row["resolved_at"] is None
    assert row["url"].endswith(f"/api/findings/{row['id']}/")


def test_a_manager_sees_only_their_subtree_in_lists_and_details(findings_org):
    east_lead = log_in("manager", holds=findings_org["east"])
    assert titles(east_lead.get(URL)) == {"East Lead"}
    outside = Finding.objects.open().get(position=findings_org["west"], kind=K.TOO_MANY_DIRECT)
    assert east_lead.get(f"{URL}{outside.pk}/").status_code == 404
    inside = Finding.objects.open().get(position=findings_org["east"])
    assert east_lead.get(f"{URL}{inside.pk}/").json()["kind"] == K.TOO_FEW_DIRECT
    # naming a position outside the scope in a filter is a bad value, not a leak
    response = east_lead.get(URL, {"subtree_of": findings_org["west"].pk})
    assert response.status_code == 400 and "subtree_of" in response.json()


def test_hr_reads_everything_and_a_user_without_a_role_sees_nothing(findings_org):
    assert titles(log_in("hr").get(URL)) == {"East Lead", "West Lead", "Stray Manager"}
    assert log_in().get(URL).json()["count"] == 0


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"kind": K.TOO_MANY_DIRECT}, {"West Lead"}),
        ({"kind": [K.TOO_MANY_DIRECT, K.REPORT_NOT_ALLOWED]}, {"West Lead", "Stray Manager"}),
        ({"kind": K.TOO_FEW_DIRECT}, {"East Lead", "Stray Manager"}),
        ({"severity": "critical"}, {"Stray Manager"}),  # no reports at all
        ({"severity": ["info", "critical"]}, {"Stray Manager"}),
        ({"status": "resolved"}, set()),
        ({"search": "stray"}, {"Stray Manager"}),
    ],
)
def test_filters(findings_org, query, expected):
    assert titles(log_in(superuser=True).get(URL, query)) == expected


def test_position_and_subtree_filters(findings_org):
    admin = log_in(superuser=True)
    assert titles(admin.get(URL, {"position": findings_org["stray"].pk})) == {"Stray Manager"}
    assert titles(admin.get(URL, {"subtree_of": findings_org["west"].pk})) == {
        "West Lead",
        "Stray Manager",
    }
    assert titles(admin.get(URL, {"subtree_of": findings_org["director"].pk})) == {
        "East Lead",
        "West Lead",
        "Stray Manager",
    }


def test_resolved_findings_stay_readable(findings_org):
    admin = log_in(superuser=True)
    services.position_delete(actor=None, position=findings_org["stray"], reports="refuse")
    marks.recompute()
    resolved = admin.get(URL, {"status": "resolved"}).json()["results"]
    assert len(resolved) == 4  # too few reports, team too small, vacant, misplaced
    assert {(r["position_title"], r["position"], r["is_open"]) for r in resolved} == {
        ("Stray Manager", None, False)
    }
    assert all(r["resolved_at"] for r in resolved)
    assert "Stray Manager" not in titles(admin.get(URL, {"status": "open"}))


@pytest.mark.parametrize(
    "query",
    [
        {"kind": "nonsense"},
        {"severity": "fatal"},
        {"status": "maybe"},
        {"position": "abc"},
        {"subtree_of": 999_999},
        {"ordering": "-nonsense"},
    ],
)
def test_bad_filter_values_are_400_with_the_field_named(findings_org, query):
    response = log_in(superuser=True).get(URL, query)
    if "ordering" in query:  # DRF ignores unknown ordering fields: the default order holds
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert set(response.json()) == set(query)


def test_most_severe_first_then_by_ordering(findings_org):
    admin = log_in(superuser=True)
    severities = [r["severity"] for r in admin.get(URL).json()["results"]]
    assert severities == sorted(severities, key=["critical", "warning", "info"].index)
    by_title = [
        r["position_title"]
        for r in admin.get(URL, {"ordering": "position_title"}).json()["results"]
    ]
    assert by_title == sorted(by_title)


def test_pagination_counts(findings_org):
    admin = log_in(superuser=True)
    first = admin.get(URL, {"page_size": 2}).json()
    assert first["count"] == Finding.objects.open().count() == 7
    assert len(first["results"]) == 2 and first["next"] and first["previous"] is None
    last = admin.get(URL, {"page_size": 2, "page": 4}).json()
    assert len(last["results"]) == 1 and last["next"] is None
    assert admin.get(URL, {"page": 99}).status_code == 404


def test_the_list_runs_a_fixed_number_of_queries(findings_org):
    admin = log_in(superuser=True)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin.get(URL).status_code == 200
        return len(captured.captured_queries)

    few = queries()
    for n in range(5):
        lead = make_position(f"Extra Lead {n}", "team-lead", findings_org["director"], holder=None)
        make_team(lead, 2, holder=None)
    marks.recompute()
    assert Finding.objects.open().count() > 15
    assert queries() == few
