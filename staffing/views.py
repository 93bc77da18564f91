"""Server-rendered pages of the organization: the org chart at ``/``. htmx loads deeper
levels, search results and the editing dialogs as fragments; every change goes through
:mod:`staffing.services`, and the chart comes back re-rendered around the changed card."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_http_methods

from roles.models import Role
from staffing import chart, export, forms, services
from staffing.models import Finding, Person, Position
from staffing.scope import request_scope
from tiers.models import Tier


def _visible_position(request, raw) -> Position | None:
    return chart.visible_position(request_scope(request), raw)


def _chart_context(request, root_raw, focus_raw) -> dict:
    scope = request_scope(request)
    root = _visible_position(request, root_raw)
    focus = _visible_position(request, focus_raw)
    if (
        focus is not None
        and root is not None
        and not (root.tree_id == focus.tree_id and root.lft <= focus.lft < root.rght)
    ):
        root = None  # the card is outside the chosen root: show it from the top of the scope
    roots = chart.roots_for(scope, root)
    top = roots[0] if len(roots) == 1 else None
    return {
        "scope": scope,
        "nodes": chart.build(scope, roots, focus=focus),
        "root": root,
        "focus": focus,
        "breadcrumb": chart.breadcrumb(scope, top) if top is not None else [],
        "top": top,
    }


@login_required
@require_GET
def org_chart(request):
    """The chart: the viewer's scope (or ``?root=``) with its first levels open, and with
    ``?focus=`` the path down to one card opened and that card highlighted.

    A fixed number of queries whatever the size of the organization.
    """
    context = _chart_context(request, request.GET.get("root"), request.GET.get("focus"))
    return render(request, "staffing/chart.html", {**context, "tiers": Tier.objects.all()})


@login_required
@require_GET
def chart_children(request, pk: int):
    """The direct reports of one card, as tree items (what "expand" loads)."""
    parent = _visible_position(request, str(pk))
    nodes = chart.children_of(request_scope(request), parent)
    return render(
        request, "staffing/_chart_nodes.html", {"nodes": nodes, "scope": request_scope(request)}
    )


@login_required
@require_GET
def chart_search(request):
    """Up to 20 positions matching ``?q=`` by title, role, holder or location; with
    ``?pick=FIELD`` as choices for a dialog's field instead of links, and with
    ``?moving=ID`` only the positions that one could be moved under."""
    moving = _visible_position(request, request.GET.get("moving"))
    results = chart.search(request_scope(request), request.GET.get("q", ""), moving=moving)
    return render(
        request,
        "staffing/_chart_search.html",
        {
            "results": results,
            "q": request.GET.get("q", ""),
            "pick": request.GET.get("pick"),
            "moving": moving,
        },
    )


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
        candidates = Person.objects.filter(match, is_active=True)
        if not scope.edits_all:
            editable = scope.filter_editable(Position.objects.all()).values("holder_id")
            candidates = candidates.filter(Q(position__isnull=True) | Q(pk__in=editable))
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
    root = _visible_position(request, str(pk)) if pk is not None else None
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
        drawn = export.picture(
            scope, roots, depth=int(raw_depth) if raw_depth else None, png=fmt == "png"
        )
        body = export.png(drawn) if fmt == "png" else export.svg(drawn)
        response = HttpResponse(body, content_type=EXPORTS[fmt])
        response["X-Cards-Shown"] = f"{drawn.shown} of {drawn.total}"
    response["Content-Disposition"] = f'attachment; filename="{export.filename(roots, fmt)}"'
    return response


ACTIONS = {
    "add": "Add a position under {title}",
    "edit": "Change {title}",
    "move": "Move {title} and its team",
    "fill": "Fill {title}",
    "vacate": "Vacate {title}",
    "delete": "Delete {title}",
}


DONE = {
    "add": "Added a position under {title}.",
    "edit": "Saved {title}.",
    "move": "Moved {title} and its team.",
    "fill": "Filled {title}.",
    "vacate": "Vacated {title}.",
    "delete": "Deleted {title}.",
}


def _warnings(position: Position | None) -> list[str]:
    """Span-of-control findings now open on the changed card and its manager: they warn,
    they do not block (one query)."""
    if position is None:
        return []
    ids = [position.pk, *([position.parent_id] if position.parent_id else [])]
    found = Finding.objects.open().filter(position_id__in=ids).by_severity()
    return [f"{f.position_title}: {f.message}" for f in found]


def _form_for(action: str, request, position: Position):
    data = request.POST if request.method == "POST" else None
    scope = request_scope(request)
    if action == "add":
        return forms.PositionForm(data, parent=position)
    if action == "edit":
        initial = {
            "title": position.title,
            "role": position.role_id,
            "location": position.location_id,
            "squad": position.squad_id,
            "status": position.status,
        }
        return forms.EditForm(data, position=position, initial=initial)
    if action == "move":
        return forms.MoveForm(data, visible=chart.visible(scope))
    if action == "fill":
        return forms.FillForm(data)
    if action == "vacate":
        return forms.VacateForm(data)
    return forms.DeleteForm(data)


def _apply(action: str, user, position: Position, data: dict) -> Position | None:
    """Call the service; returns the card to show afterwards."""
    if action == "add":
        return services.position_create(
            actor=user, parent=position, **{k: v for k, v in data.items() if v not in (None, "")}
        )
    if action == "edit":
        changes = {k: v for k, v in data.items() if k != "status" or v}
        return services.position_update(actor=user, position=position, **changes)
    if action == "move":
        target = None if data.get("to_top") else data["new_parent"]
        return services.position_move(actor=user, position=position, new_parent=target)
    if action == "fill":
        services.person_assign(
            actor=user, position=position, person=data["person"], start_date=data.get("start_date")
        )
        return position
    if action == "vacate":
        return services.position_vacate(
            actor=user, position=position, end_date=data.get("end_date"), note=data["note"]
        )
    services.position_delete(actor=user, position=position, reports=data["reports"])
    return None


@login_required
@require_http_methods(["GET", "POST"])
def chart_edit(request, pk: int, action: str):
    """An editing dialog (GET) and its change (POST). A refusal comes back in the dialog
    with the reason and nothing changed; success re-renders the chart around the card."""
    if action not in ACTIONS:
        raise Http404("No such change.")
    position = _visible_position(request, str(pk))
    scope = request_scope(request)
    may = scope.can_place_under(position) if action == "add" else scope.can_edit(position)
    if not may:
        raise PermissionDenied(
            f"{position.title} is outside the part of the organization you edit."
        )
    form = _form_for(action, request, position)
    if request.method == "POST" and form.is_valid():
        try:
            changed = _apply(action, request.user, position, form.cleaned_data)
        except (ValidationError, PermissionDenied) as refusal:
            messages = refusal.messages if isinstance(refusal, ValidationError) else [str(refusal)]
            for message in messages:
                form.add_error(None, message)
        else:
            shown = changed if changed is not None else position.parent
            context = _chart_context(request, request.POST.get("root"), getattr(shown, "pk", None))
            context["status"] = DONE[action].format(title=position.title)
            context["warnings"] = _warnings(shown)
            response = render(request, "staffing/_chart_changed.html", context)
            response["HX-Retarget"] = "#chart"
            response["HX-Reswap"] = "outerHTML"
            response["HX-Trigger"] = "chart-changed"
            return response
    return render(
        request,
        "staffing/_chart_dialog.html",
        {
            "form": form,
            "position": position,
            "action": action,
            "heading": ACTIONS[action].format(title=position.title),
            "root": request.POST.get("root") or request.GET.get("root", ""),
            "can_top": scope.edits_all,
        },
    )


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
