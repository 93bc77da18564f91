from django.apps import AppConfig


class TiersConfig(AppConfig):
    name = "tiers"
    verbose_name = "Tiers and squads"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from orgdesign.kernel import catalogue_version
        from tiers.models import Squad, Tier

        catalogue_version.track(Tier)
        catalogue_version.track(Squad)
