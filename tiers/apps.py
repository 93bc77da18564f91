from django.apps import AppConfig


class TiersConfig(AppConfig):
    name = "tiers"
    verbose_name = "Tiers and squads"
    default_auto_field = "django.db.models.BigAutoField"
