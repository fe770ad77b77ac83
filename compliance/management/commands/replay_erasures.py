"""After a database restore from backup: erase again everything erased since that backup was taken."""

from django.core.management.base import BaseCommand

from compliance import erasure


class Command(BaseCommand):
    help = (
        "Re-apply every logged erasure (run after restoring the database from a backup). Idempotent: "
        "an erasure whose data is already gone changes nothing. Prints counts per entry, never personal data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", help="Only entries erased on or after this date (YYYY-MM-DD): the backup's date.")

    def handle(self, *args, since=None, **options):
        report = erasure.replay_all(since=since)
        for line in report.entries:
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(report.summary))
