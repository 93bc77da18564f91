from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import render

from staffing.models import Position
from staffing.scope import scope_for
from staffing.selectors import direct_report_counts, headcount_by
from tiers.models import Tier

OVERVIEW_DEPTH = 4  # at most this many levels below the top of the viewer's scope
OVERVIEW_MAX_ROWS = 500  # fewer levels when the first ones already hold this many positions


@login_required
def org_overview(request):
    """The organization the viewer may see: its top levels with team sizes, and headcount.

    A fixed number of queries whatever the size of the organization.
    """
    scope = scope_for(request.user)
    visible = Position.objects.visible_to(request.user)
    top_level = scope.root.level if scope.root is not None and not scope.sees_all else 0
    per_level = dict(
        visible.filter(level__lt=top_level + OVERVIEW_DEPTH)
        .order_by()
        .values_list("level")
        .annotate(n=Count("id"))
    )
    depth, rows = 0, 0
    while depth < OVERVIEW_DEPTH and (depth == 0 or rows + per_level.get(top_level + depth, 0)
                                      <= OVERVIEW_MAX_ROWS):  # fmt: skip
        rows += per_level.get(top_level + depth, 0)
        depth += 1
    shown = list(
        visible.filter(level__lt=top_level + depth)
        .select_related("role__tier", "holder", "location", "squad")
        .order_by("tree_id", "lft")
    )
    directs = direct_report_counts(visible.filter(level__lt=top_level + depth))
    for position in shown:
        position.indent = position.level - top_level
        position.direct_count = directs.get(position.pk, 0)
    by_tier = headcount_by(visible, "role__tier__name")
    totals = {
        key: sum(row[key] for row in by_tier) for key in ("total", "filled", "open", "planned")
    }
    return render(
        request,
        "staffing/overview.html",
        {
            "scope": scope,
            "positions": shown,
            "depth": depth,
            "by_tier": by_tier,
            "totals": totals,
            "tiers": Tier.objects.all(),
        },
    )
