"""Limits per kind of report ("2–3 team leads and/or 1–10 agents", seed 001): the model and
its admin, the catalogue, the engine in SQL and in Python judging them alike, the findings'
words, the role page, the roles API and the audit trail."""

import importlib
from dataclasses import asdict
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from orgdesign.kernel.audit import acting
from roles.models import Role, SpanLimit, SpanRule
from staffing import services
from staffing.history import feeds
from staffing.models import Finding, PendingSpanCheck, Position
from staffing.scenarios.read import Shape
from staffing.scope import SYSTEM
from staffing.spans import engine, marks
from tests.factories import UserFactory, make_position, make_team, session_client

pytestmark = pytest.mark.django_db
K, S = Finding.Kind, Finding.Severity
DIRECT = (K.TOO_FEW_DIRECT, K.TOO_MANY_DIRECT)


def direct_findings(position) -> dict[str, Finding]:
    found = Finding.objects.open().filter(position=position, kind__in=DIRECT)
    return {f.kind: f for f in found}


@pytest.fixture
def director(framework):
    return make_position("Director", "director")


def manager_with(director, leads: int = 0, agents: int = 0, **kwargs) -> Position:
    """An Advocate Manager with ``leads`` team leads (no teams of their own) and ``agents``
    advocates reporting directly."""
    manager = make_position("Manager", "advocate-manager", director, **kwargs)
    for n in range(leads):
        make_position(f"Lead {n}", "team-lead", manager)
    make_team(manager, agents)
    return manager


# --- the model and the catalogue ---------------------------------------------------------


def test_a_limit_runs_from_low_to_high(framework):
    rule = SpanRule.objects.get(role__code="advocate-manager")
    limit = SpanLimit(rule=rule, name="senior advocate", min_count=4, max_count=2)
    with pytest.raises(ValidationError) as refused:
        limit.full_clean()
    assert "max_count" in refused.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        limit.save()  # the database refuses it too
    SpanLimit(rule=rule, name="senior advocate", min_count=2, max_count=2).full_clean()


def test_limit_words():
    assert SpanLimit.limit_text("team lead", 2, 3) == "2–3 team leads or none"
    assert SpanLimit.limit_text("agent", None, 10) == "up to 10 agents"
    assert SpanLimit.limit_text("team lead", None, 1) == "up to 1 team lead"
    assert SpanLimit.limit_text("agent", 1, None) == "1 or more agents or none"


def test_load_framework_keeps_an_edited_limit_and_resets_it(framework):
    limit = SpanLimit.objects.get(rule__role__code="advocate-manager", name="team lead")
    limit.max_count = 4
    limit.save()
    limit.roles.remove(Role.objects.get(code="team-lead"))
    call_command("load_framework", stdout=StringIO())
    limit.refresh_from_db()
    assert limit.max_count == 4 and not limit.roles.exists()
    assert SpanLimit.objects.count() == 2  # none added twice
    call_command("load_framework", reset=True, stdout=StringIO())
    limit.refresh_from_db()
    assert limit.max_count == 3
    assert [r.code for r in limit.roles.all()] == ["team-lead"]


def test_the_migration_moves_a_rule_still_at_the_old_figures(framework):
    """An install whose Advocate Manager rule still has the 2–10 shipped before gets the
    limits per kind and the rule's new figures; an edited rule is left alone."""
    from django.apps import apps

    step = importlib.import_module(
        "roles.migrations.0007_span_limits_per_kind_of_report"
    ).limits_for_the_advocate_manager
    rule = SpanRule.objects.get(role__code="advocate-manager")
    SpanLimit.objects.all().delete()
    SpanRule.objects.filter(pk=rule.pk).update(min_direct=2, max_direct=9)  # edited
    step(apps, None)
    assert not SpanLimit.objects.exists()
    SpanRule.objects.filter(pk=rule.pk).update(min_direct=2, max_direct=10)
    step(apps, None)
    rule.refresh_from_db()
    assert (rule.min_direct, rule.max_direct) == (1, None)
    shipped = {
        (limit.name, limit.min_count, limit.max_count, frozenset(r.code for r in limit.roles.all()))
        for limit in rule.limits.all()
    }
    call_command("load_framework", reset=True, stdout=StringIO())
    assert shipped == {
        (limit.name, limit.min_count, limit.max_count, frozenset(r.code for r in limit.roles.all()))
        for limit in rule.limits.all()
    }
    assert rule.history.first().history_type == "~"
    assert SpanLimit.history.filter(history_change_reason="history started").count() == 2


# --- the engine: each case on an organization built for it ---------------------------------


def test_more_team_leads_than_the_limit(director):
    manager = manager_with(director, leads=4, agents=3)
    marks.recompute()
    (f,) = direct_findings(manager).values()
    assert f.kind == K.TOO_MANY_DIRECT
    assert (f.measured, f.allowed_min, f.allowed_max, f.severity) == (4, 2, 3, S.WARNING)
    assert f.message == (
        "4 team leads; an Advocate Manager should have 2–3 team leads (vacancies included)."
    )


def test_one_team_lead_is_too_few_but_none_is_not(director):
    """The minimum of a kind applies only when the manager has some of that kind."""
    one = manager_with(director, leads=1, agents=5)
    agents_only = manager_with(director, agents=5)
    leads_only = manager_with(director, leads=3)
    nobody = manager_with(director)
    marks.recompute()
    (f,) = direct_findings(one).values()
    assert (f.kind, f.measured, f.allowed_min, f.severity) == (K.TOO_FEW_DIRECT, 1, 2, S.CRITICAL)
    assert f.message == (
        "1 team lead; an Advocate Manager should have 2–3 team leads or none (vacancies included)."
    )
    assert direct_findings(agents_only) == {} and direct_findings(leads_only) == {}
    (empty,) = direct_findings(nobody).values()  # the rule's own minimum: some report
    assert empty.message == (
        "0 direct reports; an Advocate Manager should have 1 or more (vacancies included)."
    )


def test_two_kinds_over_their_limits_share_one_finding(director):
    manager = manager_with(director, leads=4, agents=16)
    marks.recompute()
    (f,) = direct_findings(manager).values()
    assert f.message == (
        "4 team leads and 16 agents; an Advocate Manager should have 2–3 team leads, and "
        "1–10 agents (vacancies included)."
    )
    # the worst one's figures: 16 of at most 10 is 60 % over, 4 of 3 is 33 %
    assert (f.measured, f.allowed_max, f.severity) == (16, 10, S.CRITICAL)
    for lead in Position.objects.filter(parent=manager, role__code="team-lead")[:2]:
        services.position_delete(actor=None, position=lead)
    marks.recompute_pending()
    (f,) = direct_findings(manager).values()  # the same finding, now about the agents only
    assert f.message.startswith("16 agents; ") and (f.measured, f.allowed_max) == (16, 10)


def test_the_rules_own_limit_and_a_kind_broken_together(director):
    SpanRule.objects.filter(role__code="advocate-manager").update(max_direct=12)
    manager = manager_with(director, leads=2, agents=11)
    marks.recompute()
    (f,) = direct_findings(manager).values()
    assert f.message == (
        "13 direct reports and 11 agents; an Advocate Manager should have 1–12 direct "
        "reports, and 1–10 agents (vacancies included)."
    )


def test_a_rule_counting_filled_positions_counts_each_kind_so(director):
    SpanRule.objects.filter(role__code="advocate-manager").update(counts="filled")
    manager = manager_with(director, leads=1, agents=4)
    make_position("Open lead", "team-lead", manager, holder=None)
    vacant_only = manager_with(director, agents=4)
    make_position("Open lead", "team-lead", vacant_only, holder=None)
    marks.recompute()
    (f,) = direct_findings(manager).values()  # 2 leads in all, 1 filled
    assert (f.measured, f.measured_all, f.measured_filled) == (1, 2, 1)
    assert "(filled positions only)" in f.message
    assert direct_findings(vacant_only) == {}  # no filled lead: none of that kind counted


def test_changing_a_limit_marks_the_positions_of_its_role(director):
    manager = manager_with(director, leads=3)
    lead = Position.objects.filter(parent=manager).first()
    marks.recompute()
    PendingSpanCheck.objects.all().delete()
    limit = SpanLimit.objects.get(rule__role__code="advocate-manager", name="team lead")
    limit.max_count = 2
    limit.save()
    assert set(PendingSpanCheck.objects.values_list("position_id", flat=True)) == {manager.pk}
    marks.recompute_pending()
    assert direct_findings(manager)[K.TOO_MANY_DIRECT].allowed_max == 2
    PendingSpanCheck.objects.all().delete()
    limit.roles.clear()
    assert set(PendingSpanCheck.objects.values_list("position_id", flat=True)) == {manager.pk}
    marks.recompute_pending()
    assert direct_findings(manager) == {}
    PendingSpanCheck.objects.all().delete()
    lead.role.span_limits.add(limit)  # from the role's side
    assert manager.pk in PendingSpanCheck.objects.values_list("position_id", flat=True)


# --- SQL and Python judge alike -----------------------------------------------------------


def live_shape() -> Shape:
    rows = Position.objects.values_list("pk", "parent_id", "role_id", "holder_id", "title")
    return Shape({pk: (parent, role, holder is not None, title)
                  for pk, parent, role, holder, title in rows})  # fmt: skip


def as_dicts(found) -> dict:
    return {c.key: asdict(c) for c in found}


def test_sql_and_python_judge_every_kind_alike(synapse):
    """The demo organization, with managers made to break the limits per kind every way:
    the engine's SQL (with and without its prefilter), its portable ORM path and the
    drafts' Python judge find the same findings, word for word."""
    managers = {p.title: p for p in Position.objects.filter(role__code="advocate-manager")}
    dublin, london = managers["Advocate Manager, Dublin"], managers["Advocate Manager, London"]
    for lead in Position.objects.filter(parent=london, role__code="team-lead"):
        services.position_move(actor=None, position=lead, new_parent=dublin)  # 4 leads
    make_team(london, 11)  # agents only, too many
    make_team(managers["Advocate Manager, Madison"], 2, holder=None)  # leads and agents
    lone = make_position("Lone lead", "team-lead", managers["Advocate Manager, Tier 3"])
    make_team(lone, 6)  # 1 lead beside 12 agents
    SpanRule.objects.filter(role__code="team-lead").update(counts="filled")
    limit = SpanLimit.objects.create(
        rule=SpanRule.objects.get(role__code="team-lead"), name="senior advocate", max_count=1
    )
    limit.roles.add(Role.objects.get(code="senior-advocate"))

    sql, checked = engine.evaluate()
    everything, _ = engine.evaluate(prefilter=False)
    assert sql == everything and checked > 20
    kinds_broken = {c.message for c in sql.values() if c.kind in DIRECT}
    assert any(m.startswith("4 team leads;") for m in kinds_broken)
    assert any(m.startswith("11 agents;") for m in kinds_broken)
    assert any(m.startswith("1 team lead;") for m in kinds_broken)
    assert any("senior advocates" in m for m in kinds_broken)
    assert as_dicts(sql.values()) == as_dicts(live_shape().judge())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(connection, "vendor", "sqlite")  # the ORM path the demo's SQLite takes
        portable, _ = engine.evaluate()
    assert as_dicts(portable.values()) == as_dicts(sql.values())


# --- where findings and limits are shown ----------------------------------------------------


def test_the_role_page_shows_the_limits_per_kind(framework):
    client = session_client(UserFactory())
    html = client.get("/roles/advocate-manager/").content.decode()
    assert "Direct reports by kind" in html
    assert "2–3 team leads or none" in html and "1–10 agents or none" in html
    assert "Senior Technical Support Architect" in html.split('id="span-limits"')[1]
    assert "Direct reports by kind" not in client.get("/roles/team-lead/").content.decode()
    catalogue = client.get("/roles/").content.decode()
    assert "1 or more direct (2–3 team leads or none; 1–10 agents or none)" in catalogue


def test_the_findings_api_names_the_kind(director, admin_user):
    manager = manager_with(director, leads=4)
    marks.recompute()
    client = session_client(admin_user)
    found = client.get("/api/findings/", {"position": manager.pk}).json()["results"]
    messages = {f["kind"]: f["message"] for f in found}
    assert messages[K.TOO_MANY_DIRECT].startswith("4 team leads; ")


def test_a_limit_changed_in_the_admin_is_validated_and_audited(framework, admin_user):
    rule = SpanRule.objects.get(role__code="advocate-manager")
    limit = rule.limits.get(name="team lead")
    client = session_client(admin_user)
    url = f"/admin/roles/spanrule/{rule.pk}/change/"

    def form(**changes) -> dict:
        limits = list(rule.limits.all())
        data = {
            "role": rule.role_id,
            "min_direct": rule.min_direct or "",
            "max_direct": rule.max_direct or "",
            "min_team": rule.min_team or "",
            "max_team": rule.max_team or "",
            "counts": rule.counts,
            "allowed_reports": [r.pk for r in rule.allowed_reports.all()],
            "notes": rule.notes,
            "limits-TOTAL_FORMS": len(limits),
            "limits-INITIAL_FORMS": len(limits),
        }
        for n, each in enumerate(limits):
            row = {
                "id": each.pk,
                "rule": rule.pk,
                "name": each.name,
                "roles": [r.pk for r in each.roles.all()],
                "min_count": each.min_count or "",
                "max_count": each.max_count or "",
                **(changes if each == limit else {}),
            }
            data.update({f"limits-{n}-{name}": value for name, value in row.items()})
        return data

    refused = client.post(url, form(min_count=5, max_count=2))
    assert refused.status_code == 200
    assert "The upper limit must not be below the lower limit." in refused.content.decode()
    limit.refresh_from_db()
    assert (limit.min_count, limit.max_count) == (2, 3)  # nothing written
    saved = client.post(url, form(max_count=4))
    assert saved.status_code == 302, saved.content.decode()[:3000]
    limit.refresh_from_db()
    assert limit.max_count == 4
    latest = limit.history.first()
    assert (latest.history_type, latest.history_user, latest.max_count) == ("~", admin_user, 4)


def test_the_history_feed_lists_a_limit_with_its_roles(framework, admin_user):
    limit = SpanLimit.objects.get(rule__role__code="advocate-manager", name="agent")
    with acting(admin_user, "admin edit"):
        limit.roles.remove(Role.objects.get(code="architect"))
    (change,) = feeds.change_feed(SYSTEM, feeds.FeedQuery(kinds=("span_limit",)), limit=1)[0]
    assert change.label == "Span of control for Advocate Manager: agents"
    (roles,) = [c for c in change.changes if c.field == "roles"]
    assert "Technical Support Architect" in roles.before.split(", ")
    assert "Technical Support Architect" not in roles.after.split(", ")


def test_the_dashboard_counts_a_break_per_kind(director):
    from metrics import dashboard

    manager_with(director, leads=1, agents=3)  # within 1 or more, short of team leads
    manager_with(director, leads=2, agents=3)
    (managers,) = [f for f in dashboard.span_figures(None) if f.role_code == "advocate-manager"]
    judged = managers.direct_judged
    assert (judged["below"], judged["within"], judged["above"]) == (1, 1, 0)
    assert judged["kinds"] == "2–3 team leads or none; 1–10 agents or none"
