"""Demo organizations: Synapse Foundry (seed 000/001), the 85-FTE org (seed 003), generated orgs.

Everything is built in memory first and written with a handful of bulk inserts under the
tree lock, so even a 100,000-position organization loads in well under a minute.
"""

import datetime
import random
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from orgdesign.audit import acting, bulk_record
from roles.models import Role
from staffing import spans
from staffing.models import (
    Assignment,
    DottedLine,
    Finding,
    Location,
    PendingSpanCheck,
    Person,
    Position,
    Promotion,
)
from staffing.scope import GROUP_DIRECTOR, GROUP_HR, GROUP_MANAGER
from staffing.tree import bulk_create_tree, tree_transaction
from tiers.models import Squad, Tier

DEMO_PASSWORD = "orgdesign-demo"

GIVEN = [
    "Aiko",
    "Amara",
    "Ana",
    "Arjun",
    "Ayesha",
    "Bao",
    "Bea",
    "Carlos",
    "Chen",
    "Chiara",
    "Dara",
    "Diego",
    "Elif",
    "Emeka",
    "Eva",
    "Farah",
    "Femi",
    "Finn",
    "Grace",
    "Hana",
    "Hugo",
    "Ines",
    "Ivan",
    "Jae",
    "Jonas",
    "Kai",
    "Kalani",
    "Lena",
    "Leon",
    "Lina",
    "Luca",
    "Maya",
    "Mateo",
    "Mei",
    "Mira",
    "Nadia",
    "Nico",
    "Noor",
    "Oliver",
    "Omar",
    "Paula",
    "Priya",
    "Rafael",
    "Rhea",
    "Rosa",
    "Sami",
    "Sara",
    "Sofia",
    "Tariq",
    "Tomas",
    "Uma",
    "Vera",
    "Wen",
    "Yara",
    "Yusuf",
    "Zara",
    "Zoe",
]
FAMILY = [
    "Abe",
    "Adeyemi",
    "Alvarez",
    "Andersen",
    "Bauer",
    "Bianchi",
    "Castro",
    "Chowdhury",
    "Costa",
    "Dimitrov",
    "Dubois",
    "Eriksen",
    "Fernandes",
    "Fischer",
    "Garcia",
    "Haddad",
    "Hansen",
    "Hoang",
    "Ibrahim",
    "Ito",
    "Jensen",
    "Kaur",
    "Keller",
    "Kim",
    "Kowalski",
    "Larsen",
    "Lopez",
    "Mensah",
    "Moreau",
    "Murphy",
    "Nakamura",
    "Novak",
    "Nunez",
    "Okafor",
    "Olsen",
    "Park",
    "Patel",
    "Petrov",
    "Quinn",
    "Reyes",
    "Rossi",
    "Santos",
    "Schmidt",
    "Silva",
    "Singh",
    "Sorensen",
    "Tanaka",
    "Torres",
    "Vargas",
    "Walsh",
    "Wong",
    "Yilmaz",
    "Zhou",
]

LOCATIONS = [
    ("sf", "San Francisco", "San Francisco", "US", "America/Los_Angeles"),
    ("madison", "Madison", "Madison", "US", "America/Chicago"),
    ("montevideo", "Montevideo", "Montevideo", "UY", "America/Montevideo"),
    ("dublin", "Dublin", "Dublin", "IE", "Europe/Dublin"),
    ("london", "London", "London", "GB", "Europe/London"),
    ("copenhagen", "Copenhagen", "Copenhagen", "DK", "Europe/Copenhagen"),
    ("manila", "Manila", "Manila", "PH", "Asia/Manila"),
    ("melbourne", "Melbourne", "Melbourne", "AU", "Australia/Melbourne"),
]


@dataclass
class Node:
    title: str
    role: str
    parent: int | None
    location: str | None = None
    squad: str | None = None
    status: str = Position.Status.FILLED
    user: str | None = None  # demo login linked to the holder


@dataclass
class Plan:
    """An organization described in memory, written to the database by :func:`write_plan`."""

    nodes: list[Node] = field(default_factory=list)
    dotted: list[tuple[int, int, str]] = field(default_factory=list)

    def add(self, parent: int | None, title: str, role: str, **kw) -> int:
        self.nodes.append(Node(title=title, role=role, parent=parent, **kw))
        return len(self.nodes) - 1


class DemoError(Exception):
    pass


def ensure_locations(specs=LOCATIONS) -> dict[str, Location]:
    found = {}
    for code, name, city, country, tz in specs:
        found[code], _ = Location.objects.get_or_create(
            code=code, defaults={"name": name, "city": city, "country": country, "timezone": tz}
        )
    return found


def _agent_mix(rng: random.Random, count: int, mix: list[tuple[str, float]]) -> list[str]:
    roles = []
    for _ in range(count):
        pick, acc = rng.random(), 0.0
        for role, share in mix:
            acc += share
            if pick < acc:
                roles.append(role)
                break
        else:
            roles.append(mix[-1][0])
    return roles


AGENT_TITLES = {
    "associate-advocate": "Associate Customer Advocate",
    "advocate": "Customer Advocate",
    "senior-advocate": "Senior Customer Advocate",
    "tse": "Technical Support Engineer",
    "senior-tse": "Senior Technical Support Engineer",
    "architect": "Technical Support Architect",
    "senior-architect": "Senior Technical Support Architect",
}
T1_MIX = [("associate-advocate", 0.15), ("advocate", 0.6), ("senior-advocate", 0.25)]
T2_MIX = [("tse", 0.75), ("senior-tse", 0.25)]
T3_MIX = [("architect", 0.7), ("senior-architect", 0.3)]


def _team(plan, rng, parent, title, location, agents, mix, *, squad=None, vacancy_rate=0.05,
          lead_status=Position.Status.FILLED):  # fmt: skip
    lead = plan.add(parent, f"Team Lead, {title}", "team-lead", location=location, squad=squad,
                    status=lead_status)  # fmt: skip
    for role in _agent_mix(rng, agents, mix):
        status = Position.Status.OPEN if rng.random() < vacancy_rate else Position.Status.FILLED
        name = AGENT_TITLES[role]
        plan.add(lead, name, role, location=location, squad=squad, status=status)
    return lead


def synapse_plan(seed: int = 3) -> Plan:
    """Synapse Foundry: about 250 people in 8 locations, every tier, 4 Tier 2 squads."""
    rng = random.Random(seed)
    plan = Plan()
    vp = plan.add(None, "VP, Global Customer Advocacy", "vp", location="sf")

    t1 = plan.add(vp, "Director, Customer Advocacy", "director", location="dublin",
                  user="director")  # fmt: skip
    regions = {
        "Americas": ("sf", [("San Francisco", "sf", [9, 8]), ("Madison", "madison", [8, 8, 7]),
                            ("Montevideo", "montevideo", [8, 7])]),
        "EMEA": ("dublin", [("Dublin", "dublin", [9, 8]), ("London", "london", [8, 8]),
                            ("Copenhagen", "copenhagen", [12, 7])]),
        "APAC": ("manila", [("Manila", "manila", [8, 8, 7]), ("Manila Evening", "manila", [8, 7]),
                          ("Melbourne", "melbourne", [4])]),
    }  # fmt: skip
    for region, (where, offices) in regions.items():
        senior = plan.add(t1, f"Senior Advocate Manager, {region}", "senior-advocate-manager",
                          location=where)  # fmt: skip
        for office, location, teams in offices:
            manager = plan.add(senior, f"Advocate Manager, {office}", "advocate-manager",
                               location=location,
                               user="manager" if office == "Madison" else None)  # fmt: skip
            for n, size in enumerate(teams):
                lead_status = (
                    Position.Status.OPEN if (office, n) == ("Montevideo", 1)
                    else Position.Status.FILLED
                )  # fmt: skip
                _team(plan, rng, manager, f"{office} {'ABC'[n]}", location, size, T1_MIX,
                      lead_status=lead_status)  # fmt: skip
        if region == "EMEA":
            # A new associate parked directly under a senior manager: a rule break to show.
            plan.add(senior, "Associate Customer Advocate", "associate-advocate",
                     location="london")  # fmt: skip

    t23 = plan.add(vp, "Director, Technical Support", "director", location="london")
    senior = plan.add(t23, "Senior Advocate Manager, Technical Support",
                      "senior-advocate-manager", location="london")  # fmt: skip
    general = plan.add(senior, "Advocate Manager, Tier 2 General", "advocate-manager",
                       location="london", squad="t2-general")  # fmt: skip
    for n, (location, size) in enumerate([("london", 8), ("manila", 8), ("dublin", 7)]):
        _team(plan, rng, general, f"Tier 2 General {'ABC'[n]}", location, size, [("tse", 1.0)],
              squad="t2-general")  # fmt: skip
    specialists = plan.add(senior, "Advocate Manager, Tier 2 Specialists", "advocate-manager",
                           location="dublin")  # fmt: skip
    for squad, name, location, size in [
        ("t2-voice", "Voice and Messaging", "dublin", 7),
        ("t2-analytics", "Analytics and Reporting", "sf", 7),
        ("t2-platform", "Platform and Integrations", "madison", 8),
    ]:
        _team(plan, rng, specialists, name, location, size, T2_MIX, squad=squad)
    tier3 = plan.add(senior, "Advocate Manager, Tier 3", "advocate-manager", location="sf")
    for n, role in enumerate(_agent_mix(rng, 12, T3_MIX)):
        plan.add(tier3, AGENT_TITLES[role], role, location=["sf", "dublin", "manila"][n % 3])

    ops = plan.add(vp, "Director, Support Operations", "ops-director", location="sf")
    systems = plan.add(ops, "Support Operations Manager, Systems and Data", "ops-manager",
                       location="madison")  # fmt: skip
    for title, role, location in [
        ("Systems Specialist, Reporting", "systems-specialist", "madison"),
        ("Systems Specialist, Knowledge Base", "systems-specialist", "dublin"),
        ("Systems Specialist, Training", "systems-specialist", "manila"),
        ("Senior Systems Specialist, Workflows", "senior-systems-specialist", "madison"),
        ("Systems Analyst", "systems-analyst", "sf"),
        ("Systems Analyst", "systems-analyst", "london"),
        ("Senior Systems Analyst", "senior-systems-analyst", "sf"),
    ]:
        plan.add(systems, title, role, location=location)
    tools = plan.add(ops, "Support Operations Manager, Tools and Programs", "ops-manager",
                     location="dublin")  # fmt: skip
    tool_dev = None
    for title, role, location, status in [
        ("Tools Developer", "tools-developer", "dublin", Position.Status.FILLED),
        ("Tools Developer", "tools-developer", "sf", Position.Status.PLANNED),
        ("Senior Tools Developer", "senior-tools-developer", "dublin", Position.Status.FILLED),
        ("Project Manager, Self-service Rollout", "project-manager", "sf", Position.Status.FILLED),
        ("Program Manager, Knowledge-centered Service", "program-manager", "london",
         Position.Status.FILLED),
    ]:  # fmt: skip
        index = plan.add(tools, title, role, location=location, status=status)
        tool_dev = tool_dev if tool_dev is not None else index

    plan.dotted.append((tool_dev, t23, "Builds Tier 2 tooling"))
    plan.dotted.append((systems + 2, t1, "Owns the Tier 1 knowledge base"))
    plan.dotted.append((tier3, specialists, "Takes escalations from the specialist squads"))
    return plan


def fte85_plan() -> Plan:
    """The 85-FTE organization of seed 003 with its team sizes exactly.

    The seed's teams add up to 101 positions (1 VP, 3 directors, 9 managers, 45 + 15 + 8
    support staff, 12 customer success managers, 5 QA analysts, 3 knowledge specialists)
    while its headline is 85 FTE: 60 support agents, 15 specialists, 10 leaders. We keep
    both: 101 positions of which 85 are filled; the 12 customer success positions are
    planned (that team is still being built), and three leadership positions and one
    knowledge position are open.
    """
    plan = Plan()
    vp = plan.add(None, "VP of Customer Success", "vp", location="hq")
    tech = plan.add(vp, "Director of Technical Support", "director", location="hq",
                    user="director")  # fmt: skip
    success = plan.add(vp, "Director of Customer Success", "director", location="hq")
    ops = plan.add(vp, "Director of Support Operations", "ops-director", location="hq")
    for letter, agents in (("A", 23), ("B", 22)):
        manager = plan.add(tech, f"Support Team Manager {letter}", "advocate-manager",
                           location="hq", user="manager" if letter == "A" else None)  # fmt: skip
        for _ in range(agents):
            plan.add(manager, "Tier 1 Support Agent", "advocate", location="hq")
    t2 = plan.add(tech, "Technical Support Manager", "advocate-manager", location="hq")
    for _ in range(15):
        plan.add(t2, "Tier 2 Support Specialist", "tse", location="hq", squad="t2-general")
    t3 = plan.add(tech, "Senior Technical Manager", "advocate-manager", location="hq",
                  status=Position.Status.OPEN)  # fmt: skip
    for _ in range(8):
        plan.add(t3, "Tier 3 Support Specialist", "architect", location="hq")
    for n in range(3):
        status = Position.Status.OPEN if n == 2 else Position.Status.FILLED
        manager = plan.add(success, f"Customer Success Team Manager {n + 1}", "advocate-manager",
                           location="hq", status=status)  # fmt: skip
        for _ in range(4):
            plan.add(manager, "Customer Success Manager", "customer-success-manager",
                     location="hq", status=Position.Status.PLANNED)  # fmt: skip
    quality = plan.add(ops, "Support Operations Manager, Quality Assurance", "ops-manager",
                       location="hq")  # fmt: skip
    for _ in range(5):
        plan.add(quality, "Quality Assurance Analyst", "systems-analyst", location="hq")
    knowledge = plan.add(ops, "Support Operations Manager, Knowledge Management", "ops-manager",
                         location="hq", status=Position.Status.OPEN)  # fmt: skip
    for n in range(3):
        status = Position.Status.OPEN if n == 2 else Position.Status.FILLED
        plan.add(knowledge, "Knowledge Management Specialist", "systems-specialist",
                 location="hq", status=status)  # fmt: skip
    return plan


FTE85_LOCATIONS = [("hq", "Head office", "Denver", "US", "America/Denver")]


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


def generated_plan(size: int, seed: int = 7) -> Plan:
    """A realistic organization of exactly ``size`` positions.

    Team leads run 6–10 agents, managers 2–3 teams, senior managers 2–3 managers, directors
    up to about 900 people; about 70 % of agents work in Tier 1, 22 % in Tier 2 squads and
    8 % in Tier 3; each director has a small support-operations group. About 6 % of agent
    positions are open and 2 % planned. The last team may be cut short to hit ``size``.
    """
    if size < 1:
        raise DemoError("An organization needs at least one position.")
    rng = random.Random(seed)
    plan = Plan()
    codes = [code for code, *_ in LOCATIONS]
    squads = ["t2-general", "t2-voice", "t2-analytics", "t2-platform"]
    vp = plan.add(None, "VP, Customer Advocacy", "vp", location="sf")

    def full() -> bool:
        return len(plan.nodes) >= size

    def agent_status() -> str:
        pick = rng.random()
        if pick < 0.06:
            return Position.Status.OPEN
        return Position.Status.PLANNED if pick < 0.08 else Position.Status.FILLED

    director_no = 0
    while not full():
        director_no += 1
        director = plan.add(vp, f"Director {director_no}", "director", location=rng.choice(codes))
        if not full():
            ops = plan.add(director, f"Support Operations Manager {director_no}", "ops-manager",
                           location=rng.choice(codes))  # fmt: skip
            for role in ("systems-specialist", "systems-analyst", "tools-developer"):
                if not full():
                    plan.add(ops, role.replace("-", " ").title(), role, location=rng.choice(codes))
        people = 0
        while people < 900 and not full():
            senior = plan.add(director, f"Senior Manager {director_no}.{people}",
                              "senior-advocate-manager", location=rng.choice(codes))  # fmt: skip
            for _m in range(rng.choice((2, 3))):
                if full():
                    break
                location = rng.choice(codes)
                kind = rng.random()
                tier_mix, squad = (
                    (T1_MIX, None) if kind < 0.70
                    else (T2_MIX, rng.choice(squads)) if kind < 0.92
                    else (T3_MIX, None)
                )  # fmt: skip
                manager = plan.add(senior, f"Manager {len(plan.nodes)}", "advocate-manager",
                                   location=location, squad=squad)  # fmt: skip
                for _t in range(rng.choice((2, 3))):
                    if full():
                        break
                    lead = plan.add(manager, f"Team Lead {len(plan.nodes)}", "team-lead",
                                    location=location, squad=squad)  # fmt: skip
                    for role in _agent_mix(rng, rng.randint(6, 10), tier_mix):
                        if full():
                            break
                        plan.add(lead, AGENT_TITLES[role], role, location=location,
                                 squad=squad if role in ("tse", "senior-tse") else None,
                                 status=agent_status())  # fmt: skip
            people = len(plan.nodes) - director - 1
    return plan


def write_plan(plan: Plan, *, seed: int = 11, today: datetime.date | None = None) -> Counter:
    """Write ``plan`` (people, positions, assignment history, dotted lines) in one transaction."""
    today = today or timezone.localdate()
    rng = random.Random(seed)
    roles = {role.code: role for role in Role.objects.all()}
    missing = sorted({node.role for node in plan.nodes} - roles.keys())
    if missing:
        raise DemoError(
            f"Role(s) {', '.join(missing)} are not in the catalogue; run load_framework first."
        )
    squads = {squad.code: squad for squad in Squad.objects.all()}
    locations = {loc.code: loc for loc in Location.objects.all()}
    paths_in = {}
    for role in roles.values():
        for path in role.paths_in.all():
            paths_in.setdefault(role.code, path)

    with tree_transaction():
        people: list[Person | None] = []
        new_people = []
        for n, node in enumerate(plan.nodes):
            if node.status != Position.Status.FILLED:
                people.append(None)
                continue
            given, family = rng.choice(GIVEN), rng.choice(FAMILY)
            person = Person(
                employee_id=f"E{n + 1:06d}",
                given_name=given,
                family_name=family,
                email=f"{given}.{family}.{n + 1}@example.com".lower(),
                location=locations.get(node.location),
                hire_date=today - datetime.timedelta(days=rng.randint(120, 3000)),
            )
            people.append(person)
            new_people.append(person)
        Person.objects.bulk_create(new_people, batch_size=5000)

        positions = [
            Position(
                title=node.title,
                role=roles[node.role],
                squad=squads.get(node.squad) if node.squad else None,
                location=locations.get(node.location) if node.location else None,
                status=node.status,
                holder=people[n],
            )
            for n, node in enumerate(plan.nodes)
        ]
        bulk_create_tree(positions, [node.parent for node in plan.nodes])

        assignments = []
        for n, position in enumerate(positions):
            person = people[n]
            if person is None:
                continue
            start = max(person.hire_date, today - datetime.timedelta(days=rng.randint(30, 1100)))
            path = paths_in.get(plan.nodes[n].role)
            if path is not None and person.hire_date < start - datetime.timedelta(days=60):
                earlier = start - datetime.timedelta(
                    days=max(60, (path.min_months or 6) * 31 + rng.randint(0, 200))
                )
                assignments.append(
                    Assignment(
                        person=person,
                        role=path.from_role,
                        position_title=path.from_role.name,
                        start_date=max(person.hire_date, earlier),
                        end_date=start,
                        note="Before promotion",
                    )
                )
            assignments.append(
                Assignment(
                    person=person,
                    position=position,
                    position_title=position.title,
                    role=position.role,
                    squad=position.squad,
                    start_date=start,
                )
            )
        Assignment.objects.bulk_create(assignments, batch_size=5000)
        bulk_record(Assignment, assignments)
        DottedLine.objects.bulk_create(
            [
                DottedLine(position=positions[a], manager=positions[b], purpose=purpose)
                for a, b, purpose in plan.dotted
            ]
        )
        for n, node in enumerate(plan.nodes):
            if node.user and people[n] is not None:
                link_demo_user(node.user, people[n])
    return Counter(
        positions=len(positions),
        people=len(new_people),
        assignments=len(assignments),
        dotted_lines=len(plan.dotted),
    )


def link_demo_user(username: str, person: Person) -> None:
    user = ensure_demo_user(username)
    Person.objects.filter(user=user).update(user=None)
    person.user = user
    person.save(update_fields=["user"])


def ensure_demo_user(username: str):
    """Create or reset a demo login; group membership follows the user name."""
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=username)
    user.is_superuser = user.is_staff = username == "admin"
    if username in (GROUP_DIRECTOR, GROUP_MANAGER):
        user.is_staff = True  # the admin shows them their own subtree
    user.email = f"{username}@example.com"
    user.set_password(DEMO_PASSWORD)
    user.save()
    if username in (GROUP_DIRECTOR, GROUP_MANAGER, GROUP_HR):
        user.groups.add(Group.objects.get(name=username))
    return user


def clear_organization() -> None:
    """Delete every position, person, assignment and dotted line (demo data only)."""
    with tree_transaction(), acting(None, "seed_demo --reset"):
        DottedLine.objects.all().delete()
        Promotion.objects.all().delete()
        Finding.objects.all().delete()
        PendingSpanCheck.objects.all().delete()
        Assignment.objects.all().delete()
        Position.objects.update(holder=None, status=Position.Status.OPEN)
        # Delete leaves upwards: the parent foreign key protects positions with reports.
        Position.objects.update(parent=None)
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
    result["open span-of-control findings"] = spans.recompute().open_now
    for username in ("admin", GROUP_HR):
        ensure_demo_user(username)
    for username in (GROUP_DIRECTOR, GROUP_MANAGER):
        ensure_demo_user(username)
    return result


# --- a year of the demo organization's past ------------------------------------------------

HISTORY_DAYS = 365


@dataclass
class PastOfPosition:
    """When a demo position came to be and when its holder took it: the position was open
    from ``created`` until ``filled`` (``filled`` None: as it is now since ``created``)."""

    created: datetime.datetime
    filled: datetime.datetime | None = None

    def at(self, moment: datetime.datetime, status: str) -> str | None:
        """The position's status at ``moment`` (None: it did not exist yet)."""
        if moment < self.created:
            return None
        if self.filled is not None and moment < self.filled:
            return Position.Status.OPEN
        return status


def _moment(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    naive = datetime.datetime.combine(day, datetime.time(hour, minute))
    return timezone.make_aware(naive, timezone.get_current_timezone())


def demo_past(
    *, days: int = HISTORY_DAYS, seed: int = 17, today: datetime.date | None = None
) -> dict[int, PastOfPosition]:
    """A plausible past for the organization now loaded, consistent with its assignments:
    what existed when its history began ``days`` ago, and what came since.

    A position whose holder started before the window existed throughout. One whose holder
    started within it was either a vacancy from the start (about a quarter: the backlog the
    year filled) or a new position opened 10–60 days before its holder came (growth). Open
    positions opened at the start or during the year; planned ones in the last four
    months. A manager's position is never younger than its reports' (it is opened, vacant
    if need be, when its first report is). Every change lies on a day before today."""
    today = today or timezone.localdate()
    rng = random.Random(seed)
    start = today - datetime.timedelta(days=days)
    began = _moment(start, 8)
    holders_since = dict(
        Assignment.objects.filter(end_date=None, position__isnull=False).values_list(
            "position_id", "start_date"
        )
    )
    rows = list(Position.objects.order_by("-level", "pk").values_list("pk", "parent_id", "status"))
    last_day = today - datetime.timedelta(days=1)

    def day_between(low: datetime.date, high: datetime.date) -> datetime.date:
        low, high = max(low, start), min(high, last_day)
        return low + datetime.timedelta(days=rng.randint(0, max(0, (high - low).days)))

    created: dict[int, datetime.date] = {}
    filled: dict[int, datetime.date] = {}
    for pk, _parent, status in rows:
        since = holders_since.get(pk)
        if status == Position.Status.FILLED and since is not None and since > start:
            filled[pk] = min(since, last_day)
            if rng.random() < 0.25:
                created[pk] = start  # a vacancy when history began, filled since
            else:
                lead = datetime.timedelta(days=rng.randint(10, 60))
                created[pk] = max(start, min(since, last_day) - lead)
        elif status == Position.Status.OPEN:
            created[pk] = (
                start
                if rng.random() < 0.5
                else day_between(
                    start + datetime.timedelta(days=30), today - datetime.timedelta(days=5)
                )
            )
        elif status == Position.Status.PLANNED:
            created[pk] = day_between(today - datetime.timedelta(days=120), last_day)
        else:
            created[pk] = start
    for pk, parent, _status in rows:  # deepest first: a manager opens with its first report
        if parent is not None and created[pk] < created[parent]:
            created[parent] = created[pk]
    past = {}
    for pk, _parent, _status in rows:
        opened = began if created[pk] == start else _moment(created[pk], 9, rng.randint(0, 59))
        taken = filled.get(pk)
        if taken is not None and taken <= created[pk]:
            taken = None  # the holder came the day it opened
        past[pk] = PastOfPosition(opened, _moment(taken, 10, rng.randint(0, 59)) if taken else None)
    return past


def backdate_history(past: dict[int, PastOfPosition], *, actor=None) -> int:
    """Rewrite the history of the positions and assignments now loaded as ``past`` says it
    happened (demo data only): the state when history began, each position opened since
    (by ``actor``, "Position added") and each vacancy filled ("Vacancy filled"), and each
    assignment from the day it began, or from the start. The history of positions and
    assignments no longer loaded (an organization replaced) is dropped with it, so past
    charts show this organization only. Returns the historical rows written.

    The rows are what the services would have written: the same tracked fields, a "+" row
    with the position as it was opened and a "~" row with it as it is now, the change
    reason the service's name, the user its actor; created_at and updated_at follow."""
    positions = Position.history.model
    assignments = Assignment.history.model
    began = min((p.created for p in past.values()), default=timezone.now())
    with transaction.atomic():
        positions.objects.all().delete()
        assignments.objects.all().delete()
        names = [f.attname for f in positions.tracked_fields]
        rows, changed = [], []
        for position in Position.objects.filter(pk__in=past).order_by("pk"):
            story = past[position.pk]
            position.created_at = story.created
            position.updated_at = story.filled or story.created
            changed.append(position)
            now = {name: getattr(position, name) for name in names}
            at_start = story.created == began
            first = dict(now)
            if story.filled is not None:
                first.update(status=Position.Status.OPEN, holder_id=None)
            rows.append(
                positions(
                    history_date=story.created,
                    history_type="+",
                    history_user=None if at_start else actor,
                    history_change_reason="seed_demo" if at_start else "position_create",
                    **first,
                )
            )
            if story.filled is not None:
                rows.append(
                    positions(
                        history_date=story.filled,
                        history_type="~",
                        history_user=actor,
                        history_change_reason="person_assign",
                        **now,
                    )
                )
        Position.objects.bulk_update(changed, ["created_at", "updated_at"], batch_size=2000)
        fills = {pk: story.filled for pk, story in past.items() if story.filled}
        names = [f.attname for f in assignments.tracked_fields]
        for assignment in Assignment.objects.order_by("pk"):
            now = {name: getattr(assignment, name) for name in names}
            when = fills.get(assignment.position_id) if assignment.end_date is None else None
            opened = when or max(began, _moment(assignment.start_date, 10))
            first = dict(now)
            ended = assignment.end_date is not None and _moment(assignment.end_date, 10) > opened
            if ended:
                first["end_date"] = None
            rows.append(
                assignments(
                    history_date=opened,
                    history_type="+",
                    history_user=None if opened == began else actor,
                    history_change_reason="seed_demo" if opened == began else "person_assign",
                    **first,
                )
            )
            if ended:
                rows.append(
                    assignments(
                        history_date=_moment(assignment.end_date, 10),
                        history_type="~",
                        history_user=actor,
                        history_change_reason="promotion_apply",
                        **now,
                    )
                )
        for model in (positions, assignments):
            model.objects.bulk_create([r for r in rows if isinstance(r, model)], batch_size=5000)
    return len(rows)
