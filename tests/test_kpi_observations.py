"""KPI observations recorded by API and in the admin: every path goes through
metrics.services, sees and writes only the caller's teams, refuses a second value for a
period unless asked to replace it, and a bulk request is all or nothing. The generated
endpoint tests and the permission matrix cover the rest (tests/test_api_endpoints.py)."""

import datetime as dt
from decimal import Decimal

import pytest

from metrics import dashboard
from metrics.models import KPI, KPIObservation
from tests.factories import Org, UserFactory, log_in, session_client, token_client

pytestmark = pytest.mark.django_db

URL = "/api/kpi-observations/"
OCTOBER = {"period_start": "2026-10-01", "period_end": "2026-10-31"}


def admin_client():
    return session_client(UserFactory(is_superuser=True, is_staff=True))


def director(org: Org):
    return log_in("director", holds=org.positions["director"])


def test_a_director_records_a_value_for_a_team_and_the_dashboard_shows_it(api_org: Org):
    client = director(api_org)
    team = api_org.positions["manager_a"]
    response = client.post(
        URL, {"kpi": "fcr", "scope": team.pk, **OCTOBER, "value": "71.5"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kpi"] == "fcr" and body["scope"]["id"] == team.pk
    assert body["value"] == "71.50" and body["status"] == "off target"  # at least 75 %
    fcr = next(s for s in dashboard.kpi_statuses(team) if s.kpi.code == "fcr")
    assert fcr.latest.value == Decimal("71.5") and fcr.status == "off target"
    page = admin_client().get(f"/dashboard/?root={team.pk}").content.decode()
    assert "71.5" in page


def test_a_second_value_for_the_period_is_a_conflict_unless_replaced(api_org: Org):
    client = director(api_org)
    payload = {"kpi": "fcr", "scope": api_org.positions["lead_a"].pk, **OCTOBER, "value": 70}
    assert client.post(URL, payload, format="json").status_code == 201
    again = client.post(URL, {**payload, "value": 80}, format="json")
    assert again.status_code == 409
    assert "already recorded" in again.json()["period_start"][0]
    assert KPIObservation.objects.get().value == 70
    replaced = client.post(URL, {**payload, "value": 80, "replace": True}, format="json")
    assert replaced.status_code == 200 and replaced.json()["value"] == "80.00"
    assert KPIObservation.objects.get().value == 80


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"scope": None}, "scope", "only someone who sees the whole organization"),
        ({"scope": "other"}, "scope", "that you can see"),
        ({"kpi": "nope"}, "kpi", "does not exist"),
        ({"value": "120"}, "value", "between 0 and 100"),
        ({"period_end": "2026-09-30"}, "period_end", "cannot end before it starts"),
        ({"value": "NaN"}, "value", ""),
        ({"period_start": "31/10/2026"}, "period_start", "format"),
    ],
)
def test_a_director_gets_a_clear_error_and_nothing_is_written(api_org: Org, change, field, words):
    payload = {"kpi": "fcr", "scope": api_org.positions["lead_a"].pk, **OCTOBER, "value": 76}
    if change.get("scope") == "other":
        change = {"scope": api_org.positions["other"].pk}
    response = director(api_org).post(URL, {**payload, **change}, format="json")
    assert response.status_code == 400, response.content
    assert words in " ".join(response.json()[field])
    assert not KPIObservation.objects.exists()


def test_those_without_the_permission_are_refused(api_org: Org):
    payload = {"kpi": "fcr", "scope": api_org.positions["lead_a"].pk, **OCTOBER, "value": 76}
    manager = log_in("manager", holds=api_org.positions["manager_a"])
    hr = token_client(UserFactory(groups=["hr"]), write=True)
    for client in (manager, hr):
        assert client.post(URL, payload, format="json").status_code == 403
        assert client.post(f"{URL}bulk/", {"rows": [payload]}, format="json").status_code == 403
    assert not KPIObservation.objects.exists()
    # an admin records a whole-organization value; HR reads it, the director does not see it
    assert admin_client().post(URL, {**payload, "scope": None}, format="json").status_code == 201
    assert hr.get(URL).json()["count"] == 1
    assert director(api_org).get(URL).json()["count"] == 0


def test_correcting_and_deleting_a_value(api_org: Org):
    client = director(api_org)
    lead_a, lead_b = api_org.positions["lead_a"], api_org.positions["lead_b"]
    first = client.post(URL, {"kpi": "fcr", "scope": lead_a.pk, **OCTOBER, "value": 70}, "json")
    second = client.post(URL, {"kpi": "fcr", "scope": lead_b.pk, **OCTOBER, "value": 72}, "json")
    one, two = first.json()["id"], second.json()["id"]
    fixed = client.patch(f"{URL}{one}/", {"value": "74.25", "note": "late surveys"}, "json")
    assert fixed.status_code == 200 and fixed.json()["value"] == "74.25"
    clash = client.patch(f"{URL}{two}/", {"scope": lead_a.pk}, "json")
    assert clash.status_code == 409
    away = client.patch(f"{URL}{two}/", {"scope": api_org.positions["other"].pk}, "json")
    assert away.status_code == 400
    assert KPIObservation.objects.get(pk=two).scope_id == lead_b.pk
    # directors may not delete (no delete permission); an admin may
    assert client.delete(f"{URL}{one}/").status_code == 403
    assert admin_client().delete(f"{URL}{one}/").status_code == 204
    assert list(KPIObservation.objects.values_list("pk", flat=True)) == [two]


def test_bulk_is_all_or_nothing_with_problems_by_index(api_org: Org):
    client = director(api_org)
    lead_a = api_org.positions["lead_a"].pk
    rows = [
        {"kpi": "fcr", "scope": lead_a, **OCTOBER, "value": 76.4},
        {"kpi": "cast", "scope": lead_a, **OCTOBER, "value": 4},
        {"kpi": "csat", "scope": None, **OCTOBER, "value": 4.5},
        {"kpi": "fcr", "scope": lead_a, **OCTOBER, "value": 77},
    ]
    refused = client.post(f"{URL}bulk/", {"rows": rows}, format="json")
    assert refused.status_code == 400
    problems = {(p["index"], p["field"]) for p in refused.json()["problems"]}
    assert problems == {(1, "kpi"), (2, "scope"), (3, "period_start")}
    assert not KPIObservation.objects.exists()

    good = [rows[0], {**rows[2], "scope": api_org.positions["director"].pk}]
    done = client.post(f"{URL}bulk/", {"rows": good}, format="json")
    assert done.status_code == 201 and done.json() == {"created": 2, "replaced": 0}
    again = client.post(f"{URL}bulk/", {"rows": good}, format="json")
    assert again.status_code == 400 and len(again.json()["problems"]) == 2
    good[0]["value"] = 79
    replaced = client.post(f"{URL}bulk/", {"rows": good, "replace": True}, format="json")
    assert replaced.json() == {"created": 0, "replaced": 2}
    assert KPIObservation.objects.get(kpi__code="fcr").value == 79
    assert client.post(f"{URL}bulk/", {"rows": []}, format="json").status_code == 400


def test_list_as_csv_and_filters(api_org: Org):
    fcr = KPI.objects.get(code="fcr")
    for month in (8, 9, 10):
        KPIObservation.objects.create(
            kpi=fcr,
            scope=api_org.positions["lead_a"],
            period_start=dt.date(2026, month, 1),
            period_end=dt.date(2026, month, 28),
            value=70 + month,
        )
    client = director(api_org)
    rows = client.get(URL, {"since": "2026-09-01"}).json()["results"]
    assert [r["period_start"] for r in rows] == ["2026-10-01", "2026-09-01"]
    csv = client.get(URL, {"format": "csv"}).content.decode().splitlines()
    assert csv[0].startswith("id,kpi,kpi_name,scope,period_start")
    assert len(csv) == 4 and ",Lead A,2026-10-01," in csv[1]
    assert client.get(URL, {"scope": api_org.positions["other"].pk}).status_code == 400


def test_the_admin_saves_through_the_service_and_shows_its_refusals(api_org: Org):
    user = UserFactory(groups=["director"], is_staff=True)
    api_org.positions["director"].holder.__class__.objects.filter(
        pk=api_org.positions["director"].holder_id
    ).update(user=user)
    client = session_client(user)
    add = "/admin/metrics/kpiobservation/add/"
    fcr = KPI.objects.get(code="fcr")
    form = {"kpi": fcr.pk, "scope": api_org.positions["lead_a"].pk, **OCTOBER, "value": "76"}
    assert client.post(add, form).status_code == 302
    observation = KPIObservation.objects.get()
    # a second value for the period: refused on the form, then accepted with "replace"
    page = client.post(add, {**form, "value": "60"})
    assert page.status_code == 200 and "already recorded" in page.content.decode()
    assert client.post(add, {**form, "value": "60", "replace": "on"}).status_code == 302
    assert KPIObservation.objects.get().value == 60
    # outside the director's part of the tree, and a whole-organization value: refused
    other = client.post(add, {**form, "scope": api_org.positions["other"].pk})
    assert other.status_code == 200
    whole = client.post(add, {**form, "scope": ""})
    assert "only someone who sees the whole organization" in whole.content.decode()
    change = f"/admin/metrics/kpiobservation/{observation.pk}/change/"
    assert client.post(change, {**form, "value": "101"}).status_code == 200
    assert client.post(change, {**form, "value": "77.5"}).status_code == 302
    assert KPIObservation.objects.get().value == Decimal("77.5")
    # values of teams the director does not see are not listed
    theirs = KPIObservation.objects.create(
        kpi=fcr, scope=api_org.positions["other"], value=50, period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 1, 31),
    )  # fmt: skip
    listing = client.get("/admin/metrics/kpiobservation/").content.decode()
    assert f"/{observation.pk}/change/" in listing and f"/{theirs.pk}/change/" not in listing
    assert client.get(f"/admin/metrics/kpiobservation/{theirs.pk}/change/").status_code == 302
