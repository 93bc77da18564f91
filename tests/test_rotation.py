"""Squads over time (staffing.rotation): time in a squad from the assignment history, runs of
consecutive assignments in one squad read as one, the due-to-rotate mark, joins and leaves,
the squads a person served in; the squad and rotation pages and their API, each limited to
the viewer's part of the organization, in a fixed number of queries."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from roles.models import Role
from staffing import rotation, services
from staffing.models import Assignment
from staffing.scope import SYSTEM, scope_for
from tests.factories import PersonFactory, UserFactory, holder_user, log_in, make_position
from tiers.models import Squad

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def ago(days: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=days)


def backdate(position, *starts: datetime.date) -> None:
    """Set the holder's assignments (oldest first) to start on ``starts``, each ending the
    day the next starts: the services record changes as of today, a history needs the past."""
    rows = list(Assignment.objects.filter(person=position.holder_id).order_by("start_date", "pk"))
    assert len(rows) == len(starts)
    for row, start, following in zip(rows, starts, [*starts[1:], None], strict=True):
        Assignment.objects.filter(pk=row.pk).update(
            start_date=start, end_date=following if row.end_date else None
        )


def engineer(parent, squad, *, title="Technical Support Engineer", role="tse", since=None):
    person = PersonFactory(hire_date=ago(3000))
    return make_position(title, role, parent, holder=person, squad=squad, start=since or ago(10))


@pytest.fixture
def org():
    """Director › Lead (Voice) › Ana (General 500 days ago, then Voice 400 days ago and
    promoted inside Voice 100 days ago), Ben (General 30 days); Other Director › Other Lead
    › Cy (Voice, 800 days), Eve (General 900 to 700 days ago, Voice after a gap, 600 days).
    Dee left Voice for no post 50 days ago."""
    general, voice = Squad.objects.get(code="t2-general"), Squad.objects.get(code="t2-voice")
    director = make_position("Director", "director")
    lead = make_position("Lead, Voice", "team-lead", director, squad=voice, start=ago(200))
    ana = engineer(lead, general, since=ago(500))
    services.position_update(actor=None, position=ana, squad=voice)
    services.position_update(actor=None, position=ana, role=Role.objects.get(code="senior-tse"))
    backdate(ana, ago(500), ago(400), ago(100))
    ben = engineer(lead, general, since=ago(30))
    dee = engineer(lead, voice, since=ago(300))
    services.position_vacate(actor=None, position=dee, end_date=ago(50))
    other = make_position("Other Director", "director")
    other_lead = make_position("Other Lead", "team-lead", other)
    cy = engineer(other_lead, voice, since=ago(800))
    eve = engineer(other_lead, general, since=ago(900))
    services.position_vacate(actor=None, position=eve, end_date=ago(700))
    eve_person = Assignment.objects.filter(position=eve).first().person
    eve = make_position("Engineer", "tse", other_lead, holder=None, squad=voice)
    services.person_assign(actor=None, person=eve_person, position=eve, start_date=ago(600))
    eve.refresh_from_db()
    return {
        "general": general,
        "voice": voice,
        "director": director,
        "lead": lead,
        "ana": ana,
        "ben": ben,
        "dee": dee,
        "cy": cy,
        "eve": eve,
        "dee_person": Assignment.objects.filter(position=dee).first().person,
    }


def by_name(rows):
    return {row.person.pk: row for row in rows}


def test_runs_merge_consecutive_assignments_in_one_squad_and_split_on_a_gap():
    rows = [
        (1, 7, ago(300), ago(200)),
        (1, 7, ago(199), ago(100)),  # the next day: the same run
        (1, None, ago(100), ago(90)),  # a post outside the squads
        (1, 7, ago(90), ago(60)),
        (1, 7, ago(20), None),  # a gap of 40 days: a new run
    ]
    runs = rotation.runs_of(reversed(rows))[1]
    assert [(r.squad_id, r.start, r.end) for r in runs] == [
        (7, ago(300), ago(100)),
        (None, ago(100), ago(90)),
        (7, ago(90), ago(60)),
        (7, ago(20), None),
    ]
    assert runs[0].days(TODAY) == 200 and runs[-1].days(TODAY) == 20


def test_add_months_keeps_to_the_months_end():
    assert rotation.add_months(datetime.date(2025, 1, 31), 1) == datetime.date(2025, 2, 28)
    assert rotation.add_months(datetime.date(2025, 11, 15), 14) == datetime.date(2027, 1, 15)


def test_members_have_their_time_in_the_squad_since_they_joined_it(org):
    members = by_name(rotation.squad_members(SYSTEM, org["voice"]))
    ana, lead, cy, eve = (org[n].holder_id for n in ("ana", "lead", "cy", "eve"))
    assert set(members) == {ana, lead, cy, eve}  # Dee has left; Ben is in General
    # two assignments in Voice (before and after a promotion) are one run: 400 days
    assert members[ana].since == ago(400) and members[ana].days == 400
    assert members[ana].due and members[ana].due_on == rotation.add_months(ago(400), 12)
    assert members[cy].due
    # the lead is a member, but a team lead does not rotate
    assert members[lead].days == 200 and members[lead].due_on is None and not members[lead].due
    general = by_name(rotation.squad_members(SYSTEM, org["general"]))
    ben = general[org["ben"].holder_id]
    assert ben.days == 30 and not ben.due and ben.due_on == rotation.add_months(ago(30), 6)
    # due first, then the longest in the squad
    ordered = [m.person.pk for m in rotation.squad_members(SYSTEM, org["voice"])]
    assert ordered == [cy, eve, ana, lead]


def test_no_rotation_time_means_nobody_is_due(org):
    Squad.objects.filter(pk=org["voice"].pk).update(rotate_after_months=None)
    voice = Squad.objects.get(pk=org["voice"].pk)
    assert not any(m.due or m.due_on for m in rotation.squad_members(SYSTEM, voice))


def test_joins_and_leaves_newest_first(org):
    user = UserFactory(is_superuser=True)
    moves = [
        (m.day, m.person.pk, m.joined, m.moved, m.other)
        for m in rotation.squad_movements(SYSTEM, user, org["voice"])
    ]
    ana, cy, lead, eve = (org[n].holder_id for n in ("ana", "cy", "lead", "eve"))
    dee = org["dee_person"].pk
    assert moves == [
        (ago(50), dee, False, False, None),  # left, for no post
        (ago(200), lead, True, False, None),
        (ago(300), dee, True, False, None),
        (ago(400), ana, True, True, org["general"]),  # the promotion inside Voice: no move
        (ago(600), eve, True, False, None),  # 100 days after leaving General: not a move
        (ago(800), cy, True, False, None),
    ]
    general = rotation.squad_movements(SYSTEM, user, org["general"])
    assert [(m.day, m.joined, m.other) for m in general if m.person.pk == ana] == [
        (ago(400), False, org["voice"]),
        (ago(500), True, None),
    ]
    assert len(rotation.squad_movements(SYSTEM, user, org["voice"], limit=2)) == 2


def test_a_persons_rotations_and_the_rotation_list(org):
    runs = rotation.person_rotations(org["ana"].holder)
    assert [(squad.code, run.start, run.end) for run, squad in runs] == [
        ("t2-general", ago(500), ago(400)),
        ("t2-voice", ago(400), None),
    ]
    listed = rotation.rotation_list(SYSTEM)
    engineers = by_name(listed)
    assert set(engineers) == {org[n].holder_id for n in ("ana", "ben", "cy", "eve")}  # no lead
    ana = engineers[org["ana"].holder_id]
    assert ana.squad == org["voice"] and ana.days == 400 and ana.due
    assert [(s.squad.code, s.days, s.runs) for s in ana.served] == [
        ("t2-general", 100, 1),
        ("t2-voice", 400, 1),
    ]
    eve = engineers[org["eve"].holder_id]
    assert [(s.squad.code, s.days) for s in eve.served] == [("t2-general", 200), ("t2-voice", 600)]
    assert [e.person.pk for e in listed][-1] == org["ben"].holder_id  # not due: last


def test_a_manager_sees_the_members_of_their_part_only(org):
    director = holder_user(org["director"], "director")
    outsider = holder_user(make_position("Far Director", "director"), "director")
    mine = rotation.squad_members(scope_for(director), org["voice"])
    assert {m.person.pk for m in mine} == {org["ana"].holder_id, org["lead"].holder_id}
    assert rotation.squad_members(scope_for(outsider), org["voice"]) == []
    assert rotation.squad_movements(scope_for(outsider), outsider, org["voice"]) == []
    assert rotation.rotation_list(scope_for(outsider)) == []
    assert {e.person.pk for e in rotation.rotation_list(scope_for(director))} == {
        org["ana"].holder_id,
        org["ben"].holder_id,
    }


def test_the_pages(org):
    client = log_in("director", holds=org["director"])
    page = client.get(f"/squads/{org['voice'].pk}/").content.decode()
    ana, cy = org["ana"].holder, org["cy"].holder
    assert ana.full_name in page and cy.full_name not in page
    assert "Due to rotate" in page and "Phone channel" in page
    assert client.get("/squads/999999/").status_code == 404
    listed = client.get("/squads/rotation/").content.decode()
    assert ana.full_name in listed and cy.full_name not in listed
    nobody = log_in()
    html = nobody.get(f"/squads/{org['voice'].pk}/").content.decode()
    assert "Voice and Messaging" in html and ana.full_name not in html


def test_the_api(org):
    client = log_in("director", holds=org["director"])
    members = client.get(f"/api/squads/{org['voice'].pk}/members/").json()
    ana = next(m for m in members if m["person"]["id"] == org["ana"].holder_id)
    assert ana["position"] == {
        "id": org["ana"].pk,
        "url": f"http://testserver/api/positions/{org['ana'].pk}/",
        "name": "Technical Support Engineer",
    }
    assert ana["since"] == ago(400).isoformat() and ana["days_in_squad"] == 400
    assert ana["due_to_rotate"] is True
    assert org["cy"].holder_id not in {m["person"]["id"] for m in members}
    assert client.get("/api/squads/999999/members/").status_code == 404
    served = client.get(f"/api/people/{org['ana'].holder_id}/rotations/").json()
    assert [(r["squad"]["id"], r["start"], r["end"], r["days"]) for r in served] == [
        (org["general"].pk, ago(500).isoformat(), ago(400).isoformat(), 100),
        (org["voice"].pk, ago(400).isoformat(), None, 400),
    ]
    # someone outside the director's part: exactly as someone who does not exist
    hidden = client.get(f"/api/people/{org['cy'].holder_id}/rotations/")
    missing = client.get("/api/people/999999/rotations/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


@pytest.mark.parametrize(
    ("who", "members", "rotations"),
    [
        ("anonymous", 401, 401),
        ("nobody", 200, 404),  # the squad is catalogue; its people are not theirs to see
        ("hr", 200, 200),
        ("manager", 200, 200),
        ("director", 200, 200),
        ("outsider", 200, 404),
        ("admin", 200, 200),
    ],
)
def test_api_permission_matrix(org, who, members, rotations):
    from rest_framework.test import APIClient

    clients = {
        "anonymous": lambda: APIClient(),
        "nobody": lambda: log_in(),
        "hr": lambda: log_in("hr"),
        "manager": lambda: log_in("manager", holds=org["lead"]),
        "director": lambda: log_in("director", holds=org["director"]),
        "outsider": lambda: log_in("director", holds=make_position("Far", "director")),
        "admin": lambda: log_in(superuser=True),
    }
    client = clients[who]()
    answer = client.get(f"/api/squads/{org['voice'].pk}/members/")
    assert answer.status_code == members
    if members == 200:
        seen = {m["person"]["id"] for m in answer.json()}
        expected = {
            "nobody": set(),
            "outsider": set(),
            "manager": {org["ana"].holder_id, org["lead"].holder_id},  # their own seat too
            "director": {org["ana"].holder_id, org["lead"].holder_id},
        }.get(who, {org[n].holder_id for n in ("ana", "lead", "cy", "eve")})
        assert seen == expected
    assert client.get(f"/api/people/{org['ana'].holder_id}/rotations/").status_code == rotations
    assert client.post(f"/api/squads/{org['voice'].pk}/members/").status_code in (401, 403, 405)


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries)


def test_queries_do_not_grow_with_the_squad(org):
    client = log_in(superuser=True)
    urls = [
        f"/squads/{org['voice'].pk}/",
        "/squads/rotation/",
        f"/api/squads/{org['voice'].pk}/members/",
        f"/api/people/{org['ana'].holder_id}/rotations/",
    ]
    before = [queries(client, url) for url in urls]
    for n in range(4):
        position = engineer(org["lead"], org["general"], since=ago(300 + n))
        services.position_update(actor=None, position=position, squad=org["voice"])
    services.position_update(actor=None, position=org["ana"], squad=org["general"])
    assert [queries(client, url) for url in urls] == before


def test_a_new_engineer_who_started_outside_the_entry_squad_is_flagged(org):
    """New engineers start in the entry squad: one new to Tier 2 who started straight in a
    specialist squad is flagged (on the list and the page); one who started in the entry
    squad is not, nor one who started elsewhere long ago (before anyone new)."""
    fay = engineer(org["lead"], org["voice"], since=ago(40))
    engineers = by_name(rotation.rotation_list(SYSTEM))
    assert engineers[fay.holder_id].outside_entry == org["general"]
    assert engineers[org["ben"].holder_id].outside_entry is None  # started in General
    assert engineers[org["cy"].holder_id].outside_entry is None  # in Voice since 800 days
    assert engineers[org["ana"].holder_id].outside_entry is None  # General first
    page = log_in(superuser=True).get("/squads/rotation/").content.decode()
    assert "1 new engineer started outside the entry squad" in page
    assert "Started outside Tier 2 General" in page
