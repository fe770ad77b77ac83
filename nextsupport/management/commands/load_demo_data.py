from django.core.management.base import BaseCommand

from nextsupport import demo


class Command(BaseCommand):
    help = "Create the demo organisation and logins, enrolled in two-factor sign-in (idempotent; developer machines only)."

    def handle(self, *args, **options):
        logins = demo.load()
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):"))
        self.stdout.write(
            "Each is enrolled in two-factor authentication. Sign in with a backup code below, or add the\n"
            "authenticator secret to an app (time-based, 6 digits). Backup codes are replaced on every run\n"
            "of load_demo_data and each works once; earlier codes no longer work."
        )
        for login in logins:
            self.stdout.write("")
            self.stdout.write(f"  {login.email:<34} {login.role}{'  (' + login.note + ')' if login.note else ''}")
            self.stdout.write(f"    authenticator secret: {login.authenticator_secret}")
            self.stdout.write(f"    backup codes:         {'  '.join(login.backup_codes[:5])}")
            self.stdout.write(f"                          {'  '.join(login.backup_codes[5:])}")
        self.stdout.write("")
        self.stdout.write(
            f"Small TPS and CTPS register files are loaded, so marketing lists work in the demo: try importing\n"
            f"{demo.DEMO_DATA / 'spring-offers.csv'} into a new marketing list."
        )
        self.stdout.write(demo.load_campaign())
