from django.core.management.base import BaseCommand

from nextsupport import audit
from nextsupport.rotation import encrypted_models, key_usage, rotate_model


class Command(BaseCommand):
    help = (
        "Re-encrypt every personal-data value that is not on the active key "
        "(FIELD_ENCRYPTION_ACTIVE_KEY), in batches, reporting progress. Safe to stop and re-run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--report", action="store_true", help="Only count values per key id; change nothing.")

    def handle(self, *args, batch_size, report, **options):
        if report:
            for model, usage in key_usage().items():
                counts = ", ".join(f"{key}: {n}" for key, n in sorted(usage.items())) or "no values"
                self.stdout.write(f"{model._meta.label}: {counts}")
            return
        totals = {}
        for model in encrypted_models():
            totals[model._meta.label] = 0
            for progress in rotate_model(model, batch_size=batch_size):
                self.stdout.write(
                    f"{model._meta.label}: {progress.checked}/{progress.total} rows checked, "
                    f"{progress.rotated} re-encrypted ({progress.percent:.0f}%)"
                )
                totals[model._meta.label] = progress.rotated
        audit.record(audit.ENCRYPTION_KEYS_ROTATED, actor_label="manage.py rotate_encryption_keys", details={"rotated": totals})
        self.stdout.write(self.style.SUCCESS(f"Done: {sum(totals.values())} rows re-encrypted."))
