"""The demo organizations written to the database: a plan's people, positions, assignment
history and dotted lines in a handful of bulk inserts under the tree lock (COPY on
PostgreSQL, with the tables' indexes built once at the end, so a 100,000-position
organization loads in well under a minute), the demo logins, and clearing the
organization again.
"""

import datetime
import functools
import random
from collections import Counter, namedtuple
from contextlib import nullcontext

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import get_hasher, make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from demo.plans import (
    FAMILY,
    FTE85_LOCATIONS,
    GIVEN,
    LOCATIONS,
    DemoError,
    Plan,
    fte85_plan,
    generated_plan,
    synapse_plan,
)
from demo.triage import seed_triage_rota
from orgdesign.kernel.audit import acting, bulk_record, deletions_in_bulk
from orgdesign.kernel.bulk import insert_rows, loading
from roles.models import PromotionPath, Role
from staffing.models import (
    Assignment,
    DottedLine,
    Finding,
    Location,
    PendingSpanCheck,
    Person,
    Position,
    Promotion,
    TriageWeek,
)
from staffing.scope import GROUP_DIRECTOR, GROUP_HR, GROUP_MANAGER
from staffing.spans import marks
from staffing.tree import bulk_create_tree, tree_transaction
from tiers.models import Squad, Tier

DEMO_PASSWORD = "orgdesign-demo"


def ensure_locations(specs=LOCATIONS) -> dict[str, Location]:
    found = {}
    for code, name, city, country, tz in specs:
        found[code], _ = Location.objects.get_or_create(
            code=code, defaults={"name": name, "city": city, "country": country, "timezone": tz}
        )
    return found


def ensure_customer_success_role() -> None:
    """Seed 003 has a customer success team, which the support framework does not define."""
    tier, _ = Tier.objects.get_or_create(
        code="cs",
        defaults={
            "name": "Customer success",
            "kind": Tier.Kind.OTHER,
            "rank": 6,
            "staffed": True,
            "colour": "#0891b2",
            "description": "Account-facing work beside support: onboarding, adoption, "
            "account health and expansion.",
        },
    )
    Role.objects.get_or_create(
        code="customer-success-manager",
        defaults={
            "name": "Customer Success Manager",
            "tier": tier,
            "track": Role.Track.SUCCESS,
            "level": 1,
            "summary": "Looks after a portfolio of accounts: adoption, health and growth.",
        },
    )


PERSON_COLUMNS = (
    "employee_id",
    "given_name",
    "family_name",
    "email",
    "user_id",
    "location_id",
    "hire_date",
    "is_active",
)
ASSIGNMENT_COLUMNS = (
    "person_id",
    "position_id",
    "position_title",
    "role_id",
    "squad_id",
    "start_date",
    "end_date",
    "note",
)
# From this many positions the seed sets the tables' indexes and keys aside while it loads
# (kernel.bulk.loading): below, dropping and making them again costs more than it saves.
LOADING_FROM = 10_000
# An assignment as bulk_record reads it: the tracked fields by name, no model instance.
AssignmentRow = namedtuple("AssignmentRow", ("id", *ASSIGNMENT_COLUMNS))


def write_plan(plan: Plan, *, seed: int = 11, today: datetime.date | None = None) -> Counter:
    """Write ``plan`` (people, positions, assignment history, dotted lines) in one transaction.

    People and assignments go in as plain rows (:func:`orgdesign.kernel.bulk.insert_rows`,
    one COPY each on PostgreSQL) with ids from their sequences, so no model instance is
    built for them; positions go through :func:`staffing.tree.bulk_create_tree`."""
    today = today or timezone.localdate()
    rng = random.Random(seed)
    roles = {role.code: role for role in Role.objects.all()}
    missing = sorted({node.role for node in plan.nodes} - roles.keys())
    if missing:
        raise DemoError(
            f"Role(s) {', '.join(missing)} are not in the catalogue; run load_framework first."
        )
    squads = {squad.code: squad for squad in Squad.objects.all()}
    entries = {s.tier_id: s for s in squads.values() if s.kind == Squad.Kind.ENTRY}
    specialists: dict[int, list[Squad]] = {}
    for squad in sorted(squads.values(), key=lambda s: s.code):
        if squad.kind == Squad.Kind.SPECIALIST:
            specialists.setdefault(squad.tier_id, []).append(squad)
    # roles with a step that asks for months in each specialist squad: those months
    rotating = {
        path.from_role_id: path.squad_months
        for path in PromotionPath.objects.filter(squad_months__isnull=False)
    }
    rotated = 0  # engineers of those roles sent through the other specialist squads
    locations = {loc.code: loc for loc in Location.objects.all()}
    paths_in = {}
    ordering = [*PromotionPath._meta.ordering, "pk"]  # a role's first path in, as before
    for path in PromotionPath.objects.select_related("from_role").order_by(*ordering):
        paths_in.setdefault(path.to_role_id, path)

    # The tables' indexes and keys are set aside under the tree lock, which every structural
    # write takes first: an edit meanwhile waits at the lock, never holding a table we need.
    loaded = (Person, Position, Assignment, Position.history.model, Assignment.history.model)
    aside = loading(*loaded) if len(plan.nodes) >= LOADING_FROM else nullcontext()
    with tree_transaction(), aside:
        filled = [n for n, node in enumerate(plan.nodes) if node.status == Position.Status.FILLED]
        people = []
        for n in filled:
            node = plan.nodes[n]
            given, family = rng.choice(GIVEN), rng.choice(FAMILY)
            location = locations.get(node.location)
            people.append(
                (
                    f"E{n + 1:06d}",
                    given,
                    family,
                    f"{given}.{family}.{n + 1}@example.com".lower(),
                    None,
                    location.pk if location else None,
                    today - datetime.timedelta(days=rng.randint(120, 3000)),
                    True,
                )
            )
        person_ids = insert_rows(Person, PERSON_COLUMNS, people, ids=True)
        holders: list[int | None] = [None] * len(plan.nodes)
        hired: list[datetime.date | None] = [None] * len(plan.nodes)
        for n, pk, person in zip(filled, person_ids, people, strict=True):
            holders[n], hired[n] = pk, person[6]

        positions = [
            Position(
                title=node.title,
                role=roles[node.role],
                squad=squads.get(node.squad) if node.squad else None,
                location=locations.get(node.location) if node.location else None,
                status=node.status,
                holder_id=holders[n],
            )
            for n, node in enumerate(plan.nodes)
        ]
        bulk_create_tree(positions, [node.parent for node in plan.nodes])

        assignments = []
        for n in filled:
            position, person, hire_date = positions[n], holders[n], hired[n]
            start = max(hire_date, today - datetime.timedelta(days=rng.randint(30, 1100)))
            role = roles[plan.nodes[n].role]
            path = paths_in.get(role.pk)
            if path is not None and hire_date < start - datetime.timedelta(days=60):
                earlier = start - datetime.timedelta(
                    days=max(60, (path.min_months or 6) * 31 + rng.randint(0, 200))
                )
                before = path.from_role
                assignments.append(
                    (person, None, before.name, before.pk, None, max(hire_date, earlier), start,
                     "Before promotion")
                )  # fmt: skip
            squad = squads.get(plan.nodes[n].squad) if plan.nodes[n].squad else None
            entry = entries.get(squad.tier_id) if squad is not None else None
            switch = start + datetime.timedelta(days=rng.randint(150, 300))
            if (
                entry is not None
                and squad != entry
                and role.tier_id == squad.tier_id
                and (switch <= today - datetime.timedelta(days=30))
            ):  # rotated: the entry squad first, then this one (the same role throughout)
                assignments.append(
                    (person, None, role.name, role.pk, entry.pk, start, switch,
                     "In the entry squad")
                )  # fmt: skip
                start = switch
                # an engineer whose next step asks for time in every specialist squad has
                # served in the others before this one, each a little over the months asked;
                # every second one skipped the last of them, so the demo shows both verdicts
                months = rotating.get(role.pk)
                others = [s for s in specialists.get(squad.tier_id, []) if s != squad]
                spell = datetime.timedelta(days=(months or 0) * 31 + 9)
                if months and others and start + spell * (len(others) + 1) <= today:
                    rotated += 1
                    for other in others[: len(others) - rotated % 2]:
                        assignments.append(
                            (person, None, role.name, role.pk, other.pk, start, start + spell,
                             "In another specialist squad")
                        )  # fmt: skip
                        start += spell
            assignments.append(
                (person, position.pk, position.title, role.pk, position.squad_id, start, None, "")
            )
        assignment_ids = insert_rows(Assignment, ASSIGNMENT_COLUMNS, assignments, ids=True)
        bulk_record(
            Assignment,
            [AssignmentRow(pk, *row) for pk, row in zip(assignment_ids, assignments, strict=True)],
        )
        DottedLine.objects.bulk_create(
            [
                DottedLine(position=positions[a], manager=positions[b], purpose=purpose)
                for a, b, purpose in plan.dotted
            ]
        )
        for n, node in enumerate(plan.nodes):
            if node.user and holders[n] is not None:
                link_demo_user(node.user, Person.objects.get(pk=holders[n]))
    return Counter(
        positions=len(positions),
        people=len(people),
        assignments=len(assignments),
        dotted_lines=len(plan.dotted),
    )


def link_demo_user(username: str, person: Person) -> None:
    user = ensure_demo_user(username)
    Person.objects.filter(user=user).update(user=None)
    person.user = user
    person.save(update_fields=["user"])


def demo_password_hash() -> str:
    """The demo password hashed once per process (per hasher): hashing takes most of a
    second on purpose, and the demo logins share one published password anyway."""
    return _hashed(get_hasher().algorithm)


@functools.cache
def _hashed(algorithm: str) -> str:
    return make_password(DEMO_PASSWORD, hasher=algorithm)


def ensure_demo_user(username: str):
    """Create or reset a demo login; group membership follows the user name."""
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=username)
    user.is_superuser = user.is_staff = username == "admin"
    if username in (GROUP_DIRECTOR, GROUP_MANAGER):
        user.is_staff = True  # the admin shows them their own subtree
    user.email = f"{username}@example.com"
    user.password = demo_password_hash()
    user.save()
    if username in (GROUP_DIRECTOR, GROUP_MANAGER, GROUP_HR):
        user.groups.add(Group.objects.get(name=username))
    return user


def clear_organization() -> None:
    """Delete every position, person, assignment and dotted line (demo data only), with the
    historical row each deletion leaves (written in bulk at the end)."""
    with tree_transaction(), acting(None, "seed_demo --reset"), deletions_in_bulk():
        DottedLine.objects.all().delete()
        Promotion.objects.all().delete()
        Finding.objects.all().delete()
        TriageWeek.objects.all().delete()
        PendingSpanCheck.objects.all().delete()
        Assignment.objects.all().delete()
        Position.objects.update(holder=None, status=Position.Status.OPEN)
        # Delete leaves upwards: the parent foreign key protects positions with reports.
        Position.objects.update(parent=None, tree_parent=None)
        Position.objects.all().delete()
        Person.objects.all().delete()


@transaction.atomic
def seed(org: str | None = None, positions: int | None = None) -> Counter:
    if org == "synapse":
        ensure_locations()
        plan = synapse_plan()
    elif org == "fte85":
        ensure_locations(FTE85_LOCATIONS)
        ensure_customer_success_role()
        plan = fte85_plan()
    elif positions is not None:
        ensure_locations()
        plan = generated_plan(positions)
    else:
        raise DemoError("Choose --org synapse, --org fte85 or --positions N.")
    with acting(None, "seed_demo"):
        result = write_plan(plan)
        if org == "synapse":
            result["triage rota weeks"] = seed_triage_rota()
    result["open span-of-control findings"] = marks.recompute().open_now
    for username in ("admin", GROUP_HR):
        ensure_demo_user(username)
    for username in (GROUP_DIRECTOR, GROUP_MANAGER):
        ensure_demo_user(username)
    return result
