"""The cookie register as the site stands: what the cookie policy lists and withdrawal deletes."""

from django.db import migrations

ENTRIES = [
    # kind, name, prefix, category, provider, purpose, duration
    ("cookie", "ns_consent", False, "necessary", "NextSupport",
     "Remembers your cookie choices and your anonymous consent ID, so we do not ask on every page and can show what you chose.",
     "12 months"),
    ("cookie", "csrftoken", False, "necessary", "NextSupport",
     "Protects forms, such as the contact form and sign-in, against cross-site request forgery. Set only on pages with a form.",
     "12 months"),
    ("cookie", "sessionid", False, "necessary", "NextSupport",
     "Keeps clients and staff signed in to the portal. Set only when you sign in.", "2 weeks"),
    ("cookie", "messages", False, "necessary", "NextSupport",
     "Carries a one-off confirmation (for example after saving a change) to the next page.", "Until the next page"),
    ("script", "gtag.js", False, "analytics", "Google",
     "Google Analytics 4 tag, loaded from googletagmanager.com only after you allow analytics cookies.",
     "Loaded while you allow analytics"),
    ("cookie", "_ga", False, "analytics", "Google",
     "Distinguishes visitors with a random number, so visits can be counted.", "12 months"),
    ("cookie", "_ga_", True, "analytics", "Google",
     "Keeps the state of your visit for Google Analytics (the name ends with our property id).", "12 months"),
]


def seed(apps, schema_editor):
    RegisterEntry = apps.get_model("cookies", "RegisterEntry")
    for position, (kind, name, prefix, category, provider, purpose, duration) in enumerate(ENTRIES):
        RegisterEntry.objects.get_or_create(
            kind=kind,
            name=name,
            defaults={
                "matches_prefix": prefix,
                "category": category,
                "provider": provider,
                "purpose": purpose,
                "duration": duration,
                "position": position,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("cookies", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
