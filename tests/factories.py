"""The test data family: factory-boy factories, the builders of the standard organizations
(each a fixture in conftest.py, built once per session by tests.shared), and the one way to
sign in as someone. Positions are created through the services, like every real write."""

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal
from io import StringIO
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone
from rest_framework.test import APIClient

from demo import organizations
from metrics.models import KPI
from roles.models import Role
from staffing import services, triage
from staffing.models import Location, Person, Position
from staffing.spans import marks
from tiers.models import Squad, Tier


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-orgdesign-test")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        for name in extracted or []:
            self.groups.add(Group.objects.get_or_create(name=name)[0])


class TierFactory(factory.django.DjangoModelFactory):
    """A tier of the catalogue (``TierFactory.build()`` for one not saved yet)."""

    class Meta:
        model = Tier

    code = factory.Sequence(lambda n: f"tier-{n}")
    name = factory.Sequence(lambda n: f"Tier {n}")
    kind = Tier.Kind.FRONTLINE
    rank = factory.Sequence(lambda n: 100 + n)  # past the catalogue's own


class SquadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Squad

    code = factory.Sequence(lambda n: f"squad-{n}")
    name = factory.Sequence(lambda n: f"Squad {n}")
    portfolio = "Billing"
    tier = factory.LazyFunction(lambda: TierFactory())  # saved, even for build()


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role

    code = factory.Sequence(lambda n: f"role-{n}")
    name = factory.Sequence(lambda n: f"Role {n}")
    track = Role.Track.ADVOCACY
    level = 1
    tier = factory.LazyFunction(lambda: TierFactory())  # saved, even for build()


class KPIFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KPI

    code = factory.Sequence(lambda n: f"kpi-{n}")
    name = factory.Sequence(lambda n: f"KPI {n}")
    unit = KPI.Unit.PERCENT
    better = KPI.Better.HIGHER
    comparison = KPI.Comparison.AT_LEAST
    target = Decimal(75)


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"loc{n}")
    name = factory.Sequence(lambda n: f"Office {n}")
    city = "Dublin"
    country = "IE"
    timezone = "Europe/Dublin"


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    employee_id = factory.Sequence(lambda n: f"P{n:05d}")
    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda p: f"{p.employee_id.lower()}@example.com")
    hire_date = datetime.date(2020, 1, 6)


def make_position(
    title: str,
    role: str | Role,
    parent: Position | None = None,
    *,
    holder: Person | bool | None = True,
    start: datetime.date | None = None,
    **kwargs,
) -> Position:
    """A position created by position_create, filled by person_assign when ``holder``."""
    if isinstance(role, str):
        role = Role.objects.get(code=role)
    position = services.position_create(actor=None, parent=parent, title=title, role=role, **kwargs)
    if holder is True:
        holder = PersonFactory()
    if holder:
        services.person_assign(
            actor=None, person=holder, position=position, start_date=start or holder.hire_date
        )
    position.refresh_from_db()
    return position


def make_team(manager: Position, size: int, role: str = "advocate", **kwargs) -> list[Position]:
    return [make_position(f"Agent {n}", role, manager, **kwargs) for n in range(size)]


def holder_user(position: Position, *groups: str, **fields):
    """A user who holds ``position``: the holder's user account, or, for a vacancy, a new
    person assigned to it. ``groups`` and ``fields`` as for UserFactory."""
    user = UserFactory(groups=list(groups), **fields)
    position.refresh_from_db()
    if position.holder_id:
        Person.objects.filter(pk=position.holder_id).update(user=user)
    else:
        services.person_assign(actor=None, person=PersonFactory(user=user), position=position)
    return user


def session_client(user) -> APIClient:
    """A client signed in as ``user`` (a session, as the browser has); ``client.user`` is it."""
    client = APIClient()
    client.force_login(user)
    client.user = user
    return client


def log_in(*groups: str, holds: Position | None = None, superuser: bool = False, **fields):
    """A signed-in client for a new user in ``groups``, holding ``holds`` if given; a
    superuser is staff too."""
    if superuser:
        fields = {"is_superuser": True, "is_staff": True, **fields}
    if holds is not None:
        return session_client(holder_user(holds, *groups, **fields))
    return session_client(UserFactory(groups=list(groups), **fields))


def api_token(user, *, write: bool) -> str:
    """A token made the way an operator makes one: with ``manage.py create_api_token``."""
    out = StringIO()
    args = [user.username, "--name", "tests", *(["--write"] if write else [])]
    call_command("create_api_token", *args, stdout=out)
    keys = re.findall(r"\b[0-9a-zA-Z_]{40,}\b", out.getvalue())
    assert keys, out.getvalue()
    return keys[0]


def with_token(key: str) -> APIClient:
    """A client that sends the API token ``key``."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def token_client(user, *, write: bool) -> APIClient:
    return with_token(api_token(user, write=write))


# --- the standard organizations: each is a fixture of the same name in conftest.py ----------


@dataclass
class Org:
    """Two trees. Director › Manager A (the manager user) › Lead A › agents, and › Manager B
    › Lead B › agents, with a vacancy; Other Director › Other Lead › agents, outside the
    director's scope. ``mine`` is in every scoped actor's scope; ``theirs`` in none."""

    positions: dict[str, Position]
    mine: Position  # an agent under Lead A
    theirs: Position  # an agent under Other Lead
    extra: dict[str, Any] = field(default_factory=dict)

    def grow(self, teams: int = 3, size: int = 4) -> None:
        """More of everything, to show that a list's query count does not follow."""
        for n in range(teams):
            lead = make_position(f"Grown Lead {n}", "team-lead", self.positions["manager_a"])
            make_team(lead, size)
        marks.recompute()


def build_api_org() -> Org:
    """The organization of the API tests, built through the services (see Org)."""
    director = make_position("Director", "director")
    manager_a = make_position("Manager A", "advocate-manager", director)
    lead_a = make_position("Lead A", "team-lead", manager_a)
    mine = make_team(lead_a, 3)[0]
    manager_b = make_position("Manager B", "advocate-manager", director)
    lead_b = make_position("Lead B", "team-lead", manager_b)
    make_team(lead_b, 2)
    make_position("Open B", "advocate", lead_b, holder=None)
    other = make_position("Other Director", "director")
    other_lead = make_position("Other Lead", "team-lead", other)
    theirs = make_team(other_lead, 2)[0]
    marks.recompute()
    positions = {p.title: p for p in Position.objects.all()}
    named = {
        "director": positions["Director"],
        "manager_a": positions["Manager A"],
        "lead_a": positions["Lead A"],
        "manager_b": positions["Manager B"],
        "lead_b": positions["Lead B"],
        "other": positions["Other Director"],
        "other_lead": positions["Other Lead"],
    }
    return Org(named, Position.objects.get(pk=mine.pk), Position.objects.get(pk=theirs.pk))


def build_actor_users() -> dict:
    """The users of the permission matrix over the API organization, and their tokens."""
    hr = UserFactory(groups=["hr"])
    reader = UserFactory(is_superuser=True, is_staff=True)
    return {
        "admin": UserFactory(is_superuser=True, is_staff=True),
        "director": holder_user(Position.objects.get(title="Director"), "director"),
        "manager": holder_user(Position.objects.get(title="Manager A"), "manager"),
        "hr_token": api_token(hr, write=True),
        "read_token": api_token(reader, write=False),
    }


def build_small_org() -> tuple[Position, Position, Position, list[Position]]:
    """A manager over two team leads; Lead A has three agents, Lead B none."""
    boss = make_position("Manager", "advocate-manager")
    lead_a = make_position("Lead A", "team-lead", boss)
    lead_b = make_position("Lead B", "team-lead", boss)
    agents = make_team(lead_a, 3)
    return boss, lead_a, lead_b, agents


def build_findings_org() -> dict[str, Position]:
    """A director over two team leads: East has 4 agents (too few), West has 12 (too many);
    a stray manager reports to West (not allowed there), and West's lead is vacant."""
    director = make_position("Director", "director")
    east = make_position("East Lead", "team-lead", director)
    make_team(east, 4)
    west = make_position("West Lead", "team-lead", director, holder=None)
    make_team(west, 12)
    stray = make_position("Stray Manager", "advocate-manager", west, holder=None)
    marks.recompute()
    for position in (director, east, west, stray):
        position.refresh_from_db()
    return {"director": director, "east": east, "west": west, "stray": stray}


def build_located_org() -> dict[str, Any]:
    """Director › two managers (North in Dublin, South in Lisbon) › one team lead each ›
    agents; one vacancy."""
    dublin, lisbon = LocationFactory(code="dub", name="Dublin"), LocationFactory(code="lis")
    director = make_position("Director", "director", location=dublin)
    north = make_position("North Manager", "advocate-manager", director, location=dublin)
    south = make_position("South Manager", "advocate-manager", director, location=lisbon)
    north_lead = make_position("North Lead", "team-lead", north, location=dublin)
    south_lead = make_position("South Lead", "team-lead", south, location=lisbon)
    make_team(north_lead, 3, location=dublin)
    make_team(south_lead, 2, location=lisbon)
    make_position("Open agent", "advocate", south_lead, holder=None, location=lisbon)
    found = {p.title: p for p in Position.objects.all()}
    return {
        "director": director,
        "north": found["North Manager"],
        "south": found["South Manager"],
        "north_lead": found["North Lead"],
        "south_lead": found["South Lead"],
        "vacancy": found["Open agent"],
        "dublin": dublin,
        "lisbon": lisbon,
    }


def seed_synapse():
    """The demo organization of 101 positions (``manage.py seed_demo --org synapse``)."""
    return organizations.seed(org="synapse")


def seed_fte85():
    """The 85-person demo organization of seed 003, findings computed."""
    organizations.seed(org="fte85")
    marks.recompute()


def triage_weeks(org: Org) -> tuple[int, int]:
    """A rota week in Dublin, where Lead A's team works (in every scoped actor's part), and
    one in Lisbon, where only the Other Lead's team works."""
    if "rota_in" not in org.extra:
        monday = triage.monday(timezone.localdate())
        for code, name, lead in (("dub", "Dublin", "lead_a"), ("lis", "Lisbon", "other_lead")):
            place = LocationFactory(code=code, name=name)
            lead = org.positions[lead]
            Position.objects.filter(Q(pk=lead.pk) | Q(parent=lead)).update(location=place)
            org.extra[code] = place.pk
        for key, code, person in (
            ("rota_in", "dub", org.mine.holder_id),
            ("rota_out", "lis", org.theirs.holder_id),
        ):
            rota = services.triage_week_set(
                actor=None, location=org.extra[code], week=monday, people=[person]
            )
            org.extra[key] = rota.pk
    return org.extra["rota_in"], org.extra["rota_out"]
