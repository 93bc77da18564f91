"""``/tiers/``: the tier catalogue (what each tier handles, how fast, what share of the
tickets, its squads, where its work goes next, drawn as a picture) held against the part of
the organization the viewer sees: how many people each tier has today.

Anyone signed in reads the catalogue, as on ``/roles/``; the figures from the organization
are those of the viewer's scope (admins and HR the whole organization, directors and
managers their own part, anyone else none). A fixed number of queries whatever the size of
the organization."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from staffing.scope import request_scope
from staffing.selectors import tiers_today
from tiers import escalation
from tiers.selectors import tiers_with_squads


@login_required
@require_GET
def tier_catalogue(request):
    scope = request_scope(request)
    tiers = list(tiers_with_squads())
    return render(
        request,
        "staffing/tiers.html",
        {
            "today": tiers_today(scope, tiers),
            "scope": scope,
            "wide": escalation.layout(tiers),
            "narrow": escalation.column(tiers),
        },
    )
