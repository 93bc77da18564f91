"""The default role catalogue: roles, promotion paths, span-of-control rules and skills.

Figures (CSAT targets, months before promotion, team sizes, years of outside experience)
come from shared/seeds/001 as tabled in DESIGN.md; all wording is our own.
"""

from collections import Counter
from decimal import Decimal as D

from orgdesign.kernel.catalogue import KEPT, upsert
from roles.models import PromotionPath, Role, Skill, SpanLimit, SpanRule
from tiers.models import Tier

A, T, M, OPS = (Role.Track.ADVOCACY, Role.Track.TECHNICAL, Role.Track.MANAGEMENT,
                Role.Track.OPERATIONS)  # fmt: skip

SKILLS = [
    ("empathy", "Empathy", "skill",
     "Wants to help and can see a problem from the customer's side."),
    ("channel-fluency", "Channel fluency", "skill",
     "Comfortable helping people over phone, chat, email, social and whatever comes next."),
    ("clear-communication", "Clear communication", "skill",
     "Listens first, then explains plainly, in speech and in writing."),
    ("simplifying", "Simplifying", "skill",
     "Finds the real problem quickly and gives the simplest answer that solves it."),
    ("learning-mindset", "Learning mindset", "skill",
     "Keeps learning as products, tools and policies change."),
    ("technical-depth", "Technical depth", "skill",
     "Understands the technology under the product well enough to debug it."),
    ("mentoring", "Mentoring", "skill",
     "Helps colleagues get better at hard tickets and grows newcomers."),
    ("data-analysis", "Data analysis", "skill",
     "Turns support data into trustworthy findings and explains what they mean."),
    ("software-development", "Software development", "skill",
     "Builds and maintains the internal tools support runs on."),
    ("communication", "Trust-based communication", "competency",
     "Builds relationships on trust and respect."),
    ("direction-setting", "Setting direction", "competency",
     "Explains where the team is heading and why."),
    ("motivating", "Motivating and recognizing", "competency",
     "Keeps people engaged and makes good work visible."),
    ("change-management", "Leading change", "competency",
     "Redesigns processes, wins support for them and clears the way."),
    ("feedback", "Feedback and development", "competency",
     "Handles conflict with direct, fair feedback and develops people."),
    ("hiring", "Hiring and inclusion", "competency",
     "Hires well for a diverse team and brings people on board properly."),
]  # fmt: skip

ADVOCATE_SKILLS = [
    "empathy", "channel-fluency", "clear-communication", "simplifying", "learning-mindset",
]  # fmt: skip
MANAGER_SKILLS = [
    "communication", "direction-setting", "motivating", "change-management", "feedback", "hiring",
]  # fmt: skip

# Roles whose positions each head a division, the unit the reporting tree is stored in
# (README, "The reporting tree"): a director leads up to 1,000 people.
DIVISION_ROLES = ("director", "ops-director", "vp")

# code, name, tier, track, level, csat, fields, skills
ROLES = [
    ("associate-advocate", "Associate Customer Advocate", "t1", A, 1, D(90), {
        "external_hire_years_min": D(1), "external_hire_years_max": D(2),
        "external_hire_experience": "helping customers in any setting",
        "summary": "Where a support career starts. Associates are still learning the product "
                   "and the craft and work with guidance until they reach the standard.",
        "responsibilities": "Solve everyday product questions\nReach the team's ticket target "
                            "with coaching\nLearn the product and the tools",
    }, ADVOCATE_SKILLS),
    ("advocate", "Customer Advocate", "t1", A, 2, D(95), {
        "summary": "Fully trained and takes any general support ticket as it comes, without "
                   "picking the easy ones.",
        "responsibilities": "Answer phone, chat and tickets across the product\nMeet the daily "
                            "ticket target\nKeep customer satisfaction high",
    }, ADVOCATE_SKILLS),
    ("senior-advocate", "Senior Customer Advocate", "t1", A, 3, D(96), {
        "summary": "Performs above standard, is the expert for one or more product areas and "
                   "spots problems before they spread.",
        "responsibilities": "Take the harder Tier 1 tickets\nMentor and train other advocates"
                            "\nFlag recurring problem areas\nTake turns triaging incoming work",
    }, [*ADVOCATE_SKILLS, "mentoring"]),
    ("tse", "Technical Support Engineer", "t2", T, 1, D(94), {
        "external_hire_experience": "technical support or engineering",
        "summary": "Solves technical problems that go beyond the interface. Most come from "
                   "the advocate roles; some are hired from outside.",
        "responsibilities": "Solve Tier 2 tickets within about half an hour\nRotate through the "
                            "specialist squads\nEscalate to Tier 3 with a clear write-up",
    }, ["technical-depth", "clear-communication", "learning-mindset"]),
    ("senior-tse", "Senior Technical Support Engineer", "t2", T, 2, D(95), {
        "summary": "Expert in several product areas and the go-to contact for them across the "
                   "whole support organization.",
        "responsibilities": "Drive productivity improvements\nDefine good practice for their "
                            "areas\nRepresent customers to product and development teams",
    }, ["technical-depth", "clear-communication", "mentoring"]),
    ("architect", "Technical Support Architect", "t3", T, 3, D(90), {
        "summary": "Masters several parts of the product after time in the Tier 2 squads and "
                   "links support with product and development.",
        "responsibilities": "Resolve escalated Tier 3 cases\nScreen escalations to development "
                            "and verify fixes\nTrain and mentor engineers",
    }, ["technical-depth", "mentoring", "clear-communication"]),
    ("senior-architect", "Senior Technical Support Architect", "t3", T, 4, D(92), {
        "summary": "The last step of the technical track inside support: shapes the product "
                   "roadmap with development and looks after key customers directly.",
        "responsibilities": "Explain complex customer problems to development\nPropose product "
                            "improvements\nGive hands-on help to key accounts",
    }, ["technical-depth", "mentoring", "clear-communication"]),
    ("team-lead", "Team Lead", "mgmt", M, 1, None, {
        "supervision_share": D(80),
        "summary": "First step into management. Supervises a team of advocates day to day "
                   "without formally managing them, and learns to lead.",
        "responsibilities": "Keep the team on its performance goals\nCoach advocates\nWork with "
                            "the manager on building the team",
    }, MANAGER_SKILLS),
    ("advocate-manager", "Advocate Manager", "mgmt", M, 2, None, {
        "external_hire_experience": "people management in customer service",
        "summary": "Manages team leads and advocates and answers for the team's results: "
                   "tickets solved, satisfaction, first reply, first-contact resolution, "
                   "handle time.",
        "responsibilities": "Manage performance and careers\nHire and develop the team\nOwn the "
                            "team's service metrics",
    }, MANAGER_SKILLS),
    ("senior-advocate-manager", "Senior Advocate Manager", "mgmt", M, 3, None, {
        "hands_on_share_max": D(50),
        "summary": "Manages managers. Mostly strategic: goals, performance, hiring and change, "
                   "with less than half the time spent on hands-on management.",
        "responsibilities": "Coach and train managers\nSet goals and direction\nLead change "
                            "across several teams",
    }, MANAGER_SKILLS),
    ("director", "Director of Customer Advocacy", "mgmt", M, 4, None, {
        "summary": "Leads a global function and structures, tunes and grows it to meet its "
                   "goals; works with sales and key customers.",
        "responsibilities": "Shape and grow the organization\nOwn the function's goals\n"
                            "Influence across the company",
    }, MANAGER_SKILLS),
    ("vp", "Vice President, Customer Advocacy", "mgmt", M, 5, None, {
        "summary": "Heads the whole support organization; every function reports here.",
        "responsibilities": "Set the support strategy\nLead the directors",
    }, MANAGER_SKILLS),
    ("systems-specialist", "Systems Specialist", "ops", OPS, 1, None, {
        "summary": "Owns one part of what keeps support running, such as performance reporting "
                   "or the internal knowledge base and training material.",
        "responsibilities": "Run an operational area end to end\nReport on it to management",
    }, ["data-analysis", "clear-communication"]),
    ("senior-systems-specialist", "Senior Systems Specialist", "ops", OPS, 2, None, {
        "summary": "A specialist with a wider reach: knows more areas and carries more weight "
                   "in the team.",
        "responsibilities": "Own several operational areas\nGuide other specialists",
    }, ["data-analysis", "clear-communication", "mentoring"]),
    ("systems-analyst", "Systems Analyst", "ops", OPS, 3, None, {
        "summary": "An experienced specialist who takes on the larger and more strategic "
                   "projects of support operations.",
        "responsibilities": "Lead strategic operations projects\nAnalyse workflows and data",
    }, ["data-analysis", "clear-communication"]),
    ("senior-systems-analyst", "Senior Systems Analyst", "ops", OPS, 4, None, {
        "summary": "The most senior analyst role, setting the direction of operational work.",
        "responsibilities": "Set direction for operations projects\nMentor analysts",
    }, ["data-analysis", "mentoring"]),
    ("tools-developer", "Tools Developer", "ops", OPS, 3, None, {
        "external_hire_years_min": D(4),
        "external_hire_experience": "building web applications",
        "summary": "Builds custom tools for the support team, such as time tracking, outage "
                   "alerting, quality review and data migration tools.",
        "responsibilities": "Build and maintain internal tools\nAutomate support workflows",
    }, ["software-development"]),
    ("senior-tools-developer", "Senior Tools Developer", "ops", OPS, 4, None, {
        "external_hire_years_min": D(5),
        "external_hire_experience": "web development in the areas the tools need",
        "summary": "Leads the design of the support team's tools in a specialised area.",
        "responsibilities": "Design tool architecture\nReview and guide other developers",
    }, ["software-development", "mentoring"]),
    ("project-manager", "Project Manager", "ops", OPS, 3, None, {
        "external_hire_years_min": D(2), "external_hire_years_max": D(3),
        "external_hire_experience": "managing projects",
        "summary": "Runs operations projects to plan, such as rolling out self-service.",
        "responsibilities": "Plan and track projects\nCoordinate the teams involved",
    }, ["clear-communication"]),
    ("program-manager", "Program Manager", "ops", OPS, 4, None, {
        "external_hire_years_min": D(3), "external_hire_years_max": D(5),
        "external_hire_experience": "managing programs",
        "summary": "Runs groups of related projects towards a larger operations goal.",
        "responsibilities": "Own multi-project programs\nReport progress to leadership",
    }, ["clear-communication", "direction-setting"]),
    ("ops-manager", "Support Operations Manager", "ops", OPS, 5, None, {
        "summary": "Manages specialists, analysts and developers in support operations.",
        "responsibilities": "Manage the operations team\nPrioritise operations work",
    }, MANAGER_SKILLS),
    ("senior-ops-manager", "Senior Support Operations Manager", "ops", OPS, 6, None, {
        "summary": "Manages operations managers and larger operations teams.",
        "responsibilities": "Lead several operations teams\nPlan operations capacity",
    }, MANAGER_SKILLS),
    ("ops-director", "Director of Support Operations", "ops", OPS, 7, None, {
        "summary": "Leads support operations as a whole.",
        "responsibilities": "Own the operations strategy\nGrow the operations organization",
    }, MANAGER_SKILLS),
]  # fmt: skip

# from, to, min months, max months, approximate, external hires allowed, criteria
PATHS = [
    ("associate-advocate", "advocate", 3, None, False, False,
     "Works at the standard expected of an advocate without guidance"),
    ("advocate", "senior-advocate", 9, None, True, False,
     "Spots problem areas without being asked\nMentors and trains other advocates on hard "
     "tickets"),
    ("advocate", "tse", 12, None, False, True,
     "In-depth technical knowledge of one or more product areas"),
    ("tse", "senior-tse", None, None, False, False,
     "Expert in several product areas\nRecognized as their point of contact"),
    ("senior-tse", "architect", 18, None, False, False, ""),  # and the squads: SQUAD_MONTHS
    ("architect", "senior-architect", 24, None, False, False,
     "Communicates complex issues to development and influences the roadmap"),
    ("advocate", "team-lead", 9, None, True, False,
     "Shows leadership and coaching potential"),
    ("team-lead", "advocate-manager", 12, None, False, True,
     "Strong people and project management"),
    ("advocate-manager", "senior-advocate-manager", 18, None, False, False,
     "Skilled in conflict resolution, direction setting, hiring and change"),
    ("senior-advocate-manager", "director", None, None, False, True,
     "A record of leading support teams to business results"),
    ("director", "vp", None, None, False, True, ""),
    ("advocate", "systems-specialist", 24, 36, False, False,
     "Interest in process, tooling or data work"),
    ("systems-specialist", "senior-systems-specialist", 18, None, False, False,
     "A record of excellent performance"),
    ("senior-systems-specialist", "systems-analyst", 12, 24, False, False, ""),
    ("systems-analyst", "senior-systems-analyst", 24, None, False, False, ""),
    ("tools-developer", "senior-tools-developer", None, None, False, True,
     "Depth in the development areas the team's tools need"),
    ("project-manager", "program-manager", None, None, False, True, ""),
    ("ops-manager", "senior-ops-manager", None, None, False, False, ""),
    ("senior-ops-manager", "ops-director", None, None, False, True, ""),
]  # fmt: skip

# Steps that ask for time in every specialist squad of the from-role's tier, judged from the
# squad history rather than signed off: (from, to): months in each squad. The seed says
# Architects have "worked through" the Tier 2 squads without a figure; 3 months is our own.
SQUAD_MONTHS = {("senior-tse", "architect"): 3}

AGENT_ROLES = [
    "associate-advocate", "advocate", "senior-advocate", "tse", "senior-tse", "architect",
    "senior-architect",
]  # fmt: skip
OPS_ROLES = [
    "systems-specialist", "senior-systems-specialist", "systems-analyst",
    "senior-systems-analyst", "tools-developer", "senior-tools-developer", "project-manager",
    "program-manager",
]  # fmt: skip

# role: (min direct, max direct, min team, max team, allowed reports, notes)
SPAN_RULES = {
    "team-lead": (6, 10, None, None, AGENT_ROLES,
                  "Supervises 6–10 agents and spends about 80 % of the time doing so."),
    "advocate-manager": (1, None, 16, 25, ["team-lead", *AGENT_ROLES],
                         "2–3 team leads and/or 1–10 agents report directly (the limits per "
                         "kind of report); the whole team is usually 16–25 people."),
    "senior-advocate-manager": (2, 3, 48, 150, ["advocate-manager"],
                                "2–3 managers report directly; the whole team is 48–150."),
    "director": (None, None, None, 1000,
                 ["senior-advocate-manager", "advocate-manager", "team-lead"],
                 "Leads up to 1,000 people through managers."),
    "ops-manager": (2, 10, None, None, OPS_ROLES, "2–10 direct reports."),
    "senior-ops-manager": (2, 10, None, None, ["ops-manager", *OPS_ROLES],
                           "2–10 direct reports."),
    "ops-director": (None, None, None, 250, ["senior-ops-manager", "ops-manager", *OPS_ROLES],
                     "Leads up to 250 people."),
}  # fmt: skip

# Limits per kind of report, by manager role: (kind, roles counted, at least, at most). A
# minimum applies only to a manager who has reports of that kind ("and/or"), so the rule's
# own minimum above is what asks for at least one report of some kind.
SPAN_LIMITS = {
    "advocate-manager": [
        ("team lead", ["team-lead"], 2, 3),
        ("agent", AGENT_ROLES, 1, 10),
    ],
}


def load(*, reset: bool, outcome: Counter) -> None:
    tiers = {tier.code: tier for tier in Tier.objects.all()}
    skills: dict[str, Skill] = {}
    new_skills: set[str] = set()
    for code, name, kind, description in SKILLS:
        skills[code], new = upsert(
            Skill,
            {"code": code},
            {"name": name, "kind": kind, "description": description},
            reset=reset,
            outcome=outcome,
        )
        if new:
            new_skills.add(code)
    roles: dict[str, Role] = {}
    new_roles: set[str] = set()
    for code, name, tier, track, level, csat, extra, skill_codes in ROLES:
        values = {
            "name": name,
            "tier": tiers[tier],
            "track": track,
            "level": level,
            "csat_target": csat,
            "supervision_share": None,
            "hands_on_share_max": None,
            "external_hire_years_min": None,
            "external_hire_years_max": None,
            "external_hire_experience": "",
            "heads_division": code in DIVISION_ROLES,
            **extra,
        }
        roles[code], new = upsert(Role, {"code": code}, values, reset=reset, outcome=outcome)
        if new:
            new_roles.add(code)
        _reconcile_links(
            roles[code].skills,
            {c: skills[c] for c in skill_codes},
            whole=reset or new,
            new=new_skills,
            label="role skills",
            outcome=outcome,
        )
    for src, dst, low, high, approx, external, criteria in PATHS:
        upsert(
            PromotionPath,
            {"from_role": roles[src], "to_role": roles[dst]},
            {
                "min_months": low,
                "max_months": high,
                "approximate": approx,
                "external_hires_allowed": external,
                "criteria": criteria,
                "squad_months": SQUAD_MONTHS.get((src, dst)),
            },
            reset=reset,
            outcome=outcome,
        )
    for code, (min_d, max_d, min_t, max_t, allowed, notes) in SPAN_RULES.items():
        rule, new = upsert(
            SpanRule,
            {"role": roles[code]},
            {
                "min_direct": min_d,
                "max_direct": max_d,
                "min_team": min_t,
                "max_team": max_t,
                "notes": notes,
            },
            reset=reset,
            outcome=outcome,
        )
        _reconcile_links(
            rule.allowed_reports,
            {c: roles[c] for c in allowed},
            whole=reset or new,
            new=new_roles,
            label="span rule allowed reports",
            outcome=outcome,
        )
        for name, counted, low, high in SPAN_LIMITS.get(code, ()):
            limit, new_limit = upsert(
                SpanLimit,
                {"rule": rule, "name": name},
                {"min_count": low, "max_count": high},
                reset=reset,
                outcome=outcome,
            )
            _reconcile_links(
                limit.roles,
                {c: roles[c] for c in counted},
                whole=reset or new_limit,
                new=new_roles,
                label="span limit roles",
                outcome=outcome,
            )


def _reconcile_links(manager, wanted: dict, *, whole: bool, new: set[str], label, outcome) -> None:
    """Bring a many-to-many relation of a catalogue row to its shipped members.

    On a row created this run (or with --reset) the relation is set whole. On an older row
    the user may have removed members on purpose (an empty allowed-reports list means "any
    role"), so only members that are themselves new this run are added back: a deleted and
    re-created role returns to the rules that ship it, and a removal is never undone.
    """
    have = set(manager.values_list("pk", flat=True))
    if whole:
        manager.set([obj.pk for obj in wanted.values()])
        return
    missing = [obj for code, obj in wanted.items() if obj.pk not in have]
    returning = [obj for obj in missing if obj.code in new]
    if returning:
        manager.add(*returning)
    if len(returning) < len(missing) or have - {obj.pk for obj in wanted.values()}:
        outcome[f"{label}: {KEPT}"] += 1
