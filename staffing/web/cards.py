"""The chart's cards as HTML: one Jinja2 template for the live chart, drafts and past days.

A chart page draws up to CARD_LIMIT cards, and Django's template language spent 0.6-2.5 ms on
each (most of a chart page's time at 100,000 positions); the same markup through Jinja2, which
compiles a template to Python, takes a tenth of that. Django pages keep Django's language and
take their cards from ``{% chart_cards nodes %}`` (:mod:`staffing.templatetags.chart_cards`);
fragments that are nothing but cards answer with :func:`cards_response`.

The Jinja2 engine is the second entry of ``settings.TEMPLATES`` (named "jinja2", templates in
``templates/jinja2/``), and :func:`environment` is its environment: undefined names fail
loudly instead of printing nothing, so a misspelt field breaks a test rather than a card.
"""

import jinja2
from django.http import HttpResponse
from django.template import engines
from django.template.defaultfilters import pluralize
from django.utils.safestring import SafeString, mark_safe

from orgdesign.kernel import links

TEMPLATE = "staffing/_chart_cards.html"
CHART_PREFIX = "/chart/"  # where a live card's dialogs and children are


def initials(name: str) -> str:
    """The first letters of the first and last words of a name: "Dana Reyes" → "DR"."""
    words = [word for word in str(name or "").split() if word[:1].isalpha()]
    if not words:
        return "?"
    first, last = words[0][0], words[-1][0] if len(words) > 1 else ""
    return (first + last).upper()


def px(value) -> str:
    """A layout coordinate as CSS pixels (whole pixels: no blurry text)."""
    return f"{round(float(value or 0))}px"


def shows_role(position) -> bool:
    """Whether a card names the role: not when the title already says it ("Advocate
    Manager, Dublin" for an Advocate Manager)."""
    role = getattr(getattr(position, "role", None), "name", "") or ""
    return not str(position.title).casefold().startswith(role.casefold())


def vacancy(status: str) -> str:
    """A vacant card's status, short: "Open (vacancy to hire for)" → "open"."""
    return status.replace(" (vacancy to hire for)", "").replace(" (not yet approved)", "").lower()


def route(pk, name: str) -> str:
    """``{{ p.pk|route("position-history-page") }}``: the URL of that route for ``pk``."""
    return links.route_for_id(name, pk)


def environment(**options) -> jinja2.Environment:
    """The Jinja2 environment of ``settings.TEMPLATES``: autoescaped (Django's backend turns
    it on), strict about undefined names, with the cards' filters."""
    env = jinja2.Environment(**{**options, "undefined": jinja2.StrictUndefined})
    env.filters.update(
        initials=initials, px=px, shows_role=shows_role, vacancy=vacancy, route=route,
        pluralize=pluralize,
    )  # fmt: skip
    env.globals["link_for"] = links.url_for_id
    return env


def render_cards(nodes, context=None) -> SafeString:
    """``nodes`` as tree items. ``context`` (a dict or a Django template context) may hold
    ``focus`` (the highlighted position), ``frame`` (its ``view`` "chart" places the cards),
    ``prefix`` (where the cards' dialogs are; the live chart's by default), ``page_url``
    (where "Focus here" leads), and ``draft`` / ``past`` for those charts."""
    context = context or {}
    frame = context.get("frame")
    html = (
        engines["jinja2"]
        .get_template(TEMPLATE)
        .render(
            {
                "nodes": nodes,
                "focus": context.get("focus"),
                "view": getattr(frame, "view", ""),
                "base": context.get("prefix") or CHART_PREFIX,
                "page_url": context.get("page_url") or "/",
                "draft": context.get("draft"),
                "past": bool(context.get("past")),
            }
        )
    )
    return mark_safe(html)  # autoescaped by the engine


def cards_response(nodes, context=None) -> HttpResponse:
    """A fragment of nothing but cards (what expanding a card loads)."""
    return HttpResponse(render_cards(nodes, context))
