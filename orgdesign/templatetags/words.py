from django import template

from orgdesign.kernel import words

register = template.Library()


@register.filter
def a_or_an(value) -> str:
    """``{{ role.name|a_or_an }}``: "an Advocate Manager", "a Team Lead"."""
    return words.a_or_an(value)
