"""Inserting many rows fast: one COPY on PostgreSQL, ``bulk_create`` elsewhere.

``bulk_create`` spends most of its time in Python, not in the database: a model instance
per row, then ``pre_save`` and ``get_db_prep_save`` for every field of every instance
(about half the CPU time a 100,000-position demo took). :func:`insert_rows` takes tuples
of the values the fields hold and, on PostgreSQL, streams them to ``COPY … FROM STDIN``,
which also parses faster than a multi-row INSERT. Primary keys come from the table's own
sequence (:func:`reserve_ids`), so the rows get the ids an INSERT would have given them
and the caller knows them before the rows are written. On other databases (SQLite for
the demo) the same call builds instances and runs ``bulk_create``.

The rows bypass ``save()``, signals and field defaults like ``bulk_create`` does, and
more: every column but the primary key must be given, with Python values of the types
the fields hold (``str``, ``int``, ``bool``, ``Decimal``, ``date``, aware ``datetime``,
``None``). History is the caller's to write (``orgdesign.kernel.audit.bulk_record``).
"""

import datetime
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal

from django.db import DatabaseError, ProgrammingError, connection, transaction

# COPY's text format: a tab between columns, \N for NULL, backslash escapes in values.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
INSUFFICIENT_PRIVILEGE = "42501"  # SQLSTATE: not the tables' owner
COPY_READ = 1 << 20  # bytes handed to COPY at a time: it stores them while we format more


def _text(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, int | Decimal | float | uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise ValueError(f"Give aware datetimes to insert_rows, not {value!r}.")
        return value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    raise TypeError(f"insert_rows cannot write a {type(value).__name__} ({value!r}).")


class _Stream:
    """A file for ``copy_expert`` that formats its lines as they are read, so the database
    takes in each megabyte while the next one is being written."""

    def __init__(self, lines: Iterator[str]):
        self._lines = lines
        self._rest = ""
        self.error: Exception | None = None

    def read(self, size: int = -1) -> str:
        parts, length = [self._rest], len(self._rest)
        try:
            for line in self._lines:
                parts.append(line)
                length += len(line)
                if 0 <= size <= length:
                    break
        except Exception as error:  # psycopg2 reports it as a failed COPY: keep the cause
            self.error = error
            raise
        text = "".join(parts)
        if size < 0:
            self._rest = ""
            return text
        self._rest = text[size:]
        return text[:size]


def _copying() -> bool:
    """COPY through psycopg2's ``copy_expert`` (psycopg 3 would need its own code)."""
    if connection.vendor != "postgresql":
        return False
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return not is_psycopg3


def reserve_ids(model, count: int) -> list[int]:
    """``count`` new primary keys for ``model``, ascending, from its sequence (PostgreSQL).

    Inside a transaction the table is locked against other writers until it ends (SHARE
    ROW EXCLUSIVE: readers go on) and the sequence moves once, past the whole range (the
    sequence is drawn from by inserts into the table only, which that lock holds off);
    outside one, each key is drawn on its own, as an INSERT would draw it."""
    if count <= 0:
        return []
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s, (SELECT seqincrement FROM pg_sequence WHERE seqrelid = s::regclass) "
            "FROM pg_get_serial_sequence(%s, %s) s",
            [table, model._meta.pk.column],
        )
        sequence, step = cursor.fetchone()
        if sequence is None:
            raise ValueError(f"{model._meta.label}'s primary key has no sequence to draw from.")
        if connection.in_atomic_block and step == 1:
            cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute("SELECT setval(%s, nextval(%s) + %s - 1)", [sequence, sequence, count])
            last = cursor.fetchone()[0]
            return list(range(last - count + 1, last + 1))
        cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [sequence, count])
        return sorted(row[0] for row in cursor.fetchall())


def insert_rows(
    model, columns: Sequence[str], rows: Iterable[Sequence], *, ids: bool = False
) -> list[int] | int:
    """Insert ``rows``, tuples of values for the fields whose attnames are ``columns`` (every
    concrete field of ``model`` but its primary key), in order. With ``ids`` the rows get
    new primary keys and the list of them is returned, in the order of ``rows``; without,
    the database numbers them and the count of rows is returned."""
    meta = model._meta
    by_attname = {f.attname: f for f in meta.concrete_fields}
    unknown = [name for name in columns if name not in by_attname or name == meta.pk.attname]
    missing = [f.attname for f in meta.concrete_fields if f is not meta.pk]
    missing = [name for name in missing if name not in columns]
    if unknown or missing:
        raise ValueError(
            f"insert_rows({meta.label}): unknown column(s) {unknown}, missing column(s) {missing}."
        )
    rows = rows if isinstance(rows, list) else list(rows)
    if not _copying():
        objs = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model._base_manager.bulk_create(objs, batch_size=5000)
        return [obj.pk for obj in objs] if ids else len(objs)

    new_ids = reserve_ids(model, len(rows)) if ids else None
    names = [by_attname[name].column for name in columns]
    if ids:
        names.insert(0, meta.pk.column)
    quote = connection.ops.quote_name
    sql = f"COPY {quote(meta.db_table)} ({', '.join(quote(n) for n in names)}) FROM STDIN"
    if ids:
        lines = (
            f"{pk}\t" + "\t".join(map(_text, row)) + "\n"
            for pk, row in zip(new_ids, rows, strict=True)
        )
    else:
        lines = ("\t".join(map(_text, row)) + "\n" for row in rows)
    started, stream = time.monotonic(), _Stream(lines)
    with connection.cursor() as cursor:
        try:
            with connection.wrap_database_errors:  # Django's exceptions, as for execute()
                cursor.cursor.copy_expert(sql, stream, size=COPY_READ)
        except DatabaseError:
            if stream.error is not None:  # a value we could not write, not the database
                raise stream.error from None
            raise
    if connection.queries_logged:  # as Django's debug cursor logs an execute
        connection.queries_log.append(
            {"sql": f"{sql} -- {len(rows)} rows", "time": f"{time.monotonic() - started:.3f}"}
        )
    return new_ids if ids else len(rows)


@contextmanager
def loading(*models) -> Iterator[None]:
    """Load many rows into ``models``' tables, those that are empty when the block starts:
    their secondary indexes, and the foreign keys between them, are dropped for the block
    and made again at its end (PostgreSQL; on other databases nothing changes).

    The PostgreSQL manual's advice for bulk loads ("Populating a Database"): an index
    built once over all rows costs less than entering each row into it, a foreign key
    added back is checked in one join instead of one lookup per row (about 450,000 of them
    between the people, positions and assignments of a 100,000-position demo), and the
    tables' statistics are gathered at the end (ANALYZE). A table
    that already holds rows is left as it is, since rebuilding would cost as much as the
    rows already there. Indexes that back a constraint (primary keys, unique constraints)
    stay, and so do foreign keys to tables outside ``models``; a unique index dropped
    checks its rows when it is built again, so a duplicate still fails the transaction.

    The block must run in a transaction (nothing is ever missing outside it), as the
    tables' owner; it holds the tables it empties of indexes exclusively until the
    transaction ends, so their readers wait for the load. If someone else owns them, the
    rows are loaded with everything in place, as usual.
    """
    if connection.vendor != "postgresql":
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("loading() must run inside atomic().")
    quote = connection.ops.quote_name
    named = [quote(model._meta.db_table) for model in models]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"EXISTS (SELECT FROM {table})" for table in named))
        tables = [table for table, full in zip(named, cursor.fetchone(), strict=True) if not full]
    if not tables:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid = ANY(%s::regclass[]) AND confrelid = ANY(%s::regclass[]) "
            "ORDER BY 1, 2",
            [tables, named],
        )
        keys = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
            "FROM pg_index i WHERE i.indrelid = ANY(%s::regclass[]) AND NOT EXISTS "
            "(SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
            [tables],
        )
        indexes = cursor.fetchall()
        try:
            with transaction.atomic(), _checks_run_now(cursor, named):
                for table, name, _definition in keys:
                    cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
                for index, _definition in indexes:
                    cursor.execute(f"DROP INDEX {index}")
        except ProgrammingError as error:
            if getattr(error.__cause__, "pgcode", None) != INSUFFICIENT_PRIVILEGE:
                raise
            keys, indexes = [], []  # not ours to drop: load with everything in place
    yield
    if not keys and not indexes:
        return
    with connection.cursor() as cursor, _checks_run_now(cursor, named):
        for _index, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        # and the manual's last step: statistics of the new rows, so that the first queries
        # are planned for them (a planner that guessed 3,000 reports per manager joined a
        # chart's cards to every person by a full scan) rather than after autovacuum's
        # next look, or never where it is off
        cursor.execute("ANALYZE " + ", ".join(tables))


@contextmanager
def _checks_run_now(cursor, tables: list[str]) -> Iterator[None]:
    """PostgreSQL refuses to alter a table while checks of its rows are pending in the
    transaction (deferred foreign keys, from it or to it): run them now, and defer them
    again after the block (those deferred until commit when nothing says otherwise, as
    Django makes them)."""

    def deferrable() -> list[tuple[str, bool]]:
        cursor.execute(
            "SELECT quote_ident(conname), condeferred FROM pg_constraint WHERE condeferrable "
            "AND (conrelid = ANY(%s::regclass[]) OR confrelid = ANY(%s::regclass[])) "
            "ORDER BY 1",
            [tables, tables],
        )
        return cursor.fetchall()

    names = [name for name, _ in deferrable()]
    if names:
        cursor.execute(f"SET CONSTRAINTS {', '.join(names)} IMMEDIATE")
    yield
    names = [name for name, initially_deferred in deferrable() if initially_deferred]
    if names:
        cursor.execute(f"SET CONSTRAINTS {', '.join(names)} DEFERRED")
