"""The organization's past over REST: positions as they were on a date
(``GET /api/positions/?as_of=YYYY-MM-DD``) and the feed of changes (``/api/history/`` for
the whole organization, ``/api/positions/{id}/history/`` for one position)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.utils.urls import replace_query_param

from orgdesign.kernel import days
from orgdesign.kernel.rest import ID_MAX, id_field
from roles.models import Role
from staffing.history import feeds, past
from staffing.models import Location, Position
from staffing.scope import Scope, request_scope
from tiers.models import Squad, Tier


def ids() -> serializers.ListField:
    return serializers.ListField(child=id_field(), required=False)


as_of_param = OpenApiParameter(
    "as_of",
    OpenApiTypes.DATE,
    description="The organization as it was at the end of this day (YYYY-MM-DD, not after "
    "today), rebuilt from the history: the same fields, read only. Filters `role`, `tier`, "
    "`location`, `squad`, `status`, `vacant`, `top`, `parent`, `subtree_of`, `level`, "
    "`level_max` and `external_id` apply to the positions as they were then; `search` "
    "looks in titles and external ids.",
)


class PastQuery(serializers.Serializer):
    """The filters of a list of positions on a past date, checked like the live ones."""

    as_of = serializers.CharField()
    role = ids()
    tier = ids()
    location = ids()
    squad = ids()
    status = serializers.ListField(
        child=serializers.ChoiceField(choices=Position.Status.choices), required=False
    )
    vacant = serializers.BooleanField(required=False, allow_null=True, default=None)
    top = serializers.BooleanField(required=False, allow_null=True, default=None)
    parent = id_field(required=False)
    subtree_of = id_field(required=False)
    level = serializers.IntegerField(required=False, min_value=0)
    level_max = serializers.IntegerField(required=False, min_value=0)
    external_id = serializers.CharField(required=False, allow_blank=True)
    search = serializers.CharField(required=False, allow_blank=True)

    def validate_as_of(self, raw: str):
        try:
            return past.parse_day(raw)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict["as_of"]) from None

    def validate(self, attrs):
        for name, model in (("role", Role), ("tier", Tier), ("location", Location),
                            ("squad", Squad)):  # fmt: skip
            wanted = set(attrs.get(name) or ())
            unknown = wanted - set(model.objects.filter(pk__in=wanted).values_list("pk", flat=1))
            if unknown:
                raise serializers.ValidationError(
                    {name: [f"No {model._meta.verbose_name} with id {pk}." for pk in unknown]}
                )
        return attrs


def past_positions(scope: Scope, params) -> tuple[list, past.PastOrg]:
    """The positions ``scope`` saw on the query's day, filtered as the query says."""
    query = PastQuery(data=params)
    query.is_valid(raise_exception=True)
    q = query.validated_data
    org = past.past_org(q["as_of"])
    rows = past.visible_past(scope, org)
    seen = {p.pk for p in rows}
    for name in ("parent", "subtree_of"):
        if name in q and q[name] not in seen:
            raise ValidationError(
                {name: [f"No position with id {q[name]} that you can see on {org.day}."]}
            )
    if "subtree_of" in q:
        rows = [p for p in org.subtree(q["subtree_of"]) if p.pk in seen]
    tiers = None
    if q.get("tier"):
        tiers = set(Role.objects.filter(tier__in=q["tier"]).values_list("pk", flat=True))
    search = (q.get("search") or "").strip().casefold()

    def keep(p) -> bool:
        return (
            (not q.get("role") or p.role_id in q["role"])
            and (tiers is None or p.role_id in tiers)
            and (not q.get("location") or p.location_id in q["location"])
            and (not q.get("squad") or p.squad_id in q["squad"])
            and (not q.get("status") or p.status in q["status"])
            and (q["vacant"] is None or p.is_vacant == q["vacant"])
            and (q["top"] is None or (p.parent_id is None) == q["top"])
            and ("parent" not in q or p.parent_id == q["parent"])
            and ("level" not in q or p.level == q["level"])
            and ("level_max" not in q or p.level <= q["level_max"])
            and ("external_id" not in q or p.external_id == q["external_id"])
            and (not search or search in p.title.casefold() or search in p.external_id.casefold())
        )

    return [p for p in rows if keep(p)], org


class PastPositionsMixin:
    """For PositionViewSet: ``?as_of=`` on the list answers with the past positions."""

    def list(self, request, *args, **kwargs):
        if "as_of" not in request.query_params:
            return super().list(request, *args, **kwargs)
        rows, org = past_positions(request_scope(request), request.query_params)
        page = self.paginate_queryset(rows)
        shown = rows if page is None else page
        past.attach(shown, org)
        data = self.get_serializer(shown, many=True).data
        return Response(data) if page is None else self.get_paginated_response(data)


# --- the feed --------------------------------------------------------------------------------


class FieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    before = serializers.CharField(allow_blank=True)
    after = serializers.CharField(allow_blank=True)


class ChangeSerializer(serializers.Serializer):
    id = serializers.CharField(source="key", help_text="kind and version, e.g. position-1042")
    kind = serializers.CharField(source="kind.code")
    object_id = serializers.IntegerField()
    label = serializers.CharField()
    action = serializers.ChoiceField(choices=["created", "changed", "deleted"])
    when = serializers.DateTimeField()
    who = serializers.CharField(help_text='The user, or "the system" for commands and jobs.')
    user_id = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(allow_blank=True, help_text="The operation that made it.")
    position = serializers.SerializerMethodField()
    changes = FieldChangeSerializer(many=True)

    def get_position(self, change) -> str | None:
        if change.position_id is None:
            return None
        return reverse(
            "position-detail", kwargs={"pk": change.position_id}, request=self.context["request"]
        )


@extend_schema_serializer(many=False)  # a page object, not a list of them
class ChangePageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ChangeSerializer(many=True)


class FeedQuerySerializer(serializers.Serializer):
    kind = serializers.ListField(
        child=serializers.ChoiceField(choices=list(feeds.KINDS)), required=False
    )
    position = id_field(required=False, help_text="Changes of one position.")
    user = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=ID_MAX,
        help_text="Changes made by this user id; 0 for the system (commands and jobs).",
    )
    since = days.DayField(required=False, help_text="From this day on (YYYY-MM-DD).")
    until = days.DayField(required=False, help_text="Up to the end of this day.")
    page = serializers.IntegerField(required=False, min_value=1, max_value=100_000, default=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500, default=50)

    def validate(self, attrs):
        for name in ("since", "until"):
            if attrs.get(name):
                try:
                    past.check_day(attrs[name], name=name)
                except DjangoValidationError as error:
                    raise serializers.ValidationError(error.message_dict) from None
        if attrs.get("since") and attrs.get("until") and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": ["Give an end on or after the start."]})
        return attrs


def feed_response(request, scope: Scope, *, position_id: int | None = None) -> Response:
    params = FeedQuerySerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    p = params.validated_data
    query = feeds.FeedQuery(
        position_id=position_id if position_id is not None else p.get("position"),
        kinds=tuple(p.get("kind") or ()),
        since=p.get("since"),
        until=p.get("until"),
        user_id=p.get("user"),
    )
    # one position's changes: only for a position in the caller's part of the tree now
    if (
        position_id is None
        and query.position_id is not None
        and not scope.sees_all
        and not scope.filter_visible(Position.objects.filter(pk=query.position_id)).exists()
    ):
        raise ValidationError({"position": [f"No position with id {query.position_id} "
                                                "that you can see."]})  # fmt: skip
    size, number = p["page_size"], p["page"]
    changes, more = feeds.change_feed(scope, query, offset=(number - 1) * size, limit=size)
    url = request.build_absolute_uri()
    return Response(
        {
            "next": replace_query_param(url, "page", number + 1) if more else None,
            "previous": replace_query_param(url, "page", number - 1) if number > 1 else None,
            "results": ChangeSerializer(changes, many=True, context={"request": request}).data,
        }
    )


class HistoryViewSet(viewsets.ViewSet):
    """Changes to positions, assignments, roles, promotion paths and span rules, newest
    first: who made each, when, through which operation, and each field as it was and as
    it became. Managers see the changes in their part of the tree and to the catalogue."""

    @extend_schema(
        summary="The organization's changes, newest first",
        parameters=[FeedQuerySerializer],
        responses=ChangePageSerializer,
        filters=False,
    )
    def list(self, request):
        return feed_response(request, request_scope(request))
