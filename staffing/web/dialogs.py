"""The chart's editing dialogs (add, edit, move, fill, vacate, delete) and Undo: every
change goes through :mod:`staffing.services`, and the chart comes back re-rendered around
the changed card.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from orgdesign.kernel.audit import collecting
from staffing import selectors, services
from staffing.history import undo
from staffing.models import Finding, Position
from staffing.scope import request_scope
from staffing.spans import engine
from staffing.web import chart, forms

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
    position = chart.visible_from(request, str(pk))
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
        context = chart.chart_context(
            request,
            request.POST.get("root"),
            getattr(shown, "pk", None),
            opened=chart.posted_open(request),
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
    in their session, see :mod:`staffing.history.undo`) through the same services, then show the
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
    context = chart.chart_context(
        request,
        request.POST.get("root"),
        getattr(shown, "pk", None),
        opened=chart.posted_open(request),
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
