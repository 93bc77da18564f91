"""Server-rendered pages of the organization: the org chart at ``/``. htmx loads deeper
levels, search results and the editing dialogs as fragments; every change goes through
:mod:`staffing.services`, and the chart comes back re-rendered around the changed card."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orgdesign.audit import collecting
from roles.models import Role
from staffing import capacity, chart, forms, history_views, selectors, services
from staffing.history import undo
from staffing.interchange import export
from staffing.models import Finding, Position
from staffing.scope import request_scope
from staffing.spans import engine
from staffing.web import picture
from tiers.models import Tier


def _visible_position(request, raw) -> Position | None:
    return selectors.visible_position(request_scope(request), raw)


def posted_open(request) -> set[int] | None:
    """The teams the chart had open when a change was sent (None if it did not say, or said
    it wrongly: the chart then opens as it does at first)."""
    try:
        return chart.parse_open(request.POST.get("open"))
    except ValueError:
        return None


def _chart_context(
    request,
    root_raw,
    focus_raw,
    *,
    opened: set[int] | None = None,
    level: int | None = None,
    shape_only: bool = False,
) -> dict:
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
    shape_only = shape_only and opened is not None
    nodes = chart.build(
        scope, roots, focus=focus, opened=opened, level=level, shape_only=shape_only
    )
    return {
        "shape_only": shape_only,
        "scope": scope,
        "nodes": nodes,
        "frame": chart.frame(nodes, chart.view_for(request.user)),
        "root": root,
        "focus": focus,
        "breadcrumb": chart.breadcrumb(scope, top) if top is not None else [],
        "top": top,
        "level": level,
    }


@login_required
@require_GET
def org_chart(request):
    """The chart: the viewer's scope (or ``?root=``) with its first levels open, and with
    ``?focus=`` the path down to one card opened and that card highlighted. ``?open=``
    (the teams to show open) or ``?level=`` (open to that depth) redraw it; ``?partial=``
    asks for a part of it (see :func:`staffing.chart.chart_response`).

    A fixed number of queries whatever the size of the organization.
    """
    if "as_of" in request.GET:
        return history_views.chart_as_of(request)
    try:
        opened, level = chart.parse_state(request.GET)
    except ValueError as bad:
        return HttpResponseBadRequest(str(bad))
    context = _chart_context(
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
        return HttpResponseBadRequest(" ".join(refusal_messages(refusal)))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("home")
    return redirect(back)


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
    ``?moving=ID`` only the positions that one could be moved under (before two letters
    are typed: the few near it, selectors.move_candidates)."""
    moving = _visible_position(request, request.GET.get("moving"))
    text = request.GET.get("q", "")
    results = chart.search(request_scope(request), text, moving=moving)
    nearby = None
    if moving is not None and len(text.strip()) < 2:  # nothing typed (or typed away)
        nearby = selectors.move_candidates(request_scope(request), moving)
    return render(
        request,
        "staffing/_chart_search.html",
        {
            "results": results,
            "q": text,
            "pick": request.GET.get("pick"),
            "moving": moving,
            "nearby": nearby,
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
        drawn = picture.picture(
            scope, roots, depth=int(raw_depth) if raw_depth else None, png=fmt == "png"
        )
        body = picture.png(drawn) if fmt == "png" else picture.svg(drawn)
        response = HttpResponse(body, content_type=EXPORTS[fmt])
        response["X-Cards-Shown"] = f"{drawn.shown} of {drawn.total}"
        response["Content-Security-Policy"] = settings.PICTURE_CSP  # a picture runs nothing
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


def _warnings(position: Position | None, *, left: int | None = None) -> list[str]:
    """Span-of-control findings on the changed card and its manager, and after a move on
    the manager it ``left``, each position named with its holder: they warn, they do not
    block. Judged now by the span engine (the stored findings catch up a moment later, when
    the recompute job has run); a fixed number of queries."""
    ids = {left} if left is not None else set()
    if position is not None:
        ids |= {position.pk, position.parent_id}
    ids.discard(None)
    if not ids:
        return []
    found, _ = engine.evaluate(ids)
    order = {severity: n for n, severity in enumerate(Finding.SEVERITY_ORDER)}
    found = sorted(found.values(), key=lambda f: (order.get(f.severity, len(order)), f.kind))
    names = {
        p.pk: p.label
        for p in Position.objects.filter(pk__in={f.position_id for f in found}).select_related(
            "holder"
        )
    }
    return [f"{names.get(f.position_id, f.position_title)}: {f.message}" for f in found]


def done_status(texts: dict, action: str, label: str, changed) -> str:
    """The status line after a change, naming the position as the dialog did (``label``);
    after a fill or an edit, as it is now (its new holder, its new title)."""
    if action in ("fill", "edit") and changed is not None:
        changed = type(changed)._default_manager.select_related("holder").get(pk=changed.pk)
        label = changed.label
    return texts[action].format(title=label)


def _form_for(action: str, request, position: Position):
    data = request.POST if request.method == "POST" else None
    scope = request_scope(request)
    if action == "add":
        return forms.PositionForm(data, parent=position, reports=position.children.all())
    if action == "edit":
        return forms.EditForm(data, position=position)
    if action == "move":
        return forms.MoveForm(data, visible=selectors.visible(scope))
    if action == "fill":
        return forms.FillForm(data, people=selectors.placeable_people(scope))
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
    label = position.label
    written: list = []  # the history the change wrote: what its Undo reverts

    def change(data):
        with collecting() as rows:
            changed = _apply(action, request.user, position, data)
        written.extend(rows)
        return changed

    def after(changed):
        shown = changed if changed is not None else position.parent
        context = _chart_context(
            request,
            request.POST.get("root"),
            getattr(shown, "pk", None),
            opened=posted_open(request),
        )
        context["status"] = done_status(DONE, action, label, changed)
        context["warnings"] = _warnings(
            shown, left=position.parent_id if action == "move" else None
        )
        context["undo"] = undo.offer(request, action, changed, written)
        return context

    return run_dialog(
        request,
        form,
        change=change,
        after=after,
        dialog={
            "position": position,
            "action": action,
            "heading": ACTIONS[action].format(title=label),
            "can_top": scope.edits_all,
            "post_url": reverse("chart-edit", args=[position.pk, action]),
            "pick_url": reverse("chart-search"),
            # called by the template only if the dialog is shown (not after a change)
            "nearby": lambda: selectors.move_candidates(scope, position),
        },
    )


@login_required
@require_POST
def chart_undo(request, key: int):
    """The status line's Undo: revert the change ``key`` the user made in a dialog (found
    in their session, see :mod:`staffing.undo`) through the same services, then show the
    chart around the card as after any change. A refusal (the organization changed since,
    or the position is no longer theirs to change) comes back in the status line, with
    nothing written."""
    record = undo.recalled(request, key)
    if record is None:
        raise Http404("No change of yours to undo here (it may have been undone already).")
    try:
        shown, done = undo.undo_change(actor=request.user, record=record)
    except (ValidationError, PermissionDenied) as refusal:
        reasons = refusal_messages(refusal)
        if not request.htmx:
            for reason in reasons:
                messages.error(request, f"Not undone: {reason}")
            return redirect(f"{reverse('home')}?focus={record['position']}")
        response = render(request, "staffing/_chart_status.html", {"refusals": reasons})
        response["HX-Retarget"] = "#chart-status"
        response["HX-Reswap"] = "outerHTML"
        return response
    undo.forget(request, key)
    if not request.htmx:
        messages.success(request, done)
        return redirect(f"{reverse('home')}?focus={getattr(shown, 'pk', '')}")
    context = _chart_context(
        request, request.POST.get("root"), getattr(shown, "pk", None), opened=posted_open(request)
    )
    context["status"] = done
    context["warnings"] = _warnings(shown)
    response = render(request, "staffing/_chart_changed.html", context)
    response["HX-Retarget"] = "#chart"
    response["HX-Reswap"] = "outerHTML"
    response["HX-Trigger"] = "chart-changed"
    return response


def refusal_messages(refusal: ValidationError | PermissionDenied) -> list[str]:
    return refusal.messages if isinstance(refusal, ValidationError) else [str(refusal)]


def run_dialog(request, form, *, change, after, dialog: dict):
    """The flow of an editing dialog, on the live chart and on a draft: on a valid POST,
    ``change(cleaned_data)`` calls the service; a refusal comes back in the dialog with the
    reason and nothing changed, and success re-renders the chart in place of the tree from
    ``after(changed)`` (the card changed, or None when it is gone)."""
    if request.method == "POST" and form.is_valid():
        try:
            changed = change(form.cleaned_data)
        except (ValidationError, PermissionDenied) as refusal:
            for message in refusal_messages(refusal):
                form.add_error(None, message)
        else:
            response = render(request, "staffing/_chart_changed.html", after(changed))
            response["HX-Retarget"] = "#chart"
            response["HX-Reswap"] = "outerHTML"
            response["HX-Trigger"] = "chart-changed"
            return response
    root = request.POST.get("root") or request.GET.get("root", "")
    return render(request, "staffing/_chart_dialog.html", {"form": form, "root": root, **dialog})


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


# --- capacity planning ---------------------------------------------------------------------

CAPACITY_DEFAULTS = {
    "shift_hours": "8",
    "phone-volume": "120", "phone-open_hours": "10", "phone-target_share": "80",
    "phone-target_s": "20",
    "chat-volume": "60", "chat-open_hours": "10", "chat-target_share": "80", "chat-target_s": "60",
    "chat-concurrency": "2",
    "tickets-volume": "400",
    "t1-share": "75", "t1-shrinkage": "35", "t1-max_occupancy": "85", "t1-phone": "7",
    "t1-chat": "10", "t1-tickets": "10",
    "t2-share": "18", "t2-shrinkage": "30", "t2-max_occupancy": "85", "t2-tickets": "30",
    "t3-share": "7", "t3-shrinkage": "25", "t3-max_occupancy": "85", "t3-tickets": "120",
}  # fmt: skip
CAPACITY_TIERS = ("t1", "t2", "t3")
# the page's inputs per channel (and which channels have them) and per tier
CHANNEL_INPUTS = [
    ("volume", capacity.CHANNELS, "volume"),
    ("open_hours", capacity.LIVE, "open hours a day"),
    ("target_share", capacity.LIVE, "answered in time (%)"),
    ("target_s", capacity.LIVE, "within (seconds)"),
    ("concurrency", ("chat",), "chats at once"),
]
PERCENT_INPUTS = ("share", "shrinkage", "max_occupancy", "target_share")
TIER_INPUTS = [
    ("share", "share of volume (%)"),
    ("shrinkage", "shrinkage (%)"),
    ("max_occupancy", "most occupancy (%)"),
    *((channel, f"{channel} minutes") for channel in capacity.CHANNELS),
]


def capacity_input(values) -> tuple[dict, dict[str, str]]:
    """The plan's JSON input from the page's fields (percentages and minutes as people type
    them), and which page field each input path came from."""

    def number(name, scale=1.0):
        raw = (values.get(name) or "").strip()
        if not raw:
            return None
        try:
            return float(raw) * scale
        except ValueError:
            return raw  # the model names it as not a number

    fields: dict[str, str] = {"shift_hours": "shift_hours"}
    channels = []
    for channel in capacity.CHANNELS:
        volume = number(f"{channel}-volume")
        if volume is None:
            continue
        n = len(channels)
        row = {"channel": channel, "volume": volume}
        for key, scale in (("open_hours", 1), ("target_share", 0.01), ("target_s", 1),
                           ("concurrency", 1)):  # fmt: skip
            value = number(f"{channel}-{key}", scale)
            if value is not None:
                row[key] = value
            fields[f"channels[{n}].{key}"] = f"{channel}-{key}"
        fields[f"channels[{n}].volume"] = f"{channel}-volume"
        channels.append(row)
    tiers = []
    for tier in CAPACITY_TIERS:
        share = number(f"{tier}-share", 0.01)
        if share is None:
            continue
        n = len(tiers)
        handle = {}
        for channel in capacity.CHANNELS:
            minutes = number(f"{tier}-{channel}", 60)
            if minutes is not None:
                handle[channel] = minutes
                fields[f"tiers[{n}].handle_s.{channel}"] = f"{tier}-{channel}"
        row = {"tier": tier, "share": share, "handle_s": handle}
        for key in ("shrinkage", "max_occupancy"):
            value = number(f"{tier}-{key}", 0.01)
            if value is not None:
                row[key] = value
            fields[f"tiers[{n}].{key}"] = f"{tier}-{key}"
        fields[f"tiers[{n}].share"] = f"{tier}-share"
        fields[f"tiers[{n}].handle_s"] = f"{tier}-{capacity.CHANNELS[0]}"
        tiers.append(row)
    data = {"shift_hours": number("shift_hours") or 8.0, "channels": channels, "tiers": tiers}
    return data, fields


@login_required
@require_GET
def capacity_page(request):
    """``/capacity/``: demand per channel and what each tier handles in, a headcount plan
    out (the same model as ``POST /api/capacity/plan/``). Nothing is written."""
    values = {**CAPACITY_DEFAULTS, **request.GET.dict()} if request.GET else CAPACITY_DEFAULTS
    plan = error = error_field = None
    data, fields = capacity_input(values)
    try:
        plan = capacity.plan(data, span_limits=selectors.span_limits())
    except capacity.CapacityError as bad:
        error, error_field = bad.message, fields.get(bad.field, bad.field)
        if error_field.endswith(PERCENT_INPUTS) and error.endswith((" 0", " 1")):
            error = error[:-1] + ("100 %" if error.endswith("1") else "0 %")  # as typed
    tiers = {t.code: t for t in Tier.objects.filter(code__in=CAPACITY_TIERS)}
    roles = dict(Role.objects.values_list("code", "name"))
    channel_rows = [
        {
            "channel": channel,
            "per": "per day" if channel == "tickets" else "in the busiest hour",
            "inputs": [
                (f"{channel}-{key}", values.get(f"{channel}-{key}", ""), f"{channel}: {label}")
                if channel in applies
                else None
                for key, applies, label in CHANNEL_INPUTS
            ],
        }
        for channel in capacity.CHANNELS
    ]
    tier_inputs = [
        {
            "code": code,
            "tier": tiers.get(code),
            "inputs": [
                (f"{code}-{key}", values.get(f"{code}-{key}", ""), f"{code}: {label}")
                for key, label in TIER_INPUTS
            ],
        }
        for code in CAPACITY_TIERS
    ]
    tier_rows = [
        {
            "plan": t,
            "tier": tiers.get(t.tier),
            "role": roles.get(t.role, t.role),
            "headcount": t.headcount(plan.shift_hours),
        }
        for t in (plan.tiers if plan else [])
    ]
    return render(
        request,
        "staffing/capacity.html",
        {
            "values": values,
            "plan": plan,
            "error": error,
            "error_field": error_field,
            "channel_rows": channel_rows,
            "tier_inputs": tier_inputs,
            "roles": roles,
            "tier_rows": tier_rows,
            "by_role": [(roles.get(code, code), n) for code, n in plan.by_role.items()]
            if plan
            else [],
            "scope": request_scope(request),
            "may_draft": request_scope(request).edits_all or request_scope(request).root,
        },
        status=400 if error else 200,
    )
