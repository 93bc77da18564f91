"""Read queries over the role catalogue."""

from copy import copy
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from roles.models import PromotionPath, Role


def roles_with_rules() -> QuerySet[Role]:
    """Every role with its tier, span rule, skills and paths, in a fixed number of queries."""
    return (
        Role.objects.select_related("tier", "span_rule")
        .prefetch_related(
            "skills",
            "span_rule__allowed_reports",
            Prefetch("paths_in", queryset=PromotionPath.objects.select_related("from_role")),
            Prefetch("paths_out", queryset=PromotionPath.objects.select_related("to_role")),
        )
        .order_by("track", "level", "name")
    )


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
