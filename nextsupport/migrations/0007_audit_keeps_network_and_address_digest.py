"""The audit trail keeps where an event came from without the address (issue 10): the
network and a keyed hash of the address. Existing events are not rewritten: their hash
covers the address they were written with, and the database refuses to change them.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('nextsupport', '0006_publish_site_documents'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditevent',
            name='ip_digest',
            field=models.CharField(blank=True, db_index=True, max_length=32),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='ip_network',
            field=models.CharField(blank=True, max_length=49),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='ip_address',
            field=models.CharField(blank=True, editable=False, max_length=45),
        ),
    ]
