from django.core.management.base import BaseCommand, CommandError

from nextsupport.blind_index_rotation import ChainMismatch, chain_state, rotate


class Command(BaseCommand):
    help = (
        "Re-key every stored blind index (suppressions, do-not-call entries, the consent ledger, the TPS/CTPS "
        "register, lookups) under the keys BLIND_INDEX_ROTATION_KEYS adds, in one transaction. Stop every "
        "other process first: see the README, 'Rotating the blind-index key'."
    )

    def add_arguments(self, parser):
        parser.add_argument("--report", action="store_true", help="Only say which keys the database and settings name.")

    def handle(self, *args, report, **options):
        state = chain_state()
        if report:
            self.stdout.write(f"Database: BLIND_INDEX_KEY, then {state.applied or 'no rotation keys'}")
            self.stdout.write(f"Settings: BLIND_INDEX_KEY, then {state.configured or 'no rotation keys'}")
            self.stdout.write("In step." if state.consistent else f"To apply: {state.pending or 'cannot (see above)'}")
            return
        try:
            counts = rotate()
        except ChainMismatch as exc:
            raise CommandError(str(exc)) from exc
        if not counts:
            self.stdout.write("Nothing to do: the database's blind indexes are under the configured keys.")
            return
        for label, rows in counts.items():
            self.stdout.write(f"{label}: {rows} rows re-keyed")
        self.stdout.write(self.style.SUCCESS(f"Done: {sum(counts.values())} rows re-keyed in one transaction."))
