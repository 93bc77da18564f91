"""Fast bulk writes (orgdesign.kernel.bulk): rows written as plain values (COPY on
PostgreSQL) hold what ``bulk_create`` would have written, history rows included, and a load
that sets indexes and foreign keys aside leaves the schema as it found it."""

import datetime
from contextlib import nullcontext

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from orgdesign.kernel import bulk
from orgdesign.kernel.audit import acting, bulk_record, collecting, deletions_in_bulk
from orgdesign.kernel.bulk import insert_rows, loading
from roles.models import Role
from staffing.models import Assignment, Location, Person, Position
from tests.factories import UserFactory, make_position, make_team

pytestmark = pytest.mark.django_db

PERSON = ("employee_id", "given_name", "family_name", "email", "user_id", "location_id",
          "hire_date", "is_active")  # fmt: skip
TRICKY = ["tab\there", "new\nline", "back\\slash \\N", "\\N", "", "crlf\r\n", "Zoë Ørsted 🙂"]


def person_values(pk: int) -> tuple:
    person = Person.objects.get(pk=pk)
    return tuple(getattr(person, name) for name in PERSON)


@pytest.mark.parametrize("read", [bulk.COPY_READ, 5])  # 5: COPY reads lines in pieces
def test_insert_rows_writes_the_values_given_and_returns_the_new_ids(read, monkeypatch):
    monkeypatch.setattr(bulk, "COPY_READ", read)
    location = Location.objects.create(code="x", name="X", city="X", country="IE")
    rows = [
        (f"T{n}", text, "Family", "" if n % 2 else f"p{n}@example.com", None,
         location.pk if n % 3 else None, datetime.date(2020, 1, 1 + n), n % 2 == 0)
        for n, text in enumerate(TRICKY)
    ]  # fmt: skip
    ids = insert_rows(Person, PERSON, rows, ids=True)
    assert ids == sorted(ids) and len(set(ids)) == len(rows)
    assert [person_values(pk) for pk in ids] == rows
    later = Person.objects.create(employee_id="after", given_name="A", family_name="B")
    assert later.pk > max(ids)  # the sequence moved past the ids taken


def test_insert_rows_without_ids_counts_and_refuses_an_incomplete_row():
    assert insert_rows(Person, PERSON, [("N1", "A", "B", "", None, None, None, True)]) == 1
    assert Person.objects.get(employee_id="N1").hire_date is None
    with pytest.raises(ValueError, match="missing column"):
        insert_rows(Person, PERSON[:-1], [("N2", "A", "B", "", None, None, None)])
    with pytest.raises(ValueError, match="unknown column"):
        insert_rows(Person, ("id", *PERSON), [])


def test_insert_rows_fails_as_an_insert_fails_on_a_duplicate():
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(Person, PERSON, [("D", "A", "B", "", None, None, None, True)] * 2)


def history_of(model, kind: str) -> list[dict]:
    """The historical rows of ``kind``, without their own id and date."""
    historical = model.history.model
    names = [f.attname for f in historical._meta.concrete_fields]
    names = [n for n in names if n not in ("history_id", "history_date")]
    return list(historical.objects.filter(history_type=kind).order_by("history_id").values(*names))


def test_bulk_record_writes_the_same_rows_as_values_or_as_instances(framework):
    lead = make_position("Lead\tA \\N", "team-lead")
    make_team(lead, 2)
    positions = list(Position.objects.order_by("pk"))
    Position.history.all().delete()  # what the services wrote
    user = UserFactory()
    with acting(user, "the_service"):
        assert bulk_record(Position, positions, kind="~") == 3
        plain = history_of(Position, "~")
        Position.history.filter(history_type="~").delete()
        with collecting() as collected:
            bulk_record(Position, positions, kind="~")
    assert history_of(Position, "~") == plain
    assert len(collected) == 3 and all(row.history_id for row in collected)
    assert [row["id"] for row in plain] == [p.pk for p in positions]
    assert plain[0]["title"] == "Lead\tA \\N" and plain[1]["parent_id"] == lead.pk
    assert {(row["history_user_id"], row["history_change_reason"]) for row in plain} == {
        (user.pk, "the_service")
    }


def test_deletions_in_bulk_write_the_rows_deleting_one_by_one_writes(framework):
    lead = make_position("Lead", "team-lead")
    make_team(lead, 2)
    user = UserFactory()

    def deleted(bulk: bool) -> list[dict]:
        point = transaction.savepoint()
        with acting(user, "reset"), deletions_in_bulk() if bulk else nullcontext():
            Assignment.objects.all().delete()
            Position.objects.update(holder=None, status="open", parent=None, tree_parent=None)
            Position.objects.all().delete()
        rows = history_of(Position, "-") + history_of(Assignment, "-")
        transaction.savepoint_rollback(point)
        return rows

    one_by_one = deleted(bulk=False)
    assert len(one_by_one) == 3 + 3 and one_by_one[0]["history_user_id"] == user.pk
    assert deleted(bulk=True) == one_by_one


@pytest.mark.postgres
def test_loading_sets_indexes_and_keys_aside_and_puts_them_back(framework):
    def schema() -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                "WHERE indrelid = ANY(%s::regclass[]) ORDER BY 1",
                [tables],
            )
            indexes = cursor.fetchall()
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid), condeferrable, condeferred "
                "FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) ORDER BY 1",
                [tables],
            )
            return indexes + cursor.fetchall()

    tables = ["staffing_person", "staffing_assignment", "staffing_position"]
    make_position("Full", "team-lead", holder=None)  # the positions' table holds a row
    before = schema()

    def sampled(column: str) -> str | None:  # what ANALYZE last saw of a column
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT histogram_bounds::text FROM pg_stats "
                "WHERE tablename = 'staffing_person' AND attname = %s",
                [column],
            )
            return (cursor.fetchone() or [None])[0]

    with transaction.atomic(), loading(Person, Assignment, Position):
        during = schema()
        insert_rows(Person, PERSON, [("L1", "A", "B", "", None, None, None, True)])
        insert_rows(Person, PERSON, [("L2", "C", "D", "", None, None, None, True)])
    assert schema() == before
    # the loaded tables were analysed: their statistics know the new rows
    assert sampled("given_name") == "{A,C}"
    dropped = set(before) - set(during)
    assert any("person_given_name_trgm" in str(row) for row in dropped)
    assert any("staffing_assignment_person_id" in str(row) and "FOREIGN KEY" in str(row)
               for row in dropped)  # fmt: skip
    # a table holding rows is left alone
    assert not any("ON public.staffing_position " in str(row) for row in dropped)


@pytest.mark.postgres
def test_a_broken_key_still_fails_the_load(framework):
    role = Role.objects.get(code="advocate").pk
    row = (123456789, None, "", role, None, datetime.date(2024, 1, 1), None, "")
    columns = ("person_id", "position_id", "position_title", "role_id", "squad_id",
               "start_date", "end_date", "note")  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic(), loading(Person, Assignment):
        insert_rows(Assignment, columns, [row])


@pytest.mark.postgres
def test_insert_rows_refuses_a_naive_datetime():
    historical = Position.history.model
    names = [f.attname for f in historical._meta.concrete_fields if f.attname != "history_id"]
    row = dict.fromkeys(names)
    row.update(history_date=datetime.datetime(2024, 1, 1), history_type="+", title="T",
               status="open", external_id="", created_at=timezone.now())  # fmt: skip
    with pytest.raises(ValueError, match="aware"):
        insert_rows(historical, names, [tuple(row[name] for name in names)])
