"""The default catalogue holds DESIGN.md's framework table, figure by figure, and
``manage.py load_framework`` refreshes it idempotently, keeping local edits unless --reset."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from metrics.models import KPI
from roles.models import PromotionPath, Role, Skill, SpanLimit, SpanRule
from tiers.models import Squad, Tier

pytestmark = pytest.mark.django_db

SHIPPED_COUNTS = {
    Tier: 6,
    Squad: 4,
    Role: 23,
    PromotionPath: 19,
    SpanRule: 7,
    Skill: 15,
    KPI: 11,
}


def counts() -> dict:
    return {model: model.objects.count() for model in SHIPPED_COUNTS}


def load(**options) -> str:
    out = io.StringIO()
    call_command("load_framework", stdout=out, **options)
    return out.getvalue()


def dec(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


# --- roles and CSAT targets -----------------------------------------------------------------

# code, tier, CSAT target (%)
CSAT_TARGETS = [
    ("associate-advocate", "t1", 90),
    ("advocate", "t1", 95),
    ("senior-advocate", "t1", 96),
    ("tse", "t2", 94),
    ("senior-tse", "t2", 95),
    ("architect", "t3", 90),
    ("senior-architect", "t3", 92),
    ("team-lead", "mgmt", None),
    ("advocate-manager", "mgmt", None),
    ("senior-advocate-manager", "mgmt", None),
    ("director", "mgmt", None),
    ("vp", "mgmt", None),
    ("systems-specialist", "ops", None),
    ("senior-systems-specialist", "ops", None),
    ("systems-analyst", "ops", None),
    ("senior-systems-analyst", "ops", None),
    ("tools-developer", "ops", None),
    ("senior-tools-developer", "ops", None),
    ("project-manager", "ops", None),
    ("program-manager", "ops", None),
    ("ops-manager", "ops", None),
    ("senior-ops-manager", "ops", None),
    ("ops-director", "ops", None),
]


@pytest.mark.parametrize(("code", "tier", "csat"), CSAT_TARGETS)
def test_role_csat_target_and_tier(roles, code, tier, csat):
    role = roles[code]
    assert role.csat_target == dec(csat)
    assert role.tier.code == tier


def test_catalogue_holds_exactly_the_tabled_roles(roles):
    assert set(roles) == {code for code, _, _ in CSAT_TARGETS}


@pytest.mark.parametrize(
    ("code", "level"),
    [("associate-advocate", 1), ("advocate", 2), ("senior-advocate", 3), ("tse", 1),
     ("senior-tse", 2), ("architect", 3), ("senior-architect", 4), ("team-lead", 1),
     ("advocate-manager", 2), ("senior-advocate-manager", 3), ("director", 4), ("vp", 5)],
)  # fmt: skip
def test_role_level_climbs_its_track(roles, code, level):
    assert roles[code].level == level


def test_associate_is_the_entry_role_of_the_advocacy_track(roles):
    advocacy = [r for r in roles.values() if r.track == Role.Track.ADVOCACY]
    assert min(advocacy, key=lambda r: r.level).code == "associate-advocate"


# --- promotion prerequisites ----------------------------------------------------------------

# from, to, min months, max months, approximate
PROMOTIONS = [
    ("associate-advocate", "advocate", 3, None, False),
    ("advocate", "senior-advocate", 9, None, True),
    ("advocate", "tse", 12, None, False),
    ("senior-tse", "architect", 18, None, False),
    ("architect", "senior-architect", 24, None, False),
    ("advocate", "team-lead", 9, None, True),
    ("team-lead", "advocate-manager", 12, None, False),
    ("advocate-manager", "senior-advocate-manager", 18, None, False),
    ("systems-specialist", "senior-systems-specialist", 18, None, False),
    ("senior-systems-specialist", "systems-analyst", 12, 24, False),
    ("systems-analyst", "senior-systems-analyst", 24, None, False),
    ("advocate", "systems-specialist", 24, 36, False),
]


@pytest.mark.parametrize(("src", "dst", "low", "high", "about"), PROMOTIONS)
def test_promotion_prerequisite(framework, src, dst, low, high, about):
    path = PromotionPath.objects.get(from_role__code=src, to_role__code=dst)
    assert (path.min_months, path.max_months, path.approximate) == (low, high, about)


@pytest.mark.parametrize(
    ("src", "dst", "shown"),
    [("associate-advocate", "advocate", "3+ months"),
     ("advocate", "senior-advocate", "about 9 months"),
     ("senior-systems-specialist", "systems-analyst", "12–24 months"),
     ("advocate", "systems-specialist", "24–36 months"),
     ("tse", "senior-tse", "no minimum")],
)  # fmt: skip
def test_promotion_prerequisite_as_shown(framework, src, dst, shown):
    path = PromotionPath.objects.get(from_role__code=src, to_role__code=dst)
    assert path.months_display == shown


def test_technical_support_engineer_is_also_hired_from_outside(framework):
    path = PromotionPath.objects.get(from_role__code="advocate", to_role__code="tse")
    assert path.external_hires_allowed is True


def test_associate_to_advocate_is_an_internal_step_only(framework):
    path = PromotionPath.objects.get(from_role__code="associate-advocate")
    assert path.external_hires_allowed is False


def test_senior_tse_follows_tse_without_a_minimum(framework):
    path = PromotionPath.objects.get(from_role__code="tse", to_role__code="senior-tse")
    assert (path.min_months, path.max_months) == (None, None)


# --- external hires -------------------------------------------------------------------------

# code, years from, years to
EXTERNAL_HIRE_YEARS = [
    ("associate-advocate", 1, 2),
    ("tools-developer", 4, None),
    ("senior-tools-developer", 5, None),
    ("project-manager", 2, 3),
    ("program-manager", 3, 5),
]


@pytest.mark.parametrize(("code", "low", "high"), EXTERNAL_HIRE_YEARS)
def test_external_hire_years(roles, code, low, high):
    role = roles[code]
    assert (role.external_hire_years_min, role.external_hire_years_max) == (dec(low), dec(high))


@pytest.mark.parametrize(
    ("code", "shown"),
    [("associate-advocate", "1–2 years, helping customers in any setting"),
     ("tools-developer", "4+ years, building web applications"),
     ("program-manager", "3–5 years, managing programs"),
     ("advocate", "—")],
)  # fmt: skip
def test_external_hire_as_shown(roles, code, shown):
    assert roles[code].external_hire_display == shown


# --- span of control ------------------------------------------------------------------------

# role, min direct, max direct, min team, max team
SPAN_RULES = [
    ("team-lead", 6, 10, None, None),
    ("advocate-manager", 1, None, 16, 25),  # and limits per kind of report (below)
    ("senior-advocate-manager", 2, 3, 48, 150),
    ("director", None, None, None, 1000),
    ("ops-manager", 2, 10, None, None),
    ("senior-ops-manager", 2, 10, None, None),
    ("ops-director", None, None, None, 250),
]


@pytest.mark.parametrize(("code", "min_d", "max_d", "min_t", "max_t"), SPAN_RULES)
def test_span_rule(framework, code, min_d, max_d, min_t, max_t):
    rule = SpanRule.objects.get(role__code=code)
    assert (rule.min_direct, rule.max_direct) == (min_d, max_d)
    assert (rule.min_team, rule.max_team) == (min_t, max_t)


def test_only_the_tabled_managing_roles_have_span_rules(framework):
    ruled = set(SpanRule.objects.values_list("role__code", flat=True))
    assert ruled == {code for code, *_ in SPAN_RULES}


def test_team_lead_supervises_agents_only(framework):
    rule = SpanRule.objects.get(role__code="team-lead")
    allowed = set(rule.allowed_reports.values_list("code", flat=True))
    assert allowed == {
        "associate-advocate", "advocate", "senior-advocate", "tse", "senior-tse", "architect",
        "senior-architect",
    }  # fmt: skip


def test_senior_manager_has_managers_as_direct_reports(framework):
    rule = SpanRule.objects.get(role__code="senior-advocate-manager")
    assert list(rule.allowed_reports.values_list("code", flat=True)) == ["advocate-manager"]


def test_manager_may_have_team_leads_and_agents_report(framework):
    rule = SpanRule.objects.get(role__code="advocate-manager")
    allowed = set(rule.allowed_reports.values_list("code", flat=True))
    assert {"team-lead", "advocate", "associate-advocate"} <= allowed
    assert "advocate-manager" not in allowed


def test_manager_has_2_to_3_team_leads_and_or_1_to_10_agents(framework):
    """Seed 001: an Advocate Manager leads 2–3 team leads and/or 1–10 advocates; the
    rule's own minimum of 1 asks for some report of either kind."""
    rule = SpanRule.objects.get(role__code="advocate-manager")
    limits = [
        (limit.name, limit.min_count, limit.max_count, {r.code for r in limit.roles.all()})
        for limit in rule.limits.all()
    ]
    assert limits == [
        ("team lead", 2, 3, {"team-lead"}),
        ("agent", 1, 10, set(rule.allowed_reports.values_list("code", flat=True)) - {"team-lead"}),
    ]
    assert not SpanLimit.objects.exclude(rule=rule).exists()


def test_team_lead_spends_80_percent_supervising(roles):
    assert roles["team-lead"].supervision_share == Decimal(80)


def test_senior_manager_is_at_most_half_hands_on(roles):
    assert roles["senior-advocate-manager"].hands_on_share_max == Decimal(50)


# --- tiers and squads -----------------------------------------------------------------------


def tier(code: str) -> Tier:
    return Tier.objects.get(code=code)


def test_tier_0_is_self_service_and_not_staffed(framework):
    t0 = tier("t0")
    assert t0.staffed is False
    assert t0.kind == Tier.Kind.SELF_SERVICE
    assert t0.target_handling_minutes is None


def test_tier_1_takes_15_minutes_triages_and_answers_phone_and_chat(framework):
    t1 = tier("t1")
    assert t1.staffed is True
    assert t1.target_handling_minutes == 15
    assert t1.triages is True
    assert {"phone", "chat"} <= set(t1.channels)


def test_only_tier_1_triages(framework):
    assert list(Tier.objects.filter(triages=True).values_list("code", flat=True)) == ["t1"]


def test_tier_2_takes_up_to_30_minutes(framework):
    assert tier("t2").target_handling_minutes == 30


def test_tier_3_has_no_time_limit_and_5_to_10_percent_of_volume(framework):
    t3 = tier("t3")
    assert t3.target_handling_minutes is None
    assert (t3.volume_share_min, t3.volume_share_max) == (Decimal(5), Decimal(10))
    assert t3.volume_share_display == "5–10 %"


def test_escalation_chain_runs_t0_t1_t2_t3(framework):
    chain, current = [], tier("t0")
    while current is not None:
        chain.append(current.code)
        current = current.escalates_to
    assert chain == ["t0", "t1", "t2", "t3"]


def test_tiers_are_ranked_in_order(framework):
    assert list(Tier.objects.values_list("code", flat=True)) == [
        "t0", "t1", "t2", "t3", "ops", "mgmt",
    ]  # fmt: skip


def test_tier_2_has_one_entry_squad(framework):
    entry = Squad.objects.filter(tier__code="t2", kind=Squad.Kind.ENTRY)
    assert list(entry.values_list("code", flat=True)) == ["t2-general"]


def test_tier_2_has_three_specialist_squads_each_with_a_portfolio(framework):
    specialists = Squad.objects.filter(tier__code="t2", kind=Squad.Kind.SPECIALIST)
    assert specialists.count() == 3
    assert all(len(squad.portfolio_items) >= 1 for squad in specialists)


def test_all_squads_belong_to_tier_2(framework):
    assert set(Squad.objects.values_list("tier__code", flat=True)) == {"t2"}


# --- KPI targets ----------------------------------------------------------------------------

# code, unit, better, comparison, target, review period
KPI_TARGETS = [
    ("fcr", "percent", "higher", "gte", 75, "monthly"),
    ("csat", "score5", "higher", "gt", "4.5", "monthly"),
    ("nps", "nps", "higher", "gt", 50, "quarterly"),
    ("aht", "minutes", "lower", "lt", 8, "monthly"),
    ("sla", "percent", "higher", "gte", 95, "monthly"),
    ("resolution-time", "hours", "lower", "lt", 24, "monthly"),
    ("self-service", "percent", "higher", "gte", 40, "monthly"),
    ("kb-use", "percent", "higher", "gte", 60, "monthly"),
    ("retention", "percent", "higher", "gt", 95, "quarterly"),
    ("cost-share", "percent", "lower", "lt", 8, "yearly"),
    ("asat", "score5", "higher", "", None, "quarterly"),
]


@pytest.mark.parametrize(("code", "unit", "better", "cmp", "target", "period"), KPI_TARGETS)
def test_kpi_target(framework, code, unit, better, cmp, target, period):
    kpi = KPI.objects.get(code=code)
    assert (kpi.unit, kpi.better, kpi.comparison) == (unit, better, cmp)
    assert kpi.target == dec(target)
    assert kpi.review_period == period


def test_catalogue_holds_exactly_the_tabled_kpis(framework):
    assert set(KPI.objects.values_list("code", flat=True)) == {row[0] for row in KPI_TARGETS}


@pytest.mark.parametrize(
    ("code", "shown"),
    [("fcr", "at least 75 %"), ("csat", "above 4.5 / 5"), ("nps", "above 50"),
     ("aht", "below 8 min"), ("resolution-time", "below 24 h"), ("asat", "no target")],
)  # fmt: skip
def test_kpi_target_as_shown(framework, code, shown):
    assert KPI.objects.get(code=code).target_display == shown


# --- load_framework -------------------------------------------------------------------------


def test_load_framework_fills_an_empty_database(empty_catalogue):
    assert set(counts().values()) == {0}
    out = load()
    assert counts() == SHIPPED_COUNTS
    assert "roles: created: 23" in out
    assert "Framework catalogue loaded." in out


def test_load_framework_works_right_after_migrate(empty_catalogue):
    call_command("migrate", verbosity=0)
    load()
    assert counts() == SHIPPED_COUNTS
    assert Role.objects.get(code="advocate").csat_target == Decimal(95)


def test_second_run_creates_nothing_and_changes_no_counts(framework):
    before = counts()
    out = load()
    assert counts() == before == SHIPPED_COUNTS
    assert "created" not in out
    assert "kept local edit" not in out
    assert "roles: unchanged: 23" in out


def test_second_run_leaves_every_row_as_it_was(framework):
    before = list(Role.objects.order_by("pk").values())
    paths = list(PromotionPath.objects.order_by("pk").values())
    load()
    assert list(Role.objects.order_by("pk").values()) == before
    assert list(PromotionPath.objects.order_by("pk").values()) == paths


@pytest.fixture
def edited(framework):
    """A locally edited CSAT target and span-rule maximum."""
    Role.objects.filter(code="advocate").update(csat_target=Decimal("97"))
    SpanRule.objects.filter(role__code="team-lead").update(max_direct=12)


def test_rerun_keeps_a_local_csat_target(edited):
    load()
    assert Role.objects.get(code="advocate").csat_target == Decimal(97)


def test_rerun_keeps_a_local_span_rule_maximum(edited):
    load()
    assert SpanRule.objects.get(role__code="team-lead").max_direct == 12


def test_rerun_says_which_local_edits_it_kept(edited):
    out = load()
    assert "roles: kept local edit: 1" in out
    assert "span rules: kept local edit: 1" in out
    assert "Kept 2 locally edited row(s); use --reset to undo them." in out


def test_rerun_with_local_edits_changes_no_counts(edited):
    load()
    assert counts() == SHIPPED_COUNTS


def test_reset_restores_the_shipped_values(edited):
    out = load(reset=True)
    assert Role.objects.get(code="advocate").csat_target == Decimal(95)
    assert SpanRule.objects.get(role__code="team-lead").max_direct == 10
    assert "roles: reset: 1" in out
    assert "span rules: reset: 1" in out
    assert "Kept" not in out


def test_reset_restores_edited_promotion_months_and_kpi_target(framework):
    PromotionPath.objects.filter(to_role__code="architect").update(min_months=6)
    KPI.objects.filter(code="fcr").update(target=Decimal(80))
    load(reset=True)
    assert PromotionPath.objects.get(to_role__code="architect").min_months == 18
    assert KPI.objects.get(code="fcr").target == Decimal(75)


def test_reset_restores_a_changed_escalation_target(framework):
    Tier.objects.filter(code="t1").update(escalates_to=tier("t3"))
    load(reset=True)
    assert tier("t1").escalates_to.code == "t2"


def test_rerun_keeps_a_changed_escalation_target(framework):
    Tier.objects.filter(code="t1").update(escalates_to=tier("t3"))
    load()
    assert tier("t1").escalates_to.code == "t3"


def test_rerun_keeps_an_escalation_removed_locally(framework):
    Tier.objects.filter(code="t1").update(escalates_to=None)
    load()
    assert tier("t1").escalates_to is None


def test_rerun_keeps_allowed_reports_cleared_to_mean_any_role(framework):
    SpanRule.objects.get(role__code="director").allowed_reports.clear()
    load()
    assert SpanRule.objects.get(role__code="director").allowed_reports.count() == 0


def test_deleted_role_is_recreated_with_shipped_values(framework):
    Role.objects.filter(code="senior-architect").delete()
    out = load()
    role = Role.objects.get(code="senior-architect")
    assert role.csat_target == Decimal(92)
    assert role.tier.code == "t3"
    assert "roles: created: 1" in out
    assert counts() == SHIPPED_COUNTS


def test_deleted_role_gets_its_paths_span_rule_and_skills_back(framework):
    Role.objects.filter(code="team-lead").delete()
    load()
    role = Role.objects.get(code="team-lead")
    assert PromotionPath.objects.get(from_role__code="advocate", to_role=role).min_months == 9
    assert PromotionPath.objects.get(from_role=role).to_role.code == "advocate-manager"
    assert (role.span_rule.min_direct, role.span_rule.max_direct) == (6, 10)
    assert role.skills.count() == 6


def test_deleted_role_may_again_report_to_its_shipped_managers(framework):
    Role.objects.filter(code="team-lead").delete()
    load()
    rule = SpanRule.objects.get(role__code="advocate-manager")
    assert rule.allowed_reports.filter(code="team-lead").exists()
