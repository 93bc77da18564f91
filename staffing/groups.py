"""The user groups the product relies on and what each may do in the admin.

Scope (which part of the tree) is decided by :mod:`staffing.scope`; these permissions
decide which kinds of objects each group may touch at all. The groups are brought up to
date after every ``migrate``.
"""

from django.contrib.auth.models import Group, Permission

from staffing.scope import GROUP_DIRECTOR, GROUP_HR, GROUP_MANAGER

CATALOGUE = {
    "tiers": ["tier", "squad"],
    "roles": ["role", "promotionpath", "spanrule", "skill"],
    "metrics": ["kpi"],
}
ORGANIZATION = {
    "staffing": ["position", "person", "dottedline", "location", "assignment", "promotion"]
}
OBSERVATIONS = {"metrics": ["kpiobservation", "performanceobservation", "headcountsnapshot"]}


def _codenames(models: dict[str, list[str]], actions: list[str]) -> list[tuple[str, str]]:
    return [(app, f"{action}_{model}") for app, names in models.items() for model in names
            for action in actions]  # fmt: skip


GROUP_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    GROUP_MANAGER: _codenames(CATALOGUE, ["view"])
    + _codenames({"staffing": ["position", "dottedline"]}, ["view", "add", "change", "delete"])
    + _codenames({"staffing": ["person"]}, ["view", "add", "change"])
    + _codenames({"staffing": ["location", "assignment", "promotion"]}, ["view"])
    + _codenames(OBSERVATIONS, ["view"]),
    GROUP_DIRECTOR: _codenames(CATALOGUE, ["view"])
    + _codenames({"staffing": ["position", "dottedline"]}, ["view", "add", "change", "delete"])
    + _codenames({"staffing": ["person"]}, ["view", "add", "change"])
    + _codenames({"staffing": ["location", "assignment", "promotion"]}, ["view"])
    + _codenames(OBSERVATIONS, ["view", "add", "change"]),
    GROUP_HR: _codenames(CATALOGUE, ["view", "add", "change"])
    + _codenames(ORGANIZATION, ["view"])
    + _codenames(OBSERVATIONS, ["view"]),
}


def ensure_groups(**kwargs) -> None:
    for name, wanted in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        perms = []
        for app_label, codename in wanted:
            perm = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm is not None:
                perms.append(perm)
        group.permissions.set(perms)
