"""An index for finding a person's sign-in addresses (allauth's table) by address, whatever their case.

Discovery and erasure compare LOWER(email) with the normalised address; allauth
indexes the column as stored, which cannot serve that comparison, so without
this a data-subject request reads every address on the platform.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0011_notices_retry_per_recipient"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX account_emailaddress_lower_email ON account_emailaddress (LOWER(email))",
            reverse_sql="DROP INDEX account_emailaddress_lower_email",
        ),
    ]
