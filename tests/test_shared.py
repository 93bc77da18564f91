"""The shared standard organizations (tests/shared.py): a copy is the same data as a fresh
build, each test gets its own clean copy, and copying costs one INSERT per table."""

from contextlib import contextmanager

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from orgdesign.models import CatalogueVersion
from roles.models import Role
from staffing import services
from staffing.models import Assignment, Finding, HistoricalPosition, PendingSpanCheck, Position
from staffing.tree import tree_check
from tests import factories, shared
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@contextmanager
def rolled_back():
    """What a test's own transaction does: everything inside is undone at the end."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def state() -> dict:
    """The organization as data, without ids (a fresh build takes new ones on PostgreSQL) and
    without the random names the factories give people."""

    def title(position_id):
        return Position.objects.get(pk=position_id).title if position_id else None

    return {
        "positions": sorted(
            (p.title, title(p.parent_id), p.role.code, p.holder_id is not None, p.level, p.lft)
            for p in Position.objects.select_related("role")
        ),
        # a location's finding (triage) is on no position: named by its location
        "findings": sorted(
            (f.position.title if f.position_id else f.position_title, f.kind, f.message)
            for f in Finding.objects.select_related("position")
        ),
        "assignments": Assignment.objects.count(),
        "history": HistoricalPosition.objects.count(),
        "users": sorted(
            (u.is_superuser, sorted(u.groups.values_list("name", flat=True)))
            for u in User.objects.all()
        ),
        "catalogue": (CatalogueVersion.objects.get().counter, Role.objects.count()),
    }


@pytest.mark.parametrize(
    "builders",
    [
        (factories.build_api_org, factories.build_actor_users),
        (factories.seed_fte85,),  # also changes rows: adds a role, so bumps the catalogue version
    ],
    ids=["api_org+actors", "fte85"],
)
def test_a_copy_is_the_same_organization_as_a_fresh_build(framework, builders):
    with rolled_back():
        values = [build() for build in builders]
        built = state()
    for _ in range(3):  # the first call may record, the later ones copy
        with rolled_back():
            copies = [shared.once(build) for build in builders]
            assert state() == built
            assert [type(value) for value in copies] == [type(value) for value in values]
            if isinstance(copies[0], factories.Org):
                assert copies[0].mine == Position.objects.get(
                    title="Agent 0", parent__title="Lead A"
                )


def test_what_one_test_changes_the_next_one_does_not_see(framework):
    with rolled_back():
        first = shared.once(factories.build_api_org)
        names = sorted(Position.objects.values_list("holder__family_name", flat=True), key=str)
        services.position_vacate(actor=None, position=first.mine)
        services.position_delete(actor=None, position=first.positions["lead_b"].get_children()[0])
        first.mine.title = "changed in memory"
    with rolled_back():
        second = shared.once(factories.build_api_org)
        assert second.mine.title == "Agent 0"  # a copy of the value, not the same object
        assert second.mine.holder_id is not None
        assert Position.objects.get(pk=second.mine.pk).holder_id == second.mine.holder_id
        assert (
            sorted(Position.objects.values_list("holder__family_name", flat=True), key=str) == names
        )


def test_a_copy_costs_one_insert_per_table(framework):
    with rolled_back():
        shared.once(factories.build_api_org)  # recorded here if no test did before
    recording = next(r for (name, _), r in shared._recordings.items() if "build_api_org" in name)
    with rolled_back(), CaptureQueriesContext(connection) as captured:
        shared.once(factories.build_api_org)
    inserts = [q for q in captured.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == len(recording.added)
    assert len(recording.added) >= 5  # positions, people, assignments, findings, history...
    changes = sum(len(rows) for rows in recording.changed.values())
    # the fingerprint, the inserts and updates, a savepoint and its release
    assert len(captured.captured_queries) == 1 + len(recording.added) + changes + 2


def test_a_different_starting_state_gets_its_own_recording(framework):
    with rolled_back():
        shared.once(factories.build_api_org)
        plain = state()
    for _ in range(2):  # recorded in this state, then copied
        with rolled_back():
            UserFactory(username="here-before")
            factories.make_position("Here before", "director")  # leaves a span check to do
            assert PendingSpanCheck.objects.exists()
            shared.once(factories.build_api_org)  # its recompute does it: a deletion
            assert User.objects.filter(username="here-before").exists()
            assert not PendingSpanCheck.objects.exists()
            assert tree_check().ok
            with_more = state()
        assert set(plain["positions"]) < set(with_more["positions"])
        assert len(with_more["users"]) == len(plain["users"]) + 1


def test_restore_puts_back_the_sessions_starting_state_ids_included(framework):
    """What follows a transactional test's flush (conftest.pytest_runtest_teardown)."""
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command

    from tests.conftest import STARTING_STATE

    start = shared.fingerprint()
    with rolled_back():
        shared.once(factories.seed_synapse)
        connection.check_constraints()  # PostgreSQL truncates no table with checks pending
        call_command("flush", verbosity=0, interactive=False)  # as pytest-django does
        assert not Role.objects.exists()
        assert shared.fingerprint() != start  # post_migrate made content types anew
        ContentType.objects.get_for_model(Role)  # cached with its new id
        shared.restore(STARTING_STATE)
        assert shared.fingerprint() == start
        assert shared._rows() == {
            model: {row[model._meta.pk.attname]: row for row in rows}
            for model, rows in STARTING_STATE.items()
        }
        assert ContentType.objects.get_for_model(Role).pk == (
            ContentType.objects.filter(app_label="roles", model="role").get().pk
        )
