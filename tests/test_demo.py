"""The demo organizations have the shape their seeds describe."""

from collections import Counter

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory

from demo import organizations
from staffing.models import Assignment, DottedLine, Location, Person, Position
from staffing.scope import scope_for
from staffing.tree import tree_check

pytestmark = pytest.mark.django_db


def children_of(title: str) -> list[Position]:
    return list(Position.objects.get(title=title).get_children())


def test_fte85_has_the_seed_team_sizes_exactly(framework):
    organizations.seed(org="fte85")
    assert Position.objects.count() == 101
    assert Position.objects.filter(status="filled").count() == 85
    assert Position.objects.filter(status="planned").count() == 12
    assert Position.objects.filter(status="open").count() == 4
    vp = Position.objects.get(parent=None)
    assert vp.title == "VP of Customer Success"
    assert sorted(c.title for c in vp.get_children()) == [
        "Director of Customer Success",
        "Director of Support Operations",
        "Director of Technical Support",
    ]
    assert len(children_of("Director of Technical Support")) == 4
    assert len(children_of("Director of Customer Success")) == 3
    assert len(children_of("Director of Support Operations")) == 2
    titles = Counter(Position.objects.values_list("title", flat=True))
    assert titles["Tier 1 Support Agent"] == 45
    assert titles["Tier 2 Support Specialist"] == 15
    assert titles["Tier 3 Support Specialist"] == 8
    assert titles["Customer Success Manager"] == 12
    assert titles["Quality Assurance Analyst"] == 5
    assert titles["Knowledge Management Specialist"] == 3
    # The headline: 60 support agents, 15 specialists, 10 leaders filled.
    filled = Counter(Position.objects.filter(status="filled").values_list("title", flat=True))
    assert filled["Tier 1 Support Agent"] + filled["Tier 2 Support Specialist"] == 60
    assert (
        filled["Tier 3 Support Specialist"]
        + filled["Quality Assurance Analyst"]
        + filled["Knowledge Management Specialist"]
        == 15
    )
    leaders = Position.objects.filter(level__lte=2, status="filled").count()
    assert leaders == 10
    assert tree_check().ok


def test_synapse_is_a_whole_support_organization(framework):
    result = organizations.seed(org="synapse")
    people = Person.objects.count()
    assert 240 <= people <= 270
    assert result["people"] == people
    assert Location.objects.filter(positions__isnull=False).distinct().count() == 8
    tiers = set(Position.objects.values_list("role__tier__code", flat=True))
    assert {"t1", "t2", "t3", "ops", "mgmt"} <= tiers
    squads = set(Position.objects.exclude(squad=None).values_list("squad__code", flat=True))
    assert squads == {"t2-general", "t2-voice", "t2-analytics", "t2-platform"}
    top = Position.objects.get(parent=None)
    assert top.role.code == "vp"
    assert Position.objects.filter(status="open").exists()
    assert Position.objects.filter(status="planned").exists()
    assert DottedLine.objects.count() == 3
    # Tier 3 is meant to carry 5-10 % of the volume; its headcount is in that range too.
    agents = Position.objects.filter(role__tier__code__in=["t1", "t2", "t3"]).count()
    t3 = Position.objects.filter(role__tier__code="t3").count()
    assert 0.04 <= t3 / agents <= 0.10
    # Every filled position has exactly one current assignment matching it.
    filled = Position.objects.filter(status="filled")
    current = Assignment.objects.filter(end_date=None)
    assert current.count() == filled.count()
    assert not current.exclude(position__holder_id=models_f("person_id")).exists()
    assert tree_check().ok


def models_f(name):
    from django.db.models import F

    return F(name)


def test_synapse_has_deliberate_span_rule_breaks(framework):
    organizations.seed(org="synapse")
    leads = Position.objects.filter(role__code="team-lead")
    sizes = sorted(lead.get_children().count() for lead in leads)
    assert sizes[0] < 6  # a team too small for a team lead
    assert sizes[-1] > 10  # and one too large
    parked = Position.objects.get(
        role__code="associate-advocate", parent__role__code="senior-advocate-manager"
    )
    assert parked.parent.title == "Senior Advocate Manager, EMEA"
    assert Position.objects.filter(role__code="team-lead", status="open").exists()


def test_demo_users_log_in_and_see_their_part(framework):
    organizations.seed(org="synapse")

    def log_in(name):  # as the login form does: with the request (login throttling needs it)
        return authenticate(RequestFactory().post("/login/"), username=name,
                            password=organizations.DEMO_PASSWORD)  # fmt: skip

    for name in ("admin", "director", "manager", "hr"):
        assert log_in(name) is not None
    director, manager, hr = log_in("director"), log_in("manager"), log_in("hr")
    assert scope_for(director).root.title == "Director, Customer Advocacy"
    assert scope_for(manager).root.title == "Advocate Manager, Madison"
    assert scope_for(hr).sees_all and not scope_for(hr).edits_all
    total = Position.objects.count()
    assert Position.objects.visible_to(scope_for(hr)).count() == total
    assert Position.objects.visible_to(scope_for(manager)).count() == 1 + 3 + 23


@pytest.mark.parametrize("size", [1, 7, 250, 3000])
def test_generated_org_has_exactly_n_positions_and_a_realistic_shape(framework, size):
    organizations.seed(positions=size)
    assert Position.objects.count() == size
    assert tree_check().ok
    if size >= 3000:
        leads = Position.objects.filter(role__code="team-lead")
        full_teams = [lead.get_children().count() for lead in leads[: len(leads) - 1]]
        assert min(full_teams) >= 6 and max(full_teams) <= 10
        share = Position.objects.filter(status="filled").count() / size
        assert 0.85 < share < 0.97


@pytest.mark.parametrize("loading_from", [organizations.LOADING_FROM, 0])
def test_generated_people_hold_their_positions_with_their_past(
    framework, loading_from, monkeypatch
):
    """People and assignments are written as plain rows (COPY on PostgreSQL): each filled
    position's holder has one current assignment there, with the position's title, role
    and squad, some an earlier one before a promotion, and each a first historical row.
    With ``loading_from`` 0 the tables load with their indexes and keys set aside."""
    monkeypatch.setattr(organizations, "LOADING_FROM", loading_from)
    organizations.seed(positions=400)
    assert tree_check().ok
    filled = Position.objects.filter(status="filled").select_related("holder")
    assert Person.objects.count() == filled.count()
    current = {a.position_id: a for a in Assignment.objects.filter(end_date=None)}
    assert len(current) == filled.count()
    for position in filled:
        now = current[position.pk]
        assert (now.person_id, now.position_title, now.role_id, now.squad_id) == (
            position.holder_id, position.title, position.role_id, position.squad_id
        )  # fmt: skip
        assert position.holder.hire_date <= now.start_date
        assert position.holder.email.endswith("@example.com") and position.holder.is_active
    before = Assignment.objects.exclude(end_date=None)
    assert before.exists()
    assert {(a.note, a.position_id) for a in before} == {
        ("Before promotion", None),
        ("In the entry squad", None),  # Tier 2 engineers of a specialist squad started there
        # senior engineers (their next step asks for every specialist squad) served in others
        ("In another specialist squad", None),
    }
    for a in before.filter(note="In the entry squad").select_related("squad", "role"):
        later = Assignment.objects.get(person_id=a.person_id, start_date=a.end_date)
        assert a.squad.kind == "entry" and later.squad.kind == "specialist"
        assert a.role_id == later.role_id
    for a in before.filter(note="In another specialist squad").select_related("squad", "role"):
        later = Assignment.objects.get(person_id=a.person_id, start_date=a.end_date)
        assert a.squad.kind == later.squad.kind == "specialist" and a.squad_id != later.squad_id
        assert a.role_id == later.role_id and a.role.code == "senior-tse"
    assert sorted(Assignment.history.values_list("id", flat=True)) == sorted(
        Assignment.objects.values_list("pk", flat=True)
    )


def test_seed_demo_refuses_to_overwrite_unless_asked(framework, capsys):
    call_command("seed_demo", org="fte85")
    with pytest.raises(CommandError, match="already loaded"):
        call_command("seed_demo", org="synapse")
    call_command("seed_demo", org="synapse", skip_if_present=True)
    assert Position.objects.count() == 101
    call_command("seed_demo", org="synapse", replace=True)
    assert Position.objects.get(parent=None).title == "VP, Global Customer Advocacy"
    assert tree_check().ok


def test_seed_demo_needs_the_catalogue(empty_catalogue):
    with pytest.raises(CommandError, match="load_framework"):
        call_command("seed_demo", org="synapse")
    assert not Position.objects.exists()


def test_make_demo_brings_every_feature_to_life(framework):
    """``seed_demo --org synapse`` (what ``make demo`` runs) gives the dashboard KPI values for
    the last periods and a year of nightly snapshots, and the chart a year of history: the
    past chart of any day of that year is a whole tree, the snapshot of each night counts
    what that day's past chart holds, and the history's last state is today's organization."""
    import datetime
    import re
    from io import StringIO

    from django.test import Client
    from django.utils import timezone

    from metrics import dashboard
    from metrics.models import HeadcountSnapshot
    from metrics.services import headcount_snapshot_take
    from metrics.tasks import snapshot_scopes
    from staffing.history.past import past_org

    out = StringIO()
    call_command("seed_demo", org="synapse", stdout=out)
    assert "nightly snapshots" in out.getvalue()
    today = timezone.localdate()

    # a snapshot for every night of the year, for the organization and each scope kept
    kept = HeadcountSnapshot.objects.filter(scope=None).order_by("taken_at")
    nights = {s.taken_at.date() for s in kept}
    assert len(nights) == kept.count() >= 364
    assert min(nights) <= today - datetime.timedelta(days=364)
    assert max(nights) >= today - datetime.timedelta(days=1)
    scopes = set(snapshot_scopes())
    assert (
        scopes
        and set(HeadcountSnapshot.objects.exclude(scope=None).values_list("scope", flat=True))
        == scopes
    )
    last = kept.last()
    now = headcount_snapshot_take()  # what the nightly task counts today
    assert (last.total, last.filled, last.open, last.planned, last.breakdown) == (
        now.total, now.filled, now.open, now.planned, now.breakdown
    )  # fmt: skip
    first = kept.first()
    assert 0.7 * now.total < first.total < now.total  # the organization grew over the year
    assert first.open > now.open  # and filled its vacancies

    # every KPI has values for its last complete periods, the teams' KPIs per team
    statuses = {k.kpi.code: k for k in dashboard.kpi_statuses(None)}
    assert all(k.latest is not None for k in statuses.values())
    last_month = today.replace(day=1) - datetime.timedelta(days=1)
    assert statuses["fcr"].latest.period_end == last_month
    assert len(statuses["fcr"].history) == 12 and len(statuses["nps"].history) == 4
    assert {s.status for s in statuses.values()} >= {"on target", "off target"}
    director = Position.objects.get(title="Director, Customer Advocacy")
    for_team = {k.kpi.code: k for k in dashboard.kpi_statuses(director)}
    assert for_team["csat"].latest is not None and for_team["nps"].latest is None

    # the history: today's state is the organization's; each past day a whole tree
    live = {p.pk: (p.parent_id, p.status, p.holder_id, p.title) for p in Position.objects.all()}
    org = past_org(today)
    assert {
        p.pk: (p.parent_id, p.status, p.holder_id, p.title) for p in org.positions.values()
    } == (live)
    admin = Client()
    admin.force_login(User.objects.get(username="admin"))
    manager = Client()
    manager.force_login(User.objects.get(username="manager"))
    seen = []
    for days in (30, 90, 300):
        day = today - datetime.timedelta(days=days)
        org = past_org(day)
        positions = list(org.positions.values())
        assert len(org.roots()) == 1  # no report without its manager on any day
        assert 0.7 * len(live) < len(positions) <= len(live)
        # the snapshot of the night after counts exactly what the past chart holds
        night = kept.get(taken_at__date=day + datetime.timedelta(days=1))
        by_status = Counter(p.status for p in positions)
        assert (night.total, night.filled, night.open, night.planned) == (
            len(positions), by_status["filled"], by_status["open"], by_status["planned"]
        )  # fmt: skip
        page = admin.get(f"/past/{day.isoformat()}/").content.decode()
        assert f"{len(positions)} positions in the organization then" in page
        cards = set(map(int, re.findall(r'href="/history/positions/(\d+)/"', page)))
        assert len(cards) >= 4 and cards <= set(org.positions)
        assert "History was first kept" not in page
        mine = manager.get(f"/past/{day.isoformat()}/").content.decode()
        assert "in your part of it then" in mine and "Advocate Manager, Madison" in mine
        seen.append(len(positions))
    assert seen[-1] < len(live)  # the chart of ten months ago is smaller than today's
