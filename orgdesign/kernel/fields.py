"""Small model-building helpers shared by the apps (no business rules)."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

PERCENT = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


def percent_field(verbose_name: str, **kwargs) -> models.DecimalField:
    """An optional percentage between 0 and 100 with two decimals."""
    return models.DecimalField(
        verbose_name,
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=PERCENT,
        **kwargs,
    )


def ordered_range(low: str, high: str, *, name: str, message: str) -> models.CheckConstraint:
    """A database check that ``low <= high`` whenever both are set."""
    return models.CheckConstraint(
        condition=Q(**{f"{low}__isnull": True})
        | Q(**{f"{high}__isnull": True})
        | Q(**{f"{low}__lte": F(high)}),
        name=name,
        violation_error_message=message,
    )
