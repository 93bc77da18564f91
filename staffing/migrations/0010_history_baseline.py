from django.db import migrations

from orgdesign.kernel.history_baseline import record_existing


def baseline(apps, schema_editor):
    record_existing(apps, "staffing", "Position")
    record_existing(apps, "staffing", "Assignment")


class Migration(migrations.Migration):
    dependencies = [("staffing", "0009_history")]

    operations = [migrations.RunPython(baseline, migrations.RunPython.noop, elidable=True)]
