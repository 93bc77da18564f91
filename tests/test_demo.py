"""The demo organizations have the shape their seeds describe."""

from collections import Counter

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory

from staffing import demo
from staffing.models import Assignment, DottedLine, Location, Person, Position
from staffing.scope import scope_for
from staffing.tree import tree_check

pytestmark = pytest.mark.django_db


def children_of(title: str) -> list[Position]:
    return list(Position.objects.get(title=title).get_children())


def test_fte85_has_the_seed_team_sizes_exactly(framework):
    demo.seed(org="fte85")
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
    result = demo.seed(org="synapse")
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
    demo.seed(org="synapse")
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
    demo.seed(org="synapse")

    def log_in(name):  # as the login form does: with the request (login throttling needs it)
        return authenticate(RequestFactory().post("/login/"), username=name,
                            password=demo.DEMO_PASSWORD)  # fmt: skip

    for name in ("admin", "director", "manager", "hr"):
        assert log_in(name) is not None
    director, manager, hr = log_in("director"), log_in("manager"), log_in("hr")
    assert scope_for(director).root.title == "Director, Customer Advocacy"
    assert scope_for(manager).root.title == "Advocate Manager, Madison"
    assert scope_for(hr).sees_all and not scope_for(hr).edits_all
    total = Position.objects.count()
    assert Position.objects.visible_to(hr).count() == total
    assert Position.objects.visible_to(manager).count() == 1 + 3 + 23


@pytest.mark.parametrize("size", [1, 7, 250, 3000])
def test_generated_org_has_exactly_n_positions_and_a_realistic_shape(framework, size):
    demo.seed(positions=size)
    assert Position.objects.count() == size
    assert tree_check().ok
    if size >= 3000:
        leads = Position.objects.filter(role__code="team-lead")
        full_teams = [lead.get_children().count() for lead in leads[: len(leads) - 1]]
        assert min(full_teams) >= 6 and max(full_teams) <= 10
        share = Position.objects.filter(status="filled").count() / size
        assert 0.85 < share < 0.97


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
