"""Links to the pages a higher app provides (see :mod:`orgdesign.kernel.links`)."""

from django import template

from orgdesign.kernel import links

register = template.Library()


@register.simple_tag
def link(name: str, *args) -> str:
    """``{% link "person" p.holder_id as person_url %}``: "" when no app provides it."""
    return links.url(name, *args)


@register.filter
def linked(name: str) -> bool:
    """``{% if "position-about"|linked %}``: whether some app provides the link."""
    return links.provided(name)


@register.filter
def link_for(pk, name: str) -> str:
    """``{{ p.pk|link_for:"position-about" }}``: the link for one id ("" when none)."""
    return links.url_for_id(name, pk)
