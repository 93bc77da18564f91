"""Read queries over the tier catalogue."""

from django.db.models import Prefetch, QuerySet

from tiers.models import Squad, Tier


def tiers_with_squads() -> QuerySet[Tier]:
    """Every tier in rank order with where it escalates to and its squads (the entry squad
    first, then the specialists by name): two queries."""
    return Tier.objects.select_related("escalates_to").prefetch_related(
        Prefetch("squads", queryset=Squad.objects.order_by("kind", "name"))
    )
