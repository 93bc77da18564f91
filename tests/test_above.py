"""The managers above a position are found by its parent pointers (one recursive query),
not by the nested sets: the same answer as walking the parents, in one query, and still
right when a team's nested-set fields are those of another tree (as a forest of bounded
trees will have them below each tree's root)."""

import pytest

from staffing.models import Position
from staffing.selectors import above, lineage_ids
from staffing.spans import marks
from tests.factories import make_position, make_team

pytestmark = pytest.mark.django_db


def walked(position: Position) -> list[int]:
    chain, node = [], position
    while node is not None:
        chain.append(node.pk)
        node = node.parent
    return chain


def test_every_position_s_managers_are_its_parents_walked(framework, django_assert_num_queries):
    director = make_position("Director", "director")
    manager = make_position("Manager", "advocate-manager", director)
    leads = [make_position(f"Lead {n}", "team-lead", manager) for n in range(2)]
    for lead in leads:
        make_team(lead, 3)
    for position in Position.objects.select_related("parent__parent__parent"):
        with django_assert_num_queries(1):
            found = lineage_ids(position)
        assert sorted(found) == sorted(walked(position))
        managers = set(Position.objects.filter(above(position)).values_list("pk", flat=True))
        assert managers == set(walked(position)[1:])


def test_the_chain_crosses_trees_where_the_nested_sets_do_not(framework):
    """A director heads a tree of their own (a division): an agent's managers run up through
    it to the VP, whose tree is another."""
    vp = make_position("VP", "vp")
    director = make_position("Director", "director", vp)
    lead = make_position("Lead", "team-lead", director)
    agent = make_team(lead, 2)[0]
    assert director.tree_id != vp.tree_id == Position.objects.get(pk=vp.pk).tree_id
    assert sorted(marks.lineage(agent)) == sorted([agent.pk, lead.pk, director.pk, vp.pk])
    assert set(Position.objects.filter(above(agent)).values_list("pk", flat=True)) == {
        lead.pk,
        director.pk,
        vp.pk,
    }


def test_the_path_runs_from_the_top_down_to_the_focus_after_a_move(framework):
    """A team moved under a newer manager: the path still runs top first, and a chart that
    has teams open still shows the card it was asked to focus on."""
    from staffing import services
    from staffing.scope import SYSTEM
    from staffing.web import chart

    director = make_position("Director", "director")
    first = make_position("M1", "advocate-manager", director)
    lead = make_position("Lead", "team-lead", first)
    agent = make_position("Agent", "advocate", lead)
    later = make_position("M2", "advocate-manager", director)  # a higher id than the lead's
    services.position_move(actor=None, position=lead, new_parent=later)
    agent.refresh_from_db()
    assert lineage_ids(agent) == [director.pk, later.pk, lead.pk, agent.pk]
    roots = chart.roots_for(SYSTEM, None)
    nodes = chart.build(SYSTEM, roots, focus=agent, opened={director.pk}, level=None)
    shown = [node.position.pk for node, _depth in chart._walk(nodes)]
    assert agent.pk in shown and lead.pk in shown
