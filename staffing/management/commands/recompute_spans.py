from django.core.management.base import BaseCommand

from staffing.models import Finding
from staffing.spans import marks


class Command(BaseCommand):
    help = (
        "Judge every position against the span-of-control rules now and store the findings "
        "(opened, updated, resolved); --pending only recomputes what edits have marked."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--pending", action="store_true", help="Only the positions marked by recent edits."
        )

    def handle(self, *args, pending: bool, **options):
        outcome = marks.recompute_pending() if pending else marks.recompute()
        if pending and not outcome.pending:
            self.stdout.write("No position was waiting for a recompute.")
            return
        self.stdout.write(outcome.summary())
        by_kind = Finding.objects.open().spans().values_list("kind", "severity")
        counts: dict[tuple[str, str], int] = {}
        for kind, severity in by_kind:
            counts[(kind, severity)] = counts.get((kind, severity), 0) + 1
        labels = dict(Finding.Kind.choices)
        for (kind, severity), n in sorted(counts.items()):
            self.stdout.write(f"  {labels[kind]} ({severity}): {n}")
        self.stdout.write(self.style.SUCCESS("Span-of-control findings are up to date."))
