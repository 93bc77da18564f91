"""Pages of scenarios under ``/scenarios/``: the list (and a new draft), the draft in the
chart editor (the same cards, dialogs, keys and drag and drop as the live chart, marked as a
draft, every change through :mod:`staffing.scenarios`), the comparison with the live
organization, and apply, discard and archive. A capacity plan becomes a draft from
``/capacity/`` through :func:`scenario_from_plan_page`."""

from dataclasses import dataclass, field

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from roles.models import Role
from roles.selectors import roles_that_take, roles_with_reports
from staffing import capacity, chart, forms, selectors
from staffing.models import Finding, Location, Person, Position, Scenario, ScenarioPosition
from staffing.scenarios import apply, compare, drafts, from_plan, read
from staffing.scope import request_scope
from staffing.views import (
    CAPACITY_DEFAULTS,
    capacity_input,
    done_status,
    posted_open,
    refusal_messages,
    run_dialog,
)
from tiers.models import Squad, Tier

SEVERITY_ORDER = {Finding.Severity.CRITICAL: 0, Finding.Severity.WARNING: 1}
LISTED = 500  # rows of each kind of change shown on the comparison page


def _scenario(request, pk: int) -> Scenario:
    found = read.visible_scenarios(request.user, request_scope(request))
    return get_object_or_404(found, pk=pk)


def _is_author(request, scenario: Scenario) -> bool:
    return request_scope(request).edits_all or scenario.created_by_id == request.user.pk


def _editable(request, scenario: Scenario) -> bool:
    return scenario.status == Scenario.Status.DRAFT and _is_author(request, scenario)


# --- the list, and a new draft --------------------------------------------------------------


class ScenarioForm(django_forms.Form):
    name = django_forms.CharField(max_length=120)
    description = django_forms.CharField(required=False, widget=django_forms.Textarea(
        attrs={"rows": 2}))  # fmt: skip
    based_on = django_forms.ModelChoiceField(
        queryset=Scenario.objects.none(),
        required=False,
        empty_label="the live organization",
        label="Start from",
    )
    root = django_forms.ModelChoiceField(
        queryset=Position.objects.none(),
        required=False,
        error_messages={"invalid_choice": "Choose a position you can see."},
    )

    def __init__(self, *args, user, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["based_on"].queryset = read.visible_scenarios(user, scope).exclude(
            status=Scenario.Status.DISCARDED
        )
        self.fields["root"].queryset = selectors.visible(scope)


@login_required
@require_http_methods(["GET", "POST"])
def scenario_list(request):
    """``/scenarios/``: the viewer's scenarios (admins and HR: everyone's) and a form that
    drafts a new one from the live organization or from another scenario."""
    scope = request_scope(request)
    may_draft = scope.edits_all or scope.root is not None
    form = ScenarioForm(request.POST or None, user=request.user, scope=scope)
    if request.method == "POST":
        if not may_draft:
            raise PermissionDenied("You lead no part of the organization to draft.")
        if form.is_valid():
            data = form.cleaned_data
            try:
                scenario = drafts.scenario_create(
                    actor=request.user, name=data["name"], description=data["description"],
                    root=data["root"], based_on=data["based_on"],
                )  # fmt: skip
            except (ValidationError, PermissionDenied) as refusal:
                for message in refusal_messages(refusal):
                    form.add_error(None, message)
            else:
                messages.success(request, f"Drafted “{scenario}”: changes here stay in the draft.")
                return redirect("scenario", pk=scenario.pk)
    rows = read.visible_scenarios(request.user, scope).annotate(
        position_count=Count("positions", filter=Q(positions__removed=False))
    )
    status = request.GET.get("status", "")
    if status in Scenario.Status.values:
        rows = rows.filter(status=status)
    return render(
        request,
        "staffing/scenarios/list.html",
        {
            "scenarios": rows.order_by("-updated_at", "-pk"),
            "form": form,
            "may_draft": may_draft,
            "scope": scope,
            "status": status,
            "statuses": Scenario.Status.choices,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def scenario_from_plan_page(request):
    """The capacity page's plan (its fields, as posted) drafted as a scenario; shows its
    comparison with the live organization."""
    scope = request_scope(request)
    if not (scope.edits_all or scope.root is not None):
        raise PermissionDenied("You lead no part of the organization to draft.")
    values = {**CAPACITY_DEFAULTS, **request.POST.dict()}
    data, fields = capacity_input(values)
    back = f"{reverse('capacity')}?{urlencode(_plan_fields(values))}"
    try:
        plan = capacity.plan(data, span_limits=selectors.span_limits())
    except capacity.CapacityError as bad:
        messages.error(request, f"Cannot plan: {fields.get(bad.field, bad.field)} {bad.message}.")
        return redirect(back)
    name = (request.POST.get("name") or "").strip() or f"Capacity plan: {plan.total} people"
    try:
        scenario, notes = from_plan.scenario_from_plan(
            actor=request.user, name=name, wanted=plan.by_role
        )
    except ValidationError as refusal:
        for message in refusal.messages:
            messages.error(request, message)
        return redirect(back)
    messages.success(request, f"Drafted “{scenario}” from the plan.")
    for note in notes:
        messages.warning(request, note)
    return redirect("scenario-compare", pk=scenario.pk)


def _plan_fields(values: dict) -> dict:
    return {k: v for k, v in values.items() if k in CAPACITY_DEFAULTS}


# --- the draft in the chart editor ------------------------------------------------------------


@dataclass
class DraftNode(chart.Node):
    child_count: int = 0
    marks: list[str] = field(default_factory=list)

    @property
    def has_children(self) -> bool:
        return self.child_count > 0


@dataclass
class DraftTree:
    shape: read.Shape
    sources: dict[int, tuple[int | None, int | None]]

    @classmethod
    def load(cls, scenario: Scenario) -> "DraftTree":
        return cls(*read.draft_shape(scenario))

    def path(self, pk: int) -> list[int]:
        """``pk`` and its managers up to the top, top first."""
        out, nodes = [], self.shape.nodes
        while pk in nodes:
            out.append(pk)
            pk = nodes[pk][0]
        return out[::-1]

    def moved(self, pk: int, scenario: Scenario) -> bool:
        source, base_parent = self.sources[pk]
        if source is None:
            return False
        parent = self.shape.nodes[pk][0]
        if parent is None:
            now = base_parent if source == scenario.root_id else None
        else:
            now = self.sources[parent][0] or 0
        return now != base_parent


@dataclass
class Above:
    pk: int
    title: str


def _nodes(request, scenario: Scenario, tree: DraftTree, ids: list[int]) -> dict[int, DraftNode]:
    """Cards of these draft rows (one query for the rows, none for their figures)."""
    scope = request_scope(request)
    editable = _editable(request, scenario)
    shape = tree.shape
    rows = (
        ScenarioPosition.objects.filter(pk__in=ids)
        .select_related("role__tier", "role__span_rule", "holder", "location", "squad")
        .order_by("title", "pk")
    )
    found: dict[int, list] = {}
    managers = {shape.nodes[pk][0] for pk in ids} - {None}  # a card judged as a report too
    for finding in shape.judge([*ids, *(managers - set(ids))]):
        found.setdefault(finding.position_id, []).append(finding)
    out = {}
    for row in rows:
        row.direct_reports = len(shape.children.get(row.pk, ()))
        row.team_size = shape.team_all.get(row.pk, 0)
        marks = []
        if row.source_id is None:
            marks.append("added in the draft")
        else:
            if tree.moved(row.pk, scenario):
                marks.append("moved")
            changed = [
                name for name in read.FIELDS
                if name != "status" and read.draft_value(row, name) != read.base_value(row, name)
            ]  # fmt: skip
            if changed:
                marks.append("changed: " + ", ".join(changed))
        out[row.pk] = DraftNode(
            row,
            findings=sorted(
                [f for f in found.get(row.pk, []) if f.position_id == row.pk],
                key=lambda f: SEVERITY_ORDER.get(f.severity, 2),
            ),
            editable=editable and read.may_change(scope, row),
            can_add=editable and row.role.may_have_reports,
            child_count=row.direct_reports,
            marks=marks,
        )
    return out


def _draft_tree(
    request,
    scenario: Scenario,
    *,
    root_raw=None,
    focus_raw=None,
    opened: set[int] | None = None,
    level: int | None = None,
) -> dict:
    """The draft's cards from its top (or ``root``) with the first levels open, and the path
    down to ``focus`` opened with that card highlighted; ``opened``/``level`` as on the live
    chart. Two queries and one pass over the draft's rows, whatever their number."""
    tree = DraftTree.load(scenario)
    nodes = tree.shape.nodes
    root = int(root_raw) if str(root_raw or "").isdigit() and int(root_raw) in nodes else None
    focus = int(focus_raw) if str(focus_raw or "").isdigit() and int(focus_raw) in nodes else None
    if root is not None and focus is not None and root not in tree.path(focus):
        root = None
    children = tree.shape.children
    tops = [root] if root is not None else sorted(children.get(None, []))
    path = tree.path(focus) if focus is not None else []
    if root is not None:
        path = path[path.index(root) :] if root in path else []
    shown = chart.pick_shown(
        tops, lambda pk: children.get(pk, ()), opened=opened, level=level, path=path
    )
    cards = _nodes(request, scenario, tree, list(shown))
    for pk in path:
        if pk in cards:
            cards[pk].on_path = True
    top_nodes = []
    for pk in sorted(cards, key=lambda k: (cards[k].position.title, k)):
        node = cards[pk]
        parent = cards.get(nodes[pk][0])
        if pk in tops or parent is None:
            top_nodes.append(node)
            continue
        parent.children.append(node)
        parent.loaded = True
    top_nodes = [n for n in top_nodes if n.position.pk in tops] or top_nodes
    return {
        "nodes": top_nodes,
        "frame": chart.frame(top_nodes, chart.view_for(request.user)),
        "level": level,
        "root": cards[root].position if root is not None else None,
        "focus": cards[focus].position if focus is not None else None,
        "breadcrumb": [Above(pk, nodes[pk][3]) for pk in tree.path(root)[:-1]]
        if root is not None
        else [],
        "tree": tree,
    }


def _draft_context(request, scenario: Scenario) -> dict:
    return {
        "scenario": scenario,
        "draft": scenario,
        "prefix": reverse("draft-children", args=[scenario.pk, 0]).removesuffix("0/children/"),
        "page_url": reverse("scenario", args=[scenario.pk]),
        "editable": _editable(request, scenario),
        "is_author": _is_author(request, scenario),
    }


@login_required
@require_GET
def scenario_page(request, pk: int):
    """A scenario in the chart editor: a draft its author changes here (nothing live changes
    until it is applied); any other scenario read only."""
    scenario = _scenario(request, pk)
    try:
        opened, level = chart.parse_state(request.GET)
    except ValueError as bad:
        return HttpResponseBadRequest(str(bad))
    context = _draft_context(request, scenario)
    context.update(_draft_tree(request, scenario, root_raw=request.GET.get("root"),
                               focus_raw=request.GET.get("focus"), opened=opened,
                               level=level))  # fmt: skip

    def page() -> dict:
        removed = scenario.positions.filter(removed=True)
        return {
            "removed_count": removed.count(),
            "removed": list(removed.order_by("base_title")[:50]),
            "tiers": Tier.objects.all(),
            "copies": ScenarioForm(user=request.user, scope=request_scope(request)),
        }

    return chart.chart_response(request, context, "staffing/scenarios/draft.html", page)


def _draft_row(scenario: Scenario, raw) -> ScenarioPosition:
    row = scenario.positions.filter(pk=raw, removed=False).select_related("role", "parent").first()
    if row is None:
        raise Http404("No such position in this draft.")
    return row


@login_required
@require_GET
def draft_children(request, pk: int, row: int):
    """The direct reports of one draft card (what "expand" loads)."""
    scenario = _scenario(request, pk)
    parent = _draft_row(scenario, row)
    tree = DraftTree.load(scenario)
    ids = list(tree.shape.children.get(parent.pk, ()))
    cards = _nodes(request, scenario, tree, ids)
    return render(
        request,
        "staffing/_chart_nodes.html",
        {**_draft_context(request, scenario), "nodes": list(cards.values())},
    )


@login_required
@require_GET
def draft_search(request, pk: int):
    """Up to 20 draft positions matching ``?q=`` by title, role or holder; with ``?pick=``
    as choices for a dialog, and with ``?moving=ID`` without that one's own team and its
    present manager."""
    scenario = _scenario(request, pk)
    text = request.GET.get("q", "").strip()
    results, moving, nearby = [], None, None
    raw = request.GET.get("moving", "")
    if len(text) < 2 and raw.isdigit():  # nothing typed (or typed away): the few near it
        moving = _draft_row(scenario, raw)
        nearby = _draft_nearby(scenario, moving)
    if len(text) >= 2:
        rows = scenario.positions.filter(removed=False).filter(
            Q(title__icontains=text)
            | Q(role__name__icontains=text)
            | Q(holder__given_name__icontains=text)
            | Q(holder__family_name__icontains=text)
        )
        if raw.isdigit():
            moving = _draft_row(scenario, raw)
            rows = rows.exclude(pk=moving.parent_id or 0).filter(role_id__in=roles_with_reports())
        found = rows.select_related("role", "holder").order_by("title")
        if moving is None:
            results = list(found[: chart.SEARCH_LIMIT])
        else:  # not into its own team: walk up from each match (a few rows, a few levels)
            parents = read.draft_parents(scenario)
            results = [
                r for r in found[: chart.SEARCH_LIMIT * 5]
                if not read.in_team(parents, r.pk, moving.pk)
            ]  # fmt: skip
            results = results[: chart.SEARCH_LIMIT]
    return render(
        request,
        "staffing/_chart_search.html",
        {
            "results": results,
            "q": text,
            "pick": request.GET.get("pick"),
            "moving": moving,
            "nearby": nearby,
            "page_url": reverse("scenario", args=[scenario.pk]),
        },
    )


def _draft_nearby(scenario: Scenario, row: ScenarioPosition) -> list[ScenarioPosition]:
    """Where a draft card most likely goes, as on the live chart (selectors.move_candidates):
    its manager's peers, its manager's manager, its own peers; never into its own team, not
    its present manager, only positions whose role may have its role as a report."""
    parents = read.draft_parents(scenario)
    if row.parent_id is None:
        return []
    grand = parents.get(row.parent_id)
    peers_of_manager = Q(parent_id=grand) | Q(pk=grand) if grand else Q(parent__isnull=True)
    found = (
        scenario.positions.filter(removed=False)
        .filter(peers_of_manager | Q(parent_id=row.parent_id))
        .exclude(pk=row.parent_id)
        .filter(role_id__in=roles_that_take(row.role))
        .select_related("role", "holder", "location")
        .order_by("title", "pk")[: selectors.NEARBY * 5]
    )
    found = [r for r in found if not read.in_team(parents, r.pk, row.pk)]
    manager_role = row.parent.role_id
    return selectors.nearest_first(found, row.parent_id, grand, manager_role)[: selectors.NEARBY]


DRAFT_ACTIONS = {
    "add": "Draft: add a position under {title}",
    "edit": "Draft: change {title}",
    "move": "Draft: move {title} and its team",
    "fill": "Draft: fill {title}",
    "vacate": "Draft: leave {title} vacant",
    "delete": "Draft: remove {title}",
}
DRAFT_DONE = {
    "add": "Added a position under {title} in the draft.",
    "edit": "Saved {title} in the draft.",
    "move": "Moved {title} and its team in the draft.",
    "fill": "Filled {title} in the draft.",
    "vacate": "{title} is vacant in the draft.",
    "delete": "Removed {title} from the draft.",
}


class DraftFillForm(forms.FillForm):
    start_date = None  # a draft has no dates: applying it starts the assignment


def _draft_form(action: str, request, scenario: Scenario, row: ScenarioPosition):
    data = request.POST if request.method == "POST" else None
    if action == "add":
        reports = scenario.positions.filter(parent=row, removed=False)
        return forms.PositionForm(data, parent=row, reports=reports)
    if action == "edit":
        return forms.EditForm(data, position=row)
    if action == "move":
        return forms.MoveForm(data, visible=scenario.positions.filter(removed=False))
    if action == "fill":
        return DraftFillForm(data, people=read.placeable_in_draft(request_scope(request), scenario))
    if action == "vacate":
        return django_forms.Form(data)
    return forms.DeleteForm(data)


def _draft_apply(action, user, scenario, row, data) -> ScenarioPosition | None:
    """Call the scenario service; returns the card to show afterwards."""
    common = {"actor": user, "scenario": scenario}
    if action == "add":
        return drafts.draft_add(
            **common, parent=row, title=data["title"], role=data["role"],
            squad=data.get("squad"), location=data.get("location"),
            status=data.get("status") or Position.Status.OPEN,
        )  # fmt: skip
    if action == "edit":
        changes = {k: v for k, v in data.items() if k != "status" or v}
        return drafts.draft_update(**common, position=row, **changes)
    if action == "move":
        target = None if data.get("to_top") else data["new_parent"]
        return drafts.draft_move(**common, position=row, new_parent=target)
    if action in ("fill", "vacate"):
        person = data["person"] if action == "fill" else None
        return drafts.draft_update(**common, position=row, holder=person)
    drafts.draft_remove(**common, position=row, reports=data["reports"])
    return None


@login_required
@require_http_methods(["GET", "POST"])
def draft_edit(request, pk: int, row: int, action: str):
    """A draft editing dialog (GET) and its change (POST), as on the live chart: a refusal
    comes back in the dialog with nothing changed; success re-renders the draft's tree
    around the card."""
    if action not in DRAFT_ACTIONS:
        raise Http404("No such change.")
    scenario = _scenario(request, pk)
    position = _draft_row(scenario, row)
    if not _editable(request, scenario):
        raise PermissionDenied(
            f"“{scenario}” is {scenario.get_status_display().lower()}"
            if scenario.status != Scenario.Status.DRAFT
            else f"“{scenario}” is someone else's draft."
        )
    if action != "add" and not read.may_change(request_scope(request), position):
        raise PermissionDenied(f"{position.title} is your own position; it is changed from above.")
    form = _draft_form(action, request, scenario, position)
    label = position.label

    def after(changed):
        shown = changed if changed is not None else position.parent
        context = _draft_context(request, scenario)
        context.update(_draft_tree(request, scenario, root_raw=request.POST.get("root"),
                                   focus_raw=getattr(shown, "pk", None),
                                   opened=posted_open(request)))  # fmt: skip
        context["status"] = done_status(DRAFT_DONE, action, label, changed)
        left = position.parent_id if action == "move" else None
        context["warnings"] = _draft_warnings(context["tree"], shown, left=left)
        return context

    return run_dialog(
        request,
        form,
        change=lambda data: _draft_apply(action, request.user, scenario, position, data),
        after=after,
        dialog={
            "position": position,
            "action": action,
            "heading": DRAFT_ACTIONS[action].format(title=label),
            "can_top": request_scope(request).edits_all,
            "post_url": reverse("draft-edit", args=[scenario.pk, position.pk, action]),
            "pick_url": reverse("scenario-search", args=[scenario.pk]),
            "draft": scenario,
            "nearby": lambda: _draft_nearby(scenario, position),  # only if the dialog shows
        },
    )


def _draft_warnings(
    tree: DraftTree, shown: ScenarioPosition | None, *, left: int | None = None
) -> list[str]:
    """Span findings the draft now has on the changed card and its manager, and after a
    move on the manager it ``left``, each position named with its holder."""
    nodes = tree.shape.nodes
    ids = [left] if left in nodes else []
    if shown is not None and shown.pk in nodes:
        ids += [shown.pk, *([shown.parent_id] if shown.parent_id else [])]
    if not ids:
        return []
    found = tree.shape.judge(list(dict.fromkeys(ids)))
    holders = ScenarioPosition.objects.filter(pk__in={f.position_id for f in found})
    names = {r.pk: r.label for r in holders.select_related("holder")}
    return [f"{names.get(f.position_id, f.position_title)}: {f.message}" for f in found]


@login_required
@require_POST
def draft_restore_page(request, pk: int, row: int):
    """Bring a removed position back into the draft, then show it."""
    scenario = _scenario(request, pk)
    try:
        restored = drafts.draft_restore(actor=request.user, scenario=scenario, position=row)
    except ValidationError as refusal:  # someone else's draft: PermissionDenied, a 403
        for message in refusal.messages:
            messages.error(request, message)
        return redirect("scenario", pk=scenario.pk)
    messages.success(request, f"{restored.title} is back in the draft, vacant.")
    return redirect(f"{reverse('scenario', args=[scenario.pk])}?focus={restored.pk}")


# --- comparing, applying, closing -------------------------------------------------------------


def _value_names(changes: list[compare.Change]) -> dict[str, dict]:
    """Names for the ids in the changed fields (a query per kind of field that changed)."""
    wanted: dict[str, set] = {"role": set(), "squad": set(), "location": set(), "holder": set()}
    for change in changes:
        for name in change.fields:
            if name in wanted:
                wanted[name] |= {
                    read.draft_value(change.row, name),
                    read.base_value(change.row, name),
                }
    models = {"role": Role, "squad": Squad, "location": Location}
    names = {
        name: dict(models[name].objects.filter(pk__in=ids).values_list("pk", "name"))
        for name, ids in wanted.items()
        if ids and name in models
    }
    if wanted["holder"]:
        names["holder"] = {
            p.pk: p.full_name for p in Person.objects.filter(pk__in=wanted["holder"])
        }
    names["status"] = dict(Position.Status.choices)
    return names


def _shown(value, names: dict | None) -> str:
    if value in (None, ""):
        return "—"
    return str(names.get(value, value)) if names is not None else str(value)


def _comparison(scenario: Scenario) -> dict:
    rows, found, conflicts = compare.compare(scenario)
    by_id = {r.pk: r for r in rows}
    base_rows = {r.source_id: r for r in rows if r.source_id is not None}
    names = _value_names(found.changed[:LISTED])
    # the positions named, as "Title (Holder)": their holders' names in one query
    labels = read.Labels()
    shown_moves = found.moved[:LISTED]
    labels.want(*shown_moves, *(by_id[r.parent_id] for r in shown_moves if r.parent_id))
    labels.want(*(base_rows[r.base_parent] for r in shown_moves if r.base_parent in base_rows),
                *(c.row for c in found.changed[:LISTED]), *found.removed[:LISTED],
                base=True)  # fmt: skip
    labels.want(*(by_id[r.parent_id] for r in found.added if r.parent_id in by_id))
    labels.load()
    changed = [
        {
            "row": c.row,
            "label": labels.base(c.row),
            "fields": [
                (
                    name,
                    _shown(read.base_value(c.row, name), names.get(name)),
                    _shown(read.draft_value(c.row, name), names.get(name)),
                )
                for name in c.fields
            ],
        }
        for c in found.changed[:LISTED]
    ]
    moved = [
        {
            "row": r,
            "label": labels.now(r),
            "from": (
                labels.base(base_rows[r.base_parent])
                if r.base_parent in base_rows
                else "outside the draft"
            )
            if r.base_parent
            else "the top",
            "to": labels.now(by_id[r.parent_id]) if r.parent_id else "the top",
        }
        for r in shown_moves
    ]
    headcount = [
        (dim, [(name, before, after, after - before) for name, before, after in lines])
        for dim, lines in found.headcount.items()
    ]
    return {
        "diff": found,
        "added": _grouped_additions(found.added, by_id, labels),
        "removed": [labels.base(r) for r in found.removed[:LISTED]],
        "moved": moved,
        "changed": changed,
        "headcount": headcount,
        "headcount_changes": any(lines for _dim, lines in headcount),
        "listed": LISTED,
        "conflicts": conflicts,
    }


def _grouped_additions(added: list, by_id: dict, labels) -> list[tuple[str, str, int]]:
    """Added positions as (title, the manager they go under, how many), in draft order: a
    plan adds dozens of alike positions under each new team lead."""
    groups: dict[tuple[str, str], int] = {}
    for r in added:
        parent = by_id.get(r.parent_id)
        key = (r.title, labels.now(parent) if parent is not None else "the top")
        groups[key] = groups.get(key, 0) + 1
    return [(title, under, n) for (title, under), n in list(groups.items())[:LISTED]]


@login_required
@require_GET
def scenario_diff_page(request, pk: int):
    """What the scenario changes against the live organization it was taken from, with any
    conflicts with changes made live since, and the buttons to apply, discard or archive."""
    scenario = _scenario(request, pk)
    return _diff_response(request, scenario)


def _diff_response(request, scenario: Scenario, *, errors=(), status: int = 200):
    context = {**_draft_context(request, scenario), **_comparison(scenario)}
    context["errors"] = list(errors)
    return render(request, "staffing/scenarios/diff.html", context, status=status)


@login_required
@require_POST
def scenario_apply_page(request, pk: int):
    """Make the draft live (all or nothing), then show the live chart; a refusal shows the
    comparison again with the conflicts or the reason."""
    scenario = _scenario(request, pk)
    try:
        done = apply.scenario_apply(actor=request.user, scenario=scenario)
    except PermissionDenied as refusal:
        return _diff_response(request, scenario, errors=[str(refusal)], status=403)
    except ValidationError as refusal:
        scenario.refresh_from_db()
        found = getattr(refusal, "error_dict", {})
        status = 409 if "conflicts" in found else 400
        intro = (
            ["Nothing was applied: the live organization changed in the same places."]
            if status == 409
            else ["Nothing was applied."]
        )
        return _diff_response(request, scenario, errors=intro + refusal.messages, status=status)
    summary = ", ".join(f"{n} {what}" for what, n in sorted(done.items())) or "no changes"
    messages.success(request, f"Applied “{scenario}” to the live organization: {summary}.")
    url = reverse("home")
    if scenario.root_id and selectors.visible(request_scope(request)).filter(pk=scenario.root_id):
        url += f"?root={scenario.root_id}"
    return redirect(url)


@login_required
@require_POST
def scenario_close_page(request, pk: int, verb: str):
    """Discard a draft or archive a scenario."""
    states = {"discard": Scenario.Status.DISCARDED, "archive": Scenario.Status.ARCHIVED}
    if verb not in states:
        raise Http404("Discard or archive.")
    scenario = _scenario(request, pk)
    try:
        drafts.scenario_close(actor=request.user, scenario=scenario, status=states[verb])
    except ValidationError as refusal:
        for message in refusal.messages:
            messages.error(request, message)
        return redirect("scenario", pk=scenario.pk)
    messages.success(request, f"“{scenario}” is {states[verb].label.lower()}.")
    return redirect("scenarios")
