"""Several processes moving teams at once leave the reporting tree valid (PostgreSQL).

Without the advisory tree locks this scenario deadlocks or corrupts thousands of nodes most
of the time (shared/MACHINE-NOTES.md). The organization is a forest of divisions (a tree per
director): the movers move teams within a tree and between trees, division heads, and teams
with divisions below them, each write holding its trees' locks or the whole forest's.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from demo import organizations
from staffing.models import Finding, Position
from staffing.spans import engine, marks
from staffing.tree import tree_check
from tests.conftest import scaled, subprocess_database_url

PROCESSES = 4
MOVES_EACH = 50
POSITIONS = scaled(2_000, 10_000)
ROOT = Path(__file__).resolve().parent.parent
# advisory locks in this database (pg_locks shows the whole cluster: other tests' databases)
OURS = (
    "locktype = 'advisory' "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_moves_keep_the_tree_valid(framework):
    organizations.seed(positions=POSITIONS)
    before = Position.objects.count()
    # No broker: each mover runs the span recompute job in-process after each commit, so four
    # processes also race on the findings (serialized by the engine's own lock).
    env = {**os.environ, "DATABASE_URL": subprocess_database_url(), "CELERY_BROKER_URL": ""}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.mover", str(seed), str(MOVES_EACH)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in range(PROCESSES)
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=240)
        assert process.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    errors = [error for result in results for error in result["errors"]]
    assert errors == [], errors[:5]
    kinds = {kind for result in results for kind in result["kinds"]}
    assert kinds == {"a tree root", "above the split", "between trees", "within a tree"}, kinds
    moved = sum(result["moved"] for result in results)
    assert moved > PROCESSES * MOVES_EACH // 2  # most random moves are legal
    report = tree_check()
    assert report.ok, f"{len(report.wrong)} wrong, {len(report.unreachable)} unreachable"
    assert Position.objects.count() == before
    assert Position.objects.filter(parent=None).count() == 1
    marks.recompute_pending()
    fresh, _ = engine.evaluate()
    stored = {(f.position_id, f.kind): f.message for f in Finding.objects.open().spans()}
    assert stored == {key: c.message for key, c in fresh.items()}


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
                f"SELECT count(*) FROM pg_locks WHERE {OURS} AND granted "
                "AND ((classid::bigint << 32) | objid::bigint) = %s",
                [TREE_LOCK_KEY],
            )
            assert cursor.fetchone()[0] == 1
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM pg_locks WHERE {OURS}")
        assert cursor.fetchone()[0] == 0  # released at commit


def test_the_lock_refuses_to_run_outside_a_transaction(transactional_db):
    from staffing.tree import acquire_tree_lock

    with pytest.raises(RuntimeError, match="atomic"):
        acquire_tree_lock()
