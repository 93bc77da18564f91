"""factory-boy factories. Positions are created through the services, like every real write."""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from roles.models import Role
from staffing import services
from staffing.models import Location, Person, Position


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
