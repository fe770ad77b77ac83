import datetime
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from consumers import services
from consumers.models import ScreeningRegister


class Command(BaseCommand):
    help = (
        "Load a TPS or CTPS register file (one number per line) into the screening table and make it the "
        "current file of its kind. The previous file stays in use until the load has fully committed."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The register file, or - to read standard input.")
        parser.add_argument("--kind", required=True, choices=ScreeningRegister.Kind.values)
        parser.add_argument(
            "--date", required=True, type=datetime.date.fromisoformat, help="Issue date of the file (YYYY-MM-DD)."
        )

    def handle(self, *args, path, kind, date, **options):
        try:
            if path == "-":
                register = self._load(sys.stdin.buffer, kind, date)
            else:
                with open(path, "rb") as stream:
                    register = self._load(stream, kind, date)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{register}: {register.numbers:,} numbers loaded"
                + (
                    f", {register.unreadable_lines:,} lines were not numbers and were skipped"
                    if register.unreadable_lines
                    else ""
                )
                + "."
            )
        )

    def _load(self, stream, kind, date):
        return services.screening_register_load(
            kind=kind, file_date=date, stream=stream, imported_by="manage.py load_screening_register"
        )
