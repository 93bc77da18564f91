"""The user groups the product relies on and what each may do in the admin.

Scope (which part of the tree) is decided by :mod:`staffing.scope`; these permissions
decide which kinds of objects each group may touch at all. The groups are brought up to
date after every ``migrate``.

The groups are staffing's; what they may do with a kind of object is said by the app that
knows it is needed. Staffing grants its own models and the catalogue below it (tiers,
roles, which know nothing of users or groups) from its ``AppConfig.ready()``; an app above
staffing grants its own models from its own ``ready()``::

    # metrics/apps.py, ready()
    groups.grant(GROUP_HR, [KPI], ["view", "add", "change"])

:func:`ensure_groups` (``post_migrate``) gives each group the union of its grants.
"""

from collections.abc import Iterable

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q

from staffing.scope import GROUP_DIRECTOR, GROUP_HR, GROUP_MANAGER

GROUPS = (GROUP_MANAGER, GROUP_DIRECTOR, GROUP_HR)

_grants: dict[str, set[tuple[str, str]]] = {name: set() for name in GROUPS}


def grant(group: str, models: Iterable, actions: Iterable[str]) -> None:
    """Let ``group`` do each of ``actions`` ("view", "add", "change", "delete") to each
    of ``models`` (model classes). Called from an ``AppConfig.ready()``; granting twice is
    harmless."""
    if group not in _grants:
        raise ImproperlyConfigured(f"No such group: {group!r} (the groups are {GROUPS}).")
    actions = list(actions)
    for model in models:
        meta = model._meta
        _grants[group].update((meta.app_label, f"{a}_{meta.model_name}") for a in actions)


def granted() -> dict[str, set[tuple[str, str]]]:
    """Each group's ``(app_label, codename)`` permissions, as granted so far."""
    return {name: set(perms) for name, perms in _grants.items()}


def grant_own() -> None:
    """Staffing's grants: its own models, and the catalogue (tiers, roles) it builds on."""
    from roles.models import PromotionPath, Role, Skill, SpanLimit, SpanRule
    from staffing.models import (
        Assignment,
        DottedLine,
        Location,
        Person,
        Position,
        Promotion,
        TriageWeek,
    )
    from tiers.models import Squad, Tier

    catalogue = [Tier, Squad, Role, PromotionPath, SpanRule, SpanLimit, Skill]
    for group in (GROUP_MANAGER, GROUP_DIRECTOR):
        grant(group, catalogue, ["view"])
        grant(group, [Position, DottedLine], ["view", "add", "change", "delete"])
        grant(group, [Person], ["view", "add", "change"])
        grant(group, [Location, Assignment, Promotion], ["view"])
        # the rota of the locations where their part has people (staffing.triage)
        grant(group, [TriageWeek], ["view", "add", "change"])
    grant(GROUP_HR, catalogue, ["view", "add", "change"])
    grant(
        GROUP_HR,
        [Position, Person, DottedLine, Location, Assignment, Promotion, TriageWeek],
        ["view"],
    )


def ensure_groups(**kwargs) -> None:
    """Create the groups and set each one's permissions to exactly its grants (those whose
    permission rows exist yet: ``post_migrate`` runs once per app)."""
    wanted = granted()
    every = set().union(*wanted.values())
    match = Q(pk__in=[])
    for app_label in {app for app, _ in every}:
        codenames = [codename for app, codename in every if app == app_label]
        match |= Q(content_type__app_label=app_label, codename__in=codenames)
    found = {
        (perm.content_type.app_label, perm.codename): perm
        for perm in Permission.objects.filter(match).select_related("content_type")
    }
    for name in GROUPS:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set([found[key] for key in sorted(wanted[name]) if key in found])
