from itertools import groupby

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from roles.models import Role
from roles.selectors import roles_with_rules


@login_required
def catalogue(request):
    roles = list(roles_with_rules())
    labels = dict(Role.Track.choices)
    tracks = [
        {"label": labels.get(track, track), "roles": list(items)}
        for track, items in groupby(roles, key=lambda role: role.track)
    ]
    return render(request, "roles/catalogue.html", {"tracks": tracks})
