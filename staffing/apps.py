from django.apps import AppConfig
from django.db.models.signals import post_migrate


class StaffingConfig(AppConfig):
    name = "staffing"
    verbose_name = "People and positions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from orgdesign.kernel import links
        from staffing import groups, signals, tasks
        from staffing.interchange import jobs
        from staffing.spans import marks

        signals.connect()
        # the services ask for background jobs by name; the tasks that run them are handed
        # over here, so no service imports the tasks (which call the services)
        marks.RECOMPUTE.provide(tasks.recompute_pending_spans)
        jobs.CHECK.provide(tasks.check_import)
        jobs.RUN.provide(tasks.import_org)
        groups.grant_own()
        # the role page (roles, below staffing) lists who holds the role from here
        links.register("role-holders", "role-holders")
        # the role pages name a role's tier with a link to it on the tiers page (served here,
        # with the organization's headcount)
        links.register("tiers", "tier-catalogue")
        post_migrate.connect(groups.ensure_groups, dispatch_uid="staffing.ensure_groups")
