"""Server-rendered pages of the organization: the org chart at ``/`` (htmx loads deeper
levels and search results as fragments)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from staffing import chart
from staffing.models import Position
from staffing.scope import request_scope
from tiers.models import Tier


def _visible_position(request, raw: str | None) -> Position | None:
    """The position with id ``raw`` if the viewer can see it; 404 otherwise."""
    if raw in (None, ""):
        return None
    if not str(raw).isdigit():
        raise Http404("No such position.")
    position = chart.visible(request_scope(request)).filter(pk=raw).first()
    if position is None:
        raise Http404("No such position in the part of the organization you can see.")
    return position


@login_required
@require_GET
def org_chart(request):
    """The chart: the viewer's scope (or ``?root=``) with its first levels open, and with
    ``?focus=`` the path down to one card opened and that card highlighted.

    A fixed number of queries whatever the size of the organization.
    """
    scope = request_scope(request)
    root = _visible_position(request, request.GET.get("root"))
    focus = _visible_position(request, request.GET.get("focus"))
    if (
        focus is not None
        and root is not None
        and not (root.tree_id == focus.tree_id and root.lft <= focus.lft < root.rght)
    ):
        root = None  # the card is outside the chosen root: show it from the top of the scope
    roots = chart.roots_for(scope, root)
    nodes = chart.build(scope, roots, focus=focus)
    top = roots[0] if len(roots) == 1 else None
    return render(
        request,
        "staffing/chart.html",
        {
            "scope": scope,
            "nodes": nodes,
            "root": root,
            "focus": focus,
            "breadcrumb": chart.breadcrumb(scope, top) if top is not None else [],
            "tiers": Tier.objects.all(),
        },
    )


@login_required
@require_GET
def chart_children(request, pk: int):
    """The direct reports of one card, as tree items (what "expand" loads)."""
    parent = _visible_position(request, str(pk))
    nodes = chart.children_of(request_scope(request), parent)
    return render(request, "staffing/_chart_nodes.html", {"nodes": nodes})


@login_required
@require_GET
def chart_search(request):
    """Up to 20 positions matching ``?q=`` by title, role, holder or location."""
    results = chart.search(request_scope(request), request.GET.get("q", ""))
    return render(
        request, "staffing/_chart_search.html", {"results": results, "q": request.GET.get("q", "")}
    )
