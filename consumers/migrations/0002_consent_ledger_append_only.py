"""The database itself refuses to rewrite consent evidence (P14, P18).

The model and its manager refuse updates and deletes too, but raw SQL and
future code would not ask them. One change is allowed: re-encrypting
`source_reference` onto a new key (manage.py rotate_encryption_keys), which
alters the ciphertext and nothing else. Deletes stay possible for the two
paths that must remove evidence: a person found to be under 16 (P48) and the
retention purge after six years.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION consent_record_append_only() RETURNS trigger AS $$
BEGIN
    IF (NEW.id, NEW.organisation_id, NEW.consumer_id, NEW.phone_index, NEW.purpose, NEW.action, NEW.method,
        NEW.occurred_at, NEW.wording, NEW.wording_version, NEW.import_job_id, NEW.recorded_by_id, NEW.recorded_at)
       IS DISTINCT FROM
       (OLD.id, OLD.organisation_id, OLD.consumer_id, OLD.phone_index, OLD.purpose, OLD.action, OLD.method,
        OLD.occurred_at, OLD.wording, OLD.wording_version, OLD.import_job_id, OLD.recorded_by_id, OLD.recorded_at)
       OR (NEW.source_reference IS NULL) <> (OLD.source_reference IS NULL) THEN
        RAISE EXCEPTION 'The consent ledger is append-only: record a withdrawal instead of changing an entry';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER consent_record_append_only
BEFORE UPDATE ON consumers_consentrecord
FOR EACH ROW EXECUTE FUNCTION consent_record_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS consent_record_append_only ON consumers_consentrecord;
DROP FUNCTION IF EXISTS consent_record_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("consumers", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
