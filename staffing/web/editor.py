"""A draft in the chart editor: the same chart, dialogs and search as the live organization,
over a scenario's rows.
"""

from dataclasses import dataclass

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from roles.selectors import roles_that_take, roles_with_reports
from staffing import loops, selectors
from staffing.models import Finding, Position, Scenario, ScenarioPosition
from staffing.scenarios import drafts, read
from staffing.scope import request_scope
from staffing.web import chart, forms
from staffing.web.cards import cards_response
from staffing.web.dialogs import done_status, run_dialog
from tiers.models import Tier

SEVERITY_ORDER = {Finding.Severity.CRITICAL: 0, Finding.Severity.WARNING: 1}


def scenario_for(request, pk: int) -> Scenario:
    found = read.visible_scenarios(request.user, request_scope(request))
    return get_object_or_404(found, pk=pk)


def is_author(request, scenario: Scenario) -> bool:
    return request_scope(request).edits_all or scenario.created_by_id == request.user.pk


def may_edit(request, scenario: Scenario) -> bool:
    return scenario.status == Scenario.Status.DRAFT and is_author(request, scenario)


@dataclass
class DraftNode(chart.Node):
    child_count: int = 0

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
    editable = may_edit(request, scenario)
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


def draft_context(request, scenario: Scenario) -> dict:
    return {
        "scenario": scenario,
        "draft": scenario,
        "prefix": reverse("draft-children", args=[scenario.pk, 0]).removesuffix("0/children/"),
        "page_url": reverse("scenario", args=[scenario.pk]),
        "editable": may_edit(request, scenario),
        "is_author": is_author(request, scenario),
    }


@login_required
@require_GET
def scenario_page(request, pk: int):
    """A scenario in the chart editor: a draft its author changes here (nothing live changes
    until it is applied); any other scenario read only."""
    scenario = scenario_for(request, pk)
    try:
        opened, level = chart.parse_state(request.GET)
    except ValueError as bad:
        return HttpResponseBadRequest(str(bad))
    context = draft_context(request, scenario)
    context.update(_draft_tree(request, scenario, root_raw=request.GET.get("root"),
                               focus_raw=request.GET.get("focus"), opened=opened,
                               level=level))  # fmt: skip

    def page() -> dict:
        removed = scenario.positions.filter(removed=True)
        return {
            "removed_count": removed.count(),
            "removed": list(removed.order_by("base_title")[:50]),
            "tiers": Tier.objects.all(),
            "copies": forms.ScenarioForm(user=request.user, scope=request_scope(request)),
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
    scenario = scenario_for(request, pk)
    parent = _draft_row(scenario, row)
    tree = DraftTree.load(scenario)
    ids = list(tree.shape.children.get(parent.pk, ()))
    cards = _nodes(request, scenario, tree, ids)
    return cards_response(list(cards.values()), draft_context(request, scenario))


@login_required
@require_GET
def draft_search(request, pk: int):
    """Up to 20 draft positions matching ``?q=`` by title, role or holder; with ``?pick=``
    as choices for a dialog, and with ``?moving=ID`` without that one's own team and its
    present manager."""
    scenario = scenario_for(request, pk)
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
                if not loops.would_loop(moving.pk, r.pk, parents)
            ]  # fmt: skip
            results = results[: chart.SEARCH_LIMIT]
    page_url = reverse("scenario", args=[scenario.pk])
    return chart.search_response(
        request, text, results, moving=moving, nearby=nearby, page_url=page_url
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
    found = [r for r in found if not loops.would_loop(row.pk, r.pk, parents)]
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
    scenario = scenario_for(request, pk)
    position = _draft_row(scenario, row)
    if not may_edit(request, scenario):
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
        context = draft_context(request, scenario)
        context.update(_draft_tree(request, scenario, root_raw=request.POST.get("root"),
                                   focus_raw=getattr(shown, "pk", None),
                                   opened=chart.posted_open(request)))  # fmt: skip
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
    scenario = scenario_for(request, pk)
    try:
        restored = drafts.draft_restore(actor=request.user, scenario=scenario, position=row)
    except ValidationError as refusal:  # someone else's draft: PermissionDenied, a 403
        for message in refusal.messages:
            messages.error(request, message)
        return redirect("scenario", pk=scenario.pk)
    messages.success(request, f"{restored.title} is back in the draft, vacant.")
    return redirect(f"{reverse('scenario', args=[scenario.pk])}?focus={restored.pk}")
