import django.core.validators
from django.db import migrations, models

# the shipped squads of tiers/framework.py and how long an engineer stays in each: set here
# on an existing catalogue too, where nobody has set a value yet
SHIPPED = {"t2-general": 6, "t2-voice": 12, "t2-analytics": 12, "t2-platform": 12}


def set_shipped_figures(apps, schema_editor):
    Squad = apps.get_model("tiers", "Squad")
    for code, months in SHIPPED.items():
        Squad.objects.filter(code=code, rotate_after_months__isnull=True).update(
            rotate_after_months=months
        )


class Migration(migrations.Migration):
    dependencies = [
        ("tiers", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="squad",
            name="rotate_after_months",
            field=models.PositiveSmallIntegerField(
                blank=True,
                help_text=(
                    "How long an engineer normally stays in this squad before rotating to "
                    "another. Empty: no rotation is planned. The shipped figures (6 months in "
                    "the entry squad, 12 in a specialist squad) are our own starting point, "
                    "not from a source."
                ),
                null=True,
                validators=[django.core.validators.MinValueValidator(1)],
            ),
        ),
        migrations.RunPython(set_shipped_figures, migrations.RunPython.noop),
    ]
