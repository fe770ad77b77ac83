"""A lawful-basis attestation is evidence (P19): it outlives its list and is never changed.

It now keeps its organisation and the list's name itself, the link to the
list no longer cascades (nor constrains: list ids are never reused), and the
database refuses updates and deletes. Deletes are possible only where the
transaction-local setting nextsupport.allow_attestation_delete is on, which
only the retention purge (six years after the attestation) may set.
"""

import django.db.models.deletion
from django.db import migrations, models

FILL = """
UPDATE consumers_lawfulbasisattestation a
SET organisation_id = l.organisation_id, list_name = l.name
FROM consumers_contactlist l
WHERE l.id = a.contact_list_id;
-- Check the new foreign keys now, so the columns can be altered in this transaction.
SET CONSTRAINTS ALL IMMEDIATE;
"""

APPEND_ONLY = """
CREATE FUNCTION lawful_basis_attestation_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('nextsupport.allow_attestation_delete', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'Attestations are append-only evidence: record a new attestation instead';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER lawful_basis_attestation_append_only
BEFORE UPDATE OR DELETE ON consumers_lawfulbasisattestation
FOR EACH ROW EXECUTE FUNCTION lawful_basis_attestation_append_only();
"""

DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS lawful_basis_attestation_append_only ON consumers_lawfulbasisattestation;
DROP FUNCTION IF EXISTS lawful_basis_attestation_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_compliance_group"), ("consumers", "0005_consumer_restriction_reason")]

    operations = [
        migrations.AddField(
            model_name="lawfulbasisattestation",
            name="organisation",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.organisation"
            ),
        ),
        migrations.AddField(
            model_name="lawfulbasisattestation",
            name="list_name",
            field=models.CharField(default="", help_text="The list's name when it was attested.", max_length=120),
            preserve_default=False,
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="lawfulbasisattestation",
            name="organisation",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.organisation"),
        ),
        migrations.AlterField(
            model_name="lawfulbasisattestation",
            name="contact_list",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="attestations",
                to="consumers.contactlist",
            ),
        ),
        migrations.RunSQL(APPEND_ONLY, DROP_APPEND_ONLY),
    ]
