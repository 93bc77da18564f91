"""Pages of the organization's past: the feed of changes (``/history/``, and one position's
at ``/history/positions/<id>/``) and the chart as it was at the end of a day
(``/past/<date>/``, read only, deeper levels loaded as on the live chart)."""

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from orgdesign.kernel import days
from staffing.history import feeds, past
from staffing.models import Position
from staffing.scope import Scope, request_scope
from staffing.web.cards import cards_response
from staffing.web.chart import (
    Node,
    assemble,
    chart_response,
    frame,
    parse_state,
    pick_shown,
    view_for,
)

PAGE_SIZE = 50


class FeedForm(forms.Form):
    kind = forms.MultipleChoiceField(
        label="What",
        required=False,
        choices=[(code, kind.label) for code, kind in feeds.KINDS.items()],
        widget=forms.CheckboxSelectMultiple,
    )
    user = forms.CharField(label="Changed by (user name)", required=False, max_length=150)
    since = days.DayFormField(
        label="From", required=False, widget=forms.DateInput({"type": "date"})
    )
    until = days.DayFormField(label="To", required=False, widget=forms.DateInput({"type": "date"}))
    page = forms.IntegerField(
        required=False, min_value=1, max_value=100_000, widget=forms.HiddenInput
    )

    def clean(self):
        data = super().clean()
        for name in ("since", "until"):
            if data.get(name):
                try:
                    past.check_day(data[name], name=name)
                except ValidationError as error:
                    self.add_error(name, error.message_dict[name][0])
                    data[name] = None
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "Give an end on or after the start.")
        name = (data.get("user") or "").strip()
        data["user_id"] = None
        if name:
            if name.casefold() in ("system", "the system"):
                data["user_id"] = 0
            else:
                found = get_user_model().objects.filter(username__iexact=name).first()
                if found is None:
                    self.add_error("user", f"No user called {name!r}.")
                else:
                    data["user_id"] = found.pk
        return data


def _feed_page(request, *, position_id: int | None = None) -> dict:
    form = FeedForm(request.GET or None)
    changes, more, number = [], False, 1
    if form.is_bound and not form.is_valid():
        return {
            "scope": request_scope(request),
            "form": form,
            "changes": [],
            "more": False,
            "page": 1,
        }
    data = form.cleaned_data if form.is_bound else {}
    number = data.get("page") or 1
    query = feeds.FeedQuery(
        position_id=position_id,
        kinds=tuple(data.get("kind") or ()),
        since=data.get("since"),
        until=data.get("until"),
        user_id=data.get("user_id"),
    )
    changes, more = feeds.change_feed(
        request_scope(request), query, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    params = request.GET.copy()
    params.pop("page", None)
    return {
        "scope": request_scope(request),
        "form": form,
        "changes": changes,
        "more": more,
        "page": number,
        "query_string": params.urlencode(),
    }


@login_required
@require_GET
def org_history(request):
    """Every change the viewer may see, newest first, 50 to a page."""
    return render(request, "staffing/history.html", {**_feed_page(request), "position": None})


@login_required
@require_GET
def position_history(request, pk: int):
    """One position's changes and who held it; a deleted position's for those who see the
    whole organization."""
    scope = request_scope(request)
    position = Position.objects.select_related("holder").filter(pk=pk).first()
    if position is not None:
        if not scope.can_see(position):
            raise Http404("No such position in the part of the organization you can see.")
        title = position.label
    else:
        last = Position.history.filter(id=pk).order_by("-history_date").first()
        if last is None or not scope.sees_all:
            raise Http404("No such position.")
        title = last.title
    context = _feed_page(request, position_id=pk)
    return render(
        request,
        "staffing/history.html",
        {**context, "position": position, "position_id": pk, "title": title},
    )


# --- the chart on a date ----------------------------------------------------------------------


def _past(request, day: str) -> tuple[datetime.date, Scope, past.PastOrg, set[int]]:
    """The day asked for (a 404 for one that is not a day, or in the future), the viewer's
    scope, the tree of that day and the ids of it the viewer sees."""
    try:
        when = past.parse_day(day)
    except ValidationError as error:
        raise Http404(error.message_dict["as_of"][0]) from None
    scope = request_scope(request)
    org = past.past_org(when)
    return when, scope, org, {p.pk for p in past.visible_past(scope, org)}


def _past_tree(
    org: past.PastOrg,
    roots: list,
    visible: set[int],
    *,
    opened: set[int] | None = None,
    level: int | None = None,
) -> list[Node]:
    """Cards under ``roots`` to the depth the live chart opens (or ``opened``/``level``, as
    the live chart takes them)."""
    ids = pick_shown(
        [root.pk for root in roots],
        lambda pk: [c for c in org.children.get(pk, []) if c in visible],
        opened=opened,
        level=level,
    )
    shown = [org.positions[pk] for pk in org.order if pk in ids] if ids else []
    past.attach(shown, org)
    return assemble({p.pk: Node(p) for p in shown}, {root.pk for root in roots})


@login_required
@require_GET
def past_chart(request, day: str):
    """The chart as it stood at the end of ``day``: the viewer's part of it (a manager's
    team as it was under their position then), or ``?root=`` a position of that day."""
    when, scope, org, visible = _past(request, day)
    try:
        opened, level = parse_state(request.GET)
    except ValueError as bad:
        return HttpResponseBadRequest(str(bad))
    root = None
    raw = request.GET.get("root")
    if raw:
        if not raw.isdigit() or int(raw) not in visible:
            raise Http404(f"No such position in what you can see on {when.isoformat()}.")
        root = org.positions[int(raw)]
    if root is not None:
        roots = [root]
    elif not scope.sees_all and scope.root is not None:
        roots = [org.positions[scope.root.pk]] if scope.root.pk in visible else []
    else:
        roots = org.roots() if scope.sees_all else []
    top = roots[0] if len(roots) == 1 else None
    breadcrumb = []
    if top is not None:
        above = org.positions.get(top.parent_id)
        while above is not None and above.pk in visible:
            breadcrumb.insert(0, above)
            above = org.positions.get(above.parent_id)
    base = reverse("past-chart", kwargs={"day": when.isoformat()})
    start = past.history_start()
    nodes = _past_tree(org, roots, visible, opened=opened, level=level)
    context = {
        "scope": scope,
        "nodes": nodes,
        "frame": frame(nodes, view_for(request.user)),
        "level": level,
        "root": root,
        "prefix": base,
        "page_url": base,
        "past": True,
        "day": when,
        "tree_label": f"Reporting lines on {when.isoformat()}",
        "empty_text": "Nothing to show on that day"
        + (
            "."
            if scope.sees_all
            else ": your position did not exist yet, or was not in the history."
        ),
    }
    return chart_response(
        request,
        context,
        "staffing/past_chart.html",
        lambda: {
            "today": timezone.localdate(),
            "breadcrumb": breadcrumb,
            "total": len(visible),
            "history_start": start,
            "before_history": start is None or when < timezone.localdate(start),
        },
    )


@login_required
@require_GET
def past_children(request, day: str, pk: int):
    """The direct reports of one card of the chart on ``day`` (what "expand" loads)."""
    when, _scope, org, visible = _past(request, day)
    if pk not in visible:
        raise Http404(f"No such position in what you can see on {when.isoformat()}.")
    children = [org.positions[c] for c in org.children.get(pk, []) if c in visible]
    past.attach(children, org)
    base = reverse("past-chart", kwargs={"day": when.isoformat()})
    nodes = [Node(p) for p in children]
    return cards_response(nodes, {"prefix": base, "page_url": base, "past": True})


def chart_as_of(request):
    """``/?as_of=YYYY-MM-DD`` (the chart's date picker) leads to the chart of that day; a
    date that is not one, or in the future, back to the chart with the reason."""
    raw = request.GET.get("as_of", "").strip()
    try:
        day = past.parse_day(raw)
    except ValidationError as error:
        messages.error(request, error.message_dict["as_of"][0])
        return redirect("home")
    target = reverse("past-chart", kwargs={"day": day.isoformat()})
    if request.GET.get("root", "").isdigit():
        target += f"?root={request.GET['root']}"
    return redirect(target)
