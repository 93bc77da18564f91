from django.apps import AppConfig


class RolesConfig(AppConfig):
    name = "roles"
    verbose_name = "Role catalogue"
    default_auto_field = "django.db.models.BigAutoField"
