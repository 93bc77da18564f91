from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = "Metrics and headcount"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from metrics.models import KPI
        from orgdesign.kernel import catalogue_version

        # the KPI definitions are part of the catalogue (its version, its API's ETag)
        catalogue_version.track(KPI)
