from django.apps import AppConfig


class OrgdesignConfig(AppConfig):
    """The project package as an app: it owns the API tokens of integrations."""

    name = "orgdesign"
    verbose_name = "API access"
    default_auto_field = "django.db.models.BigAutoField"
