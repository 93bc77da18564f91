"""The Architect step asks for time in every specialist squad of Tier 2, judged from the
squad history (never signed off): spells in a squad add up, the squad a person is in counts
up to the day judged, a day in the past is judged on the history up to it; the list's SQL
gives the same verdict; a fixed number of queries; the pages say which squads are missing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from metrics import readiness, verdicts
from metrics.models import PerformanceObservation
from roles.models import PromotionPath
from staffing.models import Assignment, CriterionSignoff, Position
from tests.factories import log_in, make_position, make_team
from tests.test_readiness_list import assert_same_as_python
from tiers.models import Squad

pytestmark = pytest.mark.django_db

D = dt.date
TODAY = D(2026, 11, 25)
ENTRY, VOICE, ANALYTICS, PLATFORM = "t2-general", "t2-voice", "t2-analytics", "t2-platform"


def history(position: Position, spells: list[tuple[str | None, dt.date, dt.date | None]]):
    """Replace the holder's assignments by ``spells`` (squad code, start, end) in the
    position's role, the last one (open) in the position itself."""
    person = position.holder
    Assignment.objects.filter(person=person).delete()
    squads = {s.code: s for s in Squad.objects.all()}
    for code, start, end in spells:
        Assignment.objects.create(
            person=person, role=position.role, squad=squads.get(code), start_date=start,
            end_date=end, position=position if end is None else None,
        )  # fmt: skip


OCTOBER = D(2026, 10, 31)


def good_csat(position: Position, end: dt.date = OCTOBER):
    PerformanceObservation.objects.create(
        person=position.holder, metric="csat", period_start=end - dt.timedelta(days=30),
        period_end=end, value=Decimal("97"), sample_size=20,
    )  # fmt: skip


def to_architect(position: Position, as_of: dt.date = TODAY) -> readiness.PathReadiness:
    judged = readiness.person_readiness(position.holder, as_of=as_of)
    return next(p for p in judged.paths if p.to_role.code == "architect")


def squads_check(step: readiness.PathReadiness) -> readiness.Check:
    return next(c for c in step.checks if c.kind == "squads")


@pytest.fixture
def seniors(framework):
    """A manager over three Senior TSEs, 20 months in the role, CSAT above target."""
    manager = make_position("Manager", "advocate-manager", start=D(2024, 1, 1))
    team = make_team(manager, 3, role="senior-tse", start=D(2025, 3, 1))
    for position in team:
        good_csat(position)
    manager.refresh_from_db()
    return manager, team


def test_the_catalogue_asks_for_three_months_in_each_squad_not_a_signoff(framework):
    path = PromotionPath.objects.get(from_role__code="senior-tse", to_role__code="architect")
    assert (path.squad_months, path.criteria_items) == (3, [])
    assert readiness.squad_days(path) == 92  # 3 months of 30.44 days, rounded up
    assert "3 months in each specialist squad" in path.squad_rotation_display


def test_every_specialist_squad_for_the_months_asked(seniors):
    _, (rotated, skipped, short) = seniors
    year = [(ENTRY, D(2025, 3, 1), D(2025, 6, 1))]
    # Voice, Analytics, Platform ~ 100 days each, and still in Platform
    history(rotated, [*year, (VOICE, D(2025, 6, 1), D(2025, 9, 10)),
                      (ANALYTICS, D(2025, 9, 10), D(2025, 12, 20)),
                      (PLATFORM, D(2025, 12, 20), None)])  # fmt: skip
    # never in Platform: time in the entry squad does not stand in for it
    history(skipped, [(ENTRY, D(2025, 3, 1), D(2025, 12, 1)),
                      (VOICE, D(2025, 12, 1), D(2026, 4, 1)),
                      (ANALYTICS, D(2026, 4, 1), None)])  # fmt: skip
    # two spells in Analytics of 50 days add up to 100; Voice only 62 days
    history(short, [*year, (ANALYTICS, D(2025, 6, 1), D(2025, 7, 21)),
                    (VOICE, D(2025, 7, 21), D(2025, 9, 21)),
                    (ANALYTICS, D(2025, 9, 21), D(2025, 11, 10)),
                    (PLATFORM, D(2025, 11, 10), None)])  # fmt: skip

    ready = to_architect(rotated)
    assert ready.status == readiness.READY and squads_check(ready).met is True
    assert "Platform and Integrations (11.2 months, there now)" in squads_check(ready).detail

    missing = to_architect(skipped)
    assert missing.status == readiness.MISSING
    assert missing.summary == "Missing: not yet in: Platform and Integrations"
    assert "Analytics and Reporting (7.8 months, there now)" in squads_check(missing).detail

    under = to_architect(short)
    assert under.summary == "Missing: under 3 months in: Voice and Messaging"
    assert "Voice and Messaging (2.0 months)" in squads_check(under).detail
    assert "done: Analytics and Reporting (3.3 months), Platform and" in squads_check(under).detail
    # a manager's sign-off of the old wording changes nothing: the history decides
    path = PromotionPath.objects.get(from_role__code="senior-tse", to_role__code="architect")
    CriterionSignoff.objects.create(
        person=short.holder, path=path, criterion="Has worked through the Tier 2 specialist "
        "squads", signed_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    assert to_architect(short).status == readiness.MISSING
    # HR lowers the bar to 2 months in each squad (61 days): Voice's 62 are enough now
    PromotionPath.objects.filter(pk=path.pk).update(squad_months=2)
    assert to_architect(short).status == readiness.READY
    assert_same_as_python(Position.objects.all(), TODAY, sorts=["status"])


def test_the_squad_one_is_in_counts_up_to_the_day_judged(seniors):
    _, (person, *_) = seniors
    joined = TODAY - dt.timedelta(days=91)
    history(person, [(VOICE, D(2025, 3, 1), D(2025, 7, 1)), (ANALYTICS, D(2025, 7, 1), joined),
                     (PLATFORM, joined, None)])  # fmt: skip
    step = to_architect(person)
    assert step.summary == "Missing: under 3 months in: Platform and Integrations"
    assert "Platform and Integrations (3.0 months, there now)" in squads_check(step).detail
    tomorrow = TODAY + dt.timedelta(days=1)  # the 92nd day
    assert to_architect(person, tomorrow).status == readiness.READY
    for day in (TODAY, tomorrow):
        assert_same_as_python(Position.objects.all(), day, sorts=["status"])


def test_a_day_in_the_past_is_judged_on_the_history_up_to_it(seniors):
    _, (person, *_) = seniors
    history(person, [(VOICE, D(2025, 3, 1), D(2025, 7, 1)), (ANALYTICS, D(2025, 7, 1),
             D(2025, 11, 1)), (PLATFORM, D(2025, 11, 1), None)])  # fmt: skip
    assert to_architect(person).status == readiness.READY
    good_csat(person, D(2025, 10, 31))
    before = D(2025, 10, 28)  # before Platform; 119 days in Analytics
    step = to_architect(person, before)
    check = squads_check(step)
    assert check.short == "not yet in: Platform and Integrations"
    assert "Analytics and Reporting (3.9 months, there now)" in check.detail
    assert "Platform" not in check.detail.split("not yet in:")[0]
    assert_same_as_python(Position.objects.all(), before, sorts=["status"])
    # in Voice only, a month after joining it
    early = to_architect(person, D(2025, 4, 1))
    assert squads_check(early).short == (
        "not yet in: Analytics and Reporting, Platform and Integrations; "
        "under 3 months in: Voice and Messaging"
    )


def test_a_tier_without_specialist_squads_asks_for_none(seniors):
    _, (person, *_) = seniors
    history(person, [(ENTRY, D(2025, 3, 1), None)])
    assert to_architect(person).status == readiness.MISSING
    Squad.objects.filter(kind="specialist").update(tier=person.role.tier.escalates_to)
    step = to_architect(person)
    assert squads_check(step).met is None and step.status == readiness.READY
    assert_same_as_python(Position.objects.all(), TODAY, sorts=["status"])


def test_squads_cost_one_query_more_whatever_the_number_of_people(seniors):
    manager, team = seniors
    for position in team:
        history(position, [(VOICE, D(2025, 3, 1), D(2025, 7, 1)), (ANALYTICS, D(2025, 7, 1),
                None)])  # fmt: skip

    def costs() -> tuple[int, int]:
        scope = Position.objects.subtree_of(manager)
        with CaptureQueriesContext(connection) as python:
            assert len(readiness.readiness(scope, as_of=TODAY)) == len(team) + 1
        listed = verdicts.ReadinessList(scope, as_of=TODAY)
        with CaptureQueriesContext(connection) as page:
            assert len(listed[0:20]) == len(team) + 1
        return len(python.captured_queries), len(page.captured_queries)

    first = costs()
    team += make_team(manager, 4, role="senior-tse", start=D(2025, 3, 1))
    for position in team[-4:]:
        history(position, [(PLATFORM, D(2025, 3, 1), None)])
    manager.refresh_from_db()
    # readiness: positions, assignments (with their squads), paths, squads, CSAT, sign-offs;
    # a page: the catalogue, the page with the counts, and readiness of the page
    assert first == costs() == (6, 8)
    # without a step that asks for squads in the scope, the squads are not read
    PromotionPath.objects.filter(squad_months__isnull=False).update(squad_months=None)
    assert costs() == (5, 7)


def test_the_pages_name_the_squads_still_missing(seniors):
    manager, (person, *_) = seniors
    history(person, [(VOICE, D(2025, 3, 1), D(2025, 7, 1)), (ANALYTICS, D(2025, 7, 1), None)])
    client = log_in("manager", holds=manager)
    listed = client.get("/readiness/", {"role": person.role_id}).content.decode()
    assert "Missing: not yet in: Platform and Integrations" in listed
    page = client.get(f"/people/{person.holder_id}/").content.decode()
    assert "Time in each specialist squad" in page
    assert "not yet in: Platform and Integrations" in page
    assert "Analytics and Reporting (" in page and "there now)" in page
    api = client.get(f"/api/people/{person.holder_id}/readiness/").json()
    [step] = [p for p in api["paths"] if p["to_role"]["name"] == "Technical Support Architect"]
    [check] = [c for c in step["checks"] if c["kind"] == "squads"]
    assert check["met"] is False and "not yet in: Platform and Integrations" in check["detail"]
    # the catalogue says what the step asks for, on the role's page and the ladder
    wanted = "at least 3 months in each specialist squad of the tier"
    assert wanted in client.get("/roles/senior-tse/").content.decode()
    assert wanted in client.get("/roles/").content.decode()


def test_the_demo_shows_the_rule_met_and_unmet(framework):
    from django.core.management import call_command

    call_command("seed_demo", org="synapse")
    seniors = Position.objects.filter(role__code="senior-tse", holder__isnull=False)
    verdict = {}
    for judged in readiness.readiness(seniors):
        step = next(p for p in judged.paths if p.to_role.code == "architect")
        verdict[judged.person.pk] = squads_check(step).met
    assert set(verdict.values()) == {True, False}  # someone meets it, someone does not
    # and the list's SQL gives every one of them the Python verdict
    assert_same_as_python(seniors, timezone.localdate(), sorts=())


def test_the_migration_moves_an_unedited_catalogue_to_the_squad_history(framework):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("roles.migrations.0006_path_squad_months")
    path = PromotionPath.objects.get(from_role__code="senior-tse", to_role__code="architect")
    PromotionPath.objects.filter(pk=path.pk).update(
        criteria=migration.SHIPPED_LINE, squad_months=None
    )
    other = PromotionPath.objects.get(from_role__code="architect", to_role__code="senior-architect")
    migration.judge_rotation_from_history(apps, None)
    path.refresh_from_db()
    assert (path.criteria, path.squad_months) == ("", 3)
    migration.back_to_the_line(apps, None)
    path.refresh_from_db()
    assert path.criteria == migration.SHIPPED_LINE
    # a step a user reworded keeps their words, and no other step changes
    PromotionPath.objects.filter(pk=path.pk).update(
        criteria=migration.SHIPPED_LINE + "\nLeads a squad review", squad_months=None
    )
    migration.judge_rotation_from_history(apps, None)
    path.refresh_from_db()
    assert path.squad_months is None and path.criteria.endswith("Leads a squad review")
    assert PromotionPath.objects.get(pk=other.pk).squad_months is None
