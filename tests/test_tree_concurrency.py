"""Several processes moving teams at once leave the reporting tree valid (PostgreSQL).

Without the advisory tree lock this scenario deadlocks or corrupts thousands of nodes most
of the time (shared/MACHINE-NOTES.md); with it every move is serialized.
"""

import multiprocessing
import random

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from staffing import demo
from staffing.models import Position
from staffing.services import position_move
from staffing.tree import tree_check

PROCESSES = 4
MOVES_EACH = 25


def _mover(args: tuple[int, list[int]]) -> tuple[int, int, list[str]]:
    seed, ids = args
    rng = random.Random(seed)
    moved = refused = 0
    errors: list[str] = []
    try:
        for _ in range(MOVES_EACH):
            node = Position.objects.get(pk=rng.choice(ids))
            target = Position.objects.get(pk=rng.choice(ids))
            if node.parent_id is None:
                continue
            try:
                position_move(actor=None, position=node, new_parent=target)
                moved += 1
            except ValidationError as error:  # a loop, possibly created by another process
                assert error.code == "cycle" or "loop" in str(error), error
                refused += 1
            except Exception as error:  # reported to the parent, which fails
                errors.append(f"{error.__class__.__name__}: {error}")
    finally:
        connections.close_all()
    return moved, refused, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_moves_keep_the_tree_valid(framework):
    demo.seed(positions=1500)
    ids = list(Position.objects.values_list("pk", flat=True))
    before = Position.objects.count()
    connections.close_all()  # children must open their own connections
    context = multiprocessing.get_context("fork")
    with context.Pool(PROCESSES) as pool:
        results = pool.map(_mover, [(seed, ids) for seed in range(PROCESSES)])
    errors = [error for _, _, errs in results for error in errs]
    assert errors == [], errors[:5]
    moved = sum(m for m, _, _ in results)
    assert moved > PROCESSES * MOVES_EACH // 2  # most random moves are legal
    report = tree_check()
    assert report.ok, f"{len(report.wrong)} wrong, {len(report.unreachable)} unreachable"
    assert Position.objects.count() == before
    # Every position still reaches the top through its parent links.
    assert Position.objects.filter(parent=None).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_tree_lock_is_a_postgres_advisory_lock_held_by_services(framework):
    """While one transaction holds the tree lock, another writer waits for it."""
    from django.db import connection, transaction

    from staffing.tree import TREE_LOCK_KEY, acquire_tree_lock

    with transaction.atomic():
        acquire_tree_lock()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND ((classid::bigint << 32) | objid::bigint) = %s",
                [TREE_LOCK_KEY],
            )
            assert cursor.fetchone()[0] == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
        assert cursor.fetchone()[0] == 0  # released at commit


def test_the_lock_refuses_to_run_outside_a_transaction(transactional_db):
    from staffing.tree import acquire_tree_lock

    with pytest.raises(RuntimeError, match="atomic"):
        acquire_tree_lock()
