"""A first historical row for every object that existed before its history was kept, so
that past views and feeds start from what was there (used by data migrations). The rows
are dated when the migration runs: the state they hold is the state of that moment, and
days before it are not known (the past chart says so)."""

from django.utils import timezone

HISTORY_ONLY = {
    "history_id",
    "history_date",
    "history_change_reason",
    "history_type",
    "history_user_id",
}
REASON = "history started"


def record_existing(apps, app_label: str, model_name: str):
    model = apps.get_model(app_label, model_name)
    historical = apps.get_model(app_label, f"Historical{model_name}")
    names = [f.attname for f in historical._meta.concrete_fields if f.attname not in HISTORY_ONLY]
    now = timezone.now()
    batch = []
    for obj in model.objects.order_by("pk").iterator(chunk_size=2000):
        batch.append(
            historical(
                history_date=now,
                history_type="+",
                history_change_reason=REASON,
                **{name: getattr(obj, name) for name in names},
            )
        )
        if len(batch) >= 5000:
            historical.objects.bulk_create(batch)
            batch = []
    historical.objects.bulk_create(batch)
