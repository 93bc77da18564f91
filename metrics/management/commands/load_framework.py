from django.core.management.base import BaseCommand

from metrics.services import framework_load


class Command(BaseCommand):
    help = (
        "Load or refresh the default framework: tiers, squads, roles, promotion paths, "
        "span-of-control rules, skills and KPI targets. Idempotent; rows you edited are "
        "kept unless --reset."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Put every framework row back to the shipped values, undoing local edits.",
        )

    def handle(self, *args, reset: bool, **options):
        outcome = framework_load(reset=reset)
        for key in sorted(outcome):
            self.stdout.write(f"  {key}: {outcome[key]}")
        kept = sum(n for key, n in outcome.items() if key.endswith("kept local edit"))
        if kept:
            self.stdout.write(f"Kept {kept} locally edited row(s); use --reset to undo them.")
        self.stdout.write(self.style.SUCCESS("Framework catalogue loaded."))
