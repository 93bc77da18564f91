"""The reporting tree stored as a forest: one django-mptt tree per division (staffing.tree).

Directors and VPs head trees of their own; ``parent`` stays the reporting line, ``level`` the
depth in the organization, and every answer built on the tree (teams, scope, counts, the
API's filters) is the one the reporting lines give. A move touches the rows of the trees it
moves between, and locks only those.
"""

import threading

import pytest
from django.db import OperationalError, connection, connections, transaction

from roles.models import Role
from staffing import services
from staffing.models import Position
from staffing.scope import Scope
from staffing.tree import TREE_LOCK_CLASS, TREE_LOCK_KEY, tree_check, tree_repair
from tests.factories import make_position, make_team, session_client

pytestmark = pytest.mark.django_db


def build() -> dict[str, Position]:
    """A VP over two directors; each director with a senior manager, a manager, a lead and
    three advocates; an analyst reporting to the VP directly (in the VP's tree)."""
    vp = make_position("VP", "vp")
    org = {"vp": vp, "analyst": make_position("Analyst", "systems-analyst", vp)}
    for side in "ab":
        director = make_position(f"Director {side}", "director", vp)
        senior = make_position(f"Senior {side}", "senior-advocate-manager", director)
        manager = make_position(f"Manager {side}", "advocate-manager", senior)
        lead = make_position(f"Lead {side}", "team-lead", manager)
        make_team(lead, 3)
        org |= {f"director_{side}": director, f"senior_{side}": senior}
        org |= {f"manager_{side}": manager, f"lead_{side}": lead}
    return {key: Position.objects.get(pk=p.pk) for key, p in org.items()}


def fresh(position: Position) -> Position:
    return Position.objects.get(pk=position.pk)


def walked_team(position: Position) -> set[int]:
    parent_of = dict(Position.objects.values_list("pk", "parent_id"))
    team = set()
    for pk in parent_of:
        node = parent_of[pk]
        while node is not None:
            if node == position.pk:
                team.add(pk)
                break
            node = parent_of[node]
    return team


def test_directors_and_vps_head_trees_of_their_own(framework):
    org = build()
    vp, a, b = org["vp"], org["director_a"], org["director_b"]
    assert {vp.tree_id, a.tree_id, b.tree_id} == {vp.tree_id, a.tree_id, b.tree_id}
    assert len({vp.tree_id, a.tree_id, b.tree_id}) == 3
    assert (a.tree_parent_id, a.parent_id, a.level) == (None, vp.pk, 1)
    assert org["analyst"].tree_id == vp.tree_id  # not a division: in the VP's tree
    assert org["lead_a"].tree_id == a.tree_id and org["lead_a"].level == 4
    assert (vp.trees_under, a.trees_under) == (2, 0)
    assert vp.team_size == Position.objects.count() - 1
    assert a.team_size == 6 and vp.has_reports
    assert tree_check().ok


def test_teams_span_trees_for_the_ranks_above_the_split(framework, django_assert_num_queries):
    org = build()
    for key, position in org.items():
        with django_assert_num_queries(2 if position.trees_under else 1):
            team = set(
                Position.objects.subtree_of(position, include_self=False).values_list(
                    "pk", flat=True
                )
            )
        assert team == walked_team(position), key
    scope = Scope(root=org["vp"])
    lead_b = org["lead_b"]
    assert scope.can_see(lead_b) and scope.can_edit(lead_b)
    assert not Scope(root=org["director_a"]).can_see(lead_b)
    assert org["vp"].contains(lead_b) and not org["director_a"].contains(lead_b)


def test_a_move_between_two_directors_rewrites_only_their_trees(framework):
    org = build()
    third = make_position("Director c", "director", org["vp"])
    make_team(make_position("Lead c", "team-lead", third), 4)
    untouched = dict(
        Position.objects.exclude(tree_id__in=[org["director_a"].tree_id, org["director_b"].tree_id])
        .values_list("pk", "lft")
    )  # fmt: skip
    services.position_move(actor=None, position=org["manager_a"], new_parent=org["senior_b"])
    manager = fresh(org["manager_a"])
    assert manager.tree_id == org["director_b"].tree_id and manager.level == 3
    assert manager.parent_id == org["senior_b"].pk
    after = dict(Position.objects.filter(pk__in=untouched).values_list("pk", "lft"))
    assert after == untouched
    assert fresh(org["director_b"]).team_size == 11
    assert tree_check().ok


def test_moving_a_whole_division_moves_its_tree_and_its_depths(framework):
    org = build()
    lead = org["lead_a"]
    services.position_move(actor=None, position=org["director_a"], new_parent=org["director_b"])
    a, b, vp = fresh(org["director_a"]), fresh(org["director_b"]), fresh(org["vp"])
    assert a.tree_parent_id is None and a.parent_id == b.pk and a.level == 2
    assert fresh(lead).level == 5 and (b.trees_under, vp.trees_under) == (1, 2)
    assert b.team_size == 6 + 1 + 6
    # and back to the top of the organization: still its own tree, depths from 0
    services.position_move(actor=None, position=a, new_parent=None)
    assert (fresh(lead).level, fresh(org["director_b"]).trees_under) == (3, 0)
    assert fresh(org["vp"]).trees_under == 1
    assert tree_check().ok


def test_a_team_with_a_division_below_moves_with_it(framework):
    org = build()
    # a director under a manager (an interim arrangement): its tree is in the manager's team
    services.position_move(actor=None, position=org["director_b"], new_parent=org["manager_a"])
    assert fresh(org["manager_a"]).trees_under == 1
    services.position_move(actor=None, position=org["senior_a"], new_parent=org["vp"])
    senior = fresh(org["senior_a"])
    assert senior.tree_id == org["vp"].tree_id and senior.trees_under == 1
    assert fresh(org["director_b"]).level == 3 and fresh(org["lead_b"]).level == 6
    assert fresh(org["director_a"]).trees_under == 0
    team = Position.objects.subtree_of(senior, include_self=False)
    assert set(team.values_list("pk", flat=True)) == walked_team(senior)
    assert tree_check().ok


def test_becoming_a_director_makes_a_division_and_stepping_down_merges_it(framework):
    org = build()
    director = Role.objects.get(code="director")
    services.position_update(actor=None, position=org["senior_a"], role=director)
    senior = fresh(org["senior_a"])
    assert senior.tree_parent_id is None and senior.tree_id != org["director_a"].tree_id
    assert fresh(org["director_a"]).trees_under == 1 and fresh(org["vp"]).trees_under == 3
    assert fresh(org["lead_a"]).tree_id == senior.tree_id and fresh(org["lead_a"]).level == 4
    services.position_update(
        actor=None, position=senior, role=Role.objects.get(code="senior-advocate-manager")
    )
    assert fresh(org["lead_a"]).tree_id == org["director_a"].tree_id
    assert fresh(org["vp"]).trees_under == 2
    assert tree_check().ok


def test_a_role_change_that_makes_a_division_is_one_change_in_the_history(framework):
    """Its save and its re-rooting are one history row, so Undo puts the old role back."""
    org = build()
    history = Position.history.filter(id=org["senior_a"].pk)
    before = history.count()
    services.position_update(
        actor=None, position=org["senior_a"], role=Role.objects.get(code="director")
    )
    assert history.count() == before + 1
    assert history.latest("history_date").role.code == "director"


def test_a_promotion_to_director_makes_a_division(framework):
    from metrics.readiness import promotion_readiness

    org = build()
    person = org["senior_a"].holder
    services.promotion_apply(
        actor=None,
        person=person,
        to_role=Role.objects.get(code="director"),
        readiness=promotion_readiness,
        override_reason="Leads the new region from next quarter, agreed with the VP.",
    )
    senior = fresh(org["senior_a"])
    assert senior.role.code == "director" and senior.tree_parent_id is None
    assert fresh(org["lead_a"]).tree_id == senior.tree_id
    assert tree_check().ok


def test_deleting_a_director_moves_the_division_up_into_the_vp_s_tree(framework):
    org = build()
    services.position_delete(actor=None, position=org["director_a"], reports="move_up")
    senior = fresh(org["senior_a"])
    assert senior.parent_id == org["vp"].pk and senior.tree_id == org["vp"].tree_id
    assert senior.level == 1 and fresh(org["lead_a"]).level == 3
    assert fresh(org["vp"]).trees_under == 1
    assert tree_check().ok


def managers_first(ordered: list[Position]) -> bool:
    seen: set[int] = set()
    for position in ordered:
        if position.parent_id is not None and position.parent_id not in seen:
            return False
        seen.add(position.pk)
    return True


def test_lists_in_tree_order_put_every_manager_before_their_reports(framework):
    """A division moved under a position of a later tree is numbered after it, so (tree_id,
    lft), the order of the API's lists, the CSV and the readiness list, stays top down."""
    org = build()
    services.position_move(actor=None, position=org["director_a"], new_parent=org["lead_b"])
    services.position_update(
        actor=None, position=org["senior_b"], role=Role.objects.get(code="director")
    )  # a division made above a division: the lower one renumbered after it
    ordered = list(Position.objects.order_by("tree_id", "lft"))
    assert managers_first(ordered)
    assert tree_check().ok


def test_check_tree_finds_a_division_stored_in_its_manager_s_tree_and_repairs_it(framework):
    org = build()
    a = org["director_a"]
    # the director's tree folded into the VP's by hand: counts and roots no longer match
    Position.objects.filter(pk=a.pk).update(tree_parent=org["vp"])
    report = tree_check()
    assert not report.ok and a.pk in {pk for pk, _, _ in report.wrong}
    repaired = tree_repair()
    assert repaired.repaired >= 1 and tree_check().ok
    assert fresh(a).tree_parent_id is None


def test_the_api_level_filters_mean_depth_in_the_organization(framework):
    org = build()
    client = session_client(log_in_admin())
    found = client.get("/api/positions/", {"level": 4, "page_size": 100}).json()["results"]
    assert {p["id"] for p in found} == {org["lead_a"].pk, org["lead_b"].pk}
    found = client.get("/api/positions/", {"level_max": 1, "page_size": 100}).json()["results"]
    assert {p["id"] for p in found} == {
        org["vp"].pk, org["analyst"].pk, org["director_a"].pk, org["director_b"].pk,
    }  # fmt: skip
    found = client.get("/api/positions/", {"subtree_of": org["vp"].pk, "page_size": 100}).json()[
        "results"
    ]
    assert len(found) == Position.objects.count()
    listed = client.get("/api/positions/", {"page_size": 100}).json()["results"]
    assert [p["id"] for p in listed] == list(
        Position.objects.order_by("tree_id", "lft").values_list("pk", flat=True)
    )
    chain = client.get(f"/api/positions/{org['lead_b'].pk}/ancestors/").json()
    ids = [p["id"] for p in (chain["results"] if isinstance(chain, dict) else chain)]
    assert ids == [org[k].pk for k in ("vp", "director_b", "senior_b", "manager_b")]


def log_in_admin():
    from tests.factories import UserFactory

    return UserFactory(is_superuser=True, is_staff=True)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_move_locks_its_two_trees_and_not_the_others(framework):
    """With another transaction holding director B's tree, a move inside director A's part
    goes ahead, a move into B's part waits (here: gives up after 300 ms), and a change to the
    forest's shape waits for every edit in progress."""
    org = build()
    held = threading.Event()
    release = threading.Event()

    def hold_b():
        other = connections.create_connection("default")
        try:
            other.set_autocommit(False)
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [TREE_LOCK_KEY])
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)",
                    [TREE_LOCK_CLASS, org["director_b"].tree_id],
                )
            held.set()
            release.wait(20)
            other.rollback()
        finally:
            other.close()

    thread = threading.Thread(target=hold_b)
    thread.start()
    try:
        assert held.wait(10)
        with transaction.atomic():  # goes ahead: it would fail after 2 s if it had to wait
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            services.position_move(actor=None, position=org["lead_a"], new_parent=org["senior_a"])
        with transaction.atomic():  # the admin's form: the position and its dotted lines
            services.position_save(
                actor=None,
                position=fresh(org["manager_a"]),
                values={"title": "Manager A (renamed)"},
                changed=["title"],
            )
            services.dotted_line_add(
                actor=None, position=fresh(org["manager_a"]), manager=org["analyst"]
            )
        for position, target, structural in (
            (org["lead_a"], org["manager_b"], False),
            (org["director_a"], org["vp"], True),  # a division head: the whole forest
        ):
            with pytest.raises(OperationalError), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '300ms'")
                if structural:
                    services.position_update(
                        actor=None,
                        position=position,
                        role=Role.objects.get(code="senior-advocate-manager"),
                    )
                else:
                    services.position_move(actor=None, position=position, new_parent=target)
    finally:
        release.set()
        thread.join()
    services.position_move(actor=None, position=org["lead_a"], new_parent=org["manager_b"])
    assert tree_check().ok
