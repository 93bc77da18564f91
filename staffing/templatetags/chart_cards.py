"""``{% chart_cards nodes %}``: the chart's cards in a Django template, drawn by the Jinja2
template of :mod:`staffing.web.cards` (with the focus, view, prefix and kind of chart of the
page around it)."""

from django import template

from staffing.web.cards import render_cards

register = template.Library()


@register.simple_tag(takes_context=True)
def chart_cards(context, nodes):
    return render_cards(nodes, context)
