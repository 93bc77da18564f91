"""The triage rota (staffing.triage, staffing.services.triage_week_set): who may be on it,
who sees and changes a location's rota, refusals that name the field and write nothing, the
page and the API."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from staffing import checks, services, triage
from staffing.models import Finding, TriageWeek
from staffing.scope import scope_for
from staffing.selectors import no_such_person
from tests.factories import (
    LocationFactory,
    UserFactory,
    holder_user,
    log_in,
    make_position,
    make_team,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
MONDAY = TODAY - datetime.timedelta(days=TODAY.weekday())
NEXT = MONDAY + datetime.timedelta(days=7)
WEDNESDAY = (NEXT + datetime.timedelta(days=2)).isoformat()


@pytest.fixture
def offices():
    """Director › Manager › Lead Dublin › 2 advocates and an associate in Dublin; Other
    Director › Lead Lisbon › 2 advocates in Lisbon."""
    dublin = LocationFactory(code="dub", name="Dublin")
    lisbon = LocationFactory(code="lis", name="Lisbon", country="PT", timezone="Europe/Lisbon")
    director = make_position("Director", "director")
    manager = make_position("Manager", "advocate-manager", director)
    lead = make_position("Lead, Dublin", "team-lead", manager, location=dublin)
    advocates = make_team(lead, 2, location=dublin)
    associate = make_position("Associate", "associate-advocate", lead, location=dublin)
    other = make_position("Other Director", "director")
    other_lead = make_position("Lead, Lisbon", "team-lead", other, location=lisbon)
    far = make_team(other_lead, 2, location=lisbon)
    return {
        "dublin": dublin,
        "lisbon": lisbon,
        "director": director,
        "manager": manager,
        "advocates": [p.holder_id for p in advocates],
        "associate": associate.holder_id,
        "other": other,
        "far": [p.holder_id for p in far],
    }


def written() -> tuple:
    return (
        sorted(TriageWeek.objects.values_list("location_id", "week")),
        sorted(TriageWeek.people.through.objects.values_list("triageweek_id", "person_id")),
        sorted(Finding.objects.values_list("pk", "resolved_at")),
    )


def refusal(call) -> dict:
    before = written()
    with pytest.raises(ValidationError) as caught:
        call()
    assert written() == before, "a refusal wrote something"
    return caught.value.message_dict


# --- the service ---------------------------------------------------------------------------


def test_the_rota_is_set_and_replaced_as_a_whole(offices):
    a, b = offices["advocates"]
    rota = services.triage_week_set(actor=None, location=offices["dublin"], week=MONDAY, people=[a])
    assert set(rota.people.values_list("pk", flat=True)) == {a}
    again = services.triage_week_set(
        actor=None, location=offices["dublin"].pk, week=MONDAY.isoformat(), people=[b, b]
    )
    assert again.pk == rota.pk and set(again.people.values_list("pk", flat=True)) == {b}
    services.triage_week_set(actor=None, location=offices["dublin"], week=MONDAY, people=[])
    assert not rota.people.exists() and TriageWeek.objects.count() == 1


def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(offices):
    dublin, a = offices["dublin"], offices["advocates"][0]
    services.triage_week_set(actor=None, location=dublin, week=MONDAY, people=[a])
    checks.triage_check()

    def set_(**changes):
        values = {"actor": None, "location": dublin, "week": NEXT, "people": [a]} | changes
        return lambda: services.triage_week_set(**values)

    tuesday = NEXT + datetime.timedelta(days=1)
    assert "Monday" in refusal(set_(week=tuesday))["week"][0]
    assert "YYYY-MM-DD" in refusal(set_(week="2026-13-01"))["week"][0]
    assert set(refusal(set_(location=999999))) == {"location"}
    assert set(refusal(set_(location="dub"))) == {"location"}
    assert refusal(set_(people=[999999]))["people"] == [no_such_person(999999)]
    assert set(refusal(set_(people=["x"]))) == {"people"}
    associate = refusal(set_(people=[a, offices["associate"]]))["people"][0]
    assert "Customer Advocate up" in associate
    elsewhere = refusal(set_(people=[offices["far"][0]]))["people"][0]
    assert "Not an experienced Tier 1 advocate at Dublin" in elsewhere


def test_the_rota_and_its_finding_are_one_transaction(offices, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the check failed")

    monkeypatch.setattr(checks, "triage_check", broken)
    before = written()
    with pytest.raises(RuntimeError):
        services.triage_week_set(
            actor=None, location=offices["dublin"], week=MONDAY, people=offices["advocates"]
        )
    assert written() == before


def test_who_changes_a_locations_rota(offices):
    dublin, lisbon = offices["dublin"], offices["lisbon"]
    a, b = offices["advocates"]
    far = offices["far"][0]
    other = holder_user(offices["other"], "director")
    director = holder_user(offices["director"], "director")
    # a location where the actor's part has nobody is answered as if it did not exist
    assert set(refusal(lambda: services.triage_week_set(
        actor=director, location=lisbon, week=MONDAY, people=[]))) == {"location"}  # fmt: skip
    # someone out of sight, as a person who does not exist
    assert refusal(lambda: services.triage_week_set(
        actor=director, location=dublin, week=MONDAY, people=[far]
    ))["people"] == [no_such_person(far)]  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.triage_week_set(
            actor=UserFactory(groups=["hr"]), location=dublin, week=MONDAY, people=[a]
        )
    # the director sets Dublin; the Lisbon manager's people stay when the director changes it
    services.triage_week_set(actor=None, location=lisbon, week=MONDAY, people=[far])
    rota = services.triage_week_set(actor=director, location=dublin, week=MONDAY, people=[a, b])
    assert set(rota.people.values_list("pk", flat=True)) == {a, b}
    lisbon_rota = TriageWeek.objects.get(location=lisbon, week=MONDAY)
    assert set(lisbon_rota.people.values_list("pk", flat=True)) == {far}
    assert set(triage.editable_locations(scope_for(other))) == {lisbon}
    assert set(triage.editable_locations(scope_for(director))) == {dublin}


def test_people_out_of_sight_stay_on_the_rota(offices):
    """A lead changes the people of their own team; those on the rota from other teams at
    the location, whom the lead does not see, stay on it."""
    dublin = offices["dublin"]
    a, b = offices["advocates"]
    lead2 = make_position("Lead 2, Dublin", "team-lead", offices["manager"], location=dublin)
    mine = make_team(lead2, 1, location=dublin)[0].holder_id
    lead_user = holder_user(lead2, "manager")
    services.triage_week_set(actor=None, location=dublin, week=MONDAY, people=[a, mine])
    rota = services.triage_week_set(actor=lead_user, location=dublin, week=MONDAY, people=[])
    assert set(rota.people.values_list("pk", flat=True)) == {a}
    assert refusal(lambda: services.triage_week_set(
        actor=lead_user, location=dublin, week=MONDAY, people=[b]
    ))["people"] == [no_such_person(b)]  # fmt: skip
    response = log_in("manager", holds=lead2).get(f"/api/triage/{rota.pk}/").json()
    assert response["people"] == [] and response["others"] == 1


# --- the page --------------------------------------------------------------------------------


def test_the_page_shows_the_viewers_locations_and_flags_the_gaps(offices):
    a = offices["advocates"][0]
    services.triage_week_set(actor=None, location=offices["dublin"], week=MONDAY, people=[a])
    client = log_in("director", holds=offices["director"])
    page = client.get("/triage/").content.decode()
    assert "Dublin" in page and "Lisbon" not in page
    assert page.count("Nobody on triage</span>") == 1  # next week; later: not planned yet
    assert page.count("not planned yet") == 2
    assert f"/triage/dub/{MONDAY.isoformat()}/" in page
    assert "Lisbon" in log_in("hr").get("/triage/").content.decode()
    assert "You see no location" in log_in().get("/triage/").content.decode()
    earlier = client.get("/triage/", {"from": (MONDAY - datetime.timedelta(days=28)).isoformat()})
    assert earlier.status_code == 200
    assert client.get("/triage/", {"from": "soon"}).status_code == 404


def test_the_page_runs_a_fixed_number_of_queries(offices):
    client = log_in(superuser=True)
    a = offices["advocates"][0]
    services.triage_week_set(actor=None, location=offices["dublin"], week=MONDAY, people=[a])

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/triage/").status_code == 200
        return len(captured.captured_queries)

    before = count()
    for n in range(3):
        place = LocationFactory(code=f"x{n}", name=f"Extra {n}")
        lead = make_position(f"Lead {n}", "team-lead", offices["director"], location=place)
        people = [p.holder_id for p in make_team(lead, 3, location=place)]
        for week in (MONDAY, NEXT):
            services.triage_week_set(actor=None, location=place, week=week, people=people[:2])
    assert count() == before


def test_the_week_page_changes_the_rota_for_those_who_may(offices):
    a, b = offices["advocates"]
    url = f"/triage/dub/{MONDAY.isoformat()}/"
    client = log_in("director", holds=offices["director"])
    form = client.get(url).content.decode()
    assert f'value="{a}"' in form and f'value="{offices["associate"]}"' not in form
    response = client.post(url, {"people": [a, b]})
    assert response.status_code == 302
    rota = TriageWeek.objects.get(location=offices["dublin"], week=MONDAY)
    assert set(rota.people.values_list("pk", flat=True)) == {a, b}
    before = written()
    refused = client.post(url, {"people": [offices["associate"]]})
    assert refused.status_code == 400 and "Customer Advocate up" in refused.content.decode()
    assert client.post(url, {"people": ["nobody"]}).status_code == 400
    assert written() == before
    tuesday = (MONDAY + datetime.timedelta(days=1)).isoformat()
    assert client.get(f"/triage/dub/{tuesday}/").status_code == 404
    assert client.get(f"/triage/lis/{MONDAY.isoformat()}/").status_code == 404
    assert log_in("hr").get(url).status_code == 403


# --- the API -----------------------------------------------------------------------------------


def test_the_api_sets_and_changes_a_week_and_refuses_bad_input_with_400(offices):
    a, b = offices["advocates"]
    client = log_in("director", holds=offices["director"])
    created = client.post(
        "/api/triage/",
        {"location": offices["dublin"].pk, "week": MONDAY.isoformat(), "people": [a]},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["people"] == [a] and body["location"]["name"] == "Dublin" and body["others"] == 0
    assert not Finding.objects.open().filter(location=offices["dublin"], week=MONDAY).exists()
    url = f"/api/triage/{body['id']}/"
    changed = client.patch(url, {"people": [a, b]}, content_type="application/json")
    assert changed.status_code == 200 and sorted(changed.json()["people"]) == sorted([a, b])
    before = written()
    for payload, field in (
        ({"people": [offices["associate"]]}, "people"),
        ({"people": [offices["far"][0]]}, "people"),
        ({"people": "everyone"}, "people"),
        ({"week": NEXT.isoformat()}, "week"),
    ):
        response = client.patch(url, payload, content_type="application/json")
        assert response.status_code == 400 and field in response.json(), (payload, response.content)
    for payload, field in (
        ({"location": offices["dublin"].pk, "week": "2026-12-01x", "people": []}, "week"),
        ({"location": offices["dublin"].pk, "week": WEDNESDAY, "people": []}, "week"),
        ({"location": offices["lisbon"].pk, "week": NEXT.isoformat(), "people": []}, "location"),
        ({"week": NEXT.isoformat(), "people": []}, "location"),
    ):
        response = client.post("/api/triage/", payload, content_type="application/json")
        assert response.status_code == 400 and field in response.json(), (payload, response.content)
    assert written() == before
    listed = client.get("/api/triage/", {"week": MONDAY.isoformat()}).json()
    assert [r["id"] for r in listed["results"]] == [body["id"]]
