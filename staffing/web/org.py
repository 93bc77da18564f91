"""The org chart at ``/``: the chart and list views, its teams opened and closed, search,
the people picker, the role holders and the exports. htmx loads deeper levels, search
results and the editing dialogs as fragments.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from roles.models import Role
from staffing import selectors, services
from staffing.interchange import export
from staffing.models import Position
from staffing.scope import request_scope
from staffing.web import chart, dialogs, history, picture
from staffing.web.cards import cards_response
from tiers.models import Tier


@login_required
@require_GET
def org_chart(request):
    """The chart: the viewer's scope (or ``?root=``) with its first levels open, and with
    ``?focus=`` the path down to one card opened and that card highlighted. ``?open=``
    (the teams to show open) or ``?level=`` (open to that depth) redraw it; ``?partial=``
    asks for a part of it (see :func:`staffing.web.chart.chart_response`).

    A fixed number of queries whatever the size of the organization.
    """
    if "as_of" in request.GET:
        return history.chart_as_of(request)
    try:
        opened, level = chart.parse_state(request.GET)
    except ValueError as bad:
        return HttpResponseBadRequest(str(bad))
    context = chart.chart_context(
        request,
        request.GET.get("root"),
        request.GET.get("focus"),
        opened=opened,
        level=level,
        # a team opened or closed in the chart view: only the places of the cards it has
        shape_only=request.GET.get("partial") in ("team", "places"),
    )
    return chart.chart_response(
        request, context, "staffing/chart.html", lambda: {"tiers": Tier.objects.all()}
    )


@login_required
@require_http_methods(["POST"])
def chart_view_choose(request):
    """Remembers whether the user sees the chart as a chart or as a list, then goes back to
    the page it was chosen on."""
    try:
        services.chart_view_remember(user=request.user, view=request.POST.get("view", ""))
    except ValidationError as refusal:
        return HttpResponseBadRequest(" ".join(dialogs.refusal_messages(refusal)))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("home")
    return redirect(back)


@login_required
@require_GET
def chart_children(request, pk: int):
    """The direct reports of one card, as tree items (what "expand" loads)."""
    parent = chart.visible_from(request, str(pk))
    nodes = chart.children_of(request_scope(request), parent)
    return cards_response(nodes)


@login_required
@require_GET
def chart_search(request):
    """Up to 20 positions matching ``?q=`` by title, role, holder or location; with
    ``?pick=FIELD`` as choices for a dialog's field instead of links, and with
    ``?moving=ID`` only the positions that one could be moved under (before two letters
    are typed: the few near it, selectors.move_candidates)."""
    moving = chart.visible_from(request, request.GET.get("moving"))
    text = request.GET.get("q", "")
    results = chart.search(request_scope(request), text, moving=moving)
    nearby = None
    if moving is not None and len(text.strip()) < 2:  # nothing typed (or typed away)
        nearby = selectors.move_candidates(request_scope(request), moving)
    return chart.search_response(request, text, results, moving=moving, nearby=nearby)


@login_required
@require_GET
def people_search(request):
    """People to fill a vacancy with: active, and either in no position or in one the viewer
    may change (a transfer). Names and employee ids only."""
    scope = request_scope(request)
    text = request.GET.get("q", "").strip()
    people = []
    if len(text) >= 2:
        match = (
            Q(given_name__icontains=text)
            | Q(family_name__icontains=text)
            | Q(employee_id__iexact=text)
        )
        candidates = selectors.placeable_people(scope).filter(match, is_active=True)
        people = list(candidates.select_related("position").order_by("family_name")[:20])
    return render(request, "staffing/_people_search.html", {"people": people, "q": text})


EXPORTS = {"csv": "text/csv; charset=utf-8", "svg": "image/svg+xml", "png": "image/png"}


@login_required
@require_GET
def chart_export(request, fmt: str, pk: int | None = None):
    """A card and everyone below it (without ``pk``: the viewer's whole chart) as CSV, every
    position, streamed; or as an SVG or PNG picture of its top levels (``?depth=`` levels
    below the card; by default as many as fit in a picture)."""
    if fmt not in EXPORTS:
        raise Http404("Export as csv, svg or png.")
    scope = request_scope(request)
    root = chart.visible_from(request, str(pk)) if pk is not None else None
    roots = chart.roots_for(scope, root)
    if not roots:
        raise Http404("There is nothing in the organization you can see to export.")
    raw_depth = request.GET.get("depth", "")
    if raw_depth and not (raw_depth.isdigit() and int(raw_depth) <= 100):
        return HttpResponseBadRequest(
            "depth is the number of levels below the card to draw: a whole number from 0 to 100."
        )
    if fmt == "csv":
        response = StreamingHttpResponse(export.csv_rows(scope, roots), content_type=EXPORTS[fmt])
    else:
        drawn = picture.picture(
            scope, roots, depth=int(raw_depth) if raw_depth else None, png=fmt == "png"
        )
        body = picture.png(drawn) if fmt == "png" else picture.svg(drawn)
        response = HttpResponse(body, content_type=EXPORTS[fmt])
        response["X-Cards-Shown"] = f"{drawn.shown} of {drawn.total}"
        response["Content-Security-Policy"] = settings.PICTURE_CSP  # a picture runs nothing
    response["Content-Disposition"] = f'attachment; filename="{export.filename(roots, fmt)}"'
    return response


HOLDERS_SHOWN = 200


@login_required
@require_GET
def role_holders(request, code: str):
    """Who holds a role, among the positions the viewer can see (the role page loads this),
    with the vacancies of that role counted."""
    role = get_object_or_404(Role, code=code)
    visible = request_scope(request).filter_visible(Position.objects.filter(role=role))
    filled = visible.filter(holder__isnull=False).select_related("holder", "location", "parent")
    total = filled.count()
    shown = filled.order_by("holder__family_name", "holder__given_name")[:HOLDERS_SHOWN]
    return render(
        request,
        "staffing/_role_holders.html",
        {
            "role": role,
            "positions": list(shown),
            "total": total,
            "vacant": visible.filter(holder__isnull=True).count(),
            "scope": request_scope(request),
        },
    )
