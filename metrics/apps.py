from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = "Metrics and headcount"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from metrics.models import KPI, HeadcountSnapshot, KPIObservation, PerformanceObservation
        from orgdesign.kernel import catalogue_version, links
        from staffing import groups
        from staffing.scope import GROUP_DIRECTOR, GROUP_HR, GROUP_MANAGER

        # the KPI definitions are part of the catalogue (its version, its API's ETag)
        catalogue_version.track(KPI)

        # what staffing's groups may do with the metrics
        observations = [KPIObservation, PerformanceObservation, HeadcountSnapshot]
        groups.grant(GROUP_MANAGER, [KPI, *observations], ["view"])
        groups.grant(GROUP_DIRECTOR, [KPI], ["view"])
        groups.grant(GROUP_DIRECTOR, observations, ["view", "add", "change"])
        groups.grant(GROUP_HR, [KPI], ["view", "add", "change"])
        groups.grant(GROUP_HR, observations, ["view"])

        # the pages the lower apps' pages link to, when this app is installed
        links.register("person", "person-page")
        links.register("position-about", "position-about")
