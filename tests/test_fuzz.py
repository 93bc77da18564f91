"""Hostile query parameters on every page and every API list: NUL characters, integers past
64 bits, far dates and 10 KB strings. Whatever is sent, no request is answered with a server
error, on SQLite (``make test``) and on PostgreSQL (CI) alike.

The pages come from the URL conf (through the page permission matrix, which must cover
every route), their parameters from the pages themselves (the fields of their GET forms and
the query strings of their links) and from the code (every ``GET.get("…")``); the API's
operations and parameters come from the OpenAPI schema."""

import inspect
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator

from tests.conftest import FULL
from tests.factories import Org, UserFactory, session_client
from tests.test_page_matrix import MATRIX, urls
from tests.test_page_matrix import world as world

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
APPS = ("orgdesign", "tiers", "roles", "staffing", "metrics")

HOSTILE = {
    "nul": "a\x00b",
    "huge": "402179945306156354999748132864",
    "negative": "-111181254671695917046824960",
    "first day": "0001-01-01",
    "last day": "9999-12-31",
    "long": "x" * 10_240,
}


READS = re.compile(r"(?:GET|query_params)(?:\.get|\.getlist|\[)\(?\"(\w+)\"")


def params_in_code() -> set[str]:
    """Every query parameter the code reads by name."""
    found = set()
    for app in APPS:
        for source in (ROOT / app).rglob("*.py"):
            if "migrations" not in source.parts:
                found.update(READS.findall(source.read_text()))
    return found


def params_of_view(path: str) -> set[str]:
    """The query parameters read by name in the module of the view serving ``path``."""
    view = resolve(path).func
    view = getattr(view, "view_class", None) or getattr(view, "cls", None) or view
    return set(READS.findall(inspect.getsource(inspect.getmodule(view))))


class _Fields(HTMLParser):
    """Names of the fields of GET forms, and of the query strings of links."""

    def __init__(self):
        super().__init__()
        self.names, self._get_form = set(), False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._get_form = (attrs.get("method") or "get").lower() == "get"
        elif tag in ("input", "select", "textarea") and self._get_form and attrs.get("name"):
            self.names.add(attrs["name"])
        for key in ("href", "hx-get"):
            if attrs.get(key) and "?" in attrs[key]:
                self.names.update(k for k, _v in parse_qsl(urlsplit(attrs[key]).query))

    def handle_endtag(self, tag):
        if tag == "form":
            self._get_form = False


def params_on_page(html: str) -> set[str]:
    parser = _Fields()
    parser.feed(html)
    return parser.names - {"csrfmiddlewaretoken"}


def with_params(url: str, params: dict) -> str:
    base, _, query = url.partition("?")
    kept = [(k, v) for k, v in parse_qsl(query) if k not in params]
    return f"{base}?{urlencode([*kept, *params.items()])}"


def server_errors(client, requests: list[str]) -> list[str]:
    client.raise_request_exception = False  # a crash is a 500 like any other
    wrong = []
    for url in requests:
        status = client.get(url).status_code
        if status >= 500:
            wrong.append(f"{status} {url[:160]!r}")
    return wrong


def test_every_page_answers_hostile_query_parameters_without_a_server_error(world):
    clients, values, _scenario = world
    code_names = params_in_code()  # every page gets all of them at full scale
    pages = [
        url.format(**values)
        for entry, expected in MATRIX.values()
        if expected[-1] == 200  # what an admin may open
        for url in urls(entry)
    ]
    sent, wrong = 0, []
    for page in pages:
        shown = clients["admin"].get(page)
        html = "" if shown.streaming else shown.content.decode()
        names = params_on_page(html) | {k for k, _v in parse_qsl(urlsplit(page).query)}
        names |= code_names if FULL else params_of_view(urlsplit(page).path)
        requests = [
            with_params(page, {name: value}) for name in sorted(names) for value in HOSTILE.values()
        ]
        wrong += server_errors(clients["admin"], requests)
        every = names | code_names
        everything = [with_params(page, dict.fromkeys(every, v)) for v in HOSTILE.values()]
        wrong += server_errors(clients["manager"], everything)
        sent += len(requests) + len(everything)
    print(f"page fuzz: {len(pages)} pages, {sent} requests, {len(wrong)} server errors")
    assert len(pages) >= 40 and sent >= (3_500 if FULL else 1_000)
    assert not wrong, "\n".join(wrong)


def api_operations() -> list[tuple[str, list[str]]]:
    """(path, query parameter names) of every GET operation of the schema."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get is not None:
            names = [p["name"] for p in get.get("parameters", []) if p["in"] == "query"]
            found.append((path, names))
    return found


def test_every_api_read_answers_hostile_parameters_without_a_server_error(api_org: Org):
    admin = session_client(UserFactory(is_superuser=True, is_staff=True))
    ids = {
        "id": api_org.mine.pk,
        "track": "tier-1",
        "position_id": api_org.mine.pk,
    }
    sent, wrong = 0, []
    operations = api_operations()
    for path, names in operations:
        concrete = re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), 1)), path)
        requests = [with_params(concrete, {n: v}) for n in names for v in HOSTILE.values()]
        # and the path's own ids
        requests += [
            re.sub(r"\{\w+\}", value.replace("\x00", "%00"), path, count=1)
            for value in HOSTILE.values()
            if "{" in path
        ]
        wrong += server_errors(admin, requests)
        sent += len(requests)
    print(f"API fuzz: {len(operations)} reads, {sent} requests, {len(wrong)} server errors")
    assert len(operations) >= 30 and sent >= 500
    assert not wrong, "\n".join(wrong)


REPORTED = [  # the attack run's 500s, each a clear 400 now
    "/api/readiness/?as_of=0001-01-01",
    "/api/people/{person}/readiness/?as_of=0001-01-01",
    "/chart/search/?q=ab%00",
    "/chart/people/?q=a%00b",
    "/scenarios/{scenario}/search/?q=a%00b",
    "/admin/autocomplete/?term=a%00b&app_label=staffing&model_name=position&field_name=parent",
    "/admin/staffing/position/?status__exact=%00",
    "/api/people/?location=402179945306156354999748132864",
    "/api/positions/?tier=-111181254671695917046824960",
    "/api/roles/?skill=10986145018653714432",
    "/api/history/?position=-111181254671695917046824960",
    "/dashboard/?as_of=20250101",
]


def test_the_reported_bad_inputs_are_refused_with_a_400(world):
    clients, values, _scenario = world
    admin = clients["admin"]
    admin.raise_request_exception = False
    answers = {url: admin.get(url.format(**values)).status_code for url in REPORTED}
    assert answers == dict.fromkeys(REPORTED, 400)
