"""Idempotent loading of catalogue rows that users may edit afterwards.

A row is found by its natural key. A missing row is created; an existing row that differs
from the shipped values is a local edit and is kept unless ``reset`` is true.
"""

from collections import Counter
from typing import Any

from django.db import models

CREATED, UNCHANGED, KEPT, RESET = "created", "unchanged", "kept local edit", "reset"


def upsert(
    model: type[models.Model],
    lookup: dict[str, Any],
    values: dict[str, Any],
    *,
    reset: bool,
    outcome: Counter,
) -> tuple[models.Model, bool]:
    """Create ``model`` at ``lookup`` with ``values``, or reconcile an existing row.

    Returns the row and whether it was created by this call, so that callers can fill
    relations of new rows without overwriting relations a user has edited on old ones.
    """
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        obj.full_clean()
        obj.save()
        outcome[f"{model._meta.verbose_name_plural}: {CREATED}"] += 1
        return obj, True
    differs = [name for name, value in values.items() if getattr(obj, name) != value]
    if not differs:
        outcome[f"{model._meta.verbose_name_plural}: {UNCHANGED}"] += 1
    elif reset:
        for name in differs:
            setattr(obj, name, values[name])
        obj.full_clean()
        obj.save()
        outcome[f"{model._meta.verbose_name_plural}: {RESET}"] += 1
    else:
        outcome[f"{model._meta.verbose_name_plural}: {KEPT}"] += 1
    return obj, False
