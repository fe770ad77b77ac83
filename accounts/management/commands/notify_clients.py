from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import services
from accounts.models import Organisation
from accounts.selectors import Topic

SUBJECT_MAX = 150


class Command(BaseCommand):
    help = (
        "E-mail a service update, usage statement or security notice (P12) to client organisations: each "
        "member who chose that topic in their notification settings (statements also go to the billing "
        "contact; security notices to owners and admins). Running the same message again sends nothing twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--topic", required=True, choices=Topic.ALL)
        parser.add_argument("--subject", required=True, help=f"The e-mail's subject (at most {SUBJECT_MAX} characters).")
        parser.add_argument("--body-file", required=True, type=Path, help="A UTF-8 text file holding the message.")
        parser.add_argument(
            "--organisation",
            type=int,
            action="append",
            dest="organisations",
            metavar="ID",
            help="Only this organisation (repeat for more). Default: every active organisation.",
        )

    def handle(self, *args, topic, subject, body_file, organisations, **options):
        subject = " ".join(subject.split())
        if not subject:
            raise CommandError("--subject is empty.")
        if len(subject) > SUBJECT_MAX:
            raise CommandError(f"--subject is {len(subject)} characters long; at most {SUBJECT_MAX} fit an e-mail subject.")
        try:
            body = body_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise CommandError(f"Cannot read {body_file}: {exc.strerror}.") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{body_file} is not UTF-8 text (byte {exc.start} cannot be read).") from exc
        if not body:
            raise CommandError(f"{body_file} is empty: there is no message to send.")

        targets = Organisation.objects.filter(status=Organisation.Status.ACTIVE).order_by("pk")
        if organisations:
            targets = Organisation.objects.filter(pk__in=organisations).exclude(status=Organisation.Status.CLOSED)
            missing = sorted(set(organisations) - set(targets.values_list("pk", flat=True)))
            if missing:
                raise CommandError(f"No open organisation has the id {', '.join(map(str, missing))}; nothing was sent.")

        queued = skipped = 0
        for organisation in targets.iterator():
            with transaction.atomic():  # the notice and its task are queued together
                if services.organisation_notify(organisation=organisation, topic=topic, subject=subject, body=body):
                    queued += 1
                else:
                    skipped += 1
        self.stdout.write(
            self.style.SUCCESS(
                f"Queued for {queued} organisation{'s' if queued != 1 else ''}"
                + (f"; {skipped} had this message already and were skipped" if skipped else "")
                + "."
            )
        )
