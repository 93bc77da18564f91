"""Conventions every API endpoint shares (named in settings.REST_FRAMEWORK): pagination,
brief nested objects, CSV output, and how service errors become HTTP answers.

Kept apart from the router in :mod:`orgdesign.api`, which imports the viewsets that import
these. No business rules here.
"""

import csv
import hashlib
import io
import json
import re
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, quote_etag
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type, build_object_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema_field
from rest_framework import exceptions, filters, renderers, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import exception_handler as drf_exception_handler

# Filter, search and order: what every list endpoint offers.
FILTER_SEARCH_ORDER = [DjangoFilterBackend, filters.SearchFilter, filters.OrderingFilter]

# Error codes raised by services that mean "the request is valid but the data's current
# state forbids it": answered 409 Conflict rather than 400.
CONFLICT_CODES = frozenset({"has_reports", "filled", "vacant", "protected", "conflict"})


class Pagination(PageNumberPagination):
    """Pages of 100 by default; ``?page_size=`` up to 1,000 for integrations that pull all.

    CSV is not paged: a spreadsheet export holds every row the filters select.
    """

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def paginate_queryset(self, queryset, request, view=None):
        if getattr(request, "accepted_renderer", None) and request.accepted_renderer.format in (
            "csv",
        ):
            return None
        return super().paginate_queryset(queryset, request, view)


# --- filters -----------------------------------------------------------------------------------


class StrictBooleanField(forms.NullBooleanField):
    """true/false (also 1/0, yes/no); anything else is an error rather than "no filter"."""

    widget = forms.TextInput
    ACCEPTED = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        try:
            return self.ACCEPTED[str(value).lower()]
        except KeyError:
            raise forms.ValidationError("Use true or false.", code="invalid") from None

    def validate(self, value):
        pass


@extend_schema_field(OpenApiTypes.BOOL)
class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


# --- ids in filters -------------------------------------------------------------------------

ID_MAX = 2**63 - 1  # the largest id a column holds (PostgreSQL bigint, SQLite integer)
_ID = re.compile(r"[0-9]{1,19}")


def is_id(value) -> bool:
    """Whether ``value`` can be a row's id: digits only, 1 to 2⁶³ − 1. Anything else never
    reaches the database (SQLite raises OverflowError on integers past 64 bits)."""
    text = str(value)
    return bool(_ID.fullmatch(text)) and 0 < int(text) <= ID_MAX


def id_field(**kwargs) -> serializers.IntegerField:
    """An id written as a number, 1 to 2⁶³ − 1, checked before any query."""
    return serializers.IntegerField(min_value=1, max_value=ID_MAX, **kwargs)


class IdChoiceField(django_filters.fields.ModelChoiceField):
    """One id; an id out of range is answered like one that names nothing."""

    def to_python(self, value):
        if value not in self.empty_values and not is_id(value):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


class IdsChoiceField(django_filters.fields.ModelMultipleChoiceField):
    """Several ids; one out of range is answered like one that names nothing."""

    def _check_values(self, value):
        for item in value:
            if not is_id(item):
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": item},
                )
        return super()._check_values(value)


class IdFilter(django_filters.ModelChoiceFilter):
    field_class = IdChoiceField


class IdsFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = IdsChoiceField


# --- brief nested objects ---------------------------------------------------------------------


class BriefRelatedField(serializers.RelatedField):
    """A related object shown as ``{"id", "url", "name"}`` and written as its id.

    ``view_name`` is the detail route of the related object ("role-detail"); ``name`` the
    attribute that reads well ("__str__" by default). Select the relation in the queryset so
    that showing it costs no query.
    """

    def __init__(self, view_name: str, name: str = "__str__", *, scoped=None, **kwargs):
        """``scoped``: a function of the serializer's context giving the objects its user
        may name (the others are answered like ids that do not exist); else ``queryset``."""
        self.view_name, self.name_attr, self.scoped = view_name, name, scoped
        super().__init__(**kwargs)

    def get_queryset(self):
        if self.scoped is not None and self.context.get("request") is not None:
            return self.scoped(self.context)
        return super().get_queryset()

    def to_representation(self, value) -> dict[str, Any]:
        request = self.context.get("request")
        name = str(value) if self.name_attr == "__str__" else getattr(value, self.name_attr)
        return {
            "id": value.pk,
            "url": reverse(self.view_name, kwargs={"pk": value.pk}, request=request),
            "name": name,
        }

    def to_internal_value(self, data):
        if isinstance(data, dict):
            data = data.get("id")
        if isinstance(data, bool) or not isinstance(data, int | str):
            raise serializers.ValidationError("Give the id of the related object.")
        try:
            return self.get_queryset().get(pk=int(data))
        except (TypeError, ValueError):
            raise serializers.ValidationError(f"{data!r} is not an id.") from None
        except self.get_queryset().model.DoesNotExist:
            raise serializers.ValidationError(
                f"No {self.get_queryset().model._meta.verbose_name} with id {data} "
                "that you can see."
            ) from None

    def use_pk_only_optimization(self) -> bool:
        return False

    def get_choices(self, cutoff=None):
        return {}  # never list every related object (the browsable form would load them all)


class Links:
    """Absolute URLs of detail routes for one request, exactly as DRF's ``reverse`` writes
    them (the request's scheme and host, a format suffix if given, a ``?format=`` of the
    request carried over): each route is reversed once, with a stand-in id, and each URL is
    that result with the id put in. For endpoints that build their output without a
    serializer per row; ``links("role-detail", 5)``."""

    STAND_IN = "7350918264"  # digits: a valid id for any route, found once in its URL

    def __init__(self, request):
        self.request = request
        self.routes: dict[tuple[str, str | None], list[str]] = {}

    def __call__(self, view_name: str, pk, format: str | None = None) -> str:
        parts = self.routes.get((view_name, format))
        if parts is None:
            url = reverse(
                view_name, kwargs={"pk": self.STAND_IN}, request=self.request, format=format
            )
            parts = self.routes[(view_name, format)] = url.split(self.STAND_IN)
        if len(parts) != 2:  # the stand-in also appears elsewhere: reverse this one
            return reverse(view_name, kwargs={"pk": pk}, request=self.request, format=format)
        return f"{parts[0]}{pk}{parts[1]}"


class BriefRelatedFieldExtension(OpenApiSerializerFieldExtension):
    """In the schema: an object with id, url and name when read; an integer id when written."""

    target_class = BriefRelatedField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        if direction == "request":
            schema = build_basic_type(OpenApiTypes.INT)
        else:
            schema = build_object_type(
                properties={
                    "id": build_basic_type(OpenApiTypes.INT),
                    "url": build_basic_type(OpenApiTypes.URI),
                    "name": build_basic_type(OpenApiTypes.STR),
                },
                required=["id", "url", "name"],
            )
        if self.target.allow_null:
            schema["nullable"] = True
        return schema


def lines_field(source: str, **kwargs) -> serializers.ListField:
    """A text kept one item per line (responsibilities, criteria, a portfolio), as a list."""
    return serializers.ListField(
        source=source, child=serializers.CharField(), read_only=True, **kwargs
    )


# --- CSV ---------------------------------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """One cell's text; text that a spreadsheet would run as a formula is quoted with '."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        value = value.get("name", value.get("id", ""))
    elif isinstance(value, list | tuple):
        value = "; ".join(csv_cell(item) for item in value)
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def answer_action(**kwargs):
    """``@action`` for a detail route that answers one object's own list (a position's
    history, a squad's members): GET only, JSON (and the browsable page), none of the
    viewset's filters, pagination or CSV."""
    from rest_framework.decorators import action

    options = {
        "detail": True,
        "methods": ["get"],
        "filter_backends": [],
        "pagination_class": None,
        "renderer_classes": [renderers.JSONRenderer, renderers.BrowsableAPIRenderer],
    }
    return action(**{**options, **kwargs})


class CsvRenderer(renderers.BaseRenderer):
    """``?format=csv``: one row per object, columns from the serializer's fields; brief
    objects by name, lists joined with "; ", formula-like cells escaped."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        renderer_context = renderer_context or {}
        response = renderer_context.get("response")
        if data is None:
            return b""  # e.g. 204 after a delete
        if isinstance(data, dict) and "results" in data:
            data = data["results"]
        if isinstance(data, dict):
            data = [data]
        if response is not None and response.status_code >= 400:
            data = [{"error": json.dumps(data, default=str)}]
        view = renderer_context.get("view")
        columns = list(getattr(view, "csv_columns", None) or (data[0] if data else []))
        if response is not None and response.status_code >= 400:
            columns = ["error"]
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        for row in data:
            writer.writerow([csv_cell(row.get(column)) for column in columns])
        if response is not None and view is not None:
            name = getattr(view, "csv_filename", None) or getattr(view, "basename", "export")
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return buffer.getvalue().encode(self.charset)


# --- errors --------------------------------------------------------------------------------------


def _messages(error: DjangoValidationError) -> Any:
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [
                message for e in errors for message in e.messages
            ]
            for field, errors in error.error_dict.items()
        }
    return {"non_field_errors": error.messages}


def _codes(error: DjangoValidationError) -> set[str]:
    found = set()
    for e in (
        error.error_list
        if not hasattr(error, "error_dict")
        else [item for items in error.error_dict.values() for item in items]
    ):
        if e.code:
            found.add(e.code)
    return found


def exception_handler(exc, context):
    """Errors from services and models, answered the way DRF answers its own:

    * a Django ``ValidationError``: 400 with messages by field (409 when its code says the
      data's state forbids the change, e.g. a position that still has reports);
    * a Django ``PermissionDenied`` with a reason: 403 with that reason;
    * deleting something still in use (``ProtectedError``): 409 naming what uses it.
    """
    if isinstance(exc, DjangoValidationError):
        code = (
            status.HTTP_409_CONFLICT
            if _codes(exc) & CONFLICT_CODES
            else status.HTTP_400_BAD_REQUEST
        )
        return Response(_messages(exc), status=code)
    if isinstance(exc, DjangoPermissionDenied) and exc.args:
        exc = exceptions.PermissionDenied(str(exc))
    if isinstance(exc, ProtectedError | RestrictedError):
        users = (
            sorted({str(obj) for obj in exc.protected_objects})
            if hasattr(exc, "protected_objects")
            else sorted({str(obj) for obj in exc.restricted_objects})
        )
        shown = ", ".join(users[:5]) + (f" and {len(users) - 5} more" if len(users) > 5 else "")
        return Response(
            {"detail": f"Still in use by {shown}; remove or change those first."},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)


# --- conditional GET ------------------------------------------------------------------------------


class CatalogueConditionalMixin:
    """ETag and Last-Modified on a catalogue endpoint's GETs, and 304 without rendering when
    the client's copy is current. The validators come from the catalogue's version row (one
    query), the URL with its query string and the format, since the catalogue reads the
    same for every caller.

    A viewset that sets ``cache_answers = True`` also keeps what it answered (the data
    before rendering, for 200 answers) in the "catalogue" cache under the same version, the
    absolute URL and the format, and answers the same request from there until the
    catalogue changes: its output must depend on nothing but the catalogue's tables (those
    tracked by :mod:`orgdesign.kernel.catalogue_version`) and the URL. Who may ask is
    checked before, as for any request. The browsable API's pages are not kept (their page
    controls come from the paginator's run)."""

    cache_answers = False
    CACHE_SECONDS = 600  # also bounds how long a change made behind the version's back shows

    def list(self, request, *args, **kwargs):
        return self._conditional(super().list, request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        return self._conditional(super().retrieve, request, *args, **kwargs)

    def _conditional(self, handler, request, *args, **kwargs):
        from orgdesign.kernel import catalogue_version

        version = catalogue_version.current()
        variant = f"{request.get_full_path()}|{request.accepted_renderer.format}"
        digest = hashlib.sha256(variant.encode()).hexdigest()[:16]
        etag = quote_etag(f"{version.counter}-{digest}")
        last_modified = int(version.changed_at.timestamp())
        not_modified = get_conditional_response(
            request._request, etag=etag, last_modified=last_modified
        )
        if not_modified is not None:
            return not_modified
        if self.cache_answers and request.accepted_renderer.format != "api":
            response = self._kept(handler, request, version, *args, **kwargs)
        else:
            response = handler(request, *args, **kwargs)
        if response.status_code == 200:
            response["ETag"] = etag
            response["Last-Modified"] = http_date(last_modified)
            response["Cache-Control"] = "private, no-cache"  # revalidate, then reuse
        return response

    def _kept(self, handler, request, version, *args, **kwargs):
        """The handler's answer, from the cache when this request was answered at this
        version of the catalogue."""
        from django.core.cache import caches

        cache = caches["catalogue"]
        asked = f"{request.build_absolute_uri()}|{request.accepted_renderer.format}"
        digest = hashlib.sha256(asked.encode()).hexdigest()
        key = f"catalogue-answer:{version.counter}:{version.changed_at.timestamp():.0f}:{digest}"
        kept = cache.get(key)
        if kept is not None:
            return Response(kept)
        response = handler(request, *args, **kwargs)
        if response.status_code == 200:
            cache.set(key, response.data, self.CACHE_SECONDS)
        return response


def response_example(title: str, /, **value) -> OpenApiExample:
    """An example of what an endpoint answers, for the OpenAPI schema."""
    return OpenApiExample(title, value=value, response_only=True)
