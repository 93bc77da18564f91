"""What the demo organizations look like, described in memory: Synapse Foundry (seed 000/001),
the 85-FTE org (seed 003) and generated orgs of any size, their locations and the names
their people get. Nothing here touches the database; :mod:`demo.organizations` writes a
plan.
"""

import random
from dataclasses import dataclass, field

from staffing.models import Position

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
    """An organization described in memory, written by :func:`demo.organizations.write_plan`."""

    nodes: list[Node] = field(default_factory=list)
    dotted: list[tuple[int, int, str]] = field(default_factory=list)

    def add(self, parent: int | None, title: str, role: str, **kw) -> int:
        self.nodes.append(Node(title=title, role=role, parent=parent, **kw))
        return len(self.nodes) - 1


class DemoError(Exception):
    pass


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
# Synapse's specialist squads: where the senior engineers on their way to Tier 3 are (as many
# draws as T2_MIX, so the rest of the demo is drawn as before)
T2_SPECIALIST_MIX = [("tse", 0.6), ("senior-tse", 0.4)]
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
        _team(plan, rng, specialists, name, location, size, T2_SPECIALIST_MIX, squad=squad)
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
