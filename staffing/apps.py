from django.apps import AppConfig
from django.db.models.signals import post_migrate


class StaffingConfig(AppConfig):
    name = "staffing"
    verbose_name = "People and positions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from staffing import signals
        from staffing.groups import ensure_groups

        signals.connect()
        post_migrate.connect(ensure_groups, dispatch_uid="staffing.ensure_groups")
