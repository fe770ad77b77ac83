"""The consent ledger's guard lets a blind-index rotation re-key its numbers (issue 10).

The ledger keeps each person's number only as its blind index. A rotation of the
blind-index key (nextsupport.blind_index_rotation) wraps every stored digest once
more, in one transaction that sets nextsupport.allow_blind_index_rekey; only then
may phone_index change. Everything else stays as 0007 guards it.
"""

from django.db import migrations

GUARD = """
CREATE OR REPLACE FUNCTION consent_record_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('nextsupport.allow_ledger_delete', true) = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'The consent ledger is append-only: consent evidence is not deleted';
    END IF;
    IF (NEW.id, NEW.organisation_id, NEW.consumer_id, NEW.purpose, NEW.action, NEW.method,
        NEW.occurred_at, NEW.wording, NEW.wording_version, NEW.import_job_id, NEW.recorded_by_id, NEW.recorded_at)
       IS DISTINCT FROM
       (OLD.id, OLD.organisation_id, OLD.consumer_id, OLD.purpose, OLD.action, OLD.method,
        OLD.occurred_at, OLD.wording, OLD.wording_version, OLD.import_job_id, OLD.recorded_by_id, OLD.recorded_at)
       OR (NEW.source_reference IS NULL) <> (OLD.source_reference IS NULL)
       OR (NEW.phone_index IS DISTINCT FROM OLD.phone_index
           AND current_setting('nextsupport.allow_blind_index_rekey', true) IS DISTINCT FROM 'on') THEN
        RAISE EXCEPTION 'The consent ledger is append-only: record a withdrawal instead of changing an entry';
    END IF;
    IF NEW.source_reference IS DISTINCT FROM OLD.source_reference AND NOT (
        octet_length(NEW.source_reference) >= 2 + 1 + 12 + 16
        AND get_byte(NEW.source_reference, 0) = 1
        AND ns_encrypted_key_id(NEW.source_reference) <> ns_encrypted_key_id(OLD.source_reference)
        AND ns_encrypted_plaintext_length(NEW.source_reference) = ns_encrypted_plaintext_length(OLD.source_reference)
    ) THEN
        RAISE EXCEPTION 'The consent ledger is append-only: a source reference may only be re-encrypted onto another key';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

# Back to 0007's guard: phone_index never changes.
BACKWARD = GUARD.replace(
    """       OR (NEW.phone_index IS DISTINCT FROM OLD.phone_index
           AND current_setting('nextsupport.allow_blind_index_rekey', true) IS DISTINCT FROM 'on') THEN""",
    """       OR NEW.phone_index IS DISTINCT FROM OLD.phone_index THEN""",
)


class Migration(migrations.Migration):
    dependencies = [("consumers", "0007_consent_ledger_guard")]

    operations = [migrations.RunSQL(GUARD, BACKWARD)]
