"""Core guarantees: catalogue figures, idempotent loading, tree services, tenure, scope."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from roles.models import PromotionPath, Role, SpanRule
from staffing import services
from staffing.models import Assignment, Position
from staffing.scope import scope_for
from staffing.selectors import tenure_days, tenure_months
from staffing.tree import tree_check
from tests.factories import PersonFactory, UserFactory, make_position

pytestmark = pytest.mark.django_db

D = datetime.date


def codes(error: ValidationError) -> set[str]:
    return {e.code for errors in error.error_dict.values() for e in errors}


@pytest.mark.parametrize(
    ("code", "csat"),
    [("associate-advocate", 90), ("advocate", 95), ("senior-advocate", 96), ("tse", 94),
     ("senior-tse", 95), ("architect", 90), ("senior-architect", 92), ("team-lead", None)],
)  # fmt: skip
def test_catalogue_csat_targets(roles, code, csat):
    assert roles[code].csat_target == (Decimal(csat) if csat is not None else None)


@pytest.mark.parametrize(
    ("src", "dst", "low", "high", "about"),
    [("associate-advocate", "advocate", 3, None, False),
     ("advocate", "senior-advocate", 9, None, True),
     ("advocate", "tse", 12, None, False), ("senior-tse", "architect", 18, None, False),
     ("architect", "senior-architect", 24, None, False), ("advocate", "team-lead", 9, None, True),
     ("team-lead", "advocate-manager", 12, None, False),
     ("advocate-manager", "senior-advocate-manager", 18, None, False),
     ("advocate", "systems-specialist", 24, 36, False),
     ("systems-specialist", "senior-systems-specialist", 18, None, False),
     ("senior-systems-specialist", "systems-analyst", 12, 24, False),
     ("systems-analyst", "senior-systems-analyst", 24, None, False)],
)  # fmt: skip
def test_catalogue_promotion_prerequisites(framework, src, dst, low, high, about):
    path = PromotionPath.objects.get(from_role__code=src, to_role__code=dst)
    assert (path.min_months, path.max_months, path.approximate) == (low, high, about)


@pytest.mark.parametrize(
    ("code", "direct", "team"),
    [("team-lead", (6, 10), (None, None)), ("advocate-manager", (1, None), (16, 25)),
     ("senior-advocate-manager", (2, 3), (48, 150)), ("director", (None, None), (None, 1000)),
     ("ops-manager", (2, 10), (None, None)), ("senior-ops-manager", (2, 10), (None, None)),
     ("ops-director", (None, None), (None, 250))],
)  # fmt: skip
def test_catalogue_span_rules(framework, code, direct, team):
    rule = SpanRule.objects.get(role__code=code)
    assert (rule.min_direct, rule.max_direct) == direct
    assert (rule.min_team, rule.max_team) == team


def test_catalogue_tiers_and_time_split(roles):
    t1 = roles["advocate"].tier
    assert (t1.target_handling_minutes, t1.triages) == (15, True)
    assert {"phone", "chat"} <= set(t1.channels)
    t3 = roles["architect"].tier
    assert t3.target_handling_minutes is None
    assert (t3.volume_share_min, t3.volume_share_max) == (5, 10)
    assert roles["tse"].tier.target_handling_minutes == 30
    assert roles["team-lead"].supervision_share == 80
    assert roles["senior-advocate-manager"].hands_on_share_max == 50
    assert PromotionPath.objects.get(to_role__code="tse").external_hires_allowed


def test_load_framework_is_idempotent_and_keeps_local_edits(framework, capsys):
    counts = (Role.objects.count(), PromotionPath.objects.count(), SpanRule.objects.count())
    Role.objects.filter(code="advocate").update(csat_target=Decimal("97"))
    call_command("load_framework")
    assert "Kept 1 locally edited row" in capsys.readouterr().out
    assert Role.objects.get(code="advocate").csat_target == 97
    assert counts == (Role.objects.count(), PromotionPath.objects.count(), SpanRule.objects.count())
    call_command("load_framework", reset=True)
    assert Role.objects.get(code="advocate").csat_target == 95
    Role.objects.filter(code="vp").delete()
    call_command("load_framework")
    assert Role.objects.filter(code="vp").exists()


def tree_state():
    return list(Position.objects.order_by("pk").values_list("pk", "parent", "lft", "rght"))


def test_moving_a_team_under_itself_or_its_own_team_is_refused_and_changes_nothing(small_org):
    boss, lead_a, _, agents = small_org
    before = tree_state()
    for target in (boss, lead_a, agents[0]):
        with pytest.raises(ValidationError) as caught:
            services.position_move(actor=None, position=boss, new_parent=target)
        assert codes(caught.value) == {"cycle"}
        assert "loop" in str(caught.value) or "itself" in str(caught.value)
    assert tree_state() == before


def test_moving_a_team_keeps_the_tree_consistent(small_org):
    _, lead_a, lead_b, _ = small_org
    services.position_move(actor=None, position=lead_a, new_parent=lead_b)
    lead_b.refresh_from_db()
    assert lead_b.team_size == 4
    assert tree_check().ok


def test_deleting_a_manager_refuses_or_moves_reports_up(small_org):
    boss, lead_a, _, _ = small_org
    with pytest.raises(ValidationError, match="3 direct report"):
        services.position_delete(actor=None, position=lead_a)
    holder = lead_a.holder
    services.position_delete(actor=None, position=lead_a, reports="move_up")
    assert Position.objects.filter(parent=boss).count() == 4
    history = Assignment.objects.get(person=holder)
    assert history.end_date is not None and history.position is None
    assert history.position_title == "Lead A"
    assert tree_check().ok


def test_assign_moves_a_person_and_vacate_ends_the_assignment(small_org):
    _, _, lead_b, agents = small_org
    person = agents[0].holder
    services.position_vacate(actor=None, position=lead_b, end_date=D(2024, 1, 1))
    services.person_assign(actor=None, person=person, position=lead_b, start_date=D(2024, 2, 1))
    agents[0].refresh_from_db()
    assert agents[0].status == "open" and agents[0].holder is None
    with pytest.raises(ValidationError) as caught:
        services.person_assign(actor=None, person=PersonFactory(), position=lead_b)
    assert codes(caught.value) == {"filled"}


def test_tenure_counts_time_in_a_role_across_gaps(framework):
    person = PersonFactory(hire_date=D(2020, 1, 1))
    slot = make_position("Advocate", "advocate", holder=person, start=D(2020, 1, 1))
    services.position_vacate(actor=None, position=slot, end_date=D(2020, 7, 1))
    other = make_position("Advocate 2", "advocate", holder=False)
    services.person_assign(actor=None, person=person, position=other, start_date=D(2021, 1, 1))
    role = Role.objects.get(code="advocate")
    assert tenure_days(person, role, as_of=D(2021, 4, 1)) == 182 + 90
    assert tenure_months(person, role, as_of=D(2021, 4, 1)) == Decimal("8.9")


def test_a_manager_edits_only_below_their_own_position(small_org):
    boss, lead_a, lead_b, agents = small_org
    user = UserFactory(groups=["manager"])
    person = lead_a.holder
    person.user = user
    person.save()
    assert Position.objects.visible_to(scope_for(user)).count() == 4
    services.position_update(actor=user, position=agents[0], title="Renamed")
    for forbidden in (lead_a, lead_b, boss):
        with pytest.raises(PermissionDenied):
            services.position_update(actor=user, position=forbidden, title="Nope")
    with pytest.raises(PermissionDenied):
        services.position_move(actor=user, position=agents[1], new_parent=lead_b)
