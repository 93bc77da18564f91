"""The tiers and Tier 2 squads of the default framework (figures from shared/seeds 000 and 001)."""

from collections import Counter
from decimal import Decimal

from orgdesign.kernel.catalogue import KEPT, upsert
from tiers.models import Squad, Tier

TIERS = [
    {
        "code": "t0",
        "name": "Tier 0 — Self-service",
        "kind": Tier.Kind.SELF_SERVICE,
        "rank": 0,
        "staffed": False,
        "target_handling_minutes": None,
        "channels": ["self_service"],
        "triages": False,
        "escalates_to": "t1",
        "colour": "#9ca3af",
        "description": (
            "Answers customers find on their own: help center articles, product guidance, "
            "community and bots. Nobody is staffed here; the work is keeping that content "
            "current and steering customers to it before they open a ticket."
        ),
    },
    {
        "code": "t1",
        "name": "Tier 1 — Product support",
        "kind": Tier.Kind.FRONTLINE,
        "rank": 1,
        "staffed": True,
        "target_handling_minutes": 15,
        "channels": ["phone", "chat", "email", "social"],
        "triages": True,
        "escalates_to": "t2",
        "colour": "#2563eb",
        "description": (
            "First contact for everything that comes in. Takes every phone call and chat, "
            "sorts and routes incoming tickets, and solves everyday product questions such "
            "as account set-up, billing and how a feature works. An issue that needs more "
            "than about a quarter of an hour moves on to Tier 2."
        ),
    },
    {
        "code": "t2",
        "name": "Tier 2 — Technical support",
        "kind": Tier.Kind.TECHNICAL,
        "rank": 2,
        "staffed": True,
        "target_handling_minutes": 30,
        "channels": ["email", "escalation"],
        "triages": False,
        "escalates_to": "t3",
        "colour": "#059669",
        "description": (
            "Deeper technical problems that go beyond the user interface: data uploads, "
            "integrations and add-ons, the technology under the product. Organized in "
            "squads. An issue still open after about half an hour goes to Tier 3."
        ),
    },
    {
        "code": "t3",
        "name": "Tier 3 — Expert support",
        "kind": Tier.Kind.EXPERT,
        "rank": 3,
        "staffed": True,
        "target_handling_minutes": None,
        "volume_share_min": Decimal("5"),
        "volume_share_max": Decimal("10"),
        "channels": ["escalation"],
        "triages": False,
        "escalates_to": None,
        "colour": "#7c3aed",
        "description": (
            "The hardest cases, escalated from Tier 2: hard to reproduce, often tangled with "
            "infrastructure or other vendors' products. No time limit. Also screens what "
            "goes to software development, verifies their fixes and closes the loop with "
            "the customer."
        ),
    },
    {
        "code": "ops",
        "name": "Support operations",
        "kind": Tier.Kind.OPERATIONS,
        "rank": 4,
        "staffed": True,
        "target_handling_minutes": None,
        "channels": [],
        "triages": False,
        "escalates_to": None,
        "colour": "#d97706",
        "description": (
            "Supports the people who support customers: workflows and queue design, "
            "internal tools, training material, data and reporting, projects and programs. "
            "Does not answer customers directly."
        ),
    },
    {
        "code": "mgmt",
        "name": "Management",
        "kind": Tier.Kind.MANAGEMENT,
        "rank": 5,
        "staffed": True,
        "target_handling_minutes": None,
        "channels": [],
        "triages": False,
        "escalates_to": None,
        "colour": "#dc2626",
        "description": (
            "Team leads, managers, senior managers, directors and the head of the "
            "organization: they set goals, coach people and shape the structure."
        ),
    },
]

# How long an engineer stays in a squad before rotating on: our own figures (the seeds give
# none), a starting point each organization edits.
ENTRY_ROTATION_MONTHS = 6
SPECIALIST_ROTATION_MONTHS = 12

SQUADS = [
    {
        "code": "t2-general",
        "name": "Tier 2 General",
        "tier": "t2",
        "kind": Squad.Kind.ENTRY,
        "portfolio": "",
        "rotate_after_months": ENTRY_ROTATION_MONTHS,
        "description": (
            "Takes the Tier 2 work that belongs to no specialist squad. Every engineer new to "
            "Tier 2 starts here before rotating through the specialist squads."
        ),
    },
    {
        "code": "t2-voice",
        "name": "Voice and Messaging",
        "tier": "t2",
        "kind": Squad.Kind.SPECIALIST,
        "rotate_after_months": SPECIALIST_ROTATION_MONTHS,
        "portfolio": "Phone channel\nMessaging and chat widgets\nCall routing",
        "description": "Escalated tickets about the voice and messaging products.",
    },
    {
        "code": "t2-analytics",
        "name": "Analytics and Reporting",
        "tier": "t2",
        "kind": Squad.Kind.SPECIALIST,
        "rotate_after_months": SPECIALIST_ROTATION_MONTHS,
        "portfolio": "Reports and dashboards\nData exports\nMetrics definitions",
        "description": "Escalated tickets about reporting and data.",
    },
    {
        "code": "t2-platform",
        "name": "Platform and Integrations",
        "tier": "t2",
        "kind": Squad.Kind.SPECIALIST,
        "rotate_after_months": SPECIALIST_ROTATION_MONTHS,
        "portfolio": "APIs and webhooks\nMarketplace apps and add-ons\nSingle sign-on",
        "description": "Escalated tickets about the platform, integrations and add-ons.",
    },
]


def load(*, reset: bool, outcome: Counter) -> None:
    tiers: dict[str, Tier] = {}
    created: set[str] = set()
    for spec in TIERS:
        values = {k: v for k, v in spec.items() if k not in ("code", "escalates_to")}
        values.setdefault("volume_share_min", None)
        values.setdefault("volume_share_max", None)
        tiers[spec["code"]], new = upsert(
            Tier, {"code": spec["code"]}, values, reset=reset, outcome=outcome
        )
        if new:
            created.add(spec["code"])
    for spec in TIERS:
        target = tiers.get(spec["escalates_to"]) if spec["escalates_to"] else None
        tier = tiers[spec["code"]]
        if tier.escalates_to_id == (target.pk if target else None):
            continue
        # A link is (re)made when either end is new this run; on an old pair a different
        # link, or none, is the user's choice and is kept unless --reset.
        if reset or spec["code"] in created or spec["escalates_to"] in created:
            tier.escalates_to = target
            tier.save(update_fields=["escalates_to"])
        else:
            outcome[f"tier escalations: {KEPT}"] += 1
    for spec in SQUADS:
        values = {k: v for k, v in spec.items() if k != "code"}
        values["tier"] = tiers[spec["tier"]]
        upsert(Squad, {"code": spec["code"]}, values, reset=reset, outcome=outcome)
