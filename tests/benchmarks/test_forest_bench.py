"""``make bench`` (issue 24): the reporting tree stored as a forest, at 1k / 10k / 100k.

Moves through ``staffing.services.position_move`` with what each writes (rows rewritten,
WAL), reads of a team for a manager, a director and the VP, scope checks, the chart's first
view for the VP and a director and opened at a found card, ``check_tree``; then several
processes moving teams at once for a while, in different directors' parts and in the same
part, with moves per second, p50/p95 latency and a nested-set check afterwards.

Sizes: BENCH_SIZES (as the foundation bench); FOREST_BENCH_SECONDS (default 60) and
FOREST_BENCH_PROCESSES (default 4) for the concurrent part. PostgreSQL only.
"""

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F

from demo import organizations
from staffing.models import Position
from staffing.scope import Scope
from staffing.services import position_move
from staffing.tree import tree_check
from tests.benchmarks.test_bench import (
    SIZES,
    cost_since,
    job_held_back,
    measure,
    print_table,
    vacuum,
    write_cost,
)
from tests.conftest import subprocess_database_url

pytestmark = [pytest.mark.bench, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SECONDS = float(os.environ.get("FOREST_BENCH_SECONDS", "60"))
PROCESSES = int(os.environ.get("FOREST_BENCH_PROCESSES", "4"))
ROOT = Path(__file__).resolve().parents[2]


def median_of(fn, runs: int = 5) -> tuple[float, int]:
    timings = [measure(fn) for _ in range(runs)]
    return statistics.median(ms for _, ms, _ in timings), timings[-1][2]


def timed_move(position: Position, new_parent: Position) -> tuple[str, float, int]:
    """A move through the service, the span job held back (the worker runs it), with what
    it wrote: the rows rewritten and the WAL, read inside its transaction."""

    def move():
        with transaction.atomic():
            before = write_cost()
            position_move(actor=None, position=position, new_parent=new_parent)
            return cost_since(before)

    with job_held_back():
        return measure(move)


def dead_rows() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_dead_tup, pg_total_relation_size('staffing_position') "
            "FROM pg_stat_user_tables WHERE relname = 'staffing_position'"
        )
        dead, size = cursor.fetchone()
    return f"{dead:,} dead rows, table {size / 1e6:.0f} MB"


def concurrent(directors: list[list[int]]) -> tuple[float, float, float, int, list[str]]:
    """PROCESSES movers for SECONDS, process i in the parts ``directors[i]``: moves per
    second in all, p50 and p95 latency (ms), moves, errors."""
    env = {
        **os.environ,
        "DATABASE_URL": subprocess_database_url(),
        # the span job is queued as in production (a worker would run it), not run inline
        "CELERY_BROKER_URL": os.environ.get("FOREST_BENCH_BROKER", "redis://127.0.0.1:6379/13"),
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.mover_parts", str(n), str(SECONDS)]
            + [str(pk) for pk in directors[n]],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    latencies, errors = [], []
    for process in processes:
        out, err = process.communicate(timeout=SECONDS + 300)
        assert process.returncode == 0, err[-2000:]
        result = json.loads(out.strip().splitlines()[-1])
        latencies += result["latencies"]
        errors += result["errors"]
    latencies.sort()
    p50 = statistics.median(latencies) if latencies else 0.0
    p95 = latencies[int(len(latencies) * 0.95) - 1] if latencies else 0.0
    return len(latencies) / SECONDS, p50, p95, len(latencies), errors


def test_forest_benchmarks(framework, client):
    if connection.vendor != "postgresql":
        pytest.skip("the forest benchmark measures PostgreSQL's locks and WAL")
    rows = []
    for size in SIZES:
        if Position.objects.exists():
            organizations.clear_organization()
        organizations.seed(positions=size)
        rows += one_size(size, client)
    print_table(rows)


def one_size(size: int, client) -> list[tuple]:
    rows = []
    vacuum()
    trees = Position.objects.filter(tree_parent__isnull=True).count()
    largest = max((p.rght + 1) // 2 for p in Position.objects.filter(tree_parent__isnull=True))
    rows.append((size, f"the forest: {trees} trees, the largest {largest:,} positions", 0, 0))

    report, ms, queries = measure(tree_check)
    assert report.ok
    rows.append((size, "check_tree (every tree, roots, counts)", ms, queries))

    vp = Position.objects.get(parent__isnull=True)
    directors = list(Position.objects.filter(parent=vp, role__code="director").order_by("tree_id"))
    first, second = directors[0], directors[-1]

    def managers_of(director):
        return list(
            Position.objects.subtree_of(director, include_self=False)
            .filter(role__code="advocate-manager")
            .order_by("lft")
        )

    def lead_of(director):
        return (
            Position.objects.subtree_of(director, include_self=False)
            .filter(role__code="team-lead")
            .order_by("lft")
            .first()
        )

    # moves through the service, the span job held back (the worker runs it)
    for name, lead, target in (
        ("far: a team to another director's part", lead_of(first), managers_of(second)[-1]),
        ("near: a team to a sibling manager", lead_of(first), None),
    ):
        if target is None:
            lead = Position.objects.get(pk=lead.pk)
            target = next(m for m in managers_of(first) if m.pk != lead.parent_id)
        cost, ms, queries = timed_move(lead, target)
        rows.append((size, f"move {name}{cost}", ms, queries))
    cost, ms, queries = timed_move(
        Position.objects.get(pk=first.pk), Position.objects.get(pk=second.pk)
    )
    rows.append((size, f"move a whole director's part{cost}", ms, queries))
    with job_held_back():
        position_move(
            actor=None,
            position=Position.objects.get(pk=first.pk),
            new_parent=Position.objects.get(pk=vp.pk),
        )
    assert tree_check().ok
    rows.append((size, f"after the moves: {dead_rows()}", 0, 0))
    vacuum()

    # reads of a team, and scope checks
    first = Position.objects.get(pk=first.pk)
    vp = Position.objects.get(pk=vp.pk)
    manager = managers_of(first)[0]
    agent = (
        Position.objects.subtree_of(manager, include_self=False)
        .filter(lft=F("rght") - 1, holder__isnull=False)
        .first()
    )
    for who, root in (("a manager", manager), ("a director", first), ("the VP", vp)):

        def read(root=root):
            root._trees_below = None  # nothing cached: each read asks the database
            return list(Position.objects.subtree_of(root).values_list("pk"))

        def check(root=root, agent=agent):
            root._trees_below = None
            return Scope(root=root).can_see(agent)

        ms, queries = median_of(read)
        rows.append((size, f"read the team of {who} ({root.team_size:,})", ms, queries))
        ms, queries = median_of(check)
        rows.append((size, f"scope check: {who} sees an agent", ms, queries))

    # the chart's first view, and opened at a found card
    users = get_user_model().objects
    for who, position in (("the VP", vp), ("a director", first)):
        organizations.link_demo_user("director", position.holder)
        client.force_login(users.get(username="director"))
        client.get("/")
        ms, queries = median_of(lambda: client.get("/"))
        rows.append((size, f"chart: GET / as {who}", ms, queries))
    client.force_login(users.get(username="admin"))
    client.get(f"/?focus={agent.pk}")
    ms, queries = median_of(lambda: client.get(f"/?focus={agent.pk}"))
    rows.append((size, "chart: open at a found card (path expanded)", ms, queries))

    # several editors at once, in different parts and in the same part
    ids = [d.pk for d in directors]
    spread = [ids[n::PROCESSES] or ids for n in range(PROCESSES)]
    same = [[ids[0]]] * PROCESSES
    for name, parts in (("different directors' parts", spread), ("the same part", same)):
        per_second, p50, p95, moves, errors = concurrent(parts)
        assert errors == [], errors[:5]
        report = tree_check()
        assert report.ok, f"{len(report.wrong)} bad nodes"
        rows.append(
            (
                size,
                f"{PROCESSES} processes moving teams for {SECONDS:.0f} s in {name}: "
                f"{moves:,} moves, {per_second:.1f}/s, p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
                "0 bad nodes",
                0,
                0,
            )
        )
    vacuum()
    return rows
