"""The catalogue's version: bumped by every change to a catalogue table, read by the API's
conditional GET (ETag and Last-Modified) so an unchanged catalogue costs one query.

Which tables make up the catalogue is the apps' own knowledge: each app that owns catalogue
tables tracks them from its ``AppConfig.ready()``::

    # roles/apps.py, ready()
    catalogue_version.track(Role, m2m=("skills",))

This module names no app.
"""

from django.db.models import F
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

_tracked: dict[str, tuple[str, ...]] = {}  # "app_label.Model" → its tracked m2m fields


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


def track(model, *, m2m: tuple[str, ...] = ()) -> None:
    """Make every save and delete of ``model`` (and every change of its many-to-many fields
    named in ``m2m``) bump the catalogue's version. Called from the owning app's
    ``AppConfig.ready()``; calling it again is harmless."""
    label = model._meta.label
    post_save.connect(bump, sender=model, dispatch_uid=f"catalogue-save-{label}")
    post_delete.connect(bump, sender=model, dispatch_uid=f"catalogue-delete-{label}")
    for field in m2m:
        through = getattr(model, field).through
        m2m_changed.connect(bump, sender=through, dispatch_uid=f"catalogue-m2m-{label}.{field}")
    _tracked[label] = tuple(dict.fromkeys((*_tracked.get(label, ()), *m2m)))


def tracked() -> dict[str, tuple[str, ...]]:
    """The tracked models (``"app_label.Model"``) and their tracked many-to-many fields."""
    return dict(_tracked)
