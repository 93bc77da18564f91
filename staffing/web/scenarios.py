"""The scenario pages: the list, a draft from a capacity plan, the comparison, applying and
closing a draft.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from roles.models import Role
from staffing import capacity, selectors
from staffing.models import Location, Person, Position, Scenario
from staffing.scenarios import apply, compare, drafts, from_plan, read
from staffing.scope import request_scope
from staffing.web import editor, forms
from staffing.web.capacity import capacity_input, plan_fields
from staffing.web.dialogs import refusal_messages
from tiers.models import Squad

# --- the list, and a new draft --------------------------------------------------------------

LISTED = 500  # rows of each kind of change shown on the comparison page


@login_required
@require_http_methods(["GET", "POST"])
def scenario_list(request):
    """``/scenarios/``: the viewer's scenarios (admins and HR: everyone's) and a form that
    drafts a new one from the live organization or from another scenario."""
    scope = request_scope(request)
    may_draft = scope.edits_all or scope.root is not None
    form = forms.ScenarioForm(request.POST or None, user=request.user, scope=scope)
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
    values = plan_fields(request.POST.dict())  # a field left out starts from its default
    data, fields = capacity_input(values)
    back = f"{reverse('capacity')}?{urlencode(values)}"
    try:
        plan = selectors.capacity_plan(data)
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
    for note in notes:  # where the new people went, tier by tier, and what could not be done
        messages.info(request, note)
    return redirect("scenario-compare", pk=scenario.pk)


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
    scenario = editor.scenario_for(request, pk)
    return _diff_response(request, scenario)


def _diff_response(request, scenario: Scenario, *, errors=(), status: int = 200):
    context = {**editor.draft_context(request, scenario), **_comparison(scenario)}
    context["errors"] = list(errors)
    return render(request, "staffing/scenarios/diff.html", context, status=status)


@login_required
@require_POST
def scenario_apply_page(request, pk: int):
    """Make the draft live (all or nothing), then show the live chart; a refusal shows the
    comparison again with the conflicts or the reason."""
    scenario = editor.scenario_for(request, pk)
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
    scenario = editor.scenario_for(request, pk)
    try:
        drafts.scenario_close(actor=request.user, scenario=scenario, status=states[verb])
    except ValidationError as refusal:
        for message in refusal.messages:
            messages.error(request, message)
        return redirect("scenario", pk=scenario.pk)
    messages.success(request, f"“{scenario}” is {states[verb].label.lower()}.")
    return redirect("scenarios")
