"""``make bench``: the foundation's operations on generated organizations of 1k, 10k and 100k
positions, printed as a table with SQL query counts. Sizes: BENCH_SIZES=1000,10000,100000.

Run on PostgreSQL (DATABASE_URL) for figures that mean anything; SQLite works but is slow.
"""

import os
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from staffing import demo
from staffing.models import Position
from staffing.services import position_move
from staffing.tree import tree_check

SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "1000,10000,100000").split(",")]

pytestmark = [pytest.mark.bench, pytest.mark.django_db(transaction=True)]


def measure(fn):
    with CaptureQueriesContext(connection) as queries:
        queries.force_debug_cursor = True
        started = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - started
    return result, elapsed * 1000, len(queries.captured_queries)


def vacuum():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def test_foundation_benchmarks(framework, client):
    rows = []
    for size in SIZES:
        if Position.objects.exists():
            demo.clear_organization()
            vacuum()
        _, ms, queries = measure(lambda size=size: demo.seed(positions=size))
        rows.append((size, "seed_demo --positions (bulk)", ms, queries))
        vacuum()

        report, ms, queries = measure(tree_check)
        assert report.ok
        rows.append((size, "check_tree", ms, queries))

        client.login(username="admin", password=demo.DEMO_PASSWORD)
        client.get("/")  # warm up templates and connections
        response, ms, queries = measure(lambda: client.get("/"))
        assert response.status_code == 200
        rows.append((size, "GET / as admin (top levels, ≤ 500 rows)", ms, queries))

        manager = (
            Position.objects.filter(role__code="advocate-manager", holder__isnull=False)
            .order_by("lft")
            .first()
        )
        demo.link_demo_user("manager", manager.holder)
        client.force_login(get_user_model().objects.get(username="manager"))
        response, ms, queries = measure(lambda: client.get("/"))
        assert response.status_code == 200
        rows.append((size, "GET / as a manager (own team)", ms, queries))

        managers = Position.objects.filter(role__code="advocate-manager")
        team = Position.objects.filter(role__code="team-lead").order_by("lft").first()
        target = managers.order_by("-lft").first()  # far away in the tree
        assert team.parent_id != target.pk
        _, ms, queries = measure(
            lambda team=team, target=target: position_move(
                actor=None, position=team, new_parent=target
            )
        )
        rows.append((size, "move a team (mptt, under the lock)", ms, queries))
        assert tree_check().ok

    width = max(len(name) for _, name, _, _ in rows)
    lines = [
        "",
        f"Benchmarks on {connection.vendor}",
        f"| {'positions':>9} | {'operation':<{width}} | {'ms':>9} | {'queries':>7} |",
        f"|{'-' * 11}|{'-' * (width + 2)}|{'-' * 11}|{'-' * 9}|",
    ]
    lines += [f"| {n:>9,} | {name:<{width}} | {ms:>9,.1f} | {q:>7} |" for n, name, ms, q in rows]
    print("\n".join(lines))
