"""The role catalogue over REST, read only (it is edited in the admin)."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import viewsets
from rest_framework.exceptions import NotFound
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse

from orgdesign.kernel.rest import (
    FILTER_SEARCH_ORDER,
    BooleanFilter,
    CatalogueConditionalMixin,
    CsvRenderer,
    IdsFilter,
    response_example,
)
from roles.api.renderers import OccupationJsonLdRenderer
from roles.api.serializers import (
    CareerPathSerializer,
    PromotionPathSerializer,
    RoleRepresentation,
    RoleSerializer,
    SkillSerializer,
)
from roles.models import PromotionPath, Role, Skill
from roles.selectors import CareerGraph, career_graphs, roles_in_catalogue_order


class RoleFilter(django_filters.FilterSet):
    skill = IdsFilter(field_name="skills", queryset=Skill.objects.all())
    has_span_rule = BooleanFilter(
        field_name="span_rule",
        lookup_expr="isnull",
        exclude=True,
        help_text="true: manager roles (they have a span-of-control rule).",
    )

    class Meta:
        model = Role
        fields = ["tier", "track", "level", "is_active", "skill", "has_span_rule"]


SKILL = response_example(
    "A skill", id=3, code="clear-communication", name="Clear communication", kind="skill"
)
PATH = response_example(
    "Senior TSE to Architect",
    id=5,
    from_role={"id": 5, "url": "https://orgdesign.example/api/roles/5/", "name": "Senior TSE"},
    to_role={"id": 6, "url": "https://orgdesign.example/api/roles/6/", "name": "Architect"},
    min_months=18,
    max_months=None,
    approximate=False,
    months="18+ months",
    criteria=[],
    squad_months=3,
    external_hires_allowed=False,
)
ROLE_EXAMPLE = OpenApiExample(
    "Customer Advocate",
    value={
        "id": 2,
        "url": "https://orgdesign.example/api/roles/2/",
        "code": "advocate",
        "name": "Customer Advocate",
        "tier": {"id": 2, "url": "https://orgdesign.example/api/tiers/2/", "name": "Tier 1"},
        "track": "advocacy",
        "level": 2,
        "csat_target": "95.00",
        "paths_in": [
            {
                "from_role": {"id": 1, "name": "Associate Customer Advocate"},
                "min_months": 3,
                "months": "3+ months",
            }
        ],
        "span_rule": None,
    },
    response_only=True,
)


@extend_schema_view(
    list=extend_schema(
        summary="The role catalogue",
        description="Every role with its tier, targets, skills, span-of-control rule and the "
        "promotion paths into and out of it. `?format=csv` for a spreadsheet (every selected "
        "row); `?format=jsonld` for schema.org Occupation objects in an ItemList.",
        examples=[ROLE_EXAMPLE],
    ),
    retrieve=extend_schema(summary="One role", examples=[ROLE_EXAMPLE]),
)
class RoleReads(viewsets.ReadOnlyModelViewSet):
    """The roles, listed and one by one, written by :class:`RoleRepresentation` (what
    RoleSerializer shows, without a serializer per field per row); filters, search, order,
    pages and 404s are the generic views' own. RoleSerializer remains the serializer_class:
    the schema and the browsable API read it."""

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        if page is not None:
            return self.get_paginated_response(self.represent(page))
        return Response(self.represent(queryset))

    def retrieve(self, request, *args, **kwargs):
        return Response(self.represent([self.get_object()])[0])

    def represent(self, roles):  # a list of dicts ("list" is the action here)
        return RoleRepresentation(self.get_serializer_context()).many(roles)


class RoleViewSet(CatalogueConditionalMixin, RoleReads):
    serializer_class = RoleSerializer
    cache_answers = True  # the roles' output reads only catalogue tables
    filterset_class = RoleFilter
    filter_backends = FILTER_SEARCH_ORDER
    search_fields = ["name", "code", "summary"]
    ordering_fields = ["level", "name", "csat_target"]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CsvRenderer, OccupationJsonLdRenderer]
    csv_columns = [
        "id",
        "code",
        "name",
        "tier",
        "track",
        "level",
        "csat_target",
        "tickets_per_day_target",
        "supervision_share",
        "hands_on_share_max",
        "external_hire",
        "skills",
        "responsibilities",
        "occupation_code",
        "occupation_code_system",
        "is_active",
        "summary",
    ]
    csv_filename = "roles"

    def get_queryset(self):
        return roles_in_catalogue_order().distinct()


@extend_schema_view(
    list=extend_schema(summary="Skills and management competencies", examples=[SKILL]),
    retrieve=extend_schema(summary="One skill", examples=[SKILL]),
)
class SkillViewSet(CatalogueConditionalMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Skill.objects.all()
    serializer_class = SkillSerializer
    filter_backends = FILTER_SEARCH_ORDER
    filterset_fields = ["kind"]
    search_fields = ["name", "code", "description"]
    ordering_fields = ["name"]


@extend_schema_view(
    list=extend_schema(
        summary="Promotion paths: from one role to the next, with minimum time", examples=[PATH]
    ),
    retrieve=extend_schema(summary="One promotion path", examples=[PATH]),
)
class PromotionPathViewSet(CatalogueConditionalMixin, viewsets.ReadOnlyModelViewSet):
    queryset = PromotionPath.objects.select_related("from_role", "to_role")
    serializer_class = PromotionPathSerializer
    filter_backends = FILTER_SEARCH_ORDER
    filterset_fields = {"from_role": ["exact"], "to_role": ["exact"], "from_role__track": ["exact"]}
    ordering_fields = ["min_months"]


CAREER_PATH_EXAMPLE = OpenApiExample(
    "Technical support",
    value={
        "track": "technical",
        "label": "Technical support (Tiers 2 and 3)",
        "nodes": [{"id": 4, "name": "Technical Support Engineer", "level": 1, "in_track": True}],
        "edges": [{"from_role": 4, "to_role": 5, "min_months": None}],
    },
    response_only=True,
)


class CareerPathGraphs(viewsets.ViewSet):
    """The career ladder of each track as a graph: roles as nodes, promotion paths as edges
    with the months required. Paths that lead into or out of the track bring the role at
    their other end along, marked ``in_track: false``."""

    lookup_field = "track"
    lookup_value_regex = "[a-z]+"

    def _graph(self, request, graph: CareerGraph) -> dict:
        return {
            "track": graph.track,
            "label": graph.label,
            "url": reverse("careerpath-detail", kwargs={"track": graph.track}, request=request),
            "nodes": [
                {
                    "id": role.pk,
                    "url": reverse("role-detail", kwargs={"pk": role.pk}, request=request),
                    "name": role.name,
                    "level": role.level,
                    "tier": role.tier.name,
                    "track": role.track,
                    "csat_target": role.csat_target,
                    "in_track": role.in_track,
                }
                for role in graph.nodes
            ],
            "edges": [
                {
                    "from_role": path.from_role_id,
                    "to_role": path.to_role_id,
                    "min_months": path.min_months,
                    "max_months": path.max_months,
                    "approximate": path.approximate,
                    "months": path.months_display,
                    "criteria": path.criteria_items,
                    "squad_months": path.squad_months,
                    "external_hires_allowed": path.external_hires_allowed,
                }
                for path in graph.edges
            ],
        }

    def list(self, request):
        graphs = [self._graph(request, graph) for graph in career_graphs()]
        return Response(CareerPathSerializer(graphs, many=True).data)

    def retrieve(self, request, track=None):
        if track not in Role.Track.values:
            raise NotFound(f"No track {track!r}; tracks are {', '.join(Role.Track.values)}.")
        graph = career_graphs(track)[0]
        return Response(CareerPathSerializer(self._graph(request, graph)).data)


@extend_schema_view(
    list=extend_schema(
        summary="The career ladder of every track",
        responses=CareerPathSerializer(many=True),
        operation_id="career_paths_list",
        examples=[CAREER_PATH_EXAMPLE],
    ),
    retrieve=extend_schema(
        summary="The career ladder of one track",
        parameters=[
            OpenApiParameter(
                "track", OpenApiTypes.STR, OpenApiParameter.PATH, enum=Role.Track.values
            )
        ],
        responses=CareerPathSerializer,
        examples=[CAREER_PATH_EXAMPLE],
    ),
)
class CareerPathViewSet(CatalogueConditionalMixin, CareerPathGraphs):
    """The career ladder of each track as a graph: roles as nodes, promotion paths as edges
    with the months required. Paths that lead into or out of the track bring the role at
    their other end along, marked ``in_track: false``."""
