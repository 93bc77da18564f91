from django.apps import AppConfig


class RolesConfig(AppConfig):
    name = "roles"
    verbose_name = "Role catalogue"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from orgdesign.kernel import catalogue_version
        from roles.models import PromotionPath, Role, Skill, SpanLimit, SpanRule

        catalogue_version.track(Role, m2m=("skills",))
        catalogue_version.track(Skill)
        catalogue_version.track(PromotionPath)
        catalogue_version.track(SpanRule, m2m=("allowed_reports",))
        catalogue_version.track(SpanLimit, m2m=("roles",))
