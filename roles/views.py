"""The career ladder at ``/roles/``: each track's ladder as a diagram and a table, and a page
per role. Who holds a role is the organization's business: the role page loads that list
from the link ``role-holders`` when an app above provides it (staffing registers it in its
``AppConfig.ready()``, see :mod:`orgdesign.kernel.links`), filtered by the viewer's scope."""

from itertools import groupby

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from roles.ladder import layout, outline
from roles.models import Role
from roles.selectors import career_graphs, roles_with_rules


@login_required
def catalogue(request):
    roles = list(roles_with_rules())
    labels = dict(Role.Track.choices)
    ladders = {}
    for graph in career_graphs():
        wide = layout(graph)
        ladders[graph.track] = (wide, outline(graph, wide))
    tracks = [
        {
            "code": track,
            "label": labels.get(track, track),
            "roles": list(items),
            "ladder": ladders.get(track, (None, None))[0],
            "outline": ladders.get(track, (None, None))[1],
        }
        for track, items in groupby(roles, key=lambda role: role.track)
    ]
    return render(request, "roles/catalogue.html", {"tracks": tracks})


@login_required
def role_detail(request, code: str):
    role = get_object_or_404(roles_with_rules(), code=code)
    return render(request, "roles/role.html", {"role": role})
