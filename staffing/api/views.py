"""The organization over REST: positions (with moves, fills and vacancies), people,
locations, headcount and span-of-control findings.

Lists and details are filtered by the caller's scope in the queryset, so an object outside
it is a 404, never a 403 that would confirm it exists. Writes call the services of
:mod:`staffing.services` with the caller as the actor; their refusals come back as 400
(bad input, a reporting loop), 403 (outside the caller's part of the tree) or 409 (the
data's state forbids it, e.g. a position that still has reports).
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse

from orgdesign.kernel.rest import FILTER_SEARCH_ORDER, CsvRenderer, answer_action, response_example
from staffing import services
from staffing.api.filters import (
    FindingFilter,
    LocationFilter,
    PersonFilter,
    PositionFilter,
    subtree_param,
)
from staffing.api.history import (
    ChangePageSerializer,
    FeedQuerySerializer,
    PastPositionsMixin,
    as_of_param,
    feed_response,
)
from staffing.api.rotation import PersonRotationsMixin
from staffing.api.serializers import (
    FindingSerializer,
    HeadcountSerializer,
    LocationSerializer,
    PersonSerializer,
    PositionAssignSerializer,
    PositionDeleteQuerySerializer,
    PositionMoveSerializer,
    PositionSerializer,
    PositionVacateSerializer,
)
from staffing.models import Finding, Location, Person, Position
from staffing.scope import request_scope, scope_for
from staffing.selectors import above, headcount, visible_people, with_card_figures

WITH_CSV = [JSONRenderer, BrowsableAPIRenderer, CsvRenderer]


class ModelWritePermission(permissions.BasePermission):
    """Changes need the model permission the admin would need (add, change or delete), on
    top of the scope the services check: HR reads the organization but does not edit it."""

    actions = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        needed = getattr(view, "write_permission", None) or self.actions.get(request.method)
        model = view.queryset.model._meta
        return bool(needed) and request.user.has_perm(
            f"{model.app_label}.{needed}_{model.model_name}"
        )


def positions_for(request):
    """The positions the caller sees, with what a card shows, in one query."""
    visible = request_scope(request).filter_visible(Position.objects.all())
    return with_card_figures(visible).order_by("tree_id", "lft")


PERSON = response_example(
    "Seen by HR",
    id=311,
    url="https://orgdesign.example/api/people/311/",
    employee_id="E-10452",
    given_name="Aoife",
    family_name="Byrne",
    full_name="Aoife Byrne",
    location={"id": 2, "url": "https://orgdesign.example/api/locations/2/", "name": "Dublin"},
    position={"id": 42, "url": "https://orgdesign.example/api/positions/42/", "name": "Team Lead"},
    role={"id": 8, "url": "https://orgdesign.example/api/roles/8/", "name": "Team Lead"},
    is_active=True,
    email="aoife.byrne@example.com",
    hire_date="2021-04-12",
)
LOCATION = response_example(
    "Dublin", id=2, code="dub", name="Dublin", city="Dublin", country="IE", timezone="Europe/Dublin"
)
COUNTS = {"total": 12, "filled": 10, "open": 1, "planned": 1}
HEADCOUNT = response_example(
    "A manager's team",
    scope={"id": 7, "url": "https://orgdesign.example/api/positions/7/", "name": "EMEA"},
    **COUNTS,
    by_tier=[{"id": 2, "code": "t1", "name": "Tier 1", **COUNTS}],
    by_role=[{"id": 2, "code": "advocate", "name": "Customer Advocate", **COUNTS}],
    by_location=[{"id": 2, "code": "dub", "name": "Dublin", **COUNTS}],
    by_squad=[{"id": None, "code": "none", "name": "No squad", **COUNTS}],
)
FINDING = response_example(
    "Too many direct reports",
    id=9,
    source="spans",
    position={"id": 42, "url": "https://orgdesign.example/api/positions/42/", "name": "Team Lead"},
    position_title="Team Lead",
    location=None,
    week=None,
    rule_role="Team Lead",
    kind="too_many_direct",
    severity="warning",
    message="12 direct reports; a Team Lead should have 6–10 (vacancies included).",
    measured=12,
    allowed_min=6,
    allowed_max=10,
    first_seen="2026-11-20T09:00:00Z",
    resolved_at=None,
    is_open=True,
)
LOOP_MESSAGE = "Lead B is in Manager A's own team; moving there would make a reporting loop."
POSITION_EXAMPLE = OpenApiExample(
    "A team lead",
    value={
        "id": 42,
        "url": "https://orgdesign.example/api/positions/42/",
        "title": "Team Lead, Chat EMEA",
        "role": {"id": 8, "url": "https://orgdesign.example/api/roles/8/", "name": "Team Lead"},
        "tier": {"id": 6, "url": "https://orgdesign.example/api/tiers/6/", "name": "Management"},
        "parent": {
            "id": 7,
            "url": "https://orgdesign.example/api/positions/7/",
            "name": "Advocate Manager, EMEA",
        },
        "level": 3,
        "squad": None,
        "location": {
            "id": 2,
            "url": "https://orgdesign.example/api/locations/2/",
            "name": "Dublin",
        },
        "status": "filled",
        "holder": {
            "id": 311,
            "url": "https://orgdesign.example/api/people/311/",
            "name": "Aoife Byrne",
        },
        "is_vacant": False,
        "direct_reports": 8,
        "team_size": 8,
        "open_findings": 0,
        "external_id": "HR-4411",
        "created_at": "2026-03-02T09:14:00Z",
        "updated_at": "2026-11-20T16:41:07Z",
    },
    response_only=True,
)


@extend_schema_view(
    list=extend_schema(
        summary="Positions you can see, in tree order",
        description="Filter by place in the tree (`parent`, `subtree_of`, `level`), by what "
        "the position is (`role`, `tier`, `squad`, `location`, `status`, `vacant`), or search "
        "titles, holders' names and external ids. `?format=csv` returns every selected row. "
        "With `?as_of=YYYY-MM-DD`: the positions as they were at the end of that day.",
        parameters=[as_of_param],
        examples=[POSITION_EXAMPLE],
    ),
    retrieve=extend_schema(summary="One position", examples=[POSITION_EXAMPLE]),
    create=extend_schema(
        summary="Add a vacant position under a manager",
        description="The new position is open (or planned); fill it with `/assign/`. "
        "Refused (400, `role`) when the manager's role has no reports, or when its span rule "
        "does not list the role: the same rule as the chart's dialogs.",
        examples=[
            OpenApiExample(
                "An open agent position",
                value={"title": "Customer Advocate", "role": 3, "parent": 42, "location": 2},
                request_only=True,
            )
        ],
    ),
    partial_update=extend_schema(summary="Change title, role, squad, location or status"),
    update=extend_schema(summary="Replace title, role, squad, location and status"),
    destroy=extend_schema(
        summary="Delete a position",
        parameters=[PositionDeleteQuerySerializer],
        responses={204: None, 409: OpenApiTypes.OBJECT},
    ),
)
class PositionViewSet(PastPositionsMixin, viewsets.ModelViewSet):
    queryset = Position.objects.none()  # the model, for permissions and the schema
    serializer_class = PositionSerializer
    filterset_class = PositionFilter
    filter_backends = FILTER_SEARCH_ORDER
    ordering_fields = ["title", "level", "created_at", "updated_at"]
    search_fields = ["title", "holder__given_name", "holder__family_name", "external_id"]
    renderer_classes = WITH_CSV
    permission_classes = [*viewsets.ModelViewSet.permission_classes, ModelWritePermission]
    csv_columns = [f for f in PositionSerializer.Meta.fields if f not in ("url", "is_vacant")]
    csv_filename = "positions"
    write_permission = None  # set by the actions below: the model permission they need

    def get_queryset(self):
        return positions_for(self.request)

    def _answer(self, position: Position, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=position.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        position = services.position_create(
            actor=request.user,
            parent=data.get("parent"),
            title=data["title"],
            role=data["role"],
            squad=data.get("squad"),
            location=data.get("location"),
            status=data.get("status", Position.Status.OPEN),
            external_id=data.get("external_id", ""),
        )
        return self._answer(position, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        position = self.get_object()
        serializer = self.get_serializer(position, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        changes = {
            name: value
            for name, value in serializer.validated_data.items()
            if name in services.UPDATABLE_FIELDS
        }
        position = services.position_update(actor=request.user, position=position, **changes)
        return self._answer(position)

    def destroy(self, request, *args, **kwargs):
        position = self.get_object()
        query = PositionDeleteQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        services.position_delete(
            actor=request.user, position=position, reports=query.validated_data["reports"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Move a position, with its whole team, under another manager",
        request=PositionMoveSerializer,
        responses={200: PositionSerializer, 400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT},
        examples=[
            OpenApiExample("Under position 7", value={"parent": 7}, request_only=True),
            OpenApiExample(
                "A reporting loop",
                value={"parent": [LOOP_MESSAGE]},
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )
    @action(detail=True, methods=["post"], write_permission="change")
    def move(self, request, pk=None):
        position = self.get_object()
        serializer = PositionMoveSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        moved = services.position_move(
            actor=request.user,
            position=position,
            new_parent=serializer.validated_data["parent"],
            where=serializer.validated_data["where"],
        )
        return self._answer(moved)

    @extend_schema(
        summary="Fill a vacancy with a person",
        examples=[
            OpenApiExample(
                "From the first of the month",
                value={"person": 311, "start_date": "2026-12-01", "note": "Internal move"},
                request_only=True,
            ),
            POSITION_EXAMPLE,
        ],
        description="Ends whatever the person held before. 409 when the position is held.",
        request=PositionAssignSerializer,
        responses={200: PositionSerializer, 409: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["post"], write_permission="change")
    def assign(self, request, pk=None):
        position = self.get_object()
        serializer = PositionAssignSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        services.person_assign(actor=request.user, position=position, **serializer.validated_data)
        return self._answer(position)

    @extend_schema(
        summary="Vacate a position",
        examples=[
            OpenApiExample(
                "Leaving at the end of the month",
                value={"end_date": "2026-11-30", "note": "Left the company"},
                request_only=True,
            ),
            POSITION_EXAMPLE,
        ],
        description="Ends the holder's assignment; the position becomes open. 409 when it "
        "is already vacant.",
        request=PositionVacateSerializer,
        responses={200: PositionSerializer, 409: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["post"], write_permission="change")
    def vacate(self, request, pk=None):
        position = self.get_object()
        serializer = PositionVacateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.position_vacate(actor=request.user, position=position, **serializer.validated_data)
        return self._answer(position)

    @extend_schema(
        summary="The managers above a position, top first (those you can see)",
        examples=[POSITION_EXAMPLE],
        responses=PositionSerializer(many=True),
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def ancestors(self, request, pk=None):
        position = self.get_object()
        managers = self.get_queryset().filter(above(position))
        return Response(self.get_serializer(managers, many=True).data)

    @extend_schema(
        summary="The changes of one position and of who held it, newest first",
        parameters=[FeedQuerySerializer],
        responses=ChangePageSerializer,
        filters=False,
    )
    @answer_action()
    def history(self, request, pk=None):
        position = self.get_object()
        return feed_response(request, request_scope(request), position_id=position.pk)

    @extend_schema(
        summary="The direct reports of a position",
        examples=[POSITION_EXAMPLE],
        filters=False,
        responses=PositionSerializer(many=True),
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def children(self, request, pk=None):
        position = self.get_object()
        reports = self.get_queryset().filter(parent=position)
        page = self.paginate_queryset(reports)
        if page is None:  # CSV: every row
            return Response(self.get_serializer(reports, many=True).data)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


@extend_schema_view(
    list=extend_schema(
        summary="People you can see",
        examples=[PERSON],
        description="HR and admins see everyone; managers and directors the people in their "
        "part of the tree. `email` and `hire_date` appear only to admins, HR, the person "
        "themself and the managers above them. `?format=csv` returns every selected row.",
    ),
    retrieve=extend_schema(summary="One person", examples=[PERSON]),
    create=extend_schema(summary="Add a person (not yet in a position)"),
    partial_update=extend_schema(summary="Change a person's details"),
    update=extend_schema(summary="Replace a person's details"),
)
class PersonViewSet(
    PersonRotationsMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    queryset = Person.objects.none()  # the model, for permissions and the schema
    serializer_class = PersonSerializer
    filterset_class = PersonFilter
    filter_backends = FILTER_SEARCH_ORDER
    ordering_fields = ["family_name", "given_name", "employee_id"]
    search_fields = ["given_name", "family_name", "employee_id"]
    renderer_classes = WITH_CSV
    permission_classes = [*viewsets.ModelViewSet.permission_classes, ModelWritePermission]
    csv_columns = [
        "id",
        "employee_id",
        "given_name",
        "family_name",
        "location",
        "position",
        "role",
        "is_active",
        "email",
        "hire_date",
    ]
    csv_filename = "people"
    write_permission = None

    def get_queryset(self):
        people = visible_people(request_scope(self.request), self.request.user)
        people = people.select_related("location", "position__role")
        return people.order_by("family_name", "given_name", "pk")

    def perform_create(self, serializer):
        serializer.instance = services.person_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.person_update(
            actor=self.request.user, person=serializer.instance, **serializer.validated_data
        )


@extend_schema_view(
    list=extend_schema(summary="Offices and sites", examples=[LOCATION]),
    retrieve=extend_schema(summary="One site", examples=[LOCATION]),
)
class LocationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = LocationSerializer
    filterset_class = LocationFilter
    filter_backends = FILTER_SEARCH_ORDER
    search_fields = ["name", "city", "code"]
    queryset = Location.objects.order_by("name")


class HeadcountViewSet(viewsets.ViewSet):
    """Headcount of the positions you can see (or of one subtree): filled, open and planned,
    in total and by tier, role, location and squad."""

    @extend_schema(
        summary="Headcount by tier, role, location and squad",
        parameters=[subtree_param],
        responses=HeadcountSerializer,
        examples=[HEADCOUNT],
    )
    def list(self, request):
        positions = request_scope(request).filter_visible(Position.objects.all())
        root = None
        if "subtree_of" in request.query_params:
            raw = request.query_params["subtree_of"]
            root = positions.filter(pk=raw).first() if raw.isdigit() else None
            if root is None:
                return Response(
                    {"subtree_of": [f"No position with id {raw!r} that you can see."]},
                    status=status.HTTP_400_BAD_REQUEST,
                )
            positions = positions.subtree_of(root)
        data = {
            "scope": None
            if root is None
            else {
                "id": root.pk,
                "url": reverse("position-detail", kwargs={"pk": root.pk}, request=request),
                "name": root.title,
            },
        }
        count = headcount(positions)
        for figure in ("total", "filled", "open", "planned"):
            data[figure] = getattr(count.totals, figure)
        for key, groups in count.by.items():
            data[f"by_{key}"] = groups
        return Response(HeadcountSerializer(data).data)


@extend_schema_view(
    list=extend_schema(summary="Findings of the checks, most severe first", examples=[FINDING]),
    retrieve=extend_schema(summary="One finding", examples=[FINDING]),
)
class FindingViewSet(viewsets.ReadOnlyModelViewSet):
    """Findings on the positions the caller can see (span of control; a new engineer who
    started outside the entry squad), and on the locations where the caller's part has people
    (nobody on triage in a week), most severe first.

    Filter with ``status=open|resolved``, ``severity``, ``kind``, ``source`` (all
    repeatable), ``position``, ``location`` and ``subtree_of`` (a position id: that position
    and everyone below it).
    """

    serializer_class = FindingSerializer
    filterset_class = FindingFilter
    filter_backends = FILTER_SEARCH_ORDER
    ordering_fields = ["first_seen", "updated_at", "resolved_at", "position_title"]
    search_fields = ["position_title", "message"]

    def get_queryset(self):
        return (
            Finding.objects.visible_to(scope_for(self.request.user))
            .select_related("position", "location", "rule__role")
            .by_severity()
        )
