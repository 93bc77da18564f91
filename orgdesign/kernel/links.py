"""Links from a lower app's page to a page of an app above it.

A lower app must not know a higher app's URLs: staffing's list of a role's holders links
each person to their page, but the people's pages are the metrics app's. The higher app
says, in its ``AppConfig.ready()``, which of its routes a link stands for::

    # metrics/apps.py, ready()
    links.register("person", "person-page")

and the lower app's template asks for the link by its name, showing it only when some app
provides it (the ``links`` template library, :mod:`orgdesign.templatetags.links`)::

    {% load links %}
    {% link "person" p.holder_id as person_url %}
    {% if person_url %}<a href="{{ person_url }}">{{ p.holder.full_name }}</a>{% endif %}

This module names no app.
"""

from functools import lru_cache

from django.urls import reverse

_routes: dict[str, str] = {}  # link name → URL name


def register(name: str, route: str) -> None:
    """Let the link ``name`` stand for the URL named ``route`` (called from ``ready()``)."""
    _routes[name] = route
    _split.cache_clear()


def registered() -> dict[str, str]:
    """Every registered link and the URL name it stands for."""
    return dict(_routes)


def provided(name: str) -> bool:
    return name in _routes


def url(name: str, *args) -> str:
    """The URL of link ``name`` for ``args``; "" when no app provides the link."""
    route = _routes.get(name)
    return reverse(route, args=args) if route else ""


@lru_cache(maxsize=16)
def _split(route: str) -> tuple[str, str]:
    """A route with one id, split around the id: reversed once, not once per use."""
    head, _, tail = reverse(route, args=[987654321]).partition("987654321")
    return head, tail


def route_for_id(route: str, pk) -> str:
    """The URL of the URL name ``route`` for one integer id, reversed once per route."""
    head, tail = _split(route)
    return f"{head}{int(pk)}{tail}"


def url_for_id(name: str, pk) -> str:
    """:func:`url` for a route with one integer id, fast enough for every card of a chart."""
    route = _routes.get(name)
    return route_for_id(route, pk) if route else ""
