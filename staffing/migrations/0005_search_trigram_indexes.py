"""Trigram indexes for the chart's search (PostgreSQL only; elsewhere the search scans).

Django's ``icontains`` is ``UPPER(col::text) LIKE UPPER('%…%')``; GIN indexes over the
same expression with ``gin_trgm_ops`` serve it. pg_trgm is a trusted extension (PostgreSQL
13+), so a database owner may create it; where that is refused the search still works,
without the index, and the migration says so.
"""

import logging

from django.db import migrations

log = logging.getLogger(__name__)

INDEXES = {
    "position_title_trgm": ("staffing_position", "title"),
    "person_given_name_trgm": ("staffing_person", "given_name"),
    "person_family_name_trgm": ("staffing_person", "family_name"),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        try:
            cursor.execute("SAVEPOINT trgm")
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception as error:  # noqa: BLE001 (a missing privilege must not stop migrate)
            cursor.execute("ROLLBACK TO SAVEPOINT trgm")
            log.warning("pg_trgm is not available (%s); the chart search runs without it", error)
            return
        for name, (table, column) in INDEXES.items():
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
                f"USING gin (UPPER({column}::text) gin_trgm_ops)"
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name in INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("staffing", "0004_position_tree_level_index")]
    operations = [migrations.RunPython(create, drop)]
