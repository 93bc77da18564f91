import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from staffing.interchange import checks, csvfile, write


class Command(BaseCommand):
    help = (
        "Import locations, people or positions (with their holders and managers) from a CSV "
        "file: every row is checked first and every problem printed by row and column; then "
        "all rows are imported in one transaction, or none. --dry-run checks and prints what "
        "would change without changing anything. Exits 1 when the file has problems."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file (UTF-8, with a header row).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and change nothing."
        )
        parser.add_argument(
            "--show", type=int, default=50, help="How many changes to list (default 50)."
        )

    def handle(self, *args, file: str, dry_run: bool, show: int, **options):
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        started = time.perf_counter()
        try:
            text = csvfile.decode(data)
        except csvfile.ImportRefused as refused:
            result = checks.ImportResult(problems=refused.problems)
        else:
            result = write.import_run(actor=None, text=text, dry_run=dry_run)
        elapsed = time.perf_counter() - started
        if not result.ok:
            for problem in result.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{path.name}: {len(result.problems)} problem(s) in {result.rows} row(s); "
                "nothing was imported."
            )
        for row, key, what in result.changes[:show]:
            self.stdout.write(f"  row {row or '—'} {key}: {what}")
        if len(result.changes) > show:
            self.stdout.write(f"  … and {len(result.changes) - show} more changes.")
        for line in result.summary_lines():
            self.stdout.write(line)
        verb = "Checked (dry run, nothing changed)" if dry_run else "Imported"
        self.stdout.write(
            self.style.SUCCESS(f"{verb}: {result.rows} {result.kind} row(s) in {elapsed:.1f} s.")
        )
