"""One rule, one place: the reporting-loop decision (staffing.loops) and the assignment rules
(staffing.assignments), checked on their own, and checked to be the ones the model, the
services, the drafts and the import actually use."""

import datetime
import itertools
import random

import pytest
from django.core.exceptions import ValidationError

from staffing import assignments, loops, services
from staffing.assignments import Change, Start
from staffing.interchange import write
from staffing.models import Assignment
from staffing.scenarios import drafts
from staffing.tree import compute_layout
from tests.test_import import base_rows, csv_text
from tests.test_scenarios import draft_of, manager_user

D = datetime.date

# --- loops: the pure decision -------------------------------------------------------------

# 1 › 2 › 3 › 4, and 1 › 5; 6 alone
TREE = {1: None, 2: 1, 3: 2, 4: 3, 5: 1, 6: None}


def test_a_node_under_itself_is_a_loop():
    assert loops.would_loop(2, 2, TREE)
    assert loops.would_loop(6, 6, TREE)


def test_a_node_under_its_own_team_at_any_depth_is_a_loop():
    assert loops.would_loop(1, 4, TREE)
    assert loops.would_loop(2, 4, TREE)
    assert loops.would_loop(3, 4, TREE)
    assert loops.would_loop(1, 5, TREE)


def test_a_node_under_someone_outside_its_team_is_no_loop():
    assert not loops.would_loop(4, 1, TREE)  # under its manager's manager
    assert not loops.would_loop(5, 4, TREE)  # under a cousin
    assert not loops.would_loop(2, 6, TREE)  # into another tree
    assert not loops.would_loop(2, None, TREE)  # to the top


def test_a_node_missing_from_the_map_is_at_the_top():
    assert not loops.would_loop(99, 4, TREE)  # walks 4 › 3 › 2 › 1 and never meets 99
    assert not loops.would_loop(2, 99, TREE)  # 99 has no manager: the walk stops there
    assert loops.would_loop(99, 99, TREE)


def test_a_loop_already_there_and_not_through_the_node_ends_the_walk():
    broken = {1: 2, 2: 3, 3: 1, 7: None}  # 1 › 2 › 3 › 1
    assert not loops.would_loop(7, 1, broken)  # terminates, and 7 is not in it
    assert loops.would_loop(2, 1, broken)


def test_the_lookup_may_be_a_callable():
    calls = []

    def parent_of(node):
        calls.append(node)
        return TREE.get(node)

    assert loops.would_loop(2, 4, parent_of)
    assert calls == [4, 3]  # it stops as soon as it meets the node


def test_find_loops_reports_each_loop_once_in_walk_order():
    parents = {1: 2, 2: 3, 3: 1, 4: 1, 5: 6, 6: 5, 7: None, 8: 7, 9: 9}
    found = loops.find_loops(parents)
    assert found == [[1, 2, 3], [5, 6], [9]]
    # from 4 the walk reaches the loop 1 › 2 › 3 and reports it starting where it enters
    assert loops.find_loops(parents, [4]) == [[1, 2, 3]]
    assert loops.find_loops(parents, [8, 7]) == []
    assert loops.find_loops(TREE) == []
    assert loops.find_loops(parents.get, [4, 3]) == [[1, 2, 3]]


def test_find_loops_follows_managers_missing_from_the_map_to_the_top():
    assert loops.find_loops({1: 99, 2: 1}) == []


def test_the_nested_set_shortcut_decides_as_the_walk_does():
    """On a forest whose nested sets match its parents (division heads rooting trees of
    their own, nested at any depth), would_loop_in_tree and would_loop agree for every pair
    of nodes."""
    rng = random.Random(23)

    def managers_of(node):
        chain = []
        while node is not None:
            chain.append(node)
            node = parents.get(node)
        return chain

    for _ in range(30):
        parents = {1: None, 2: None}
        for node in range(3, 25):
            parents[node] = rng.choice([None, *range(1, node)])
        heads = set(rng.sample(range(3, 25), 6))
        layout = compute_layout([(n, p, (n,)) for n, p in parents.items()], heads=heads).fields
        assert sum(1 for place in layout.values() if place.tree_parent is None) > 2
        place = {n: (p.tree_id, p.lft, p.rght, p.trees_under) for n, p in layout.items()}
        for node, target in itertools.product([*parents, 99], [*parents, None, 99]):
            walk = loops.would_loop(node, target, parents)
            found = loops.would_loop_in_tree(node, target, place.get, managers_of)
            assert found == walk, (node, target)


def test_the_nested_set_shortcut_reads_the_places_it_needs_only():
    asked = []

    def place_of(node):
        asked.append(node)
        return {1: (1, 1, 8, 0), 2: (1, 2, 5, 0)}.get(node)

    assert loops.would_loop_in_tree(1, 1, place_of) and asked == []
    assert not loops.would_loop_in_tree(1, None, place_of) and asked == []
    assert loops.would_loop_in_tree(1, 2, place_of) and asked == [1, 2]
    assert not loops.would_loop_in_tree(2, 1, place_of)
    assert not loops.would_loop_in_tree(1, 3, place_of)  # a position that is gone


# --- assignments: the pure rules ----------------------------------------------------------


def test_start_dates():
    start = D(2024, 5, 1)
    assert assignments.start_problems(start) == []
    assert assignments.start_problems(start, latest_start=D(2024, 4, 30)) == []
    assert assignments.start_problems(start, latest_start=D(2024, 5, 2)) == ["before_latest"]
    assert assignments.start_problems(start, latest_start=start) == []  # the services allow it
    refused = assignments.start_problems(start, latest_start=start, same_day_refused=True)
    assert refused == ["on_latest"]
    assert assignments.start_problems(start, displaced_since=D(2024, 6, 1)) == ["before_displaced"]
    assert assignments.start_problems(start, hire_date=D(2024, 5, 2)) == ["before_hire"]
    assert assignments.start_problems(start, hire_date=start) == []
    everything = assignments.start_problems(
        start,
        latest_start=D(2025, 1, 1),
        same_day_refused=True,
        displaced_since=D(2025, 1, 1),
        hire_date=D(2025, 1, 1),
    )
    assert everything == ["before_latest", "before_displaced", "before_hire"]


def test_end_dates():
    assert assignments.ends_before_start(D(2024, 1, 1), D(2024, 1, 2))
    assert not assignments.ends_before_start(D(2024, 1, 2), D(2024, 1, 2))
    assert not assignments.ends_before_start(D(2024, 1, 1), None)
    row = Assignment(start_date=D(2024, 3, 1), note="")
    assignments.close(row, D(2024, 2, 1), note="Moved")
    assert (row.end_date, row.note) == (D(2024, 3, 1), "Moved")  # never before its start
    assignments.close(row, D(2024, 4, 1), note="Other")
    assert (row.end_date, row.note) == (D(2024, 4, 1), "Moved")  # a note is kept


TODAY = D(2024, 6, 10)


def test_a_placed_holder_starts_on_the_day_and_leaves_their_post_that_day():
    moves = assignments.plan(
        [Change("new", None, "ann", day=D(2024, 6, 1), note="Hi"), Change("old", "ann", None)],
        today=TODAY,
    )
    assert moves.starting == [Start("new", "ann", D(2024, 6, 1), "Hi")]
    assert moves.ending == {"ann": D(2024, 6, 1)}


def test_a_replaced_holder_leaves_when_the_new_one_starts():
    moves = assignments.plan([Change("p", "bob", "ann", day=D(2024, 6, 3))], today=TODAY)
    assert moves.starting == [Start("p", "ann", D(2024, 6, 3), "")]
    assert moves.ending == {"ann": D(2024, 6, 3), "bob": D(2024, 6, 3)}
    moves = assignments.plan([Change("p", "bob", "ann")], today=TODAY)
    assert moves.ending == {"ann": TODAY, "bob": TODAY}


def test_a_holder_who_leaves_ends_on_the_day_given_or_today():
    assert assignments.plan([Change("p", "bob", None)], today=TODAY).ending == {"bob": TODAY}
    leaving = Change("p", "bob", None, day=D(2024, 6, 1))
    assert assignments.plan([leaving], today=TODAY).ending == {"bob": D(2024, 6, 1)}


def test_a_holder_who_stays_starts_again_only_when_the_role_or_squad_changes():
    same = assignments.plan([Change("p", "ann", "ann", day=D(2024, 1, 1))], today=TODAY)
    assert (same.starting, same.ending) == ([], {})
    moves = assignments.plan([Change("p", "ann", "ann", reshaped=True)], today=TODAY)
    assert moves.starting == [Start("p", "ann", TODAY, assignments.RESHAPED_NOTE)]
    assert moves.ending == {"ann": TODAY}
    vacant = assignments.plan([Change("p", None, None, reshaped=True)], today=TODAY)
    assert (vacant.starting, vacant.ending) == ([], {})


def test_a_holder_placed_elsewhere_in_the_same_change_ends_on_their_new_start():
    """Ann moves from P to Q (starting on the 5th); Bob takes P (on the 7th): Ann's old
    assignment ends on the 5th, not on Bob's day."""
    moves = assignments.plan(
        [
            Change("P", "ann", "bob", day=D(2024, 6, 7)),
            Change("Q", None, "ann", day=D(2024, 6, 5)),
        ],
        today=TODAY,
    )
    assert moves.ending == {"bob": D(2024, 6, 7), "ann": D(2024, 6, 5)}
    assert [s.person for s in moves.starting] == ["bob", "ann"]


# --- every place asks the one module ------------------------------------------------------


class Asked(Exception):
    pass


def _refuse(*args, **kwargs):
    raise Asked


@pytest.mark.django_db
def test_the_model_and_the_services_ask_the_loop_rule(small_org, monkeypatch):
    boss, _, _, agents = small_org
    monkeypatch.setattr(loops, "would_loop_in_tree", _refuse)
    boss.parent = agents[0]
    with pytest.raises(Asked):
        boss.clean()
    with pytest.raises(Asked):
        services.position_move(actor=None, position=boss, new_parent=agents[0])


@pytest.mark.django_db
def test_the_model_and_the_services_word_the_rules_answer(small_org, monkeypatch):
    _, lead_a, lead_b, _ = small_org
    monkeypatch.setattr(loops, "would_loop_in_tree", lambda *a: True)  # everything loops
    lead_a.parent = lead_b
    with pytest.raises(ValidationError, match="its own team"):
        lead_a.clean()
    with pytest.raises(ValidationError, match="own team"):
        services.position_move(actor=None, position=lead_a, new_parent=lead_b)


@pytest.mark.django_db
def test_the_drafts_ask_the_loop_rule(api_org, monkeypatch):
    director = manager_user(api_org)
    scenario = drafts.scenario_create(actor=director, name="Asked")
    lead_a, lead_b = (draft_of(scenario, api_org.positions[n]) for n in ("lead_a", "lead_b"))
    monkeypatch.setattr(loops, "would_loop", _refuse)
    with pytest.raises(Asked):
        drafts.draft_move(actor=director, scenario=scenario, position=lead_a, new_parent=lead_b)
    monkeypatch.setattr(loops, "would_loop", lambda *a: True)
    with pytest.raises(ValidationError, match="reporting loop"):
        drafts.draft_move(actor=director, scenario=scenario, position=lead_a, new_parent=lead_b)


@pytest.mark.django_db
def test_the_import_asks_the_loop_rule(api_org, monkeypatch):
    monkeypatch.setattr(loops, "find_loops", _refuse)
    with pytest.raises(Asked):
        write.import_run(actor=None, text=csv_text(base_rows()), dry_run=True)
    monkeypatch.setattr(loops, "find_loops", lambda parents, starts: [list(starts)[:2]])
    result = write.import_run(actor=None, text=csv_text(base_rows()), dry_run=True)
    assert "reporting loop" in str(result.problems)


@pytest.mark.django_db
def test_the_services_and_the_import_ask_the_assignment_rules(small_org, monkeypatch):
    _, lead_a, _, agents = small_org
    services.position_vacate(actor=None, position=agents[0])
    monkeypatch.setattr(assignments, "start_problems", _refuse)
    with pytest.raises(Asked):
        services.person_assign(actor=None, person=agents[1].holder, position=agents[0])
    with pytest.raises(Asked):
        write.import_run(actor=None, text=csv_text(base_rows()), dry_run=True)
    monkeypatch.undo()
    monkeypatch.setattr(assignments, "plan", _refuse)
    for change in (
        lambda: services.person_assign(actor=None, person=agents[1].holder, position=agents[0]),
        lambda: services.position_vacate(actor=None, position=agents[2]),
        lambda: services.position_update(actor=None, position=lead_a, role=agents[1].role),
        lambda: write.import_run(actor=None, text=csv_text(base_rows()), dry_run=False),
    ):
        with pytest.raises(Asked):
            change()
