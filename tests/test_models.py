"""Model invariants of tiers, roles, metrics (and Location/Person): every database constraint
holds both in the database and in full_clean(), every clean() rule names the offending field,
and the display helpers say what the data means."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from metrics.models import KPI, HeadcountSnapshot, KPIObservation, PerformanceObservation
from metrics.services import kpi_observation_record
from roles.models import PromotionPath, SpanRule
from staffing.models import Person
from tests.factories import (
    KPIFactory,
    LocationFactory,
    PersonFactory,
    RoleFactory,
    SquadFactory,
    TierFactory,
    make_position,
)
from tiers.models import Squad

pytestmark = pytest.mark.django_db

D = datetime.date
JAN_1, JAN_31 = D(2024, 1, 1), D(2024, 1, 31)


def invalid(obj) -> dict[str, list[str]]:
    """The errors full_clean() raises for ``obj``, by field."""
    with pytest.raises(ValidationError) as caught:
        obj.full_clean()
    return caught.value.message_dict


def refused_by_database(obj) -> None:
    """Saving ``obj`` without validation is refused by a database constraint."""
    with pytest.raises(IntegrityError), transaction.atomic():
        obj.save()


# --- check constraints on their own (full_clean reports clean()'s field error instead) -----

RANGE_CONSTRAINTS = {
    "tier_volume_share_range": (
        lambda: TierFactory.build(volume_share_min=Decimal(10), volume_share_max=Decimal(5)),
        "The expected share of volume must run from low to high.",
    ),
    "role_external_years_range": (
        lambda: RoleFactory.build(
            external_hire_years_min=Decimal(3), external_hire_years_max=Decimal(2)
        ),
        "External-hire experience must run from low to high.",
    ),
    "promotion_path_not_to_itself": (
        lambda: PromotionPath(from_role=(r := RoleFactory()), to_role=r),
        "A promotion path must lead to another role.",
    ),
    "promotion_path_months_range": (
        lambda: PromotionPath(
            from_role=RoleFactory(), to_role=RoleFactory(), min_months=24, max_months=12
        ),
        "Minimum months must not exceed maximum months.",
    ),
    "span_rule_direct_range": (
        lambda: SpanRule(role=RoleFactory(), min_direct=10, max_direct=6),
        "Direct reports must run from low to high.",
    ),
    "span_rule_team_range": (
        lambda: SpanRule(role=RoleFactory(), min_team=25, max_team=16),
        "Team size must run from low to high.",
    ),
}


@pytest.mark.parametrize("name", sorted(RANGE_CONSTRAINTS))
def test_check_constraint_validates_with_its_own_message(name):
    build, message = RANGE_CONSTRAINTS[name]
    obj = build()
    assert name in {c.name for c in obj._meta.constraints}
    with pytest.raises(ValidationError) as caught:
        obj.validate_constraints()
    assert caught.value.message_dict == {NON_FIELD_ERRORS: [message]}


# --- Tier -----------------------------------------------------------------------------------


def test_a_well_formed_tier_is_valid():
    TierFactory.build(
        channels=["phone", "chat"], volume_share_min=5, volume_share_max=10
    ).full_clean()


def test_tier_volume_share_range_is_enforced_by_the_database():
    refused_by_database(
        TierFactory.build(volume_share_min=Decimal(10), volume_share_max=Decimal(5))
    )


def test_tier_volume_share_range_is_enforced_by_full_clean():
    errors = invalid(TierFactory.build(volume_share_min=Decimal(10), volume_share_max=Decimal(5)))
    assert errors == {"volume_share_max": ["The upper end must not be below the lower end."]}


def test_tier_rank_is_unique_in_the_database():
    TierFactory(rank=50)
    refused_by_database(TierFactory.build(rank=50))


def test_tier_rank_is_unique_in_full_clean():
    TierFactory(rank=50)
    assert "rank" in invalid(TierFactory.build(rank=50))


def test_tier_refuses_an_unknown_channel():
    errors = invalid(TierFactory.build(channels=["phone", "fax"]))
    assert errors["channels"] == ["Unknown channel(s): fax."]


def test_tier_channels_must_be_a_list():
    errors = invalid(TierFactory.build(channels={"phone": True}))
    assert errors["channels"] == ["Channels must be a list."]


def test_tier_cannot_escalate_to_itself():
    t = TierFactory()
    t.escalates_to = t
    assert invalid(t)["escalates_to"] == ["A tier cannot escalate to itself."]


def test_tier_may_escalate_to_another_tier():
    t = TierFactory()
    t.escalates_to = TierFactory()
    t.full_clean()


def test_unstaffed_tier_has_no_handling_time():
    errors = invalid(TierFactory.build(staffed=False, target_handling_minutes=15))
    assert list(errors) == ["target_handling_minutes"]


def test_unstaffed_tier_without_handling_time_is_valid():
    TierFactory.build(staffed=False, target_handling_minutes=None).full_clean()


def test_tier_colour_must_be_a_hex_colour():
    assert "colour" in invalid(TierFactory.build(colour="blue"))


@pytest.mark.parametrize("share", [Decimal("-1"), Decimal("100.5")])
def test_tier_volume_share_is_a_percentage(share):
    assert "volume_share_min" in invalid(TierFactory.build(volume_share_min=share))


@pytest.mark.parametrize(
    ("low", "high", "shown"),
    [(None, None, "—"), ("5", "10", "5–10 %"), ("5", "5", "5 %"), ("7.50", None, "7.5 %"),
     (None, "10.00", "10 %"), ("0.5", "12.25", "0.5–12.25 %")],
)  # fmt: skip
def test_volume_share_display(low, high, shown):
    t = TierFactory.build(
        volume_share_min=None if low is None else Decimal(low),
        volume_share_max=None if high is None else Decimal(high),
    )
    assert t.volume_share_display == shown


def test_volume_share_display_after_a_round_trip_through_the_database():
    t = TierFactory(volume_share_min=Decimal(5), volume_share_max=Decimal(100))
    t.refresh_from_db()
    assert t.volume_share_display == "5–100 %"


# --- Squad ----------------------------------------------------------------------------------


def test_second_entry_squad_in_a_tier_is_refused_by_the_database():
    t = TierFactory()
    SquadFactory.build(tier=t, kind=Squad.Kind.ENTRY, portfolio="").save()
    refused_by_database(SquadFactory.build(tier=t, kind=Squad.Kind.ENTRY, portfolio=""))


def test_second_entry_squad_in_a_tier_is_refused_by_full_clean():
    t = TierFactory()
    SquadFactory.build(tier=t, kind=Squad.Kind.ENTRY).save()
    errors = invalid(SquadFactory.build(tier=t, kind=Squad.Kind.ENTRY))
    assert errors[NON_FIELD_ERRORS] == ["This tier already has an entry squad."]


def test_each_tier_may_have_its_own_entry_squad():
    SquadFactory.build(tier=TierFactory(), kind=Squad.Kind.ENTRY).save()
    SquadFactory.build(tier=TierFactory(), kind=Squad.Kind.ENTRY).full_clean()


def test_a_tier_may_have_several_specialist_squads():
    t = TierFactory()
    SquadFactory.build(tier=t).save()
    SquadFactory.build(tier=t).save()
    SquadFactory.build(tier=t).full_clean()
    assert t.squads.count() == 2


def test_squad_code_is_unique_in_the_database():
    t = TierFactory()
    SquadFactory.build(tier=t, code="voice").save()
    refused_by_database(SquadFactory.build(tier=t, code="voice"))


def test_squad_cannot_belong_to_an_unstaffed_tier():
    errors = invalid(SquadFactory.build(tier=TierFactory(staffed=False)))
    assert list(errors) == ["tier"]


@pytest.mark.parametrize("portfolio", ["", "  \n\t "])
def test_specialist_squad_needs_a_portfolio(portfolio):
    errors = invalid(
        SquadFactory.build(tier=TierFactory(), kind=Squad.Kind.SPECIALIST, portfolio=portfolio)
    )
    assert list(errors) == ["portfolio"]


def test_entry_squad_needs_no_portfolio():
    SquadFactory.build(tier=TierFactory(), kind=Squad.Kind.ENTRY, portfolio="").full_clean()


def test_squad_portfolio_items_skip_blank_lines():
    squad = SquadFactory.build(tier=TierFactory(), portfolio=" APIs \n\nWebhooks\n  ")
    assert squad.portfolio_items == ["APIs", "Webhooks"]


# --- Role -----------------------------------------------------------------------------------


def test_a_well_formed_role_is_valid():
    r = RoleFactory.build(
        csat_target=Decimal(95),
        external_hire_years_min=Decimal(1),
        external_hire_years_max=Decimal(2),
    )
    r.full_clean()


def test_role_external_years_range_is_enforced_by_the_database():
    refused_by_database(
        RoleFactory.build(external_hire_years_min=Decimal(3), external_hire_years_max=Decimal(2))
    )


def test_role_external_years_range_is_enforced_by_full_clean():
    errors = invalid(
        RoleFactory.build(external_hire_years_min=Decimal(3), external_hire_years_max=Decimal(2))
    )
    assert errors == {"external_hire_years_max": ["The upper end must not be below the lower end."]}


def test_role_external_years_may_be_equal():
    RoleFactory.build(
        external_hire_years_min=Decimal(3), external_hire_years_max=Decimal(3)
    ).full_clean()


def test_role_code_is_unique_in_the_database():
    RoleFactory(code="unique-role")
    refused_by_database(RoleFactory.build(code="unique-role"))


def test_role_code_is_unique_in_full_clean():
    RoleFactory(code="unique-role")
    assert "code" in invalid(RoleFactory.build(code="unique-role"))


def test_role_cannot_belong_to_an_unstaffed_tier():
    errors = invalid(RoleFactory.build(tier=TierFactory(staffed=False)))
    assert list(errors) == ["tier"]


@pytest.mark.parametrize("csat", [Decimal("-0.01"), Decimal("100.01")])
def test_role_csat_target_is_a_percentage(csat):
    assert list(invalid(RoleFactory.build(csat_target=csat))) == ["csat_target"]


def test_role_level_starts_at_one():
    assert list(invalid(RoleFactory.build(level=0))) == ["level"]


def test_role_external_years_cannot_be_negative():
    assert "external_hire_years_min" in invalid(
        RoleFactory.build(external_hire_years_min=Decimal(-1))
    )


@pytest.mark.parametrize(
    ("low", "high", "experience", "shown"),
    [(None, None, "", "—"),
     (None, None, "technical support", "technical support"),
     ("4", None, "", "4+ years"),
     ("4.0", None, "building web applications", "4+ years, building web applications"),
     ("1", "2", "helping customers", "1–2 years, helping customers"),
     ("1.5", "2.0", "", "1.5–2 years"),
     ("3", "3", "", "3 years"),
     (None, "2", "", "up to 2 years")],
)  # fmt: skip
def test_external_hire_display(low, high, experience, shown):
    r = RoleFactory.build(
        external_hire_years_min=None if low is None else Decimal(low),
        external_hire_years_max=None if high is None else Decimal(high),
        external_hire_experience=experience,
    )
    assert r.external_hire_display == shown


def test_role_is_manager_only_with_a_span_rule():
    lead, agent = RoleFactory(), RoleFactory()
    SpanRule.objects.create(role=lead, min_direct=6, max_direct=10)
    lead.refresh_from_db()
    assert (lead.is_manager, agent.is_manager) == (True, False)


# --- PromotionPath --------------------------------------------------------------------------


@pytest.fixture
def pair():
    t = TierFactory()
    return RoleFactory(tier=t, level=1), RoleFactory(tier=t, level=2)


def test_a_well_formed_promotion_path_is_valid(pair):
    PromotionPath(from_role=pair[0], to_role=pair[1], min_months=12, max_months=24).full_clean()


def test_promotion_path_to_itself_is_refused_by_the_database(pair):
    refused_by_database(PromotionPath(from_role=pair[0], to_role=pair[0]))


def test_promotion_path_to_itself_is_refused_by_full_clean(pair):
    errors = invalid(PromotionPath(from_role=pair[0], to_role=pair[0]))
    assert errors == {"to_role": ["A promotion path must lead to another role."]}


def test_duplicate_promotion_path_is_refused_by_the_database(pair):
    PromotionPath.objects.create(from_role=pair[0], to_role=pair[1])
    refused_by_database(PromotionPath(from_role=pair[0], to_role=pair[1]))


def test_duplicate_promotion_path_is_refused_by_full_clean(pair):
    PromotionPath.objects.create(from_role=pair[0], to_role=pair[1])
    errors = invalid(PromotionPath(from_role=pair[0], to_role=pair[1]))
    assert len(errors[NON_FIELD_ERRORS]) == 1
    assert "already exists" in errors[NON_FIELD_ERRORS][0]


def test_reverse_promotion_path_is_a_different_path(pair):
    PromotionPath.objects.create(from_role=pair[0], to_role=pair[1])
    PromotionPath(from_role=pair[1], to_role=pair[0]).full_clean()


def test_promotion_months_range_is_enforced_by_the_database(pair):
    refused_by_database(
        PromotionPath(from_role=pair[0], to_role=pair[1], min_months=24, max_months=12)
    )


def test_promotion_months_range_is_enforced_by_full_clean(pair):
    errors = invalid(
        PromotionPath(from_role=pair[0], to_role=pair[1], min_months=24, max_months=12)
    )
    assert errors == {"max_months": ["The maximum must not be below the minimum."]}


@pytest.mark.parametrize(
    ("low", "high", "about", "shown"),
    [(None, None, False, "no minimum"), (None, None, True, "no minimum"),
     (3, None, False, "3+ months"), (9, None, True, "about 9 months"),
     (None, 24, False, "up to 24 months"), (12, 24, False, "12–24 months"),
     (12, 24, True, "about 12–24 months")],
)  # fmt: skip
def test_months_display(low, high, about, shown):
    path = PromotionPath(min_months=low, max_months=high, approximate=about)
    assert path.months_display == shown


def test_promotion_criteria_items_skip_blank_lines():
    path = PromotionPath(criteria="Leads\n\n  Coaches  \n")
    assert path.criteria_items == ["Leads", "Coaches"]


# --- SpanRule -------------------------------------------------------------------------------


def test_a_well_formed_span_rule_is_valid():
    SpanRule(role=RoleFactory(), min_direct=2, max_direct=10, min_team=16, max_team=25).full_clean()


def test_span_rule_direct_range_is_enforced_by_the_database():
    refused_by_database(SpanRule(role=RoleFactory(), min_direct=10, max_direct=6))


def test_span_rule_direct_range_is_enforced_by_full_clean():
    errors = invalid(SpanRule(role=RoleFactory(), min_direct=10, max_direct=6))
    assert errors == {"max_direct": ["The upper limit must not be below the lower limit."]}


def test_span_rule_team_range_is_enforced_by_the_database():
    refused_by_database(SpanRule(role=RoleFactory(), min_team=25, max_team=16))


def test_span_rule_team_range_is_enforced_by_full_clean():
    errors = invalid(SpanRule(role=RoleFactory(), min_team=25, max_team=16))
    assert errors == {"max_team": ["The upper limit must not be below the lower limit."]}


def test_span_rule_whole_team_cannot_be_below_the_direct_reports():
    errors = invalid(SpanRule(role=RoleFactory(), min_direct=6, max_team=5))
    assert errors == {"max_team": ["The whole team cannot be smaller than the direct reports."]}


def test_span_rule_whole_team_may_equal_the_minimum_direct_reports():
    SpanRule(role=RoleFactory(), min_direct=6, max_team=6).full_clean()


def test_one_span_rule_per_role_in_the_database():
    r = RoleFactory()
    SpanRule.objects.create(role=r)
    refused_by_database(SpanRule(role=r))


def test_one_span_rule_per_role_in_full_clean():
    r = RoleFactory()
    SpanRule.objects.create(role=r)
    assert "role" in invalid(SpanRule(role=r))


@pytest.mark.parametrize(
    ("low", "high", "shown"),
    [(None, None, "any"), (6, None, "6 or more"), (None, 1000, "up to 1000"), (6, 10, "6–10"),
     (0, 0, "0–0")],
)  # fmt: skip
def test_range_display(low, high, shown):
    assert SpanRule.range_display(low, high) == shown


def test_direct_and_team_display():
    rule = SpanRule(min_direct=2, max_direct=3, min_team=48, max_team=None)
    assert (rule.direct_display, rule.team_display) == ("2–3", "48 or more")


# --- KPI ------------------------------------------------------------------------------------


def test_a_well_formed_kpi_is_valid():
    KPIFactory.build().full_clean()


def test_kpi_without_target_or_comparison_is_valid():
    KPIFactory.build(target=None, comparison="").full_clean()


def test_kpi_target_needs_a_comparison():
    errors = invalid(KPIFactory.build(target=Decimal(75), comparison=""))
    assert errors == {"comparison": ["Say how observations are held against the target."]}


def test_kpi_comparison_needs_a_target():
    errors = invalid(KPIFactory.build(target=None, comparison=KPI.Comparison.AT_LEAST))
    assert errors == {"target": ["A comparison needs a target value."]}


@pytest.mark.parametrize(
    ("better", "comparison"),
    [("higher", "lt"), ("higher", "lte"), ("lower", "gt"), ("lower", "gte")],
)
def test_kpi_comparison_cannot_point_against_better(better, comparison):
    errors = invalid(KPIFactory.build(unit=KPI.Unit.MINUTES, better=better, comparison=comparison))
    assert errors == {"comparison": ["The comparison points the other way from 'better when'."]}


@pytest.mark.parametrize(
    ("better", "comparison"),
    [("higher", "gt"), ("higher", "gte"), ("lower", "lt"), ("lower", "lte")],
)
def test_kpi_comparison_along_better_is_valid(better, comparison):
    KPIFactory.build(unit=KPI.Unit.MINUTES, better=better, comparison=comparison).full_clean()


@pytest.mark.parametrize("target", [Decimal("-1"), Decimal("100.01"), Decimal(120)])
def test_kpi_percent_target_lies_between_0_and_100(target):
    errors = invalid(KPIFactory.build(unit=KPI.Unit.PERCENT, target=target))
    assert errors == {"target": ["A percentage lies between 0 and 100."]}


@pytest.mark.parametrize("target", [Decimal(0), Decimal(100)])
def test_kpi_percent_target_may_be_0_or_100(target):
    KPIFactory.build(unit=KPI.Unit.PERCENT, target=target).full_clean()


@pytest.mark.parametrize("target", [Decimal("-0.5"), Decimal("5.01"), Decimal(45)])
def test_kpi_score_target_lies_between_0_and_5(target):
    errors = invalid(KPIFactory.build(unit=KPI.Unit.SCORE_5, target=target, comparison="gt"))
    assert errors == {"target": ["A score out of 5 lies between 0 and 5."]}


def test_kpi_score_target_may_be_5():
    KPIFactory.build(unit=KPI.Unit.SCORE_5, target=Decimal(5), comparison="gte").full_clean()


def test_kpi_code_is_unique_in_the_database():
    KPIFactory(code="unique-kpi")
    refused_by_database(KPIFactory.build(code="unique-kpi"))


@pytest.mark.parametrize(
    ("unit", "comparison", "target", "shown"),
    [("percent", "gte", "75", "at least 75 %"),
     ("percent", "lt", "8.00", "below 8 %"),
     ("score5", "gt", "4.50", "above 4.5 / 5"),
     ("nps", "gt", "50", "above 50"),
     ("minutes", "lt", "8", "below 8 min"),
     ("hours", "lte", "24", "at most 24 h"),
     ("currency", "lte", "1000", "at most 1000"),
     ("percent", "", None, "no target")],
)  # fmt: skip
def test_kpi_target_display(unit, comparison, target, shown):
    target = None if target is None else Decimal(target)
    k = KPIFactory.build(unit=unit, comparison=comparison, target=target)
    assert k.target_display == shown


@pytest.mark.parametrize(
    ("comparison", "value", "meets"),
    [("gte", "75", True), ("gte", "74.99", False), ("gte", "80", True),
     ("gt", "75", False), ("gt", "75.01", True),
     ("lte", "75", True), ("lte", "75.01", False),
     ("lt", "75", False), ("lt", "74.99", True)],
)  # fmt: skip
def test_kpi_meets(comparison, value, meets):
    k = KPIFactory.build(comparison=comparison, target=Decimal(75))
    assert k.meets(Decimal(value)) is meets


def test_kpi_meets_is_none_without_a_target():
    assert KPIFactory.build(target=None, comparison="").meets(Decimal(99)) is None


def test_kpi_meets_is_none_without_a_comparison():
    assert KPIFactory.build(target=Decimal(75), comparison="").meets(Decimal(99)) is None


# --- KPIObservation -------------------------------------------------------------------------


@pytest.fixture
def team(framework):
    return make_position("Support team", "advocate-manager", holder=False)


@pytest.fixture
def fcr():
    return KPIFactory(code="fcr-test")


def observation(k: KPI, scope=None, start=JAN_1, end=JAN_31, value="80"):
    return KPIObservation(
        kpi=k, scope=scope, period_start=start, period_end=end, value=Decimal(value)
    )


def test_a_well_formed_observation_is_valid(fcr, team):
    observation(fcr, team).full_clean()


def test_observation_period_order_is_enforced_by_the_database(fcr):
    refused_by_database(observation(fcr, start=D(2024, 2, 1), end=D(2024, 1, 31)))


def test_observation_period_order_is_enforced_by_full_clean(fcr):
    errors = invalid(observation(fcr, start=D(2024, 2, 1), end=D(2024, 1, 31)))
    assert errors["period_end"] == ["A period cannot end before it starts."]


def test_one_day_observation_period_is_valid(fcr):
    observation(fcr, start=D(2024, 1, 1), end=D(2024, 1, 1)).full_clean()


def test_duplicate_team_observation_is_refused_by_the_database(fcr, team):
    observation(fcr, team).save()
    refused_by_database(observation(fcr, team, value="70"))


def test_duplicate_team_observation_is_refused_by_full_clean(fcr, team):
    observation(fcr, team).save()
    errors = invalid(observation(fcr, team, value="70"))
    assert errors[NON_FIELD_ERRORS] == ["There is already a value for this KPI, team and period."]


def test_duplicate_whole_org_observation_is_refused_by_the_database(fcr):
    observation(fcr, None).save()
    refused_by_database(observation(fcr, None, value="70"))


def test_duplicate_whole_org_observation_is_refused_by_full_clean(fcr):
    observation(fcr, None).save()
    errors = invalid(observation(fcr, None, value="70"))
    assert errors[NON_FIELD_ERRORS] == [
        "There is already a whole-org value for this KPI and period."
    ]


def test_duplicate_whole_org_observation_is_refused_by_the_service(fcr):
    january = {"kpi": fcr, "period_start": D(2024, 1, 1), "period_end": D(2024, 1, 31)}
    kpi_observation_record(actor=None, value=Decimal(80), **january)
    with pytest.raises(ValidationError) as refused:
        kpi_observation_record(actor=None, value=Decimal(70), **january)
    assert refused.value.error_dict["period_start"][0].code == "conflict"
    assert KPIObservation.objects.get().value == 80
    replaced, created = kpi_observation_record(
        actor=None, value=Decimal(70), replace=True, **january
    )
    assert not created and replaced.pk == KPIObservation.objects.get(value=70).pk


def test_team_and_whole_org_values_for_the_same_period_coexist(fcr, team):
    observation(fcr, None).save()
    observation(fcr, team).save()
    second_team = make_position("Other team", "advocate-manager", holder=False)
    observation(fcr, second_team).full_clean()
    observation(fcr, second_team).save()
    assert KPIObservation.objects.filter(kpi=fcr).count() == 3


def test_next_period_is_a_new_observation(fcr, team):
    observation(fcr, team).save()
    observation(fcr, team, start=D(2024, 2, 1), end=D(2024, 2, 29)).full_clean()


@pytest.mark.parametrize(
    ("unit", "value", "message"),
    [("percent", "100.01", "A percentage lies between 0 and 100."),
     ("percent", "-1", "A percentage lies between 0 and 100."),
     ("score5", "5.5", "A score out of 5 lies between 0 and 5."),
     ("nps", "-101", "NPS lies between −100 and 100."),
     ("nps", "101", "NPS lies between −100 and 100.")],
)  # fmt: skip
def test_observation_value_lies_within_its_unit(unit, value, message):
    k = KPIFactory(unit=unit, better="higher", comparison="", target=None)
    assert invalid(observation(k, value=value)) == {"value": [message]}


@pytest.mark.parametrize(
    ("unit", "value"),
    [("percent", "0"), ("percent", "100"), ("score5", "5"), ("nps", "-100"), ("minutes", "900")],
)
def test_observation_value_at_the_edge_of_its_unit_is_valid(unit, value):
    k = KPIFactory(unit=unit, better="higher", comparison="", target=None)
    observation(k, value=value).full_clean()


# --- PerformanceObservation -----------------------------------------------------------------


def performance(person, metric="csat", start=JAN_1, end=JAN_31, value="95"):
    return PerformanceObservation(
        person=person, metric=metric, period_start=start, period_end=end, value=Decimal(value)
    )


def test_a_well_formed_performance_observation_is_valid():
    performance(PersonFactory()).full_clean()


def test_performance_period_order_is_enforced_by_the_database():
    refused_by_database(performance(PersonFactory(), start=D(2024, 2, 1), end=D(2024, 1, 1)))


def test_performance_period_order_is_enforced_by_full_clean():
    errors = invalid(performance(PersonFactory(), start=D(2024, 2, 1), end=D(2024, 1, 1)))
    assert errors["period_end"] == ["A period cannot end before it starts."]


def test_duplicate_performance_observation_is_refused_by_the_database():
    person = PersonFactory()
    performance(person).save()
    refused_by_database(performance(person, value="90"))


def test_duplicate_performance_observation_is_refused_by_full_clean():
    person = PersonFactory()
    performance(person).save()
    errors = invalid(performance(person, value="90"))
    assert len(errors[NON_FIELD_ERRORS]) == 1
    assert "already exists" in errors[NON_FIELD_ERRORS][0]


def test_other_metric_in_the_same_period_is_a_new_observation():
    person = PersonFactory()
    performance(person).save()
    performance(person, metric="tickets_per_day", value="30").full_clean()


@pytest.mark.parametrize("value", ["-0.01", "100.01"])
def test_performance_csat_lies_between_0_and_100(value):
    errors = invalid(performance(PersonFactory(), value=value))
    assert errors == {"value": ["CSAT is a percentage between 0 and 100."]}


def test_tickets_per_day_is_not_held_to_a_percentage():
    performance(PersonFactory(), metric="tickets_per_day", value="150").full_clean()


# --- HeadcountSnapshot ----------------------------------------------------------------------


def snapshot(total, filled, open_, planned):
    return HeadcountSnapshot(
        taken_at=timezone.now(),
        total=total,
        filled=filled,
        open=open_,
        planned=planned,
        breakdown={"tier": {}},
    )


def test_snapshot_that_adds_up_is_valid():
    snapshot(10, 6, 3, 1).full_clean()


def test_snapshot_total_is_enforced_by_the_database():
    refused_by_database(snapshot(10, 6, 3, 0))


def test_snapshot_total_is_enforced_by_full_clean():
    errors = invalid(snapshot(10, 6, 3, 0))
    assert errors[NON_FIELD_ERRORS] == ["Filled, open and planned must add up to the total."]


# --- Location and Person --------------------------------------------------------------------


def test_a_well_formed_location_is_valid():
    LocationFactory.build().full_clean()


@pytest.mark.parametrize("zone", ["Europe/Atlantis", "CEST", ""])
def test_location_timezone_must_be_known(zone):
    assert "timezone" in invalid(LocationFactory.build(timezone=zone))


@pytest.mark.parametrize("country", ["I1", "1E", "I-", "IRL"])
def test_location_country_is_a_two_letter_code(country):
    assert "country" in invalid(LocationFactory.build(country=country))


def test_location_country_code_is_upper_cased():
    location = LocationFactory.build(country="ie")
    location.full_clean()
    assert location.country == "IE"


def test_location_code_is_unique_in_the_database():
    LocationFactory.build(code="dub").save()
    refused_by_database(LocationFactory.build(code="dub"))


def test_a_well_formed_person_is_valid():
    PersonFactory.build(email="ada@example.com").full_clean()


def test_person_email_is_unique_in_the_database():
    PersonFactory.build(email="ada@example.com").save()
    refused_by_database(PersonFactory.build(email="ada@example.com"))


def test_person_email_is_unique_in_full_clean():
    PersonFactory.build(email="ada@example.com").save()
    errors = invalid(PersonFactory.build(email="ada@example.com"))
    assert list(errors) == [NON_FIELD_ERRORS]
    assert errors[NON_FIELD_ERRORS] == ["Another person already has this email address."]


def test_people_without_email_do_not_collide():
    PersonFactory.build(email="").save()
    PersonFactory.build(email="").save()
    PersonFactory.build(email="").full_clean()
    assert Person.objects.filter(email="").count() == 2


def test_person_employee_id_is_unique_in_the_database():
    PersonFactory.build(employee_id="E1").save()
    refused_by_database(PersonFactory.build(employee_id="E1"))


def test_person_employee_id_is_unique_in_full_clean():
    PersonFactory.build(employee_id="E1").save()
    again = PersonFactory.build(employee_id="E1", email="someone.else@example.com")
    assert list(invalid(again)) == ["employee_id"]


def test_person_email_must_be_an_address():
    assert list(invalid(PersonFactory.build(email="not-an-address"))) == ["email"]


def test_person_full_name():
    assert PersonFactory.build(given_name="Ada", family_name="Byrne").full_name == "Ada Byrne"
