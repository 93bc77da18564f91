"""Findings of the checks other than span of control (staffing.checks): the entry-squad
finding (a new engineer who started outside the entry squad) and the triage finding (a
location's week with open hours, Tier 1 people and nobody on triage), each opened and
resolved by its own check and never by the span engine; who sees them."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from metrics import dashboard
from staffing import checks, rotation, services
from staffing.models import Finding, Location
from staffing.scope import SYSTEM, scope_for
from staffing.spans import marks
from tests.factories import (
    LocationFactory,
    PersonFactory,
    holder_user,
    log_in,
    make_position,
    make_team,
)
from tiers.models import Squad

pytestmark = pytest.mark.django_db

K, S = Finding.Kind, Finding.Source
TODAY = timezone.localdate()
MONDAY = TODAY - datetime.timedelta(days=TODAY.weekday())
NEXT = MONDAY + datetime.timedelta(days=7)


def ago(days: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=days)


def open_of(source: str) -> set:
    return {
        (f.position_id, f.location_id, f.week, f.kind)
        for f in Finding.objects.open().filter(source=source)
    }


@pytest.fixture
def squads():
    return Squad.objects.get(code="t2-general"), Squad.objects.get(code="t2-voice")


@pytest.fixture
def tier2(squads):
    general, voice = squads
    director = make_position("Director", "director")
    lead = make_position("Lead, Voice", "team-lead", director, squad=voice)
    return {"director": director, "lead": lead, "general": general, "voice": voice}


def engineer(lead, squad, since):
    person = PersonFactory(hire_date=ago(3000))
    return make_position("Technical Support Engineer", "tse", lead, holder=person, squad=squad,
                         start=since)  # fmt: skip


# --- entry squad ---------------------------------------------------------------------------


def test_entry_squad_finding_opens_after_the_fill_and_resolves_when_the_seat_is_left(tier2):
    """A new engineer started straight in Voice: the job that follows the fill (the marked
    positions' recompute) opens the finding on their position, the same engineer the
    rotation page flags; once they leave the seat, the next job resolves it."""
    fay = engineer(tier2["lead"], tier2["voice"], ago(40))
    ben = engineer(tier2["lead"], tier2["general"], ago(40))
    marks.recompute_pending()
    assert open_of(S.ENTRY_SQUAD) == {(fay.pk, None, None, K.OUTSIDE_ENTRY_SQUAD)}
    finding = Finding.objects.open().get(source=S.ENTRY_SQUAD)
    assert "rather than Tier 2 General" in finding.message and "Voice" in finding.message
    # one source of truth: the page flags exactly the positions with an open finding
    flagged = {e.position.pk for e in rotation.rotation_list(SYSTEM) if e.outside_entry}
    assert flagged == {fay.pk} and ben.pk not in flagged
    services.position_vacate(actor=None, position=fay)
    marks.recompute_pending()
    assert open_of(S.ENTRY_SQUAD) == set()
    finding.refresh_from_db()
    assert finding.resolved_at is not None  # resolved, kept


def test_entry_squad_finding_resolves_when_the_engineer_is_no_longer_new(tier2):
    fay = engineer(tier2["lead"], tier2["voice"], ago(40))
    checks.entry_squad_check()
    assert open_of(S.ENTRY_SQUAD) == {(fay.pk, None, None, K.OUTSIDE_ENTRY_SQUAD)}
    checks.entry_squad_check(as_of=TODAY + datetime.timedelta(days=rotation.NEW_IN_TIER_DAYS))
    assert open_of(S.ENTRY_SQUAD) == set()
    assert not rotation.outside_entry_squad(
        fay.__class__.objects.all(), as_of=TODAY + datetime.timedelta(days=400)
    )


def test_a_deleted_positions_entry_squad_finding_is_resolved(tier2):
    fay = engineer(tier2["lead"], tier2["voice"], ago(40))
    marks.recompute_pending()
    services.position_delete(actor=None, position=fay, reports="move_up")
    assert open_of(S.ENTRY_SQUAD) == set()
    assert Finding.objects.filter(source=S.ENTRY_SQUAD, position=None).exists()


def test_the_span_engine_never_resolves_another_checks_findings(tier2):
    """The span engine's reconcile, whole or partial, reads and resolves span findings only:
    the entry-squad and triage findings stay open for their own checks."""
    fay = engineer(tier2["lead"], tier2["voice"], ago(40))
    dublin = LocationFactory(code="dub", name="Dublin")
    lead = make_position("Lead, Dublin", "team-lead", tier2["director"], location=dublin)
    make_team(lead, 2, location=dublin)
    marks.recompute()
    before = open_of(S.ENTRY_SQUAD) | open_of(S.TRIAGE)
    assert {k[3] for k in before} == {K.OUTSIDE_ENTRY_SQUAD, K.NO_TRIAGE}
    assert open_of(S.SPANS)
    marks.reconcile({}, None)  # as if no span rule were broken anywhere
    assert open_of(S.SPANS) == set()
    marks.reconcile({}, [fay.pk, tier2["lead"].pk])
    assert open_of(S.ENTRY_SQUAD) | open_of(S.TRIAGE) == before
    marks.forget(fay)
    assert open_of(S.ENTRY_SQUAD) == {(fay.pk, None, None, K.OUTSIDE_ENTRY_SQUAD)}


# --- triage -----------------------------------------------------------------------------------


@pytest.fixture
def offices():
    """Director › Lead Dublin › 2 advocates and an associate in Dublin; Other Director ›
    Lead Lisbon › 2 advocates in Lisbon; Lead Dublin's part staffs Dublin only."""
    dublin = LocationFactory(code="dub", name="Dublin")
    lisbon = LocationFactory(code="lis", name="Lisbon", country="PT", timezone="Europe/Lisbon")
    director = make_position("Director", "director")
    lead = make_position("Lead, Dublin", "team-lead", director, location=dublin)
    advocates = make_team(lead, 2, location=dublin)
    associate = make_position("Associate", "associate-advocate", lead, location=dublin)
    other = make_position("Other Director", "director")
    other_lead = make_position("Lead, Lisbon", "team-lead", other, location=lisbon)
    make_team(other_lead, 2, location=lisbon)
    return {
        "dublin": dublin,
        "lisbon": lisbon,
        "director": director,
        "lead": lead,
        "advocates": advocates,
        "associate": associate,
        "other": other,
    }


def test_triage_finding_opens_for_open_weeks_without_triage_and_resolves_with_the_rota(offices):
    dublin, lisbon = offices["dublin"], offices["lisbon"]
    checks.triage_check()
    assert open_of(S.TRIAGE) == {
        (None, loc.pk, week, K.NO_TRIAGE) for loc in (dublin, lisbon) for week in (MONDAY, NEXT)
    }
    message = Finding.objects.open().get(location=dublin, week=MONDAY).message
    assert "Dublin" in message and "3 Tier 1 people" in message
    # an associate alone does not cover the week: still a gap
    associate = offices["associate"].holder_id
    with pytest.raises(ValidationError):
        services.triage_week_set(actor=None, location=dublin, week=MONDAY, people=[associate])
    # an advocate on triage this week: the service's own check resolves that week only
    advocate = offices["advocates"][0].holder_id
    services.triage_week_set(actor=None, location=dublin, week=MONDAY, people=[advocate])
    assert (None, dublin.pk, MONDAY, K.NO_TRIAGE) not in open_of(S.TRIAGE)
    assert (None, dublin.pk, NEXT, K.NO_TRIAGE) in open_of(S.TRIAGE)
    # the advocate moves to Lisbon: the rota names someone who no longer works there
    services.position_update(actor=None, position=offices["advocates"][0], location=lisbon)
    marks.recompute_pending()
    assert (None, dublin.pk, MONDAY, K.NO_TRIAGE) in open_of(S.TRIAGE)


def test_a_closed_location_or_one_without_tier1_people_has_no_triage_finding(offices):
    checks.triage_check()
    lisbon = Location.objects.get(pk=offices["lisbon"].pk)
    lisbon.open_days = ""
    services.location_save(actor=None, location=lisbon)
    assert {k[1] for k in open_of(S.TRIAGE)} == {offices["dublin"].pk}
    empty = LocationFactory(code="cph", name="Copenhagen")  # open, nobody works there
    checks.triage_check()
    assert empty.pk not in {k[1] for k in open_of(S.TRIAGE)}


def test_a_weeks_triage_finding_is_resolved_once_the_week_is_over(offices):
    checks.triage_check()
    assert (None, offices["dublin"].pk, MONDAY, K.NO_TRIAGE) in open_of(S.TRIAGE)
    checks.triage_check(today=NEXT)
    found = open_of(S.TRIAGE)
    assert (None, offices["dublin"].pk, MONDAY, K.NO_TRIAGE) not in found
    assert (None, offices["dublin"].pk, NEXT, K.NO_TRIAGE) in found
    assert (None, offices["dublin"].pk, NEXT + datetime.timedelta(days=7), K.NO_TRIAGE) in found


# --- who sees them -----------------------------------------------------------------------------


def test_a_location_finding_is_seen_by_those_whose_part_has_people_there(offices):
    checks.triage_check()
    dublin = Finding.objects.open().get(location=offices["dublin"], week=MONDAY)
    lisbon = Finding.objects.open().get(location=offices["lisbon"], week=MONDAY)
    lead_user = holder_user(offices["lead"], "manager")
    other_user = holder_user(offices["other"], "director")
    seen_by_lead = set(
        Finding.objects.visible_to(scope_for(lead_user)).values_list("pk", flat=True)
    )
    assert dublin.pk in seen_by_lead and lisbon.pk not in seen_by_lead
    client = log_in("director", holds=offices["director"])
    assert client.get(f"/api/findings/{dublin.pk}/").status_code == 200
    missing = client.get("/api/findings/999999/")
    hidden = client.get(f"/api/findings/{lisbon.pk}/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert log_in("hr").get(f"/api/findings/{lisbon.pk}/").status_code == 200
    assert lisbon.pk in set(
        Finding.objects.visible_to(scope_for(other_user)).values_list("pk", flat=True)
    )
    listed = client.get("/api/findings/", {"source": "triage", "page_size": 100}).json()
    assert {r["id"] for r in listed["results"]} == set(
        Finding.objects.open().filter(location=offices["dublin"]).values_list("pk", flat=True)
    )
    assert listed["results"][0]["location"]["name"] == "Dublin"
    # the dashboard of the director's part counts Dublin's weeks, not Lisbon's
    summary = dashboard.findings(offices["director"])
    triage_row = next(r for r in summary.by_kind if r["kind"] == K.NO_TRIAGE)
    assert triage_row["total"] == 2
    page = client.get("/dashboard/").content.decode()
    assert "Nobody on triage during open hours" in page
    assert 'href="/triage/#loc-dub">Dublin, week of' in page  # the worst list links the rota


def test_an_entry_squad_finding_on_a_position_out_of_sight_is_answered_as_missing(tier2):
    fay = engineer(tier2["lead"], tier2["voice"], ago(40))
    checks.entry_squad_check()
    finding = Finding.objects.open().get(source=S.ENTRY_SQUAD)
    outsider = log_in("director", holds=make_position("Far Director", "director"))
    assert outsider.get(f"/api/findings/{finding.pk}/").status_code == 404
    inside = log_in("director", holds=tier2["director"])
    assert inside.get(f"/api/findings/{finding.pk}/").json()["position"]["id"] == fay.pk
