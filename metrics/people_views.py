"""Promotion readiness pages: ``/readiness/`` (everyone below the viewer, sortable, as CSV
too) and ``/people/<id>/`` (one person's paths, prerequisites, sign-offs and the promote
form). Changes go through :func:`metrics.services.person_promote` and
:func:`staffing.services.criterion_signoff`; the scope rules are theirs."""

import csv
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from metrics import readiness, services, verdicts
from orgdesign.kernel.rest import csv_cell, is_id
from roles.models import PromotionPath, Role
from staffing import services as staffing_services
from staffing.history import feeds
from staffing.models import Person, Position, Promotion
from staffing.scope import request_scope
from staffing.selectors import visible_people, visible_position

CSV_COLUMNS = [
    "person",
    "employee_id",
    "position",
    "role",
    "months_in_role",
    "csat_recent",
    "next_role",
    "status",
    "ready_on",
    "missing",
]


def _list_root(request) -> Position | None:
    """Whose team the list covers: ``?root=`` (a visible position), else the viewer's own
    position for directors and managers, else the whole organization for admins and HR."""
    scope = request_scope(request)
    raw = request.GET.get("root", "")
    if raw:
        return visible_position(scope, raw)
    if scope.root is not None:
        return scope.root
    if scope.sees_all:
        return None
    raise PermissionDenied("The readiness list covers the team you lead, and you have none.")


def _positions(request, root: Position | None):
    scope = request_scope(request)
    positions = scope.filter_visible(Position.objects.all())
    if root is not None:
        positions = positions.subtree_of(root, include_self=False)
    return positions


def _role(raw: str) -> Role | None:
    """The role a list is narrowed to (``?role=``, an id); anything else: no narrowing."""
    return Role.objects.filter(pk=raw).first() if is_id(raw) else None


TEAMS = 300  # teams offered in the list's team filter


def _teams(request, root: Position | None) -> tuple[list[Position], Position | None, bool]:
    """The teams a list can be narrowed to (the root's direct reports, or the tops of the
    organization), the team above the root to widen it to if the viewer sees it, and
    whether the viewer's own list is wider than this one."""
    scope = request_scope(request)
    below = Position.objects.filter(parent=root) if root else Position.objects.filter(parent=None)
    teams = list(
        scope.filter_visible(below).select_related("holder").order_by(*readiness.TREE_ORDER)[:TEAMS]
    )
    up = None
    if root is not None and root != scope.root and root.parent_id:
        up = Position.objects.filter(pk=root.parent_id).select_related("holder").first()
        up = up if up is not None and scope.can_see(up) else None
    return teams, up, root is not None and root != scope.root


@login_required
@require_GET
def readiness_list(request):
    """Everyone below the list's root, a page at a time: the page is judged, the order, the
    filter and the counts come from the whole scope (:class:`metrics.verdicts.ReadinessList`).
    The root's teams and the roles narrow it."""
    root = _list_root(request)
    wanted = request.GET.get("status", "")
    if wanted not in readiness.STATUS_LABELS:
        wanted = ""
    role = _role(request.GET.get("role", ""))
    positions = _positions(request, root)
    if role is not None:
        positions = positions.filter(role=role)
    listed = verdicts.ReadinessList(
        positions, status=wanted, sort=request.GET.get("sort", "status")
    )
    sort = listed.sort
    if request.GET.get("format") == "csv":
        return _csv(listed, root)
    paginator = verdicts.ReadinessPaginator(listed, settings.READINESS_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    scope = request_scope(request)
    query = {k: v for k, v in request.GET.items() if k in ("root", "status") and v}
    if role is not None:
        query["role"] = str(role.pk)
    teams, up, narrowed = _teams(request, root)
    return render(
        request,
        "metrics/readiness.html",
        {
            "root": root,
            "up": up,
            "narrowed": narrowed,
            "own": scope.root,
            "teams": teams,
            "role": role,
            "roles": Role.objects.filter(is_active=True)
            .select_related("tier")
            .order_by("tier__rank", "level", "name"),
            "page": page,
            "sort": sort,
            "status": wanted,
            "statuses": [
                (code, label, listed.counts[code])
                for code, label in readiness.STATUS_LABELS.items()
            ],
            "counts": listed.counts,
            "total": page.paginator.count,
            "headers": _headers(query, sort),
            "csv_url": "?" + urlencode({**query, "sort": sort, "format": "csv"}),
            "page_url": "?" + urlencode({**query, "sort": sort, "page": ""}),
            "page_fields": {**query, "sort": sort},
            "editable": {r.position.pk for r in page if scope.can_edit(r.position)},
        },
    )


HEADERS = [  # sort key (None: not sortable), label, numeric, the direction of the plain sort
    ("name", "Person", False, "ascending"),
    (None, "Position", False, ""),
    ("role", "Role", False, "ascending"),
    ("months", "Months in role", True, "descending"),
    ("csat", "CSAT, 3 months", True, "descending"),
    ("status", "Next roles and readiness", False, "ascending"),
]


def _headers(query: dict, sort: str) -> list[dict]:
    """Column headers: a sortable one links to its sort, or to the reverse if it is on."""
    flipped = {"ascending": "descending", "descending": "ascending"}
    out = []
    for key, label, numeric, direction in HEADERS:
        header = {"label": label, "num": numeric}
        if key is not None:
            on, reverse = sort.lstrip("-") == key, sort.startswith("-")
            target = f"-{key}" if on and not reverse else key
            header["url"] = "?" + urlencode({**query, "sort": target})
            header["aria"] = (flipped[direction] if reverse else direction) if on else "none"
        out.append(header)
    return out


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv(listed: verdicts.ReadinessList, root) -> StreamingHttpResponse:
    """The whole list as CSV, streamed: judged CHUNK people at a time, in the page's order."""
    response = StreamingHttpResponse(_csv_rows(listed), content_type="text/csv; charset=utf-8")
    name = (root.title if root else "organization").lower().replace(" ", "-")
    response["Content-Disposition"] = f'attachment; filename="readiness-{name}.csv"'
    return response


def _csv_rows(listed: verdicts.ReadinessList):
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for r in listed:
        base = [
            r.person.full_name,
            r.person.employee_id,
            r.position.title,
            r.role.name,
            r.months_in_role,
            r.csat,
        ]
        for step in r.paths or [None]:
            tail = (
                [
                    step.to_role.name,
                    readiness.STATUS_LABELS[step.status],
                    step.ready_on,
                    "; ".join(f"{c.label}: {c.detail}" for c in step.missing),
                ]
                if step
                else ["", "no promotion path", "", ""]
            )
            yield writer.writerow([csv_cell(v) for v in base + tail])


def _visible_person(request, pk: int) -> Person:
    person = visible_people(request_scope(request), request.user).filter(pk=pk).first()
    if person is None:
        raise Http404("No such person among those you can see.")
    return person


@login_required
@require_GET
def person_page(request, pk: int):
    person = _visible_person(request, pk)
    judged = readiness.person_readiness(person)
    scope = request_scope(request)
    can_edit = judged is not None and scope.can_edit(judged.position)
    openings = {}
    if can_edit:
        for step in judged.paths:
            vacant = scope.filter_editable(
                Position.objects.filter(role=step.to_role, holder__isnull=True)
            )
            openings[step.to_role.pk] = list(vacant.order_by("tree_id", "lft")[:50])
    return render(
        request,
        "metrics/person.html",
        {
            "person": person,
            "judged": judged,
            "can_edit": can_edit,
            "steps": [(step, openings.get(step.to_role.pk, [])) for step in judged.paths]
            if judged
            else [],
            "promotions": Promotion.objects.filter(person=person).select_related(
                "from_role", "to_role"
            ),
            "statuses": readiness.STATUS_LABELS,
        },
    )


def _back(person: Person, anchor: str = "") -> str:
    return reverse("person-page", args=[person.pk]) + anchor


@login_required
@require_POST
def person_signoff(request, pk: int):
    person = _visible_person(request, pk)
    path = get_object_or_404(PromotionPath, pk=request.POST.get("path", "0") or 0)
    criterion = request.POST.get("criterion", "")
    signed = request.POST.get("signed") == "yes"
    try:
        staffing_services.criterion_signoff(
            actor=request.user, person=person, path=path, criterion=criterion, signed=signed
        )
    except ValidationError as refused:  # not theirs to sign: PermissionDenied, a 403
        messages.error(request, _text(refused))
    else:
        messages.success(
            request, f"{'Signed off' if signed else 'Sign-off withdrawn'}: {criterion}."
        )
    return redirect(_back(person, f"#path-{path.pk}"))


@login_required
@require_POST
def person_promote(request, pk: int):
    person = _visible_person(request, pk)
    to_role = get_object_or_404(Role, pk=request.POST.get("to_role", "0") or 0)
    where = request.POST.get("position", "")
    position = None
    if where and where != "same":
        position = Position.objects.filter(pk=where if where.isdigit() else 0).first()
        if position is None:
            messages.error(request, "That position no longer exists; choose another.")
            return redirect(_back(person, "#promote"))
    try:
        promotion = services.person_promote(
            actor=request.user,
            person=person,
            to_role=to_role,
            position=position,
            override_reason=request.POST.get("override_reason", ""),
        )
    except ValidationError as refused:  # not theirs to promote: PermissionDenied, a 403
        messages.error(request, f"Not promoted: {_text(refused)}")
        return redirect(_back(person, "#promote"))
    where = promotion.to_position.title
    messages.success(
        request,
        f"{person} is now {promotion.to_role}"
        + (f" ({where})" if where != promotion.to_role.name else "")
        + (", promoted with an override." if promotion.override_reason else "."),
    )
    if request.POST.get("next") == "chart":
        return redirect(f"{reverse('home')}?focus={promotion.to_position_id}")
    return redirect(_back(person))


def _text(error) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or "You cannot change this person's position."


ABOUT_HISTORY = 3  # the last changes a card's pop-over lists


@login_required
@require_GET
def position_about(request, pk: int):
    """A card's pop-over on the chart: its holder's role, time in it, CSAT against the
    role's target, how near the next step is, and the position's last changes. A position
    the viewer cannot see is answered as one that does not exist. Seven queries."""
    scope = request_scope(request)
    position = visible_position(scope, str(pk))
    judged = readiness.readiness(Position.objects.filter(pk=position.pk))
    changes, more = feeds.change_feed(
        scope, feeds.FeedQuery(position_id=position.pk), limit=ABOUT_HISTORY
    )
    return render(
        request,
        "metrics/_position_about.html",
        {
            "position": position,
            "judged": judged[0] if judged else None,
            "changes": changes,
            "more": more,
            "statuses": readiness.STATUS_LABELS,
        },
    )
