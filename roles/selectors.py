"""Read queries over the role catalogue."""

from collections import defaultdict
from collections.abc import Sequence
from copy import copy
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from roles.models import PromotionPath, Role, Skill, SpanLimit, SpanRule


def roles_in_catalogue_order() -> QuerySet[Role]:
    """Every role with its tier and span rule (one query), by track, level and name; what
    hangs off them comes with :func:`roles_with_rules` or :func:`role_relations`."""
    return Role.objects.select_related("tier", "span_rule").order_by("track", "level", "name")


def roles_with_rules() -> QuerySet[Role]:
    """Every role with its tier, span rule, skills and paths, in a fixed number of queries."""
    return roles_in_catalogue_order().prefetch_related(
        "skills",
        "span_rule__allowed_reports",
        "span_rule__limits__roles",
        Prefetch("paths_in", queryset=PromotionPath.objects.select_related("from_role")),
        Prefetch("paths_out", queryset=PromotionPath.objects.select_related("to_role")),
    )


PATH_COLUMNS = (
    "id",
    "from_role_id",
    "from_role__name",
    "to_role_id",
    "to_role__name",
    "min_months",
    "max_months",
    "approximate",
    "criteria",
    "squad_months",
    "external_hires_allowed",
)


@dataclass
class LimitRow:
    """A limit per kind of report as plain values, its roles as (id, name)."""

    name: str
    min_count: int | None
    max_count: int | None
    roles: list[tuple[int, str]]


@dataclass
class RoleRelations:
    """What hangs off some roles, as plain rows (no model instances), in the order the
    models' own ``Meta.ordering`` gives their prefetches."""

    skills: dict[int, list[tuple[int, str]]]  # role id → its skills as (id, name)
    allowed_reports: dict[int, list[tuple[int, str]]]  # span rule id → roles as (id, name)
    paths_in: dict[int, list]  # role id → paths into it, as rows of PATH_COLUMNS
    paths_out: dict[int, list]  # role id → paths out of it
    limits: dict[int, list[LimitRow]]  # span rule id → its limits per kind of report


def _related_order(prefix: str, model) -> list[str]:
    """``model``'s default ordering, seen from a relation named ``prefix``."""
    return [
        f"-{prefix}__{name[1:]}" if name.startswith("-") else f"{prefix}__{name}"
        for name in model._meta.ordering
    ]


def role_relations(roles: Sequence[Role]) -> RoleRelations:
    """The skills, allowed reports, limits per kind of report and promotion paths (both
    ways) of ``roles``, which carry their span rule (:func:`roles_in_catalogue_order`): five
    queries at most, whatever the number of roles; none for the allowed reports and limits
    when no role on the list has a span rule, none at all for no roles."""
    found = RoleRelations(*(defaultdict(list) for _ in range(5)))
    ids = [role.pk for role in roles]
    if not ids:
        return found
    for role_id, skill_id, name in (
        Role.skills.through.objects.filter(role_id__in=ids)
        .order_by(*_related_order("skill", Skill))
        .values_list("role_id", "skill_id", "skill__name")
    ):
        found.skills[role_id].append((skill_id, name))
    rules = [role.span_rule.pk for role in roles if getattr(role, "span_rule", None) is not None]
    if rules:
        for rule_id, role_id, name in (
            SpanRule.allowed_reports.through.objects.filter(spanrule_id__in=rules)
            .order_by(*_related_order("role", Role))
            .values_list("spanrule_id", "role_id", "role__name")
        ):
            found.allowed_reports[rule_id].append((role_id, name))
        # one row per limit and role (a limit without roles: one row without a role)
        limits: dict[int, LimitRow] = {}
        for rule_id, pk, name, low, high, role_id, role_name in (
            SpanLimit.objects.filter(rule_id__in=rules)
            .order_by("rule_id", "pk", *_related_order("roles", Role))
            .values_list("rule_id", "pk", "name", "min_count", "max_count", "roles", "roles__name")
        ):
            if pk not in limits:
                limits[pk] = LimitRow(name, low, high, [])
                found.limits[rule_id].append(limits[pk])
            if role_id is not None:
                limits[pk].roles.append((role_id, role_name))
    # Paths into and out of the roles: two queries of the same shape as the prefetches of
    # roles_with_rules (the same joins, filter and order). Paths that Meta.ordering leaves
    # tied (steps from one role to several roles of the same level) come in the order the
    # database's plan gives; the same shape gets the same order as the prefetches (it
    # differs between PostgreSQL and SQLite, and between a list and one role).
    paths = PromotionPath.objects.values_list(*PATH_COLUMNS, named=True)
    for path in paths.filter(to_role_id__in=ids):
        found.paths_in[path.to_role_id].append(path)
    for path in paths.filter(from_role_id__in=ids):
        found.paths_out[path.from_role_id].append(path)
    return found


@dataclass
class CareerGraph:
    """One track's ladder: its roles and the promotion paths into, within and out of it.
    Roles of other tracks at the end of such a path come along (``role.in_track`` False)."""

    track: str
    label: str
    nodes: list[Role]
    edges: list[PromotionPath]


def career_graphs(track: str | None = None) -> list[CareerGraph]:
    """The ladder of every track that has roles (or of ``track``, even if it has none), in
    two queries."""
    roles = {role.pk: role for role in Role.objects.select_related("tier")}
    paths = list(PromotionPath.objects.select_related("from_role", "to_role"))
    present = {role.track for role in roles.values()}
    graphs = []
    for code, label in Role.Track.choices:
        if (code not in present and track is None) or (track is not None and code != track):
            continue
        edges = [
            p
            for p in paths
            if code in (roles[p.from_role_id].track, roles[p.to_role_id].track)
            and roles[p.from_role_id].is_active
            and roles[p.to_role_id].is_active
        ]
        shown = {pk for pk, role in roles.items() if role.track == code and role.is_active}
        shown |= {p.from_role_id for p in edges} | {p.to_role_id for p in edges}
        nodes = []
        for pk in shown:
            role = copy(roles[pk])  # in_track differs from one track's graph to the next
            role.in_track = role.track == code
            nodes.append(role)
        nodes.sort(key=lambda r: (not r.in_track, r.level, r.name))
        graphs.append(CareerGraph(code, label, nodes, edges))
    return graphs


def with_report_rules(roles: QuerySet[Role]) -> QuerySet[Role]:
    """``roles`` with what :meth:`Role.allows_report` reads loaded (two queries in all)."""
    return roles.select_related("span_rule").prefetch_related("span_rule__allowed_reports")


def roles_allowed_under(manager: Role | None) -> QuerySet[Role]:
    """The active roles a position of ``manager``'s role may have as direct reports (None:
    a top position, any role), in catalogue order; none for a role without reports."""
    roles = Role.objects.filter(is_active=True).select_related("tier")
    if manager is not None:
        manager = with_report_rules(Role.objects.filter(pk=manager.pk)).first() or manager
        allowed = [role.pk for role in roles if manager.allows_report(role)]
        roles = roles.filter(pk__in=allowed)
    return roles.order_by("tier__rank", "track", "level")


def roles_with_reports() -> list[int]:
    """The ids of the roles whose positions may have direct reports (one query)."""
    return [r.pk for r in Role.objects.select_related("span_rule") if r.may_have_reports]


def roles_that_take(role: Role) -> list[int]:
    """The ids of the roles whose positions may have a ``role`` as a direct report."""
    return [m.pk for m in with_report_rules(Role.objects.all()) if m.allows_report(role)]
