"""An installation upgraded to the forest: the migration splits the one stored tree into
divisions from the parents and the roles, and check_tree finds nothing to repair."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from staffing.tree import tree_check

BEFORE = [("staffing", "0013_chart_preference"), ("roles", "0004_history_baseline")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_splits_one_tree_into_divisions(framework):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Role, Position = old.get_model("roles", "Role"), old.get_model("staffing", "Position")
    role = {r.code: r for r in Role.objects.filter(code__in=["vp", "director", "team-lead"])}
    # one nested-set tree, as the app stored it before: a VP over two directors and a lead
    rows = [  # id, parent, role, lft, rght, level
        (1, None, "vp", 1, 12, 0),
        (2, 1, "director", 2, 7, 1),
        (3, 2, "team-lead", 3, 6, 2),
        (4, 3, "team-lead", 4, 5, 3),
        (5, 1, "director", 8, 9, 1),
        (6, 1, "team-lead", 10, 11, 1),
    ]
    for pk, parent, code, lft, rght, level in rows:
        Position.objects.create(
            pk=pk, title=f"P{pk}", role=role[code], parent_id=parent,
            tree_id=1, lft=lft, rght=rght, level=level, status="open",
        )  # fmt: skip
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    from staffing.models import Position as Now

    stored = {p.pk: p for p in Now.objects.all()}
    assert {pk for pk, p in stored.items() if p.tree_parent_id is None} == {1, 2, 5}
    assert len({stored[pk].tree_id for pk in (1, 2, 5)}) == 3
    assert stored[6].tree_id == stored[1].tree_id and stored[4].tree_id == stored[2].tree_id
    assert [stored[pk].level for pk in range(1, 7)] == [0, 1, 2, 3, 1, 1]
    assert stored[1].trees_under == 2 and stored[1].team_size == 5
    assert tree_check().ok
