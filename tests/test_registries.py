"""What the apps register in their ``AppConfig.ready()`` so that no lower app (nor the
kernel) names a higher one: the catalogue's tables, the groups' permissions and the links
from a lower app's page to a higher app's page."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.sql import emit_post_migrate_signal

from metrics.models import KPI
from orgdesign.kernel import catalogue_version, links
from tests.factories import UserFactory, session_client

pytestmark = pytest.mark.django_db

# --- the catalogue's version -----------------------------------------------------------------


def test_every_catalogue_table_is_tracked():
    assert catalogue_version.tracked() == {
        "tiers.Tier": (),
        "tiers.Squad": (),
        "roles.Role": ("skills",),
        "roles.Skill": (),
        "roles.PromotionPath": (),
        "roles.SpanRule": ("allowed_reports",),
        "roles.SpanLimit": ("roles",),
        "metrics.KPI": (),
    }


def test_a_kpi_change_bumps_the_catalogue_version(framework):
    client = session_client(UserFactory(groups=["hr"]))
    etag = client.get("/api/tiers/")["ETag"]
    before = catalogue_version.current().counter
    kpi = KPI.objects.get(code="fcr")
    kpi.name = f"{kpi.name} (first contact)"
    kpi.save()
    assert catalogue_version.current().counter == before + 1
    assert client.get("/api/tiers/", HTTP_IF_NONE_MATCH=etag).status_code == 200


# --- the groups' permissions -----------------------------------------------------------------

# Each group's permissions as staffing/groups.py's GROUP_PERMISSIONS gave them before the apps
# granted their own (issue 23): the registry must give exactly these.
VIEW_CATALOGUE = {
    ("tiers", "view_tier"), ("tiers", "view_squad"),
    ("roles", "view_role"), ("roles", "view_promotionpath"), ("roles", "view_spanrule"),
    ("roles", "view_spanlimit"), ("roles", "view_skill"), ("metrics", "view_kpi"),
}  # fmt: skip
SCOPED_ORGANIZATION = {
    ("staffing", "view_position"), ("staffing", "add_position"),
    ("staffing", "change_position"), ("staffing", "delete_position"),
    ("staffing", "view_dottedline"), ("staffing", "add_dottedline"),
    ("staffing", "change_dottedline"), ("staffing", "delete_dottedline"),
    ("staffing", "view_person"), ("staffing", "add_person"), ("staffing", "change_person"),
    ("staffing", "view_location"), ("staffing", "view_assignment"),
    ("staffing", "view_promotion"),
    # the triage rota of the locations where their part has people
    ("staffing", "view_triageweek"), ("staffing", "add_triageweek"),
    ("staffing", "change_triageweek"),
}  # fmt: skip
VIEW_OBSERVATIONS = {
    ("metrics", "view_kpiobservation"), ("metrics", "view_performanceobservation"),
    ("metrics", "view_headcountsnapshot"),
}  # fmt: skip
EXPECTED_PERMISSIONS = {
    "manager": VIEW_CATALOGUE | SCOPED_ORGANIZATION | VIEW_OBSERVATIONS,
    "director": VIEW_CATALOGUE | SCOPED_ORGANIZATION | VIEW_OBSERVATIONS | {
        ("metrics", "add_kpiobservation"), ("metrics", "change_kpiobservation"),
        ("metrics", "add_performanceobservation"), ("metrics", "change_performanceobservation"),
        ("metrics", "add_headcountsnapshot"), ("metrics", "change_headcountsnapshot"),
    },
    "hr": VIEW_CATALOGUE | VIEW_OBSERVATIONS | {
        ("tiers", "add_tier"), ("tiers", "change_tier"),
        ("tiers", "add_squad"), ("tiers", "change_squad"),
        ("roles", "add_role"), ("roles", "change_role"),
        ("roles", "add_promotionpath"), ("roles", "change_promotionpath"),
        ("roles", "add_spanrule"), ("roles", "change_spanrule"),
        ("roles", "add_spanlimit"), ("roles", "change_spanlimit"),
        ("roles", "add_skill"), ("roles", "change_skill"),
        ("metrics", "add_kpi"), ("metrics", "change_kpi"),
        ("staffing", "view_position"), ("staffing", "view_person"),
        ("staffing", "view_dottedline"), ("staffing", "view_location"),
        ("staffing", "view_assignment"), ("staffing", "view_promotion"),
        ("staffing", "view_triageweek"),
    },
}  # fmt: skip


def test_each_group_has_exactly_the_permissions_it_had():
    assert [len(p) for p in EXPECTED_PERMISSIONS.values()] == [28, 34, 34]
    Group.objects.filter(name__in=EXPECTED_PERMISSIONS).delete()
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")  # as migrate does
    for name, expected in EXPECTED_PERMISSIONS.items():
        perms = Group.objects.get(name=name).permissions.values_list(
            "content_type__app_label", "codename"
        )
        assert set(perms) == expected, name


# --- links from a lower app's page to a higher app's page -------------------------------------


def test_the_higher_apps_provide_the_links():
    assert links.registered() == {
        "person": "person-page",
        "position-about": "position-about",
        "role-holders": "role-holders",
        "tiers": "tier-catalogue",
    }


def test_a_link_nobody_provides_is_left_out(monkeypatch, api_org):
    client = session_client(UserFactory(is_superuser=True))
    role = api_org.mine.role.code
    holders = client.get(f"/chart/holders/{role}/").content.decode()
    assert f'href="/people/{api_org.mine.holder_id}/"' in holders
    assert f'hx-get="/chart/holders/{role}/"' in client.get(f"/roles/{role}/").content.decode()
    monkeypatch.setattr(links, "_routes", {})
    holders = client.get(f"/chart/holders/{role}/").content.decode()
    assert api_org.mine.holder.full_name in holders and "/people/" not in holders
    page = client.get(f"/roles/{role}/").content.decode()
    assert "/chart/holders/" not in page and "Who holds it" not in page


def url_names(*patterns) -> set[str]:
    return {p.name for p in patterns if p.name}


def test_no_lower_app_template_names_a_higher_apps_page():
    from metrics.urls import people_urlpatterns
    from metrics.urls import urlpatterns as metrics_urls
    from roles.urls import urlpatterns as roles_urls
    from staffing.urls import urlpatterns as staffing_urls

    above = {
        "tiers": url_names(*roles_urls, *staffing_urls, *metrics_urls, *people_urlpatterns),
        "roles": url_names(*staffing_urls, *metrics_urls, *people_urlpatterns),
        "staffing": url_names(*metrics_urls, *people_urlpatterns),
    }
    named = re.compile(r"""{%\s*url\s+['"]([\w:-]+)['"]|\|route:\s*['"]([\w:-]+)['"]""")
    templates = Path(settings.BASE_DIR) / "templates"
    wrong = []
    for app, higher in above.items():
        for path in sorted((templates / app).rglob("*.html")):
            for match in named.finditer(path.read_text()):
                name = match.group(1) or match.group(2)
                if name in higher:
                    wrong.append(f"{path.relative_to(templates)}: {name}")
    assert not wrong
