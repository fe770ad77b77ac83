from django.core.management.base import BaseCommand

from nextsupport import demo


class Command(BaseCommand):
    help = "Create the demo organisation and logins (idempotent; developer machines only)."

    def handle(self, *args, **options):
        logins = demo.load()
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):"))
        for login in logins:
            self.stdout.write(f"  {login.email:<34} {login.role}{'  ' + login.note if login.note else ''}")
