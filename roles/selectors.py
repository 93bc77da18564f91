"""Read queries over the role catalogue."""

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
