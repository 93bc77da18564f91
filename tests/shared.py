"""Standard test data built once, copied into each test that asks for it.

A builder (a function that writes an organization through the services and returns what the
tests need of it) runs for real the first time a test asks for it. What it wrote is recorded:
every row it added or changed, in every table. Every later test that asks for the same builder
in the same database state gets those rows written back with one INSERT per table, inside its
own transaction, and a deep copy of the builder's return value. Each test still rolls back to
a clean database; only the building is shared (what Django's ``setUpTestData`` does for a
class, here for a whole session and for module-level tests too).

A recording is keyed by the state of the database it was made in (row counts and highest ids
of every table, and the catalogue's version counter), so a test that creates a user or edits a
span rule before asking for an organization gets a recording made in that state, or a fresh
build: never rows that assumed something else. Builders must depend only on the database and
their own code (no arguments, no randomness that the tests read back from elsewhere).
"""

import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction

INTEGER_KEYS = (models.AutoField, models.BigAutoField, models.IntegerField)


@functools.cache
def _tables() -> list[type[models.Model]]:
    """Every table of the project's models (the set does not change during a session)."""
    existing = set(connection.introspection.table_names())
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy and model._meta.db_table in existing
    ]


def fingerprint() -> tuple:
    """The database's state as far as recordings care: one query."""
    quote = connection.ops.quote_name
    parts = []
    for model in _tables():
        table = quote(model._meta.db_table)
        parts.append(f"(SELECT COUNT(*) FROM {table})")
        if isinstance(model._meta.pk, INTEGER_KEYS):
            parts.append(f"(SELECT MAX({quote(model._meta.pk.column)}) FROM {table})")
    parts.append("(SELECT MAX(counter) FROM orgdesign_catalogueversion)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        return tuple(cursor.fetchone())


def _rows() -> dict[type[models.Model], dict[Any, dict]]:
    return {
        model: {row[model._meta.pk.attname]: row for row in model._base_manager.values()}
        for model in _tables()
    }


@dataclass
class Recording:
    added: dict[type[models.Model], list[dict]]
    changed: dict[type[models.Model], list[dict]]
    deleted: dict[type[models.Model], list[Any]]
    value: Any

    def replay(self) -> Any:
        with transaction.atomic():
            for model, keys in self.deleted.items():
                models.QuerySet(model).filter(pk__in=keys)._raw_delete(connection.alias)
            for model, rows in self.added.items():
                models.QuerySet(model).bulk_create([model(**row) for row in rows])
            for model, rows in self.changed.items():
                pk = model._meta.pk.attname
                for row in rows:
                    fields = {name: value for name, value in row.items() if name != pk}
                    models.QuerySet(model).filter(pk=row[pk]).update(**fields)
        return copy.deepcopy(self.value)


def record(build: Callable[[], Any]) -> Recording:
    """Run ``build`` for real and note every row it added, changed or deleted."""
    before = _rows()
    with transaction.atomic():
        value = build()
    after = _rows()
    added: dict = {}
    changed: dict = {}
    deleted: dict = {}
    for model, rows in after.items():
        old = before.get(model, {})
        if gone := [key for key in old if key not in rows]:
            deleted[model] = gone
        if new := [row for key, row in rows.items() if key not in old]:
            added[model] = new
        if edited := [row for key, row in rows.items() if key in old and old[key] != row]:
            changed[model] = edited
    return Recording(added, changed, deleted, copy.deepcopy(value))


_recordings: dict[tuple[str, tuple], Recording] = {}  # by builder and database state


def once(build: Callable[[], Any]) -> Any:
    """What ``build`` returns, with its rows in the database: built the first time in this
    database state, copied from that recording every later time."""
    key = (f"{build.__module__}.{build.__qualname__}", fingerprint())
    recording = _recordings.get(key)
    if recording is None:
        recording = _recordings[key] = record(build)
        return copy.deepcopy(recording.value)
    return recording.replay()


# --- the session's starting state, put back after a transactional test's flush ---------------


def snapshot() -> dict[type[models.Model], list[dict]]:
    """Every row of every table: the database a session starts from (migrated, catalogue
    loaded), kept to be put back with ``restore``."""
    return {model: list(rows.values()) for model, rows in _rows().items()}


def restore(rows: dict[type[models.Model], list[dict]]) -> None:
    """Make the database exactly ``rows`` again, ids included, in one transaction: after a
    flush, a copy of the session's start instead of loading the catalogue again (so every
    recording made from that state still applies)."""
    from django.contrib.contenttypes.models import ContentType

    with transaction.atomic():
        for model in _tables():
            models.QuerySet(model).all()._raw_delete(connection.alias)
        for model, kept in rows.items():
            models.QuerySet(model).bulk_create([model(**row) for row in kept])
    ContentType.objects.clear_cache()  # the flush's post_migrate made them with other ids
