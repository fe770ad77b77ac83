from django.core.management.base import BaseCommand, CommandError

from compliance import retention


class Command(BaseCommand):
    help = (
        "Run every retention rule of the personal-data registry now (the daily task does the same), "
        "or with --dry-run show per rule what would be deleted or anonymised and what is held."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count only: change nothing.")
        parser.add_argument(
            "--model",
            action="append",
            dest="models",
            metavar="APP.MODEL",
            help="With --dry-run: only this rule (repeat for more), e.g. campaigns.Recording.",
        )

    def handle(self, *args, dry_run, models, **options):
        if models and not dry_run:
            raise CommandError("--model only narrows a --dry-run; a purge always runs every rule.")
        if dry_run:
            return self._preview(set(models) if models else None)
        run = retention.purge(started_by="manage.py retention_purge")
        if run is None:
            raise CommandError("Another retention purge is running; it will do this work. Nothing was changed.")
        for receipt in run.receipts.order_by("category", "model_label"):
            self.stdout.write(
                f"{receipt.model_label:<40} deleted {receipt.deleted:>9}  anonymised {receipt.anonymised:>9}  "
                f"held {receipt.held:>7}  skipped {receipt.skipped:>7}  files pending {receipt.files_pending:>5}  "
                f"{receipt.seconds:.1f}s"
            )
        self.stdout.write(self.style.SUCCESS(f"Retention run #{run.pk} completed; its receipts are in the admin."))

    def _preview(self, labels):
        known = {registration.label for registration, _ in retention.rules()}
        if labels and (unknown := labels - known):
            raise CommandError(f"No retention rule runs for {', '.join(sorted(unknown))}. Rules: {', '.join(sorted(known))}.")
        for line in retention.preview(labels=labels):
            verb = "delete" if line.action == "delete" else "anonymise"
            self.stdout.write(f"{line.model_label:<40} would {verb} {line.due:>9}  held {line.held:>7}  (kept {line.days} days)")
        self.stdout.write("Dry run: nothing was changed.")
