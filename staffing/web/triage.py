"""``/triage/``: the triage rota, the locations the viewer sees × this week and the three
after it, each week with the advocates on triage and flagged where nobody is; and
``/triage/<location>/<week>/``: who is on triage there that week, changed by those who may
(staffing.triage says who sees and who changes a location's rota)."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from orgdesign.kernel import days
from staffing import services, triage
from staffing.models import TriageWeek
from staffing.scope import request_scope
from staffing.selectors import visible_people


def _start(raw: str) -> datetime.date:
    """The first week shown: the Monday of ``?from=`` (a day), else this week's."""
    if raw:
        try:
            return triage.monday(days.read_day(raw))
        except days.BadDay:
            raise Http404("No such week.") from None
    return triage.monday(timezone.localdate())


@login_required
@require_GET
def triage_page(request):
    scope = request_scope(request)
    start = _start(request.GET.get("from", ""))
    weeks = triage.weeks_from(start, triage.WEEKS_SHOWN)
    return render(
        request,
        "staffing/triage.html",
        {
            "scope": scope,
            "rota": triage.rota(scope, request.user, weeks),
            "this_week": triage.monday(timezone.localdate()),
            "earlier": start - triage.WEEK * triage.WEEKS_SHOWN,
            "later": start + triage.WEEK * triage.WEEKS_SHOWN,
            "min_level": triage.TRIAGE_MIN_LEVEL,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def triage_week_page(request, code: str, week: str):
    scope = request_scope(request)
    location = triage.visible_locations(scope).filter(code=code).first()
    try:
        monday = days.read_day(week)
    except days.BadDay:
        monday = None
    if location is None or monday is None or monday.isoweekday() != 1:
        raise Http404("No such rota week.")
    if not triage.editable_locations(scope).filter(pk=location.pk).exists():
        raise PermissionDenied(f"You do not change the triage rota of {location}.")
    rota = TriageWeek.objects.filter(location=location, week=monday).first()
    on = set(rota.people.values_list("pk", flat=True)) if rota else set()
    candidates = triage.candidates(scope, request.user, location)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        chosen = [int(v) for v in request.POST.getlist("people") if v.isascii() and v.isdigit()]
        if len(chosen) != len(request.POST.getlist("people")):
            errors, status = ["Choose people from the list."], 400
        else:
            try:
                services.triage_week_set(
                    actor=request.user, location=location, week=monday, people=chosen
                )
            except ValidationError as problem:
                errors = [m for ms in problem.message_dict.values() for m in ms]
                status = 400
            else:
                messages.success(
                    request,
                    f"Triage rota of {location} for the week of {monday:%d %B %Y} saved.",
                )
                return redirect(f"{reverse('triage')}?from={monday.isoformat()}#loc-{code}")
        on = set(chosen)
    hidden = 0
    if rota is not None:
        seen = visible_people(scope, request.user).values("pk")
        hidden = rota.people.exclude(pk__in=seen).count()
    return render(
        request,
        "staffing/triage_week.html",
        {
            "location": location,
            "week": monday,
            "candidates": candidates,
            "on": on,
            "others": hidden,
            "errors": errors,
            "min_level": triage.TRIAGE_MIN_LEVEL,
        },
        status=status,
    )
