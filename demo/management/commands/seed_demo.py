import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from demo.metrics import seed_kpis, seed_performance, seed_signoffs, seed_snapshots
from demo.organizations import DEMO_PASSWORD, clear_organization, seed
from demo.past import backdate_history, demo_past
from demo.plans import DemoError
from staffing.models import Position


class Command(BaseCommand):
    help = (
        "Load a demo organization: --org synapse (about 250 people, 8 locations), --org fte85 "
        "(the 85-FTE organization) or --positions N (a generated org of N positions). Also "
        f"creates the demo logins admin, director, manager and hr (password "
        f"{DEMO_PASSWORD}), and for the named orgs four months of CSAT per person, a year "
        "of history and nightly headcount snapshots, and KPI values for recent periods."
    )

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--org", choices=["synapse", "fte85"])
        group.add_argument("--positions", type=int, metavar="N")
        existing = parser.add_mutually_exclusive_group()
        existing.add_argument(
            "--replace",
            action="store_true",
            help="Delete the current organization (positions, people, history) first.",
        )
        existing.add_argument(
            "--skip-if-present",
            action="store_true",
            help="Do nothing when an organization is already loaded.",
        )

    def handle(self, *args, org, positions, replace, skip_if_present, **options):
        if positions is not None and positions < 1:
            raise CommandError("--positions needs a number of at least 1.")
        present = Position.objects.exists()
        if present and skip_if_present:
            self.stdout.write("An organization is already loaded; leaving it as it is.")
            return
        if present and not replace:
            raise CommandError(
                "An organization is already loaded. Use --replace to delete it first, "
                "or --skip-if-present."
            )
        started = time.perf_counter()
        if present:
            clear_organization()
        try:
            result = seed(org=org, positions=positions)
        except DemoError as error:
            raise CommandError(str(error)) from error
        if org is not None:
            result["CSAT observations"] = seed_performance()
            result["criteria signed off"] = seed_signoffs()
            with transaction.atomic():
                admin = get_user_model().objects.get(username="admin")
                past = demo_past()
                result["history rows (a year, back-dated)"] = backdate_history(past, actor=admin)
                result["nightly snapshots"] = seed_snapshots(past)
                result["KPI observations"] = seed_kpis(actor=admin)
        elapsed = time.perf_counter() - started
        summary = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in result.items())
        self.stdout.write(self.style.SUCCESS(f"Loaded {summary} in {elapsed:.1f} s."))
