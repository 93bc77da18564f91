"""``/squads/<id>/``: one squad (its portfolio, the people in it now with their time in the
squad and whether they are due to rotate, its latest joins and leaves) and
``/squads/rotation/``: every engineer in a tier with squads, where they are, for how long,
and where they have served (staffing.rotation).

The squads are catalogue, read by anyone signed in, as on ``/tiers/``; the people are those
of the viewer's scope, so a viewer who sees no part of the organization sees the squad and
nobody in it."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from staffing import rotation
from staffing.scope import request_scope
from tiers.models import Squad

ROTATION_PAGE_SIZE = 100


@login_required
@require_GET
def squad_page(request, pk: int):
    squad = get_object_or_404(Squad.objects.select_related("tier"), pk=pk)
    scope = request_scope(request)
    members = rotation.squad_members(scope, squad)
    return render(
        request,
        "staffing/squad.html",
        {
            "squad": squad,
            "scope": scope,
            "sees": scope.sees_all or scope.root is not None,
            "members": members,
            "due": sum(1 for m in members if m.due),
            "movements": rotation.squad_movements(scope, request.user, squad),
            "others": Squad.objects.exclude(pk=squad.pk).order_by("tier__rank", "kind", "name"),
        },
    )


@login_required
@require_GET
def rotation_page(request):
    scope = request_scope(request)
    engineers = rotation.rotation_list(scope)
    page = Paginator(engineers, ROTATION_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "staffing/rotation.html",
        {
            "scope": scope,
            "sees": scope.sees_all or scope.root is not None,
            "page": page,
            "total": len(engineers),
            "due": sum(1 for e in engineers if e.due),
            "outside": [e for e in engineers if e.outside_entry],
            "page_url": "?page=",
            "page_fields": {},
            "squads": Squad.objects.select_related("tier"),
        },
    )
