"""The readiness list of any size (metrics.verdicts): the verdicts the database computes for
the whole scope (to sort, filter and count) are the ones the Python rules give person by
person, on generated histories; a page costs the same queries whatever the page and the
scope; the pages and the API page through everyone; nothing goes stale."""

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from metrics import readiness, verdicts
from metrics.models import PerformanceObservation
from roles.models import PromotionPath, Role
from staffing import services as staffing_services
from staffing.models import Assignment, CriterionSignoff, Position
from tests.conftest import scaled
from tests.factories import UserFactory, log_in, make_position, make_team, session_client
from tiers.models import Squad

pytestmark = pytest.mark.django_db

D = dt.date
TODAY = D(2026, 11, 25)
FAR = D.max

# the orders the list had when it was sorted in Python, after the judging (tree order)
PYTHON_SORTS = {
    "name": lambda r: (r.person.family_name.lower(), r.person.given_name.lower()),
    "role": lambda r: (r.role.tier.rank, r.role.level, r.role.name),
    "months": lambda r: -r.days_in_role,
    "csat": lambda r: (r.csat is None, -(r.csat or 0)),
    "status": lambda r: (
        readiness.STATUS_ORDER[r.best.status] if r.best else 3,
        (r.best.ready_on or FAR) if r.best else FAR,
        r.person.family_name.lower(),
    ),
}


def sql_verdicts(listed: verdicts.ReadinessList) -> dict[int, tuple]:
    sql, params = listed._with
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} SELECT id, days, csat, status, short FROM verdicts", params)
        return {row[0]: tuple(row[1:]) for row in cursor.fetchall()}


def python_verdict(r: readiness.PersonReadiness, as_of: dt.date) -> tuple:
    best = r.best
    return (
        r.days_in_role,
        None if r.csat is None else int(r.csat * 100),
        verdicts.STATUS_RANK[best.status] if best else verdicts.NO_STEP,
        (best.ready_on - as_of).days if best and best.ready_on else None,
    )


def assert_same_as_python(positions, as_of: dt.date, *, sorts=verdicts.SORTS) -> None:
    """Every person's verdict, every order and every filter of the list equal what the
    Python rules give for the same people on the same day."""
    judged = readiness.readiness(positions, as_of=as_of)
    computed = sql_verdicts(verdicts.ReadinessList(positions, as_of=as_of))
    assert {r.position.pk: python_verdict(r, as_of) for r in judged} == computed
    for key in sorts:
        for reverse in (False, True):
            ordered = sorted(judged, key=PYTHON_SORTS[key], reverse=reverse)
            sort = ("-" if reverse else "") + key
            listed = verdicts.ReadinessList(positions, as_of=as_of, sort=sort)
            assert [r.position.pk for r in listed[0 : len(judged) + 1]] == [
                r.position.pk for r in ordered
            ], sort
            for status in readiness.STATUS_LABELS:
                only = verdicts.ReadinessList(positions, as_of=as_of, sort=sort, status=status)
                wanted = [r.position.pk for r in ordered if r.best and r.best.status == status]
                assert only.count() == len(wanted)
                assert [r.position.pk for r in only[0:1000]] == wanted, (sort, status)


# --- the SQL verdict is the Python one -------------------------------------------------------

BASE = D(2026, 6, 1)
ROLES = [
    "associate-advocate",  # one path, CSAT target 90
    "advocate",  # four paths, one with two criteria
    "tse",  # a path with no minimum
    "systems-specialist",  # no CSAT target
    "team-lead",
    "senior-advocate",  # top of its ladder: no step
    "director",  # a path with no criteria and no minimum
]
stint = st.tuples(
    st.integers(-900, 40),  # start, days from BASE
    st.one_of(st.none(), st.integers(0, 400)),  # length (None: still in it)
    st.booleans(),  # in the position's role, or in another one
)
survey = st.tuples(
    st.integers(-130, 40),  # the period's end, days from the day judged
    st.integers(8000, 10000),  # hundredths of a percent
    st.one_of(st.none(), st.integers(0, 150)),  # surveys (None and 0 count as one)
)
person = st.fixed_dictionaries(
    {
        "role": st.sampled_from(ROLES),
        "stints": st.lists(stint, max_size=4),
        "csat": st.lists(survey, max_size=4, unique_by=lambda s: s[0]),
        "signed": st.lists(st.integers(0, 9), max_size=5),
        "stale": st.booleans(),  # a sign-off of wording the path no longer has
    }
)
catalogue = st.fixed_dictionaries(
    {
        "min_months": st.one_of(st.none(), st.integers(0, 30)),  # associate → advocate
        "target": st.one_of(st.none(), st.integers(9000, 9999)),  # advocate, in hundredths
        "inactive": st.booleans(),  # team lead no longer a role one is promoted into
        "reword": st.booleans(),  # advocate → senior advocate gets a new criterion
    }
)


@pytest.fixture
def eight(framework):
    lead = make_position("Lead", "team-lead", start=D(2024, 1, 1))
    team = make_team(lead, 8, role="advocate", start=D(2025, 1, 1))
    lead.refresh_from_db()  # its nested-set bounds grew with the team
    return lead, team


def _history(positions: list[Position], people: list[dict], edits: dict, as_of: dt.date):
    PromotionPath.objects.filter(
        from_role__code="associate-advocate", to_role__code="advocate"
    ).update(min_months=edits["min_months"])
    if edits["target"] is not None:
        Role.objects.filter(code="advocate").update(csat_target=Decimal(edits["target"]) / 100)
    if edits["inactive"]:
        Role.objects.filter(code="team-lead").update(is_active=False)
    if edits["reword"]:
        path = PromotionPath.objects.get(
            from_role__code="advocate", to_role__code="senior-advocate"
        )
        path.criteria = "Runs the morning stand-up\n" + path.criteria
        path.save()
    roles = {role.code: role for role in Role.objects.filter(code__in=[*ROLES, "architect"])}
    holders = [p.holder for p in positions]
    Assignment.objects.filter(person__in=holders).delete()
    for position, wanted in zip(positions, people, strict=False):
        role = roles[wanted["role"]]
        Position.objects.filter(pk=position.pk).update(role=role)
        stints = sorted(wanted["stints"], key=lambda s: (s[0], s[1] is None, s[1] or 0))
        for n, (start, length, same) in enumerate(stints):
            begin = BASE + dt.timedelta(days=start)
            ongoing = length is None and n == len(stints) - 1
            Assignment.objects.create(
                person=position.holder,
                position=position if ongoing else None,
                role=role if same else roles["architect"],
                start_date=begin,
                end_date=None if ongoing else begin + dt.timedelta(days=length or 30),
            )
        for end, hundredths, n in wanted["csat"]:
            last = as_of + dt.timedelta(days=end)
            PerformanceObservation.objects.create(
                person=position.holder, metric="csat", period_start=last - dt.timedelta(days=27),
                period_end=last, value=Decimal(hundredths) / 100, sample_size=n,
            )  # fmt: skip
        criteria = [
            (path, criterion)
            for path in PromotionPath.objects.filter(from_role=role).order_by("pk")
            for criterion in path.criteria_items
        ]
        chosen = {criteria[i % len(criteria)] for i in wanted["signed"]} if criteria else set()
        now = timezone.now()
        for path, criterion in chosen:
            CriterionSignoff.objects.create(
                person=position.holder, path=path, criterion=criterion, signed_at=now
            )
        if wanted["stale"] and criteria:
            CriterionSignoff.objects.create(
                person=position.holder, path=criteria[0][0], criterion="An old wording",
                signed_at=now,
            )  # fmt: skip


def test_the_database_judges_as_the_python_rules_do(eight):
    """Generated histories (stints that overlap, gaps, other roles; CSAT periods across the
    window's edges, with and without survey counts; sign-offs, stale ones too) and catalogue
    edits, judged on generated days: every verdict, order and filter agrees."""
    lead, positions = eight
    seen = set()

    @settings(
        max_examples=scaled(40, 200),
        deadline=None,
        derandomize=True,  # the same examples in every run
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(
        people=st.lists(person, min_size=1, max_size=8),
        edits=catalogue,
        shift=st.integers(-60, 200),
    )
    @example(  # one of each: ready, ready on a date, missing, and the top of a ladder
        people=[
            {"role": "director", "stints": [(-400, None, True)], "csat": [], "signed": [],
             "stale": False},
            {"role": "associate-advocate", "stints": [(-30, None, True)],
             "csat": [(-10, 9500, 40)], "signed": [0], "stale": False},
            {"role": "advocate", "stints": [(-500, 100, True), (-450, None, True)],
             "csat": [(-5, 9000, None)], "signed": [], "stale": True},
            {"role": "senior-advocate", "stints": [], "csat": [], "signed": [], "stale": False},
        ],
        edits={"min_months": 3, "target": None, "inactive": False, "reword": False},
        shift=0,
    )  # fmt: skip
    def judged_alike(people, edits, shift):
        as_of = BASE + dt.timedelta(days=shift)
        with transaction.atomic():
            _history(positions, people, edits, as_of)
            scope = Position.objects.subtree_of(lead)
            assert scope.filter(holder__isnull=False).count() == 9
            assert_same_as_python(scope, as_of)
            seen.update(
                v[2] for v in sql_verdicts(verdicts.ReadinessList(scope, as_of=as_of)).values()
            )
            transaction.set_rollback(True)

    judged_alike()
    # the examples reach every verdict, or the equality above proves little
    assert seen == {0, 1, 2, verdicts.NO_STEP}


# --- time in the specialist squads (the Architect step) ---------------------------------------

SQUADS = [None, "t2-general", "t2-voice", "t2-analytics", "t2-platform"]
spell = st.tuples(
    st.integers(-700, 40),  # start, days from BASE
    st.one_of(st.none(), st.integers(0, 160)),  # length (None: still in it, if the last)
    st.integers(0, len(SQUADS) - 1),  # the squad (0: none)
    st.booleans(),  # in the position's role, or in another one
)
engineer = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["senior-tse", "senior-tse", "senior-tse", "tse", "advocate"]),
        "spells": st.lists(spell, max_size=7),
        "csat": st.booleans(),  # a CSAT above the target in the window
        "signed": st.booleans(),  # the Architect step's extra criterion signed, if it has one
    }
)
rotation_edits = st.fixed_dictionaries(
    {
        "months": st.sampled_from([None, 1, 2, 3, 3, 6]),  # squad_months of the step
        "min_months": st.sampled_from([None, 0, 6, 18]),  # and its time in role
        "criterion": st.booleans(),  # the step also asks for a signed-off criterion
        # specialist squads moved to Tier 3: none, Platform (Tier 2 keeps two), all three (the
        # rule does not apply)
        "moved": st.sampled_from([0, 0, 0, 1, 2]),
    }
)


def _squad_history(positions, people, edits, as_of):
    path = PromotionPath.objects.get(from_role__code="senior-tse", to_role__code="architect")
    path.squad_months, path.min_months = edits["months"], edits["min_months"]
    path.criteria = "Leads a squad's weekly review" if edits["criterion"] else ""
    path.save()
    moved = [[], ["t2-platform"], ["t2-voice", "t2-analytics", "t2-platform"]][edits["moved"]]
    Squad.objects.filter(code__in=moved).update(tier=Role.objects.get(code="architect").tier)
    roles = {r.code: r for r in Role.objects.filter(code__in=["senior-tse", "tse", "advocate"])}
    squads = {s.code: s for s in Squad.objects.all()}
    Assignment.objects.filter(person__in=[p.holder for p in positions]).delete()
    for position, wanted in zip(positions, people, strict=False):
        role = roles[wanted["role"]]
        Position.objects.filter(pk=position.pk).update(role=role)
        spells = wanted["spells"]
        for n, (start, length, squad, same) in enumerate(spells):  # in the order drawn: ids
            begin = BASE + dt.timedelta(days=start)
            ongoing = length is None and n == len(spells) - 1
            Assignment.objects.create(
                person=position.holder, position=position if ongoing else None,
                role=role if same else roles["advocate" if role.code != "advocate" else "tse"],
                squad=squads.get(SQUADS[squad]), start_date=begin,
                end_date=None if ongoing else begin + dt.timedelta(days=length or 30),
            )  # fmt: skip
        if wanted["csat"]:
            PerformanceObservation.objects.create(
                person=position.holder, metric="csat", period_start=as_of - dt.timedelta(days=40),
                period_end=as_of - dt.timedelta(days=10), value=Decimal("99"), sample_size=5,
            )  # fmt: skip
        if wanted["signed"] and edits["criterion"]:
            CriterionSignoff.objects.create(
                person=position.holder, path=path, criterion=path.criteria_items[0],
                signed_at=timezone.now(),
            )  # fmt: skip


def test_the_database_judges_time_in_the_squads_as_the_python_rules_do(eight):
    """Generated squad histories (spells in each squad, some adding up, gaps of a day or more,
    overlaps, spells that start on the same day, the squad one is in now, spells after the
    day judged) and edits of the Architect step, judged on generated days: every verdict,
    order and filter agrees, and the examples meet and miss the squads rule."""
    lead, positions = eight
    seen, squads_met = set(), set()

    @settings(
        max_examples=scaled(40, 200),
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(
        people=st.lists(engineer, min_size=1, max_size=8),
        edits=rotation_edits,
        shift=st.integers(-200, 200),
    )
    @example(  # three squads of 100 days, the last still going: ready; one short of a day: not
        people=[
            {"role": "senior-tse", "csat": True, "signed": False,
             "spells": [(-600, 100, 2, True), (-500, 100, 3, True), (-400, None, 4, True)]},
            {"role": "senior-tse", "csat": True, "signed": False,
             "spells": [(-600, 100, 2, True), (-500, 91, 3, True), (-400, None, 4, True)]},
            {"role": "senior-tse", "csat": True, "signed": False,  # a day's gap joins spells
             "spells": [(-600, 100, 2, True), (-500, 45, 3, True), (-454, 46, 3, True),
                        (-400, None, 4, True)]},
        ],
        edits={"months": 3, "min_months": 6, "criterion": False, "moved": 0},
        shift=0,
    )  # fmt: skip
    def judged_alike(people, edits, shift):
        as_of = BASE + dt.timedelta(days=shift)
        with transaction.atomic():
            _squad_history(positions, people, edits, as_of)
            scope = Position.objects.subtree_of(lead)
            assert_same_as_python(scope, as_of, sorts=["status", "months"])
            seen.update(
                v[2] for v in sql_verdicts(verdicts.ReadinessList(scope, as_of=as_of)).values()
            )
            for judged in readiness.readiness(scope, as_of=as_of):
                for step in judged.paths:
                    squads_met.update(c.met for c in step.checks if c.kind == "squads")
            transaction.set_rollback(True)

    judged_alike()
    assert {0, 1, 2} <= seen and squads_met == {True, False, None}


def test_csat_is_rounded_half_to_even_in_both(eight):
    """94.985 is shown as 94.98, as Decimal rounds it: level with a plain 94.98 (tree order
    between them), not above it."""
    _, positions = eight
    first, second, third = (p.holder for p in positions[:3])
    for person, values in ((first, ["94.98"]), (second, ["94.98", "94.99"]), (third, ["95.02"])):
        for n, value in enumerate(values):
            PerformanceObservation.objects.create(
                person=person, metric="csat", period_start=D(2026, 9 + n, 1),
                period_end=D(2026, 9 + n, 28), value=Decimal(value), sample_size=10,
            )  # fmt: skip
    judged = {r.person.pk: r.csat for r in readiness.readiness(Position.objects.all(), as_of=TODAY)}
    assert judged[second.pk] == Decimal("94.98")  # (94.98 + 94.99) / 2, half to even
    listed = verdicts.ReadinessList(Position.objects.all(), as_of=TODAY, sort="csat")
    assert [r.person.pk for r in listed[0:3]] == [third.pk, first.pk, second.pk]
    assert_same_as_python(Position.objects.all(), TODAY, sorts=["csat"])


def test_overlapping_stints_count_once_in_both(eight):
    _, positions = eight
    person, role = positions[0].holder, positions[0].role
    Assignment.objects.filter(person=person).delete()
    for start, end in ((D(2025, 1, 1), D(2025, 6, 1)), (D(2025, 3, 1), D(2025, 4, 1)),
                       (D(2025, 5, 1), D(2025, 9, 1)), (D(2026, 1, 1), None)):  # fmt: skip
        Assignment.objects.create(
            person=person, role=role, start_date=start, end_date=end,
            position=positions[0] if end is None else None,
        )  # fmt: skip
    found = readiness.person_readiness(person, as_of=TODAY)
    assert found.days_in_role == (D(2025, 9, 1) - D(2025, 1, 1)).days + (TODAY - D(2026, 1, 1)).days
    assert (
        sql_verdicts(verdicts.ReadinessList(Position.objects.all(), as_of=TODAY))[positions[0].pk][
            0
        ]
        == found.days_in_role
    )


def test_the_demo_organization_is_judged_alike(framework):
    from django.core.management import call_command

    call_command("seed_demo", org="synapse")
    assert CriterionSignoff.objects.exists() and PerformanceObservation.objects.exists()
    for as_of in (timezone.localdate(), timezone.localdate() - dt.timedelta(days=75)):
        assert_same_as_python(Position.objects.all(), as_of)


# --- pages of a list ------------------------------------------------------------------------


@pytest.fixture
def twelve(framework):
    """A manager over a lead with twelve associates: six ready now, the rest (and the lead)
    missing a CSAT or a sign-off."""
    manager = make_position("Manager", "advocate-manager", start=D(2024, 1, 1))
    lead = make_position("Lead", "team-lead", manager, start=D(2024, 1, 1))
    team = make_team(lead, 12, role="associate-advocate", start=D(2026, 7, 1))
    path = PromotionPath.objects.get(from_role__code="associate-advocate", to_role__code="advocate")
    for n, position in enumerate(team):
        PerformanceObservation.objects.create(
            person=position.holder, metric="csat", period_start=D(2026, 10, 1),
            period_end=D(2026, 10, 31), value=95 if n % 3 else 80,
        )  # fmt: skip
        if n % 4:
            for criterion in path.criteria_items:
                staffing_services.criterion_signoff(
                    actor=None, person=position.holder, path=path, criterion=criterion,
                    signed=True,
                )  # fmt: skip
    manager.refresh_from_db()  # the nested-set bounds grew with the team
    lead.refresh_from_db()
    return {"manager": manager, "lead": lead, "team": team}


def test_a_page_is_judged_alone_in_seven_queries(twelve):
    every = Position.objects.subtree_of(twelve["manager"], include_self=False)
    costs = []
    for status, at in (("", 0), ("", 10), ("missing", 4), ("ready", 0)):
        listed = verdicts.ReadinessList(every, as_of=TODAY, status=status)
        with CaptureQueriesContext(connection) as captured:
            page = listed[at : at + 3]
            assert listed.count() and page
        costs.append(len(captured.captured_queries))
    make_team(twelve["lead"], 9, role="advocate", start=D(2025, 1, 1))
    twelve["manager"].refresh_from_db()
    every = Position.objects.subtree_of(twelve["manager"], include_self=False)
    listed = verdicts.ReadinessList(every, as_of=TODAY)
    with CaptureQueriesContext(connection) as captured:
        assert len(listed[18:21]) == 3 and listed.count() == 22
    costs.append(len(captured.captured_queries))
    # the catalogue, the page's ids in order with the counts, then readiness() of the page (5)
    assert costs == [7] * 5


def page_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-person="(\d+)"', html)]


def test_the_page_walks_through_everyone_a_page_at_a_time(twelve, settings):
    settings.READINESS_PAGE_SIZE = 5
    client = log_in("manager", holds=twelve["manager"])
    everyone = verdicts.ReadinessList(
        Position.objects.subtree_of(twelve["manager"], include_self=False)
    )
    assert everyone.count() == 13  # the lead and twelve advocates
    pages = [client.get("/readiness/", {"page": n}).content.decode() for n in (1, 2, 3)]
    seen = [pk for html in pages for pk in page_ids(html)]
    assert seen == [r.person.pk for r in everyone[0:100]]  # everyone once, in status order
    assert "6–10 shown" in pages[1] and 'max="3"' in pages[1] and "of 3" in pages[1]
    assert 'rel="first"' in pages[2] and 'rel="next"' not in pages[2]
    assert 'rel="next"' in pages[0] and 'rel="prev"' not in pages[0]
    # past the end: the last page, as Django's paginator answers
    for past in (99, 10**30, "x", -1):
        html = client.get("/readiness/", {"page": past}).content.decode()
        assert page_ids(html) == page_ids(pages[0 if past == "x" else 2]), past
    # a filter covers the whole team, not the page: the ready are on its pages
    ready = [r.person.pk for r in everyone[0:100] if r.best and r.best.status == "ready"]
    assert len(ready) > 5
    shown = [
        pk
        for n in (1, 2)
        for pk in page_ids(
            client.get("/readiness/", {"status": "ready", "page": n}).content.decode()
        )
    ]
    assert shown == ready
    html = pages[0]
    assert f"ready now ({len(ready)})" in html and "everyone (13)" in html
    # another sort pages the same way
    by_name = [
        pk
        for n in (1, 2, 3)
        for pk in page_ids(client.get("/readiness/", {"sort": "-name", "page": n}).content.decode())
    ]
    names = {r.person.pk: r.person for r in everyone[0:100]}
    assert by_name == sorted(
        names, key=lambda pk: (names[pk].family_name.lower(), names[pk].given_name.lower()),
        reverse=True,
    )  # fmt: skip


def test_the_page_costs_the_same_queries_on_any_page_and_any_scope(twelve, settings):
    settings.READINESS_PAGE_SIZE = 4
    client = log_in("manager", holds=twelve["manager"])

    def cost(**query) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/readiness/", query).status_code == 200
        return len(captured.captured_queries)

    first = cost()
    assert cost(page=4) == cost(page=2, status="missing") == cost(sort="csat", page=3) == first
    make_team(twelve["lead"], 20, role="advocate", start=D(2025, 1, 1))
    assert cost(page=8) == first


def test_the_csv_holds_everyone_in_the_page_order(twelve, monkeypatch):
    monkeypatch.setattr(verdicts, "CHUNK", 4)  # several chunks
    client = log_in("manager", holds=twelve["manager"])
    response = client.get("/readiness/", {"format": "csv", "sort": "name"})
    assert response.streaming
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    people = list(dict.fromkeys(r["person"] for r in rows))
    listed = verdicts.ReadinessList(
        Position.objects.subtree_of(twelve["manager"], include_self=False), sort="name"
    )
    assert people == [r.person.full_name for r in listed[0:100]] and len(people) == 13


def test_the_api_pages_through_everyone_with_the_whole_count(twelve):
    hr = session_client(UserFactory(groups=["hr"]))
    everyone = verdicts.ReadinessList(
        Position.objects.subtree_of(twelve["manager"], include_self=False)
    )
    url = f"/api/readiness/?subtree_of={twelve['manager'].pk}&page_size=5"
    seen, pages = [], 0
    while url:
        body = hr.get(url).json()
        assert body["count"] == 13
        seen += [r["person"]["id"] for r in body["results"]]
        url, pages = body["next"], pages + 1
    assert pages == 3 and seen == [r.person.pk for r in everyone[0:100]]
    ready = hr.get(
        "/api/readiness/",
        {"subtree_of": twelve["manager"].pk, "status": "ready", "page_size": 2, "page": 2},
    ).json()
    assert ready["count"] == everyone.counts["ready"] and len(ready["results"]) == 2
    assert {r["paths"][0]["status"] for r in ready["results"]} == {"ready"}
    assert hr.get("/api/readiness/", {"page": 99}).status_code == 404

    def cost(**query) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert hr.get("/api/readiness/", {"page_size": 3, **query}).status_code == 200
        return len(captured.captured_queries)

    assert cost() == cost(page=4) == cost(status="missing", page=2)


# --- nothing stored, nothing stale --------------------------------------------------------------


def test_the_list_follows_every_input_at_once(twelve):
    """Sign-offs, CSAT, assignments, the catalogue and the day itself: the next list read
    sees each change (there is no stored verdict to refresh)."""
    every = Position.objects.subtree_of(twelve["manager"], include_self=False)

    def status_of(position, as_of=TODAY) -> int:
        return sql_verdicts(verdicts.ReadinessList(every, as_of=as_of))[position.pk][2]

    position = twelve["team"][0]  # CSAT 80 against 90, criterion not signed: missing
    person = position.holder
    path = PromotionPath.objects.get(from_role__code="associate-advocate", to_role__code="advocate")
    assert status_of(position) == 2
    PerformanceObservation.objects.filter(person=person).update(value=96)
    assert status_of(position) == 2  # the criterion still unsigned
    staffing_services.criterion_signoff(
        actor=None, person=person, path=path, criterion=path.criteria_items[0], signed=True
    )
    assert status_of(position) == 0  # ready now
    PromotionPath.objects.filter(pk=path.pk).update(min_months=6)
    assert status_of(position) == 1  # ready on a date: six months from 1 July
    ready_on = readiness.person_readiness(person, as_of=TODAY).best.ready_on
    assert status_of(position, as_of=ready_on) == 0
    assert status_of(position, as_of=ready_on - dt.timedelta(days=1)) == 1
    Role.objects.filter(code="associate-advocate").update(csat_target=97)
    assert status_of(position) == 2
    Role.objects.filter(code="associate-advocate").update(csat_target=90)
    Role.objects.filter(code="advocate").update(is_active=False)
    assert status_of(position) == verdicts.NO_STEP  # no step left from the role
    Role.objects.filter(code="advocate").update(is_active=True)
    # promoted: a new role, a new clock, the new role's paths
    from metrics import services

    services.person_promote(
        actor=None, person=person, to_role=path.to_role, override_reason="Covers the queue well."
    )
    days, _, status, _ = sql_verdicts(verdicts.ReadinessList(every))[position.pk]
    assert days == 0 and status == 2
    assert_same_as_python(every, timezone.localdate(), sorts=["status"])


def test_a_list_narrows_to_a_team_or_a_role_and_widens_again(twelve, settings):
    settings.READINESS_PAGE_SIZE = 5
    client = log_in("manager", holds=twelve["manager"])
    lead, associates = twelve["lead"], Role.objects.get(code="associate-advocate")
    html = client.get("/readiness/").content.decode()
    assert f'<option value="{lead.pk}">Lead' in html and "everyone (13)" in html
    assert "↑" not in html  # the manager's own list is the widest they have
    # one role: twelve associates, on three pages; the role stays on every link
    role = client.get("/readiness/", {"role": associates.pk, "page": 3}).content.decode()
    assert "everyone (12)" in role and "11–12 shown" in role
    assert f"role={associates.pk}" in role.split('rel="first"')[0].rsplit("href=", 1)[1]
    assert "Associate Customer Advocate only" in role
    # the lead's team, and the way back up to the manager's
    team = client.get("/readiness/", {"root": lead.pk}).content.decode()
    assert "everyone (12)" in team and f'href="?root={twelve["manager"].pk}"' in team
    assert client.get("/readiness/", {"role": "99999999999999999999"}).status_code == 200
    hr = session_client(UserFactory(groups=["hr"]))
    only = hr.get("/api/readiness/", {"role": associates.pk, "page_size": 50}).json()
    assert only["count"] == 12
    assert {r["role"]["id"] for r in only["results"]} == {associates.pk}
    assert hr.get("/api/readiness/", {"role": [associates.pk, 999999]}).status_code == 400
    assert hr.get("/api/readiness/", {"role": "x"}).status_code == 400
