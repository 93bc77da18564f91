"""What the chart's cards need beyond Django's built-in filters."""

from functools import lru_cache

from django import template
from django.urls import reverse

register = template.Library()


@register.filter
def initials(name: str) -> str:
    """The first letters of the first and last words of a name: "Dana Reyes" → "DR"."""
    words = [word for word in str(name or "").split() if word[:1].isalpha()]
    if not words:
        return "?"
    first, last = words[0][0], words[-1][0] if len(words) > 1 else ""
    return (first + last).upper()


@register.filter
def px(value) -> str:
    """A layout coordinate as CSS pixels (whole pixels: no blurry text)."""
    return f"{round(float(value or 0))}px"


@register.filter
def shows_role(position) -> bool:
    """Whether a card names the role: not when the title already says it ("Advocate
    Manager, Dublin" for an Advocate Manager)."""
    role = getattr(getattr(position, "role", None), "name", "") or ""
    return not str(position.title).casefold().startswith(role.casefold())


@lru_cache(maxsize=8)
def _route(name: str) -> tuple[str, str]:
    """A route with one id, split around the id: reversed once, not once per card."""
    head, _, tail = reverse(name, args=[987654321]).partition("987654321")
    return head, tail


@register.filter
def route(pk, name: str) -> str:
    """``{{ p.pk|route:"position-history-page" }}``: the URL of that route for ``pk``."""
    head, tail = _route(name)
    return f"{head}{int(pk)}{tail}"
