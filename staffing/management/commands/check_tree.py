import time

from django.core.management.base import BaseCommand, CommandError

from staffing.spans import marks
from staffing.tree import tree_check, tree_repair


class Command(BaseCommand):
    help = (
        "Compare the stored reporting tree (one django-mptt tree per division: tree_id, "
        "lft, rght, level, tree parent, division heads below) with the one the reporting "
        "lines and the division heads' roles imply; --repair rewrites what differs, under "
        "the forest lock. Exits 1 when the tree is damaged and not repaired."
    )

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="Fix what differs.")
        parser.add_argument("--show", type=int, default=10, help="How many differences to list.")

    def handle(self, *args, repair: bool, show: int, **options):
        started = time.perf_counter()
        report = tree_repair() if repair else tree_check()
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Checked {report.checked} positions in {report.trees} trees in {elapsed:.2f} s."
        )
        for pk, stored, expected in report.wrong[:show]:
            self.stdout.write(
                f"  position {pk}: stored {tuple(stored)}, expected {tuple(expected)} "
                "(tree, lft, rght, level, tree parent, heads below)"
            )
        if len(report.wrong) > show:
            self.stdout.write(f"  … and {len(report.wrong) - show} more.")
        if report.unreachable:
            ids = ", ".join(str(pk) for pk in report.unreachable[:show])
            self.stdout.write(
                f"{len(report.unreachable)} position(s) are in a reporting loop and need a "
                f"new manager set by hand: {ids}"
            )
        if repair and report.repaired:
            self.stdout.write(self.style.SUCCESS(f"Repaired {report.repaired} position(s)."))
            # Team sizes come from lft/rght, so findings judged on the damaged tree were wrong.
            self.stdout.write(marks.recompute().summary())
        if report.unreachable or (report.wrong and not repair):
            raise CommandError(
                f"The tree is damaged: {len(report.wrong)} position(s) with wrong tree fields, "
                f"{len(report.unreachable)} in a loop."
                + ("" if repair else " Run check_tree --repair.")
            )
        if not report.wrong:
            self.stdout.write(self.style.SUCCESS("The reporting tree is consistent."))
