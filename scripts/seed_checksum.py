"""Row counts and checksums of every table, to show that two seeds wrote the same thing.

Ids are replaced by their rank in their table (the n-th person, the n-th position), so two
seeds into two fresh databases compare equal when they wrote the same rows in the same
order; timestamps (creation, history dates) and password hashes are left out. Each table
gets two checksums: its rows in id order, and its rows as a set (ids left out), which
stays equal when only the order of the ids differs. Run from the top of the checkout:

    DATABASE_URL=... python scripts/seed_checksum.py > before.txt
    (seed again into a fresh database with the other code)
    DATABASE_URL=... python scripts/seed_checksum.py > after.txt
    diff before.txt after.txt
"""

import hashlib
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orgdesign.settings")

import django

django.setup()

from django.apps import apps  # noqa: E402
from django.db import models  # noqa: E402

LEFT_OUT = {"password", "last_login", "date_joined"}
ranks: dict[str, dict] = {}


def rank_of(model) -> dict:
    table = model._meta.db_table
    if table not in ranks:
        ids = sorted(model._base_manager.order_by().values_list("pk", flat=True))
        ranks[table] = {pk: n for n, pk in enumerate(ids)}
    return ranks[table]


def checksums(model) -> tuple[int, str, str]:
    fields = [
        f
        for f in model._meta.concrete_fields
        if not isinstance(f, models.DateTimeField) and f.name not in LEFT_OUT
    ]
    maps = []
    for f in fields:
        if f.primary_key:
            maps.append(rank_of(model))
        elif f.is_relation and f.related_model is not None:
            maps.append(rank_of(f.related_model))
        elif f.name == "id" and hasattr(model, "instance_type"):  # a historical row's object
            maps.append(rank_of(model.instance_type))
        else:
            maps.append(None)
    ordered, as_set = hashlib.sha256(), []
    rows = model._base_manager.order_by("pk").values_list(*[f.attname for f in fields])
    for row in rows.iterator(chunk_size=5000):
        out = [
            m.get(v, ("?", v)) if m is not None and v is not None else v
            for v, m in zip(row, maps, strict=True)
        ]
        ordered.update(repr(out).encode())
        as_set.append(repr([v for v, f in zip(out, fields, strict=True) if not f.primary_key]))
    unordered = hashlib.sha256("\n".join(sorted(as_set)).encode())
    return len(as_set), ordered.hexdigest()[:16], unordered.hexdigest()[:16]


def main() -> None:
    for model in sorted(apps.get_models(), key=lambda m: m._meta.db_table):
        if model._meta.proxy or not model._meta.managed:
            continue
        count, ordered, unordered = checksums(model)
        print(f"{model._meta.db_table:45s} {count:8d} ordered {ordered} as a set {unordered}")


if __name__ == "__main__":
    main()
