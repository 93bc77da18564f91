from django.db import migrations

from orgdesign.kernel.history_baseline import record_existing


def baseline(apps, schema_editor):
    for name in ("Role", "PromotionPath", "SpanRule"):
        record_existing(apps, "roles", name)


class Migration(migrations.Migration):
    dependencies = [("roles", "0003_history")]

    operations = [migrations.RunPython(baseline, migrations.RunPython.noop, elidable=True)]
