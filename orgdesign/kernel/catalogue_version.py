"""The catalogue's version: bumped by every change to a catalogue table, read by the API's
conditional GET (ETag and Last-Modified) so an unchanged catalogue costs one query."""

from django.apps import apps
from django.db.models import F
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

CATALOGUE_MODELS = (
    "tiers.Tier",
    "tiers.Squad",
    "roles.Role",
    "roles.Skill",
    "roles.PromotionPath",
    "roles.SpanRule",
    "metrics.KPI",
)
CATALOGUE_M2M = (("roles.Role", "skills"), ("roles.SpanRule", "allowed_reports"))


def current():
    """The version row (created on first use)."""
    from orgdesign.models import CatalogueVersion

    version = CatalogueVersion.objects.filter(pk=1).first()
    if version is None:
        version, _ = CatalogueVersion.objects.get_or_create(
            pk=1, defaults={"changed_at": timezone.now().replace(microsecond=0)}
        )
    return version


def bump(**kwargs) -> None:
    from orgdesign.models import CatalogueVersion

    if kwargs.get("raw"):
        return  # fixtures loading
    if kwargs.get("action", "post_").startswith("pre_"):
        return
    now = timezone.now().replace(microsecond=0)  # HTTP dates have whole seconds
    if not CatalogueVersion.objects.filter(pk=1).update(counter=F("counter") + 1, changed_at=now):
        CatalogueVersion.objects.get_or_create(pk=1, defaults={"changed_at": now, "counter": 1})


def connect() -> None:
    for label in CATALOGUE_MODELS:
        model = apps.get_model(label)
        post_save.connect(bump, sender=model, dispatch_uid=f"catalogue-save-{label}")
        post_delete.connect(bump, sender=model, dispatch_uid=f"catalogue-delete-{label}")
    for label, field in CATALOGUE_M2M:
        through = getattr(apps.get_model(label), field).through
        m2m_changed.connect(bump, sender=through, dispatch_uid=f"catalogue-m2m-{label}.{field}")
