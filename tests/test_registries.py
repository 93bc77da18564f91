"""What the apps register in their ``AppConfig.ready()`` so that no lower app (nor the
kernel) names a higher one: the catalogue's tables, the groups' permissions and the links
from a lower app's page to a higher app's page."""

import pytest

from metrics.models import KPI
from orgdesign.kernel import catalogue_version
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
